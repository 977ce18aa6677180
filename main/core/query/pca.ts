/**
 * PCA of the unit field outputs y (what queries are scored against), fitted on a sample of points:
 * covariance with onnxruntime (Gemm), top-r eigenvectors by block subspace iteration + Rayleigh-Ritz
 * (Jacobi on the r x r projection). Deterministic (seeded start basis).
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';

export interface Pca {
  /** D */
  mean: Float32Array;
  /** D x rank, row-major, orthonormal columns sorted by decreasing variance. */
  basis: Float32Array;
  rank: number;
  dim: number;
  /** Eigenvalues of the kept components. */
  variances: Float64Array;
  /** Trace of the covariance (total variance). */
  totalVariance: number;
}

async function gramMatrix(Yc: Float32Array, S: number, D: number): Promise<Float32Array> {
  const g = new GraphBuilder('gram');
  const y = g.input('y', 'float32', ['S', D]);
  g.output(g.op('Gemm', [y, y], { transA: 1 }), 'c', 'float32', [D, D]);
  const sess = await ort.InferenceSession.create(g.toBytes(), {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
  });
  try {
    const r = await sess.run({ y: new ort.Tensor('float32', Yc, [S, D]) });
    return r.c!.data as Float32Array;
  } finally {
    await sess.release();
  }
}

/** Symmetric eigen-decomposition by cyclic Jacobi (small matrices); returns values and column eigenvectors. */
export function jacobiEigen(A: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = A.slice();
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p]!;
          const akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k]!;
          const aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p]!;
          const vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i]!;
  return { values, vectors: v };
}

function orthonormalize(Q: Float64Array, D: number, r: number): void {
  for (let j = 0; j < r; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < D; i++) d += Q[i * r + j]! * Q[i * r + k]!;
        for (let i = 0; i < D; i++) Q[i * r + j]! -= d * Q[i * r + k]!;
      }
    }
    let s = 0;
    for (let i = 0; i < D; i++) s += Q[i * r + j]! ** 2;
    const inv = s > 1e-30 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < D; i++) Q[i * r + j]! *= inv;
  }
}

/** Fit a rank-`rank` PCA to `S` rows of `Y` (S x D). */
export async function fitPca(Y: Float32Array, S: number, D: number, rank: number, seed = 1): Promise<Pca> {
  const r = Math.max(1, Math.min(rank, D));
  const mean = new Float64Array(D);
  for (let i = 0; i < S; i++) for (let d = 0; d < D; d++) mean[d]! += Y[i * D + d]!;
  for (let d = 0; d < D; d++) mean[d]! /= Math.max(S, 1);
  const Yc = new Float32Array(S * D);
  for (let i = 0; i < S; i++) for (let d = 0; d < D; d++) Yc[i * D + d] = Y[i * D + d]! - mean[d]!;
  const C32 = await gramMatrix(Yc, S, D);
  const C = Float64Array.from(C32, (v) => v / Math.max(S - 1, 1));
  let trace = 0;
  for (let d = 0; d < D; d++) trace += C[d * D + d]!;
  // Block subspace iteration with a few oversampled columns.
  const k = Math.min(D, r + 8);
  let Q = new Float64Array(D * k);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < Q.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    Q[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  orthonormalize(Q, D, k);
  const Z = new Float64Array(D * k);
  for (let it = 0; it < 40; it++) {
    Z.fill(0);
    for (let i = 0; i < D; i++) {
      const ci = i * D;
      for (let j = 0; j < D; j++) {
        const c = C[ci + j]!;
        if (c === 0) continue;
        const qj = j * k;
        const zi = i * k;
        for (let m = 0; m < k; m++) Z[zi + m]! += c * Q[qj + m]!;
      }
    }
    const next = Z.slice();
    orthonormalize(next, D, k);
    Q = next;
  }
  // Rayleigh-Ritz: B = Q^T C Q.
  const CQ = new Float64Array(D * k);
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++) {
      const c = C[i * D + j]!;
      if (c === 0) continue;
      for (let m = 0; m < k; m++) CQ[i * k + m]! += c * Q[j * k + m]!;
    }
  const B = new Float64Array(k * k);
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let d = 0;
      for (let i = 0; i < D; i++) d += Q[i * k + a]! * CQ[i * k + b]!;
      B[a * k + b] = d;
    }
  const { values, vectors } = jacobiEigen(B, k);
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
  const basis = new Float32Array(D * r);
  const variances = new Float64Array(r);
  for (let c = 0; c < r; c++) {
    const e = order[c]!;
    variances[c] = Math.max(0, values[e]!);
    for (let i = 0; i < D; i++) {
      let v = 0;
      for (let m = 0; m < k; m++) v += Q[i * k + m]! * vectors[m * k + e]!;
      basis[i * r + c] = v;
    }
  }
  return { mean: Float32Array.from(mean), basis, rank: r, dim: D, variances, totalVariance: trace };
}
