import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamGridRows } from './adam';
import type { FieldState } from './backend';
import { saveCheckpoint } from './checkpoint';
import { DEFAULT_OPTIMIZER, type FieldConfig, makeConfig } from './config';
import { OnnxBackend } from './engine-onnx';
import { GRID_WORKER_SOURCE, GridPool, GridThreadError } from './grid-threads';
import {
  GridStore,
  allocCorners,
  clearTouched,
  computeCorners,
  gatherFeatures,
  gridLayout,
  makeTouched,
  scatterFeatureGrads,
} from './hashgrid';
import { Rng } from './rng';
import { syntheticDataset } from './synthetic';

const ds = syntheticDataset({
  points: 3000,
  classes: 6,
  detectionsPerClass: 4,
  languageDim: 24,
  visionDim: 16,
  seed: 9,
});

/** Dense coarse levels and hashed fine levels, F = 2 (the fast path) or F = 3 (the general path). */
const cfgOf = (F: number, gridUpdate: 'lazy' | 'dense'): FieldConfig =>
  makeConfig('custom', {
    grid: { levels: 6, featuresPerLevel: F, log2TableSize: 11, maxResolution: 128, initScale: 0.05 },
    mlp: { width: 32, depth: 1 },
    batchSize: 256,
    optimizer: { lr: 1e-2, gridUpdate },
  });

async function trained(cfg: FieldConfig, gridThreads: number, steps: number) {
  const be = new OnnxBackend({ gridThreads });
  await be.init(cfg, ds, 5);
  const rng = new Rng(12);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++)
    losses.push((await be.step(Int32Array.from({ length: 256 }, () => rng.int(ds.points)))).loss);
  return { be, losses };
}

function expectSameState(a: FieldState, b: FieldState): void {
  expect(a.step).toBe(b.step);
  expect(a.logTemperature).toBe(b.logTemperature);
  expect(a.grid).toEqual(b.grid);
  expect(a.adam.grid.m).toEqual(b.adam.grid.m);
  expect(a.adam.grid.v).toEqual(b.adam.grid.v);
  expect(a.weights).toEqual(b.weights);
  expect(a.adam.weights).toEqual(b.adam.weights);
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'grid-threads-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('grid thread pool: threaded training is bit-identical to one thread', () => {
  for (const [F, mode] of [
    [2, 'lazy'],
    [3, 'lazy'],
    [2, 'dense'],
  ] as const) {
    it(`F=${F}, ${mode} grid Adam: parameters, moments, losses, gradients and predictions equal after 5 steps`, async () => {
      const cfg = cfgOf(F, mode);
      const one = await trained(cfg, 1, 5);
      const two = await trained(cfg, 2, 5);
      try {
        expect(one.be.gridThreads).toBe(1);
        expect(two.be.gridThreads).toBe(2);
        expect(two.be.providerNote).toBeNull();
        expect(two.losses).toEqual(one.losses);
        expectSameState(two.be.getState(), one.be.getState());
        // and the grid really moved (the comparison is not between two untouched tables)
        const init = new OnnxBackend({ gridThreads: 1 });
        await init.init(cfg, ds, 5);
        expect(one.be.getState().grid).not.toEqual(init.getState().grid);
        await init.dispose();
        const idx = Int32Array.from({ length: 200 }, (_, i) => (i * 13) % ds.points);
        const g1 = await one.be.gradients(idx);
        const g2 = await two.be.gradients(idx);
        expect(g2.grid).toEqual(g1.grid);
        expect(g2.weights).toEqual(g1.weights);
        // gradients() leaves no gradient behind: the next steps stay identical
        await one.be.step(idx);
        await two.be.step(idx);
        expectSameState(two.be.getState(), one.be.getState());
        const p1 = await one.be.predict(ds.xyz.subarray(0, 900));
        const p2 = await two.be.predict(ds.xyz.subarray(0, 900));
        expect(p2.language).toEqual(p1.language);
        expect(p2.vision).toEqual(p1.vision);
      } finally {
        await one.be.dispose();
        await two.be.dispose();
      }
    });
  }

  it('checkpoints written from a threaded and a single-threaded run are byte-identical, and resuming stays equal', async () => {
    const cfg = cfgOf(2, 'lazy');
    const one = await trained(cfg, 1, 4);
    const two = await trained(cfg, 2, 4);
    try {
      const meta = {
        engine: 'onnx',
        seed: 5,
        datasetFingerprint: 'x',
        heldoutAccuracy: null,
        samplesSeen: 1024,
      };
      const d1 = await saveCheckpoint(path.join(tmp, 'one'), one.be.getState(), meta);
      const d2 = await saveCheckpoint(path.join(tmp, 'two'), two.be.getState(), meta);
      const manifest = async (d: string) =>
        (JSON.parse(await fs.readFile(path.join(d, 'manifest.json'), 'utf8')) as { files: unknown }).files;
      expect(await manifest(d2)).toEqual(await manifest(d1));
      // cross-resume: the threaded backend continues from the single-threaded state and vice versa
      const s1 = one.be.getState();
      one.be.setState(two.be.getState());
      two.be.setState(s1);
      const idx = Int32Array.from({ length: 256 }, (_, i) => (i * 7) % ds.points);
      await one.be.step(idx);
      await two.be.step(idx);
      expectSameState(two.be.getState(), one.be.getState());
    } finally {
      await one.be.dispose();
      await two.be.dispose();
    }
  });

  it('pool commands equal the exported single-threaded functions, also after growing past their capacity', async () => {
    const cfg = cfgOf(2, 'lazy');
    const layout = gridLayout(cfg.grid);
    const F = layout.features;
    const rng = new Rng(4);
    const a = new GridStore(layout.totalRows, F, true);
    for (let i = 0; i < a.data.length; i++) a.data[i] = rng.normal() * 0.1;
    const b = new GridStore(layout.totalRows, F);
    b.data.set(a.data);
    const pool = await GridPool.create(layout, a, 16, { threads: 2 });
    try {
      expect(pool.threads).toBe(2);
      for (const n of [10, 300, 120]) {
        const xyz = Float32Array.from({ length: n * 3 }, () => rng.uniform(-0.1, 1.1));
        const dY = Float32Array.from({ length: n * layout.outDim }, () => rng.normal());
        const fa = new Float32Array(n * layout.outDim);
        pool.forward(xyz, n, fa);
        pool.scatterAdam(dY, n, 3, DEFAULT_OPTIMIZER, 'lazy');
        const c = allocCorners(layout, n);
        computeCorners(layout, xyz, n, c);
        const fb = new Float32Array(n * layout.outDim);
        gatherFeatures(layout, b.data, c, fb, b.stride, 0);
        const tr = makeTouched(layout, n * layout.levels * 8);
        scatterFeatureGrads(layout, dY, c, b.data, tr, b.stride, F);
        adamGridRows(b.data, F, tr.list, tr.count, 3, DEFAULT_OPTIMIZER);
        clearTouched(tr);
        expect(fa).toEqual(fb);
        expect(a.data).toEqual(b.data);
        expect(pool.touchedCount()).toBe(0);
      }
    } finally {
      await pool.dispose();
    }
  });
});

