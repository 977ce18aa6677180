/**
 * Query and Waypoints panes, end to end: query a trained demo field from the studio, see the heatmap
 * and hits, make a waypoint from a hit, see it over the occupancy grid, export Nav2 YAML, and see a
 * made-up query answered "not found".
 */
import { test, expect, type Page } from '@playwright/test';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { makeHome, startHost, useSharedDemoCache, type HostProcess } from './host';
import { RpcClient, waitForJob } from './rpc';

useSharedDemoCache();

test.describe.configure({ mode: 'serial' });

const renderCount = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { __studioTest?: { renderCount: number } }).__studioTest?.renderCount ?? 0,
  );

/** The 3D view's pixels once it has stopped re-rendering (it renders on demand). */
async function settledCanvas(page: Page, after = 0): Promise<Buffer> {
  await expect.poll(() => renderCount(page), { timeout: 20_000 }).toBeGreaterThan(after);
  let last = -1;
  await expect
    .poll(
      async () => {
        const n = await renderCount(page);
        const still = n === last && n > 0;
        last = n;
        return still;
      },
      { intervals: [500], timeout: 20_000 },
    )
    .toBe(true);
  return page.getByTestId('viewport-canvas').screenshot();
}

let host: HostProcess;
let home: string;

test.beforeAll(async () => {
  test.setTimeout(400_000);
  home = await makeHome();
  host = await startHost({ home, project: path.join(home, 'query-project') });
  const rpc = await RpcClient.connect(host.port, host.token);
  const run = async (kind: string, params: Record<string, unknown>, timeout_ms: number) => {
    const job = await rpc.call<{ id: string }>('jobs.start', { kind, params });
    await waitForJob(rpc, (j) => j.id === job.id, timeout_ms);
  };
  await run('import', { capture: 'demo:0', every: 4, voxel_m: 0.05 }, 240_000);
  await run('label', { labeler: 'ground-truth' }, 120_000);
  await run('train', { steps: 150, eval_every: 50, checkpoint_every: 0 }, 180_000);
  // Training starts the evaluate-field job that builds the query cache.
  await waitForJob(rpc, (j) => j.kind === 'evaluate-field', 120_000);
  rpc.close();
});
test.afterAll(async () => {
  await host?.stop('SIGKILL');
});

test('a made-up query is answered "not found"', async ({ page }) => {
  await page.goto(host.url);
  await page.getByTestId('rail-query').click();
  await expect(page.getByTestId('query-pane')).toBeVisible();
  await page.getByTestId('query-input').fill('purple submarine');
  await page.getByTestId('query-run').click();
  await expect(page.getByTestId('query-not-found')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('query-not-found')).toContainText('purple submarine');
  await expect(page.getByTestId('query-hit-0')).toHaveCount(0);
});

test('lists a waypoint over the occupancy grid and exports Nav2 YAML that parses', async ({ page }) => {
  test.setTimeout(120_000);
  const rpc = await RpcClient.connect(host.port, host.token);
  try {
    // The query's goal (main computes the stand-off pose for the top hit).
    await rpc.call('waypoints.add', { name: 'chair goal', query: 'chair' });
  } finally {
    rpc.close();
  }
  await page.goto(host.url);
  await page.getByTestId('rail-waypoints').click();
  await expect(page.getByTestId('waypoints-pane')).toBeVisible();
  await expect(page.getByTestId('waypoint-0')).toBeVisible();
  await expect(page.getByTestId('waypoint-name-0')).toHaveValue('chair goal');
  await expect(page.getByTestId('waypoint-0')).toContainText('from “chair”');
  await expect(page.getByTestId('occupancy-status')).toHaveAttribute('data-state', 'ready', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('occupancy-status')).toContainText(/\d+×\d+ cells/);
  await expect(page.getByTestId('waypoints-topview')).toBeVisible();
  // The grid is drawn as a floor layer in 3D: hiding it changes the rendered pixels.
  await expect(page.getByTestId('viewport')).toHaveAttribute('data-map-state', 'ready', { timeout: 60_000 });
  const toggle = page.getByTestId('occupancy-toggle');
  await expect(toggle).toBeChecked();
  const withGrid = await settledCanvas(page);
  const renders = await renderCount(page);
  await toggle.uncheck();
  const withoutGrid = await settledCanvas(page, renders);
  expect(withoutGrid.equals(withGrid)).toBe(false);
  await toggle.check();

  // Export Nav2 YAML to a temporary folder and read it back.
  const out = path.join(home, 'nav2-export');
  await fs.mkdir(out, { recursive: true });
  await page.getByTestId('export-path').fill(out);
  await page.getByTestId('export-nav2').click();
  const message = page.getByTestId('export-message');
  await expect(message).toContainText('Wrote', { timeout: 30_000 });
  const written = (await message.innerText()).replace(/^Wrote /, '').split(', ');
  const yamlFile = written.find((f) => /\.ya?ml$/.test(f));
  expect(yamlFile, `a YAML file among ${written.join(', ')}`).toBeTruthy();
  expect(path.dirname(yamlFile!)).toBe(out);
  const text = await fs.readFile(yamlFile!, 'utf8');
  const doc = parseYaml(text) as {
    frame_id: string;
    names: string[];
    poses: {
      header: { frame_id: string };
      pose: { position: { x: number; y: number }; orientation: { z: number; w: number } };
    }[];
  };
  expect(doc.frame_id).toBe('map');
  expect(doc.names).toEqual(['chair goal']);
  expect(doc.poses).toHaveLength(1);
  const pose = doc.poses[0]!.pose;
  expect(Number.isFinite(pose.position.x) && Number.isFinite(pose.position.y)).toBe(true);
  expect(Math.hypot(pose.orientation.z, pose.orientation.w)).toBeCloseTo(1, 3);
});

test('finds a class with a heatmap and hits; "Make waypoint" on a hit saves a reachable goal or says why not', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto(host.url);
  await page.getByTestId('rail-query').click();
  await expect(page.getByTestId('query-pane')).toBeVisible();

  await page.getByTestId('query-input').fill('chair');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('query-results')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('query-hit-0')).toBeVisible();
  await expect(page.getByTestId('heatmap-legend')).toBeVisible();
  await expect
    .poll(async () => Number((await page.getByTestId('heatmap-above').innerText()).replace(/[^\d]/g, '')), {
      timeout: 30_000,
    })
    .toBeGreaterThan(0);
  await expect(page.getByTestId('viewport')).toHaveAttribute('data-map-state', 'ready');

  // Main picks a reachable stand-off pose facing the hit, or answers NOT_FOUND with the reason (shown).
  const hits = await page.locator('[data-testid^="query-hit-waypoint-"]').count();
  let saved = -1;
  const reasons: string[] = [];
  for (let i = 0; i < hits && saved < 0; i++) {
    await page.getByTestId(`query-hit-waypoint-${i}`).click();
    const msg = page.getByTestId(`query-hit-message-${i}`);
    await expect(msg).toBeVisible({ timeout: 30_000 });
    if ((await msg.getAttribute('data-ok')) === 'true') saved = i;
    else {
      await expect(msg).toContainText(/No waypoint: .+/);
      reasons.push(await msg.innerText());
    }
  }
  // The query's own goal for the top hit is reachable, so some hit must give a waypoint.
  expect(
    saved,
    `some chair hit gives a waypoint; answers were:\n${reasons.join('\n')}`,
  ).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId(`query-hit-message-${saved}`)).toContainText('saved');
  await page.getByTestId('rail-waypoints').click();
  await expect(page.locator('[data-testid^="waypoint-name-"]').last()).toHaveValue(/^chair/);
});
