/**
 * Labels pane, end to end: run the ground-truth labeler on the demo capture from the studio, watch it
 * in the jobs bar, then reject a class and rename another and see the counts and 3D colouring update.
 */
import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';
import { makeHome, startHost, useSharedDemoCache, type HostProcess } from './host';
import { RpcClient, waitForJob } from './rpc';

useSharedDemoCache();

test.describe.configure({ mode: 'serial' });

let host: HostProcess;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const home = await makeHome();
  host = await startHost({ home, project: path.join(home, 'labels-project') });
  const rpc = await RpcClient.connect(host.port, host.token);
  const job = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'import',
    params: { capture: 'demo:0', every: 4, voxel_m: 0.05 },
  });
  await waitForJob(rpc, job.id, 240_000);
  rpc.close();
});
test.afterAll(async () => {
  await host?.stop('SIGKILL');
});

const renderCount = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { __studioTest?: { renderCount: number } }).__studioTest?.renderCount ?? 0,
  );

const numberIn = async (page: Page, testid: string) =>
  Number((await page.getByTestId(testid).innerText()).replace(/[^\d]/g, ''));

/** Waits until the viewport has rendered again and stayed still, then returns its pixels. */
async function settledCanvas(page: Page, after: number): Promise<Buffer> {
  await expect.poll(() => renderCount(page), { timeout: 20_000 }).toBeGreaterThan(after);
  let last = -1;
  await expect
    .poll(
      async () => {
        const n = await renderCount(page);
        const still = n === last;
        last = n;
        return still;
      },
      { intervals: [400], timeout: 20_000 },
    )
    .toBe(true);
  return page.getByTestId('viewport-canvas').screenshot();
}

test('runs ground-truth labeling from the studio, then rejects and renames classes with counts and 3D colours updating', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto(host.url);
  await page.getByTestId('rail-labels').click();
  await expect(page.getByTestId('pane-labels')).toBeVisible();
  await expect(page.getByTestId('empty-state')).toContainText('No labels yet');

  // Run the labeler from the pane's form.
  await page.getByTestId('label-labeler').selectOption('ground-truth');
  await page.getByTestId('label-every').fill('1');
  await page.getByTestId('label-run-start').click();
  const row = page.locator('[data-testid="job-row"][data-job-kind="label"]');
  await expect(row).toBeVisible();
  await expect(row).toHaveAttribute('data-job-state', /queued|running|done/);
  await expect(row).toHaveAttribute('data-job-state', 'done', { timeout: 120_000 });
  await expect(row.getByTestId('job-progress')).toHaveAttribute('value', '1');

  // The pane switches to the labeled view: summary, classes, labeled points in 3D.
  await expect(page.getByTestId('labels-pane')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('encoder-language')).not.toBeEmpty();
  const classList = page.getByTestId('class-list');
  await expect(classList.locator('tbody tr').first()).toBeVisible();
  const classesBefore = await classList.locator('tbody tr').count();
  expect(classesBefore).toBeGreaterThan(3);
  await expect(page.getByTestId('label-points-status')).toContainText('labeled points', { timeout: 60_000 });
  const pointsBefore = await numberIn(page, 'labels-points');
  expect(pointsBefore).toBeGreaterThan(0);

  // Reject the class with the most points (the list is sorted by points).
  const firstRow = classList.locator('tbody tr').first();
  const rejected = (await firstRow.getAttribute('data-testid'))!.replace(/^class-row-/, '');
  const rejectedPoints = Number(
    (await page.getByTestId(`class-points-${rejected}`).innerText()).replace(/[^\d]/g, ''),
  );
  expect(rejectedPoints).toBeGreaterThan(0);
  const before = await settledCanvas(page, 0);
  const renders = await renderCount(page);
  await firstRow.click();
  await expect(page.getByTestId('class-editor')).toHaveAttribute('data-class', rejected);
  await page.getByTestId('class-reject').click();
  await expect(page.getByTestId('rejected-classes')).toContainText(rejected);
  await expect(page.getByTestId(`class-row-${rejected}`)).toHaveCount(0);
  await expect(classList.locator('tbody tr')).toHaveCount(classesBefore - 1);
  await expect(page.getByTestId('edit-item')).toHaveCount(1);
  await expect.poll(() => numberIn(page, 'labels-points')).toBe(pointsBefore - rejectedPoints);
  // Its points turn grey in the 3D view: the rendered pixels change.
  const after = await settledCanvas(page, renders);
  expect(after.equals(before)).toBe(false);

  // Rename another class; its points move to the new name.
  const second = classList.locator('tbody tr').nth(1);
  const from = (await second.getAttribute('data-testid'))!.replace(/^class-row-/, '');
  const fromPoints = Number(
    (await page.getByTestId(`class-points-${from}`).innerText()).replace(/[^\d]/g, ''),
  );
  await second.click();
  await expect(page.getByTestId('class-editor')).toHaveAttribute('data-class', from);
  await page.getByTestId('class-rename-input').fill('renamed thing');
  await page.getByTestId('class-rename').click();
  await expect(page.getByTestId('class-row-renamed thing')).toBeVisible();
  await expect(page.getByTestId(`class-row-${from}`)).toHaveCount(0);
  await expect(page.getByTestId('class-points-renamed thing')).toHaveText(fromPoints.toLocaleString('en-US'));
  await expect(page.getByTestId('edit-item')).toHaveCount(2);

  // Undo brings the old name back.
  await page.getByTestId('label-undo').click();
  await expect(page.getByTestId(`class-row-${from}`)).toBeVisible();
  await expect(page.getByTestId('edit-item')).toHaveCount(1);
});
