/** The HTML report renders in a real browser with every chart present (inline SVG, no scripts needed). */
import { test, expect } from '@playwright/test';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CHART_IDS, writeReport } from '../main/core/report/report';
import { sampleEvalResult } from '../main/core/report/sample';

test('the report opens and shows every chart', async ({ page }) => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-report-'));
  const out = path.join(dir, 'report.html');
  await writeReport({
    evalResult: sampleEvalResult(),
    benchResults: [
      {
        suite: 'training',
        name: 'samples/s cpu',
        unit: 'samples/s',
        median: 25000,
        runs: 3,
        ratio_to_previous: null,
      },
    ],
    out,
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(out).href);
  for (const id of CHART_IDS) {
    const fig = page.locator(`figure[data-chart="${id}"]`);
    await expect(fig, id).toBeVisible();
    const box = await fig.locator('svg').first().boundingBox();
    expect(box?.width ?? 0, id).toBeGreaterThan(100);
    expect(box?.height ?? 0, id).toBeGreaterThan(50);
  }
  await expect(page.getByText('samples/s cpu')).toBeVisible();
  expect(errors).toEqual([]);
});
