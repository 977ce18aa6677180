import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../field/config';
import { writeReport } from '../report/report';
import { evaluateSeeds } from './pipeline';

const frac = (v: number | null) => v === null || (v >= 0 && v <= 1);

describe('end-to-end evaluation (tiny synthetic seed)', () => {
  it('generates, imports, labels, trains and measures every study; the report renders it', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-e2e-'));
    try {
      const r = await evaluateSeeds({
        seeds: [1],
        frames: 8,
        rgbWidth: 96,
        rgbHeight: 128,
        depthWidth: 48,
        depthHeight: 64,
        steps: 30,
        studySteps: 10,
        denoising: [0, 0.4],
        fewShot: [0.5, 1],
        pointsPerFrame: 300,
        mapPoints: 4000,
        config: makeConfig('custom', {
          grid: { levels: 6, log2TableSize: 12, maxResolution: 128 },
          mlp: { width: 32, depth: 1 },
          batchSize: 256,
          optimizer: { lr: 1e-2, weightDecay: 0 },
        }),
        workDir: path.join(dir, 'work'),
        outDir: path.join(dir, 'out'),
      });
      expect(r.seeds).toHaveLength(1);
      expect(r.seeds[0]!.frames).toEqual({ total: 8, train: 4, heldout: 4 });
      expect(r.labels.point_accuracy).toBe(1); // ground-truth labels without noise
      for (const v of [
        r.segmentation.accuracy,
        r.segmentation.miou,
        r.localisation.present_success,
        r.localisation.absent_success,
      ])
        expect(frac(v)).toBe(true);
      expect(r.segmentation.points).toBeGreaterThan(0);
      expect(Object.keys(r.baselines).sort()).toEqual(['field', 'nearest-labeled-point', 'voxel-map']);
      expect(r.denoising.map((d) => d.noise)).toEqual([0, 0.4]);
      expect(r.few_shot.map((d) => d.fraction)).toEqual([0.5, 1]);
      expect(Object.values(r.localisation.per_class).some((c) => !c.present)).toBe(true);
      expect(r.visual_files!.length).toBeGreaterThan(0);
      const saved = JSON.parse(await fs.readFile(path.join(dir, 'out', 'result.json'), 'utf8')) as typeof r;
      expect(saved.segmentation.accuracy).toBe(r.segmentation.accuracy);
      const { out } = await writeReport({
        evalResult: r,
        visualsDir: path.join(dir, 'out'),
        out: path.join(dir, 'report.html'),
      });
      expect(await fs.readFile(out, 'utf8')).toContain('data:image/png;base64,');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
