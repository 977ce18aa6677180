/**
 * Training pane, end to end: start a short run from the studio, watch the charts and read-outs move,
 * pause and resume it, see it finish with a held-out accuracy, then switch checkpoints and colour the
 * map by the field's top label.
 */
import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';
import { makeHome, startHost, useSharedDemoCache, type HostProcess } from './host';
import { RpcClient, waitForJob, type JobRow } from './rpc';

useSharedDemoCache();

test.describe.configure({ mode: 'serial' });

let host: HostProcess;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const home = await makeHome();
  host = await startHost({ home, project: path.join(home, 'training-project') });
  const rpc = await RpcClient.connect(host.port, host.token);
  const imp = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'import',
    params: { capture: 'demo:0', every: 4, voxel_m: 0.05 },
  });
  await waitForJob(rpc, imp.id, 240_000);
  const lab = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'label',
    params: { labeler: 'ground-truth' },
  });
  await waitForJob(rpc, lab.id, 120_000);
  rpc.close();
});
test.afterAll(async () => {
  await host?.stop('SIGKILL');
});

const chartPoints = async (page: Page, testid: string) =>
  Number((await page.getByTestId(testid).getAttribute('data-points')) ?? '0');

test('trains from the studio with live charts, pause and resume, and shows the accuracy', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto(host.url);
  await page.getByTestId('rail-training').click();
  await expect(page.getByTestId('training-pane')).toBeVisible();
  await expect(page.getByTestId('train-no-run')).toBeVisible();

  await page.getByTestId('train-steps').fill('240');
  await page.getByTestId('train-eval_every').fill('40');
  await page.getByTestId('train-checkpoint_every').fill('120');
  await page.getByTestId('train-start').click();

  const run = page.getByTestId('train-run');
  await expect(run).toHaveAttribute('data-state', /queued|running/);
  await expect(run).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  await expect(page.getByTestId('train-engine-info')).toContainText('onnxruntime');

  // The charts fill as metrics stream, and the step read-out advances.
  await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 90_000 }).toBeGreaterThan(1);
  const step = async () =>
    Number((await page.getByTestId('train-step').innerText()).split('/')[0]!.replace(/[^\d]/g, ''));
  const s1 = await step();
  await expect.poll(step, { timeout: 60_000 }).toBeGreaterThan(s1);
  await expect(page.getByTestId('train-sps')).not.toHaveText('—');

  // Pause, check nothing moves, resume.
  await page.getByTestId('train-pause').click();
  await expect(run).toHaveAttribute('data-state', 'paused', { timeout: 60_000 });
  const pausedAt = await step();
  expect(pausedAt).toBeLessThan(240);
  await page.waitForTimeout(1500);
  expect(await step()).toBe(pausedAt);
  await page.getByTestId('train-resume').click();
  await expect(run).toHaveAttribute('data-state', /queued|running/);

  // It finishes with a held-out accuracy; the accuracy chart has points too.
  await expect(run).toHaveAttribute('data-state', 'done', { timeout: 180_000 });
  await expect(page.getByTestId('train-step')).toContainText('240');
  await expect(page.getByTestId('train-acc')).toHaveText(/^\d+(\.\d)?%$/);
  const acc = Number((await page.getByTestId('train-acc').innerText()).replace('%', ''));
  expect(acc).toBeGreaterThan(50);
  expect(await chartPoints(page, 'chart-accuracy')).toBeGreaterThan(1);
  expect(await chartPoints(page, 'chart-loss')).toBeGreaterThan(2);

  // Checkpoints at 120 and 240; the query cache is built by the follow-up evaluate-field job.
  await expect(page.getByTestId('checkpoint-240')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('checkpoint-120')).toBeVisible();
  const evalRow = page.locator('[data-testid="job-row"][data-job-kind="evaluate-field"]').first();
  await expect(evalRow).toHaveAttribute('data-job-state', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('query-cache-state')).toContainText('Query cache built', { timeout: 30_000 });

  // Colour the map by the field's top label.
  await page.getByTestId('field-color-toggle').check();
  await expect(page.getByTestId('field-map')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  await expect(page.getByTestId('field-map-legend').locator('li').first()).toBeVisible();
  await expect(page.getByTestId('field-map-error')).toHaveCount(0);

  // "Use this one" on the older checkpoint rebuilds the query cache from it (an evaluate-field job).
  await page.getByTestId('checkpoint-use-120').click();
  const msg = page.getByTestId('checkpoint-use-message');
  await expect(msg).toContainText('step 120');
  await expect(page.getByTestId('checkpoint-use-120')).toHaveText('in use');
  const jobId = await msg.getAttribute('data-job-id');
  expect(jobId).toBeTruthy();
  const rpc = await RpcClient.connect(host.port, host.token);
  try {
    const { jobs } = await rpc.call<{ jobs: JobRow[] }>('jobs.list');
    expect(jobs.find((j) => j.id === jobId)?.kind).toBe('evaluate-field');
    await waitForJob(rpc, jobId!, 120_000);
  } finally {
    rpc.close();
  }
  await expect(page.getByTestId('field-map')).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  await expect(page.getByTestId('field-map-legend').locator('li').first()).toBeVisible();
});
