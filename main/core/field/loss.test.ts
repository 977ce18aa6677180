import { describe, expect, it } from 'vitest';
import type * as tfT from '@tensorflow/tfjs';
import { headLossBxB, headLossDedup } from './tfjs-loss';
import { loadTf } from './tfjs-runtime';
import { Rng } from './rng';

function relErr(a: Float32Array, b: Float32Array): number {
  let m = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    m = Math.max(m, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return m / Math.max(s, 1e-30);
}

/** Random batch with repeated targets: B samples over U distinct unit targets. */
function randomCase(seed: number, B: number, U: number, D: number) {
  const rng = new Rng(seed);
  const targets = Float32Array.from({ length: U * D }, () => rng.normal());
  for (let u = 0; u < U; u++) {
    let s = 0;
    for (let d = 0; d < D; d++) s += targets[u * D + d]! ** 2;
    for (let d = 0; d < D; d++) targets[u * D + d]! /= Math.sqrt(s);
  }
  const ids = Int32Array.from({ length: B }, (_, i) => (i < U ? i : rng.int(U)));
  const P = Float32Array.from({ length: B * D }, () => rng.normal());
  const w = Float32Array.from({ length: B }, () => rng.uniform(0.1, 1));
  const perSample = new Float32Array(B * D);
  ids.forEach((u, i) => perSample.set(targets.subarray(u * D, (u + 1) * D), i * D));
  const onehot = new Float32Array(B * U);
  const counts = new Float32Array(U);
  ids.forEach((u, i) => {
    onehot[i * U + u] = 1;
    counts[u]! += 1;
  });
  return { ids, P, w, targets, perSample, onehot, counts };
}

describe('contrastive loss: distinct-target (dedup) form equals the B x B form', () => {
  for (const [label, logTemp, U] of [
    ['init temperature, few labels', Math.log(1 / 0.07), 5],
    ['max temperature, many detections', Math.log(100), 40],
    ['low temperature, all distinct but one', 0.1, 47],
  ] as const) {
    it(`${label}: loss and gradients (wrt predictions and log-temperature) agree to 1e-5`, async () => {
      const { tf } = await loadTf();
      const B = 48;
      const D = 24;
      const c = randomCase(U * 17 + 1, B, U, D);
      const P = tf.tensor2d(c.P, [B, D]);
      const tau = tf.scalar(logTemp);
      const w = tf.tensor2d(c.w, [B, 1]);
      const E = tf.tensor2d(c.targets, [U, D]);
      const M = tf.tensor2d(c.onehot, [B, U]);
      const n = tf.tensor2d(c.counts, [1, U]);
      const T = tf.tensor2d(c.perSample, [B, D]);
      const full = tf.valueAndGrads((p: tfT.Tensor, t: tfT.Tensor) => headLossBxB(tf, p, t, T, c.ids, w))([
        P,
        tau,
      ]);
      const dedup = tf.valueAndGrads((p: tfT.Tensor, t: tfT.Tensor) => headLossDedup(tf, p, t, E, M, n, w))([
        P,
        tau,
      ]);
      const lf = (await full.value.data())[0]!;
      const ld = (await dedup.value.data())[0]!;
      expect(Math.abs(lf - ld) / Math.abs(lf)).toBeLessThan(1e-5);
      expect(
        relErr((await dedup.grads[0]!.data()) as Float32Array, (await full.grads[0]!.data()) as Float32Array),
      ).toBeLessThan(1e-5);
      expect(
        relErr((await dedup.grads[1]!.data()) as Float32Array, (await full.grads[1]!.data()) as Float32Array),
      ).toBeLessThan(1e-5);
      tf.dispose([P, tau, w, E, M, n, T, full.value, dedup.value, ...full.grads, ...dedup.grads]);
    });
  }

  it('the B x B form zeroes (not -inf) same-target off-diagonal logits, as clip-fields does', async () => {
    const { tf } = await loadTf();
    // Two samples with the same target and identical predictions: sim = [[s, 0], [0, s]] after the mask.
    const P = tf.tensor2d([1, 0, 1, 0], [2, 2]);
    const T = tf.tensor2d([1, 0, 1, 0], [2, 2]);
    const w = tf.tensor2d([1, 1], [2, 1]);
    const s = 1 / 0.07;
    const loss = (await headLossBxB(tf, P, tf.scalar(Math.log(s)), T, Int32Array.from([3, 3]), w).data())[0]!;
    // row CE = -s + log(e^s + e^0); col the same; (row + col) / 2 averaged = log(1 + e^-s)
    expect(loss).toBeCloseTo(Math.log(1 + Math.exp(-s)), 6);
  });
});
