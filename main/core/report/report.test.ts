import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { sampleEvalResult } from './sample';
import { renderHeatmapPng, renderOverlayPng } from './images';
import { CHART_IDS, ReportError, renderReportHtml, writeReport } from './report';

describe('report', () => {
  it('renders every chart as inline SVG in a figure with its id, with no scripts or external resources', async () => {
    const html = await renderReportHtml({
      evalResult: sampleEvalResult(),
      benchResults: [
        { suite: 'field', name: 'train step', unit: 'ms', median: 12.5, runs: 3, ratio_to_previous: null },
      ],
    });
    for (const id of CHART_IDS) {
      const m = new RegExp(`<figure data-chart="${id}"><svg[\\s\\S]*?</svg>`).exec(html);
      expect(m, `chart ${id}`).not.toBeNull();
    }
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*"(https?:)?\/\//i);
    expect(html).toContain('trash can');
    expect(html).toContain('train step');
    expect(html).toContain('test &lt;rule&gt;');
    expect(html).toContain('Per seed');
  }, 30_000);

  it('inlines the evaluation images from the project as PNG data URIs and writes the file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-'));
    try {
      const heat = await renderHeatmapPng({
        xyz: Float32Array.from([0, 0, 0, 1, 0, 1, 0.5, 0, 2]),
        score: Float32Array.from([0.1, 0.9, 0.5]),
        look_at: [1, 0, 1],
        upAxis: 1,
        boxes: [{ min: [0.9, 0, 0.9], max: [1.1, 0.2, 1.1] }],
      });
      const meta = await sharp(heat).metadata();
      expect(meta.format).toBe('png');
      const w = 4,
        h = 3;
      const overlay = await renderOverlayPng(
        {
          width: w,
          height: h,
          rgb: new Uint8Array(w * h * 3).fill(128),
          gt: new Int16Array(w * h).fill(0),
          pred: new Int16Array(w * h).fill(-1),
        },
        ['mug'],
      );
      expect((await sharp(overlay).metadata()).width).toBeGreaterThanOrEqual(3 * 192);
      await fs.mkdir(path.join(dir, 'eval', 'visuals'), { recursive: true });
      await fs.writeFile(path.join(dir, 'eval', 'visuals', 'h.png'), heat);
      await fs.writeFile(path.join(dir, 'eval', 'visuals', 'o.png'), overlay);
      const r = {
        ...sampleEvalResult(),
        visual_files: [
          { kind: 'heatmap' as const, title: 'mug heat', file: 'visuals/h.png' },
          { kind: 'overlay' as const, title: 'frame 3', file: 'visuals/o.png' },
        ],
      };
      await fs.writeFile(path.join(dir, 'eval', 'result.json'), JSON.stringify(r));
      const out = path.join(dir, 'report.html');
      await writeReport({ projectDir: dir, out });
      const html = await fs.readFile(out, 'utf8');
      expect(html).toContain(`src="data:image/png;base64,${Buffer.from(heat).toString('base64')}"`);
      expect(html.match(/data-image="overlay"/g)).toHaveLength(1);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('names the file when the result or an image is missing, and refuses images outside the eval folder', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'report-'));
    try {
      await expect(writeReport({ projectDir: dir, out: path.join(dir, 'r.html') })).rejects.toThrow(
        /result\.json/,
      );
      const r = {
        ...sampleEvalResult(),
        visual_files: [{ kind: 'heatmap' as const, title: 'x', file: '../../etc/passwd' }],
      };
      await expect(renderReportHtml({ evalResult: r, projectDir: dir })).rejects.toBeInstanceOf(ReportError);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
