/**
 * Adam as in torch.optim.Adam (not AdamW): g += weight_decay * p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 * The grid-row variants run the shared kernels of grid-kernels.ts (also used by the grid worker threads).
 */
import type { OptimizerConfig } from './config';
import { adamStepConstants, gridKernels } from './grid-kernels';

type Hyper = Pick<OptimizerConfig, 'lr' | 'beta1' | 'beta2' | 'eps' | 'weightDecay'>;

/** Update every element; `t` is the 1-based step. */
export function adamDense(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  t: number,
  h: Hyper,
): void {
  const { beta1: b1, beta2: b2, eps, weightDecay: wd } = h;
  const stepSize = h.lr / (1 - b1 ** t);
  const invSqrtBc2 = 1 / Math.sqrt(1 - b2 ** t);
  const n = p.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i]! + wd * p[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i]! -= (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
  }
}

/**
 * Adam over interleaved grid rows (GridStore layout: per row [p(F), g(F), m(F), v(F)]) for the listed rows,
 * zeroing their gradient afterwards.
 */
export function adamGridRows(
  data: Float32Array,
  F: number,
  rows: Int32Array,
  count: number,
  t: number,
  h: Hyper,
): void {
  const { stepSize, invSqrtBc2 } = adamStepConstants(h.lr, h.beta1, h.beta2, t);
  gridKernels.adamRows(data, F, rows, 0, count, stepSize, invSqrtBc2, h.beta1, h.beta2, h.eps, h.weightDecay);
}

/** Adam over every interleaved grid row (exact torch semantics for the whole table), zeroing gradients. */
export function adamGridDense(data: Float32Array, F: number, totalRows: number, t: number, h: Hyper): void {
  const { stepSize, invSqrtBc2 } = adamStepConstants(h.lr, h.beta1, h.beta2, t);
  gridKernels.adamRange(data, F, 0, totalRows, stepSize, invSqrtBc2, h.beta1, h.beta2, h.eps, h.weightDecay);
}
