/**
 * The foundation, end to end: the real renderer build in Debian's Chromium against the real web host
 * (`clip-fields serve`) — panes, projects, a job streaming progress to the jobs bar, cancel, and crash recovery.
 */
import { test, expect } from '@playwright/test';
import * as path from 'node:path';
import { makeHome, startHost, type HostProcess } from './host';
import { RpcClient } from './rpc';

let host: HostProcess | null = null;
test.afterEach(async () => {
  await host?.stop('SIGKILL');
  host = null;
});

test('switches through every pane and shows what to do next', async ({ page }) => {
  const home = await makeHome();
  host = await startHost({ home });
  await page.goto(host.url);
  await expect(page.getByTestId('app')).toBeVisible();
  for (const pane of ['capture', 'labels', 'training', 'query', 'waypoints', 'report']) {
    await page.getByTestId(`rail-${pane}`).click();
    await expect(page.getByTestId(`pane-${pane}`)).toBeVisible();
  }
  // Keyboard shortcuts switch panes too.
  await page.keyboard.press('1');
  await expect(page.getByTestId('pane-capture')).toBeVisible();
  await expect(page.getByTestId('empty-state').first()).toBeVisible();
});

test('creates a project, streams a job to the jobs bar, and cancels it', async ({ page }) => {
  const home = await makeHome();
  host = await startHost({ home });
  await page.goto(host.url);
  await page.getByTestId('project-menu-button').click();
  await page.getByTestId('menu-create-project').click();
  const dir = path.join(home, 'my-map');
  await page.getByTestId('project-path').fill(dir);
  await page.getByTestId('project-name-input').fill('My map');
  await page.getByTestId('project-submit').click();
  await expect(page.getByTestId('project-name')).toHaveText('My map');

  // A second client (the CLI or another window) starts a job; the page sees it live.
  const rpc = await RpcClient.connect(host.port, host.token);
  const job = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'selftest',
    params: { steps: 400, step_ms: 50 },
  });
  const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
  await expect(row).toHaveAttribute('data-job-state', 'running');
  const progress = row.getByTestId('job-progress');
  await expect(async () => {
    const v = Number(await progress.getAttribute('value'));
    expect(v).toBeGreaterThan(0);
  }).toPass();
  await row.getByTestId('job-cancel').click();
  await expect(row).toHaveAttribute('data-job-state', 'cancelled');
  const jobs = await rpc.call<{ jobs: { id: string; state: string }[] }>('jobs.list');
  expect(jobs.jobs.find((j) => j.id === job.id)?.state).toBe('cancelled');
  rpc.close();
});

test('a job running when the host is killed shows as interrupted after restart and can be resumed', async ({
  page,
}) => {
  const home = await makeHome();
  const project = path.join(home, 'crash-project');
  host = await startHost({ home, project });
  const rpc = await RpcClient.connect(host.port, host.token);
  const job = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'selftest',
    params: { steps: 200, step_ms: 50 },
  });
  await expect(async () => {
    const list = await rpc.call<{ jobs: { id: string; progress: { done: number } | null }[] }>('jobs.list');
    expect(list.jobs.find((j) => j.id === job.id)?.progress?.done ?? 0).toBeGreaterThan(5);
  }).toPass();
  rpc.close();
  await host.stop('SIGKILL');

  host = await startHost({ home, project });
  await page.goto(host.url);
  const row = page.locator(`[data-testid="job-row"][data-job-id="${job.id}"]`);
  await expect(row).toHaveAttribute('data-job-state', 'interrupted');
  await row.getByTestId('job-resume').click();
  await expect(row).toHaveAttribute('data-job-state', /running|done/);
});
