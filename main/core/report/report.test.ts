import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { EvalResult, MethodResult } from '../eval/types';
import { renderHeatmapPng, renderOverlayPng } from './images';
import { CHART_IDS, ReportError, renderReportHtml, writeReport } from './report';

function method(name: MethodResult['method'], acc: number): MethodResult {
  return {
    method: name,
    accuracy: acc,
    miou: acc - 0.1,
    present_success: acc,
    absent_success: 1,
    memory_bytes: 1 << 20,
    build_ms: 10,
    query_ms: 2,
    classify_ms_per_1k: 1,
    coverage: 1,
  };
}

function fakeResult(): EvalResult {
  const seed = {
    seed: 1,
    capture: '/x.r3d',
    frames: { total: 10, train: 5, heldout: 5 },
    labels: {
      point_accuracy: 1,
      mean_precision: 1,
      mean_recall: 0.9,
      points: 100,
      frames: 5,
      per_class: {
        mug: { precision: 1, recall: 0.8, labeled_points: 10, gt_points: 12 },
        'trash can': { precision: 0.9, recall: 1, labeled_points: 9, gt_points: 9 },
      },
    },
    segmentation: {
      accuracy: 0.9,
      miou: 0.8,
      points: 1000,
      frames: 5,
      per_class: {
        mug: { accuracy: 0.7, precision: 0.8, iou: 0.6, support: 100 },
        'trash can': { accuracy: 0.95, precision: 0.9, iou: 0.86, support: 900 },
      },
    },
    localisation: {
      present_success: 1,
      absent_success: 0.5,
      false_found_rate: 0.5,
      radius_m: 0.3,
      not_found_rule: 'test <rule>',
      per_class: {
        mug: {
          present: true,
          found: true,
          success: true,
          distance_m: 0.1,
          score: 0.9,
          look_at: [0, 0, 0] as [number, number, number],
        },
        giraffe: { present: false, found: true, success: false, distance_m: null, score: 0.7, look_at: null },
      },
    },
    baselines: {
      field: method('field', 0.9),
      'nearest-labeled-point': method('nearest-labeled-point', 0.85),
      'voxel-map': method('voxel-map', 0.8),
    },
    denoising: [
      { noise: 0, spec: 'none', label_accuracy: 1, field_accuracy: 0.9, field_miou: 0.8 },
      { noise: 0.4, spec: 'confuse=0.4', label_accuracy: 0.6, field_accuracy: 0.8, field_miou: 0.7 },
    ],
    few_shot: [
      { fraction: 0.1, frames: 1, label_points: 10, field_accuracy: 0.5, field_miou: 0.3 },
      { fraction: 1, frames: 5, label_points: 100, field_accuracy: 0.9, field_miou: 0.8 },
    ],
    training: {
      steps: 3,
      engine: 'onnx',
      preset: 'cpu',
      samples_per_s: 1000,
      train_ms: 50,
      final_loss: 0.5,
      curve: [
        { step: 1, loss: 2 },
        { step: 2, loss: 1, heldout_accuracy: 0.5 },
        { step: 3, loss: 0.5 },
      ],
    },
    timings_ms: { total: 1000 },
  };
  return {
    version: 1,
    created_at: '2026-01-01T00:00:00Z',
    settings: { steps: 3 },
    ...seed,
    seeds: [seed, { ...seed, seed: 2 }],
    targets: { segmentation_accuracy: 0.85, localisation: 0.9, met: true },
  };
}

describe('report', () => {
  it('renders every chart as inline SVG in a figure with its id, with no scripts or external resources', async () => {
    const html = await renderReportHtml({
      evalResult: fakeResult(),
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
        ...fakeResult(),
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
        ...fakeResult(),
        visual_files: [{ kind: 'heatmap' as const, title: 'x', file: '../../etc/passwd' }],
      };
      await expect(renderReportHtml({ evalResult: r, projectDir: dir })).rejects.toBeInstanceOf(ReportError);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
