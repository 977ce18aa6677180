import { describe, expect, it } from 'vitest';
import type { TrainingBackend } from './backend';
import { makeConfig } from './config';
import { OnnxBackend } from './engine-onnx';
import { TfjsBackend } from './engine-tfjs';
import { Rng } from './rng';
import { syntheticDataset } from './synthetic';

function relErr(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / Math.max(s, 1e-30);
}

const smallConfig = (depth: number) =>
  makeConfig('custom', {
    grid: { levels: 4, featuresPerLevel: 2, log2TableSize: 10, maxResolution: 64, initScale: 0.5 },
    mlp: { width: 32, depth },
    batchSize: 64,
  });

describe('onnx engine gradients match tfjs autodiff (the oracle)', () => {
  for (const [name, visionDim, depth] of [
    ['language + vision heads, depth 2', 16, 2],
    ['language head only, depth 1', 0, 1],
    ['depth 0 (linear)', 12, 0],
  ] as const) {
    it(`${name}: losses and every gradient within 1e-4 relative`, async () => {
      const ds = syntheticDataset({
        points: 400,
        classes: 5,
        detectionsPerClass: 3,
        languageDim: 24,
        visionDim,
        seed: 3,
      });
      const cfg = smallConfig(depth);
      const a = new OnnxBackend();
      const b = new TfjsBackend();
      await a.init(cfg, ds, 7);
      await b.init(cfg, ds, 7);
      const rng = new Rng(1);
      for (let trial = 0; trial < 2; trial++) {
        const idx = Int32Array.from({ length: 64 }, () => rng.int(ds.points));
        const ga = await a.gradients(idx);
        const gb = await b.gradients(idx);
        expect(Math.abs(ga.loss - gb.loss) / gb.loss).toBeLessThan(1e-5);
        expect(Math.abs(ga.loss_language - gb.loss_language) / gb.loss_language).toBeLessThan(1e-5);
        expect(Math.abs(ga.loss_vision - gb.loss_vision)).toBeLessThanOrEqual(
          1e-5 * Math.abs(gb.loss_vision),
        );
        expect(Math.abs(ga.logTemperature - gb.logTemperature) / Math.abs(gb.logTemperature)).toBeLessThan(
          1e-4,
        );
        expect(relErr(ga.grid, gb.grid)).toBeLessThan(1e-4);
        expect(ga.weights.length).toBe(gb.weights.length);
        ga.weights.forEach((w, k) => expect(relErr(w, gb.weights[k]!)).toBeLessThan(1e-4));
        // a step on both keeps them together (shared Adam)
        await a.step(idx);
        await b.step(idx);
      }
      const q = Float32Array.from(ds.xyz.subarray(0, 30));
      const pa = await a.predict(q);
      const pb = await b.predict(q);
      expect(relErr(pa.language, pb.language)).toBeLessThan(1e-4);
      expect(relErr(await a.hidden(q), await b.hidden(q))).toBeLessThan(1e-4);
      await a.dispose();
      await b.dispose();
    }, 30_000);
  }
});

async function run(be: TrainingBackend, seed: number, steps: number) {
  const ds = syntheticDataset({ points: 1000, classes: 6, languageDim: 16, visionDim: 16, seed: 5 });
  await be.init(smallConfig(1), ds, seed);
  const rng = new Rng(seed);
  for (let s = 0; s < steps; s++) await be.step(Int32Array.from({ length: 64 }, () => rng.int(ds.points)));
  return be.getState();
}

describe('determinism', () => {
  it('the same seed gives bit-identical state on the onnx engine; another seed does not', async () => {
    const s1 = await run(new OnnxBackend(), 3, 5);
    const s2 = await run(new OnnxBackend(), 3, 5);
    const s3 = await run(new OnnxBackend(), 4, 5);
    expect(s1.step).toBe(5);
    expect(s2.grid).toEqual(s1.grid);
    s1.weights.forEach((w, k) => expect(s2.weights[k]).toEqual(w));
    expect(s2.adam.grid.v).toEqual(s1.adam.grid.v);
    expect(s2.logTemperature).toBe(s1.logTemperature);
    expect(s3.weights[0]).not.toEqual(s1.weights[0]);
  });

  it('setState restores a state exactly and rejects a state of another shape', async () => {
    const a = new OnnxBackend();
    const s = await run(a, 9, 3);
    const b = new OnnxBackend();
    await run(b, 10, 1);
    b.setState(s);
    const back = b.getState();
    expect(back.step).toBe(3);
    expect(back.grid).toEqual(s.grid);
    expect(back.adam.weights[1]!.m).toEqual(s.adam.weights[1]!.m);
    const bad = { ...s, weights: s.weights.slice(1) };
    expect(() => b.setState(bad)).toThrow(/do not match/);
  });
});