describe('grid thread pool: fallback and failures', () => {
  const layout = gridLayout(cfgOf(2, 'lazy').grid);

  it('gridThreads: 1 runs without a worker and says nothing', async () => {
    const be = new OnnxBackend({ gridThreads: 1 });
    await be.init(cfgOf(2, 'lazy'), ds, 1);
    expect(be.gridThreads).toBe(1);
    expect(be.providerNote).toBeNull();
    await be.dispose();
  });

  it('a worker that fails to start leaves a working single-threaded pool with a note', async () => {
    const store = new GridStore(layout.totalRows, layout.features, true);
    const pool = await GridPool.create(layout, store, 64, {
      threads: 2,
      workerSource: "throw new Error('no workers here');",
    });
    try {
      expect(pool.threads).toBe(1);
      expect(pool.note).toMatch(/grid worker failed to start \(.*no workers here.*\); grid runs on 1 thread/);
      const rng = new Rng(8);
      for (let i = 0; i < store.data.length; i++) store.data[i] = rng.normal();
      const n = 40;
      const xyz = Float32Array.from({ length: n * 3 }, () => rng.float());
      const out = new Float32Array(n * layout.outDim);
      pool.forward(xyz, n, out);
      const c = allocCorners(layout, n);
      computeCorners(layout, xyz, n, c);
      const ref = new Float32Array(n * layout.outDim);
      gatherFeatures(layout, store.data, c, ref, store.stride, 0);
      expect(out).toEqual(ref);
    } finally {
      await pool.dispose();
    }
  });

  it('a grid store without shared memory falls back to one thread', async () => {
    const store = new GridStore(layout.totalRows, layout.features, false);
    const pool = await GridPool.create(layout, store, 64, { threads: 2 });
    expect(pool.threads).toBe(1);
    expect(pool.note).toMatch(/no SharedArrayBuffer/);
    await pool.dispose();
  });

  it('a worker that fails during a command makes the command throw a GridThreadError (no hang)', async () => {
    const failing = GRID_WORKER_SOURCE.replace(
      'else K.share(st, cmd);',
      "else throw new Error('kernel blew up');",
    );
    expect(failing).not.toBe(GRID_WORKER_SOURCE);
    const store = new GridStore(layout.totalRows, layout.features, true);
    const pool = await GridPool.create(layout, store, 64, {
      threads: 2,
      workerSource: failing,
    });
    try {
      expect(pool.threads).toBe(2);
      const out = new Float32Array(5 * layout.outDim);
      expect(() => pool.forward(new Float32Array(15).fill(0.5), 5, out)).toThrow(GridThreadError);
      expect(() => pool.forward(new Float32Array(15).fill(0.5), 5, out)).toThrow(/kernel blew up/);
    } finally {
      await pool.dispose();
    }
  });
});
