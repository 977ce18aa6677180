/**
 * Capture pane, end to end: open the demo capture from the studio, scrub frames, toggle the frame
 * overlays (depth, confidence, annotations), pick a frame in the 3D view, and see the fused map.
 */
import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';
import { makeHome, startHost, useSharedDemoCache, type HostProcess } from './host';

// One generated demo capture shared by every spec (generated on first use, ~1-2 min).
useSharedDemoCache();

test.describe.configure({ mode: 'serial' });

let host: HostProcess;

test.beforeAll(async () => {
  const home = await makeHome();
  host = await startHost({ home, project: path.join(home, 'capture-project') });
});
test.afterAll(async () => {
  await host?.stop('SIGKILL');
});

/** The read-only diagnostics the renderer exposes as `window.__studioTest` (renderer/src/test-hooks.ts). */
interface StudioTest {
  mapPoints: number;
  selectedFrame: number | null;
  renderCount: number;
  frameScreenPosition(position: number): { x: number; y: number } | null;
}

const diag = (page: Page) =>
  page.evaluate(() => {
    const d = (globalThis as unknown as { __studioTest?: StudioTest }).__studioTest;
    return {
      mapPoints: d?.mapPoints ?? 0,
      selectedFrame: d?.selectedFrame ?? null,
      renderCount: d?.renderCount ?? 0,
    };
  });

test('opens the demo capture, scrubs frames, toggles overlays, picks a frame in 3D and shows the fused map', async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await page.goto(host.url);
  await expect(page.getByTestId('pane-capture')).toBeVisible();

  // Open the demo from the studio's import form (every 4th frame, 5 cm voxels: small enough for software WebGL).
  await page.getByTestId('import-demo').click();
  await expect(page.getByTestId('import-path')).toHaveValue(/^demo:/);
  await page.getByTestId('import-every').fill('4');
  await page.getByTestId('import-voxel').fill('0.05');
  await page.getByTestId('import-start').click();
  const job = page.locator('[data-testid="job-row"][data-job-kind="import"]');
  await expect(job).toHaveAttribute('data-job-state', /running|done/, { timeout: 30_000 });
  await expect(job).toHaveAttribute('data-job-state', 'done', { timeout: 240_000 });

  await expect(page.getByTestId('capture-summary')).toContainText('50/200 frames', { timeout: 30_000 });
  await expect.poll(async () => (await diag(page)).mapPoints, { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('viewport')).toHaveAttribute('data-map-state', 'ready');

  // Scrub: the range input, then the keyboard.
  await page.getByTestId('frame-scrubber').fill('10');
  await expect(page.getByTestId('frame-position')).toContainText('11/200');
  await expect(page.getByTestId('frame-layer-rgb')).toBeVisible();
  await page.keyboard.press(']');
  await expect(page.getByTestId('frame-position')).toContainText('12/200');
  expect((await diag(page)).selectedFrame).toBe(11);

  // Overlays: depth (with its legend), confidence and annotations each add a layer; unchecking removes it.
  for (const layer of ['depth', 'confidence', 'labels'] as const) {
    const toggle = page.getByTestId(`overlay-${layer}`);
    await expect(toggle).toBeEnabled();
    await toggle.check();
    await expect(page.getByTestId(`frame-layer-${layer}`)).toBeVisible();
    if (layer === 'depth') await expect(page.getByTestId('depth-legend')).toBeVisible();
  }
  await expect(page.getByTestId('frame-layer-error')).toHaveCount(0);
  await page.getByTestId('overlay-confidence').uncheck();
  await expect(page.getByTestId('frame-layer-confidence')).toHaveCount(0);

  // Pick a camera in the 3D view: find a frame drawn well inside the canvas and click its centre.
  const canvas = page.getByTestId('viewport-canvas');
  const box = await canvas.boundingBox();
  expect(box).not.toBeNull();
  const target = await page.evaluate(
    ({ box }) => {
      const d = (globalThis as unknown as { __studioTest: StudioTest }).__studioTest;
      const inside = (p: { x: number; y: number } | null) =>
        !!p &&
        p.x > box.x + 40 &&
        p.x < box.x + box.width - 40 &&
        p.y > box.y + 50 &&
        p.y < box.y + box.height - 40;
      // Far from the currently selected frame (11) so the selection visibly changes.
      for (const pos of [150, 120, 180, 90, 60, 199, 40]) {
        const p = d.frameScreenPosition(pos);
        if (inside(p)) return { pos, ...p! };
      }
      return null;
    },
    { box: box! },
  );
  expect(target, 'some camera is drawn inside the 3D view').not.toBeNull();
  await page.mouse.click(target!.x, target!.y);
  // The pick takes the camera nearest the pointer ray; neighbours are a few cm apart.
  await expect.poll(async () => (await diag(page)).selectedFrame, { timeout: 10_000 }).not.toBe(11);
  const picked = (await diag(page)).selectedFrame!;
  expect(Math.abs(picked - target!.pos)).toBeLessThanOrEqual(2);
  await expect(page.getByTestId('frame-position')).toContainText(`frame ${picked} `);

  // The fused map is drawn: save a screenshot of the pane with it.
  expect((await diag(page)).mapPoints).toBeGreaterThan(10_000);
  const shot = testInfo.outputPath('capture-map.png');
  await page.screenshot({ path: shot });
  await testInfo.attach('capture-map', { path: shot, contentType: 'image/png' });
});
