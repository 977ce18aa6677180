import { describe, expect, it } from 'vitest';
import { adamDense, adamGridDense, adamGridRows } from './adam';
import { DEFAULT_OPTIMIZER, makeConfig } from './config';
import { GridStore } from './hashgrid';
import { Rng } from './rng';
import { syntheticDataset } from './synthetic';
import { trainField } from './train';

describe('Adam', () => {
  it('follows torch.optim.Adam with L2 weight decay (float64 reference, 3 steps)', () => {
    const h = { ...DEFAULT_OPTIMIZER, lr: 0.01 };
    const p = Float32Array.from([0.5, -1, 2]);
    const m = new Float32Array(3);
    const v = new Float32Array(3);
    const ref = { p: [0.5, -1, 2], m: [0, 0, 0], v: [0, 0, 0] };
    const grads = [
      [0.1, -0.2, 0.3],
      [0.0, 0.5, -0.1],
      [1, 1, 1],
    ];
    grads.forEach((g, t) => {
      adamDense(p, Float32Array.from(g), m, v, t + 1, h);
      for (let i = 0; i < 3; i++) {
        const gi = g[i]! + h.weightDecay * ref.p[i]!;
        ref.m[i] = h.beta1 * ref.m[i]! + (1 - h.beta1) * gi;
        ref.v[i] = h.beta2 * ref.v[i]! + (1 - h.beta2) * gi * gi;
        const mh = ref.m[i]! / (1 - h.beta1 ** (t + 1));
        const vh = ref.v[i]! / (1 - h.beta2 ** (t + 1));
        ref.p[i]! -= (h.lr * mh) / (Math.sqrt(vh) + h.eps);
      }
    });
    for (let i = 0; i < 3; i++) expect(p[i]).toBeCloseTo(ref.p[i]!, 6);
  });

  it('grid-row Adam equals dense Adam on the listed rows, leaves other rows alone and clears their gradient', () => {
    const F = 2;
    const rows = 10;
    const rng = new Rng(2);
    const a = new GridStore(rows, F);
    for (let i = 0; i < a.data.length; i++) a.data[i] = rng.normal();
    const b = new GridStore(rows, F);
    b.data.set(a.data);
    const listed = Int32Array.from([7, 2, 5]);
    adamGridRows(a.data, F, listed, 3, 4, DEFAULT_OPTIMIZER);
    adamGridDense(b.data, F, rows, 4, DEFAULT_OPTIMIZER);
    const before = new GridStore(rows, F);
    rng.setState(new Rng(2).getState());
    for (let i = 0; i < before.data.length; i++) before.data[i] = rng.normal();
    for (let r = 0; r < rows; r++) {
      const seg = (s: GridStore) => Array.from(s.data.subarray(r * 4 * F, (r + 1) * 4 * F));
      if (listed.includes(r)) {
        expect(seg(a)).toEqual(seg(b));
        expect(seg(a).slice(F, 2 * F)).toEqual([0, 0]);
      } else expect(seg(a)).toEqual(seg(before));
    }
  });
});

describe('lazy grid Adam vs dense grid Adam', () => {
  it('reach the same held-out accuracy and a final loss within 10 % on the same run', async () => {
    const ds = syntheticDataset({
      points: 5000,
      classes: 10,
      detectionsPerClass: 4,
      languageDim: 32,
      visionDim: 32,
      seed: 8,
    });
    const run = (gridUpdate: 'lazy' | 'dense') =>
      trainField(ds, {
        config: makeConfig('custom', {
          grid: { levels: 8, featuresPerLevel: 2, log2TableSize: 14, maxResolution: 256 },
          mlp: { width: 64, depth: 1 },
          batchSize: 256,
          optimizer: { lr: 1e-3, gridUpdate },
        }),
        steps: 150,
        seed: 4,
        evalEvery: 1000,
      });
    const lazy = await run('lazy');
    const dense = await run('dense');
    expect(lazy.final.heldout_accuracy).toBeGreaterThan(0.9);
    expect(dense.final.heldout_accuracy).toBeGreaterThan(0.9);
    expect(Math.abs(lazy.final.heldout_accuracy - dense.final.heldout_accuracy)).toBeLessThan(0.03);
    expect(Math.abs(lazy.final.loss - dense.final.loss) / dense.final.loss).toBeLessThan(0.1);
  }, 40_000);
});
