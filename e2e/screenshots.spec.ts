/**
 * README screenshots from the real studio on the demo capture: walks the workflow (capture, labels,
 * training, query, waypoints) and writes docs/screenshots/<pane>.png at 1400x900, palette-compressed
 * to stay small enough to commit. Runs only with SCREENSHOTS=1:
 *   node scripts/build.mjs && SCREENSHOTS=1 node node_modules/@playwright/test/cli.js test e2e/screenshots.spec.ts
 */
import { test, expect, type Page } from '@playwright/test';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { makeHome, startHost, useSharedDemoCache, type HostProcess } from './host';
import { RpcClient, waitForJob } from './rpc';

useSharedDemoCache();

const enabled = process.env['SCREENSHOTS'] === '1';
const OUT_DIR = path.resolve(__dirname, '..', 'docs', 'screenshots');
const MAX_BYTES = 400 * 1024;

test.describe.configure({ mode: 'serial' });
test.use({ viewport: { width: 1400, height: 900 } });

const renderCount = (page: Page) =>
  page.evaluate(
    () =>
      (globalThis as unknown as { __studioTest?: { renderCount: number } }).__studioTest?.renderCount ?? 0,
  );

/** Waits until the 3D view stopped re-rendering (on-demand rendering; software WebGL is slow). */
async function settle(page: Page): Promise<void> {
  let last = -1;
  await expect
    .poll(
      async () => {
        const n = await renderCount(page);
        const still = n === last;
        last = n;
        return still;
      },
      { intervals: [700], timeout: 30_000 },
    )
    .toBe(true);
}

/** Screenshot -> 256-colour PNG (well under the size limit for UI images), written atomically. */
async function shoot(page: Page, name: string): Promise<void> {
  await settle(page);
  const raw = await page.screenshot({ type: 'png' });
  let png = await sharp(raw).png({ palette: true, colours: 256, compressionLevel: 9, effort: 10 }).toBuffer();
  if (png.byteLength > MAX_BYTES)
    png = await sharp(raw)
      .png({ palette: true, colours: 96, compressionLevel: 9, effort: 10, dither: 0.5 })
      .toBuffer();
  expect(png.byteLength, `${name}.png must stay under ${MAX_BYTES} bytes`).toBeLessThan(MAX_BYTES);
  const meta = await sharp(png).metadata();
  expect([meta.width, meta.height]).toEqual([1400, 900]);
  await fs.mkdir(OUT_DIR, { recursive: true });
  const file = path.join(OUT_DIR, `${name}.png`);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, png);
  await fs.rename(tmp, file);
}

let host: HostProcess | null = null;

test.beforeAll(async () => {
  if (!enabled) return;
  test.setTimeout(400_000);
  const home = await makeHome();
  host = await startHost({ home, project: path.join(home, 'demo-apartment') });
  const rpc = await RpcClient.connect(host.port, host.token);
  // All frames (each has a preview) fused at 3 cm: a dense-looking map that software WebGL still draws quickly.
  const imp = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'import',
    params: { capture: 'demo:0', voxel_m: 0.03 },
  });
  await waitForJob(rpc, imp.id, 300_000);
  const lab = await rpc.call<{ id: string }>('jobs.start', {
    kind: 'label',
    params: { labeler: 'ground-truth' },
  });
  await waitForJob(rpc, lab.id, 180_000);
  rpc.close();
});
test.afterAll(async () => {
  await host?.stop('SIGKILL');
});

test('writes the README screenshots from the demo workflow', async ({ page }) => {
  test.skip(
    !enabled,
    'screenshots are written only with SCREENSHOTS=1 (they are committed under docs/screenshots)',
  );
  test.setTimeout(600_000);
  const h = host!;
  await page.goto(h.url);
  await expect(page.getByTestId('app')).toBeVisible();

  await test.step('capture', async () => {
    await page.getByTestId('rail-capture').click();
    await expect(page.getByTestId('viewport')).toHaveAttribute('data-map-state', 'ready', {
      timeout: 60_000,
    });
    await page.getByTestId('frame-scrubber').fill('64');
    await expect(page.getByTestId('frame-layer-rgb')).toBeVisible();
    await page.getByTestId('overlay-depth').check();
    await expect(page.getByTestId('frame-layer-depth')).toBeVisible();
    await page.waitForTimeout(800);
    await shoot(page, 'capture');
  });

  await test.step('labels', async () => {
    await page.getByTestId('rail-labels').click();
    await expect(page.getByTestId('labels-pane')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('label-points-status')).toContainText('labeled points', {
      timeout: 60_000,
    });
    await expect(page.getByTestId('label-frame-image')).toBeVisible({ timeout: 30_000 });
    await page.waitForTimeout(800);
    await shoot(page, 'labels');
  });

  await test.step('training', async () => {
    await page.getByTestId('rail-training').click();
    await page.getByTestId('train-steps').fill('300');
    await page.getByTestId('train-eval_every').fill('30');
    await page.getByTestId('train-checkpoint_every').fill('150');
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('train-run')).toHaveAttribute('data-state', 'done', { timeout: 300_000 });
    const evalRow = page.locator('[data-testid="job-row"][data-job-kind="evaluate-field"]').first();
    await expect(evalRow).toHaveAttribute('data-job-state', 'done', { timeout: 180_000 });
    await expect(page.getByTestId('query-cache-state')).toContainText('Query cache built', {
      timeout: 30_000,
    });
    await shoot(page, 'training');
  });

  await test.step('query', async () => {
    await page.getByTestId('rail-query').click();
    await page.getByTestId('query-input').fill('chair');
    await page.getByTestId('query-run').click();
    await expect(page.getByTestId('query-hit-0')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('heatmap-legend')).toBeVisible();
    await page.waitForTimeout(800);
    await shoot(page, 'query');
    // "Make waypoint" on the hits until one has a reachable stand-off pose.
    const n = await page.locator('[data-testid^="query-hit-waypoint-"]').count();
    for (let i = 0; i < n; i++) {
      await page.getByTestId(`query-hit-waypoint-${i}`).click();
      const msg = page.getByTestId(`query-hit-message-${i}`);
      await expect(msg).toBeVisible({ timeout: 30_000 });
      if ((await msg.getAttribute('data-ok')) === 'true') break;
    }
  });

  await test.step('waypoints', async () => {
    // A few more goals (each class's hits until one has a reachable stand-off pose), through the contract.
    const rpc = await RpcClient.connect(h.port, h.token);
    try {
      for (const q of ['sofa', 'table', 'bed', 'desk', 'tv', 'plant']) {
        const r = await rpc.call<{ hits: { world_m: [number, number, number] }[] }>('query.run', {
          text: q,
          top: 5,
        });
        for (const hit of r.hits) {
          const ok = await rpc.call('waypoints.add', { name: q, target_world_m: hit.world_m, query: q }).then(
            () => true,
            () => false,
          );
          if (ok) break;
        }
      }
      const { waypoints } = await rpc.call<{ waypoints: unknown[] }>('waypoints.list');
      if (waypoints.length === 0) await rpc.call('waypoints.add', { name: 'chair', query: 'chair' });
    } finally {
      rpc.close();
    }
    await page.getByTestId('rail-waypoints').click();
    await expect(page.getByTestId('waypoint-0')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('occupancy-status')).toHaveAttribute('data-state', 'ready', {
      timeout: 60_000,
    });
    await page.getByTestId('waypoint-0').click();
    await page.waitForTimeout(800);
    await shoot(page, 'waypoints');
  });
});
