/**
 * Query scoring math shared by the cache builder, the query engine and the tests.
 *
 * CLIP-Fields' weighted alignment of a point with a query is
 *   score = (w_l * cos(o_l, q_l) + w_v * cos(o_v, q_v)) / (w_l + w_v)
 * where o_l, o_v are the field's language and vision outputs and q_l (sentence encoder) and q_v (CLIP text or
 * image encoder) the query's unit embeddings. With y = [o_l/||o_l||, o_v/||o_v||] this is y . Q for the
 * stacked query Q = [w_l q_l, w_v q_v] / (w_l + w_v): one dot product per point. The cache stores
 *  - "fast": int8 codes of the PCA coordinates z = (y - mu) V (per-component scale c_j), so
 *            score ~= mu . Q + sum_j code_ij * c_j * (V^T Q)_j;
 *  - "exact": the last hidden activations h (uint8, per-point affine), the output norms and the last layer,
 *            so cos_h = (h . (W_h q_h) + b_h . q_h) / ||o_h|| exactly up to the 8-bit quantisation of h.
 */
import { ExactKernel } from './exact-kernel';

export interface QueryWeights {
  language: number;
  vision: number;
}

/** Stacked query Q (D = Dl + Dv). `qv` may be null (no CLIP query): its part is zero and its weight dropped. */
export function stackQuery(
  ql: Float32Array,
  qv: Float32Array | null,
  Dl: number,
  Dv: number,
  w: QueryWeights,
): Float32Array {
  const Q = new Float32Array(Dl + Dv);
  const wv = qv && Dv > 0 ? w.vision : 0;
  const total = w.language + wv;
  if (!(total > 0)) return Q;
  for (let d = 0; d < Dl; d++) Q[d] = (w.language / total) * ql[d]!;
  if (qv && Dv > 0) for (let d = 0; d < Dv; d++) Q[Dl + d] = (wv / total) * qv[d]!;
  return Q;
}

/** Reference scores y . Q for rows `y` (n x D). */
export function scoresFromUnitOutputs(
  y: Float32Array,
  D: number,
  Q: Float32Array,
  out = new Float32Array(y.length / D),
): Float32Array {
  const n = y.length / D;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * D;
    for (let d = 0; d < D; d++) s += y[o + d]! * Q[d]!;
    out[i] = s;
  }
  return out;
}

export interface FastTables {
  rank: number;
  dim: number;
  mean: Float32Array;
  /** D x rank */
  basis: Float32Array;
  /** rank: code j times codeScale[j] = z_j */
  codeScale: Float32Array;
}

/** The query in code space (qz_j = c_j (V^T Q)_j) and the constant term mu . Q. */
export function codeQuery(t: FastTables, Q: Float32Array): { qz: Float64Array; bias: number } {
  const qz = new Float64Array(t.rank);
  for (let d = 0; d < t.dim; d++) {
    const q = Q[d]!;
    if (q === 0) continue;
    const o = d * t.rank;
    for (let j = 0; j < t.rank; j++) qz[j]! += t.basis[o + j]! * q;
  }
  for (let j = 0; j < t.rank; j++) qz[j]! *= t.codeScale[j]!;
  let bias = 0;
  for (let d = 0; d < t.dim; d++) bias += t.mean[d]! * Q[d]!;
  return { qz, bias };
}

/** Plain TypeScript fast-path scores (fallback and reference for the WASM kernel). */
export function fastScoresJs(
  codes: Int8Array,
  rank: number,
  qz: Float64Array,
  bias: number,
  start: number,
  end: number,
  out: Float32Array,
): void {
  for (let i = start; i < end; i++) {
    let s = bias;
    const o = i * rank;
    for (let j = 0; j < rank; j++) s += codes[o + j]! * qz[j]!;
    out[i] = s;
  }
}

export interface ExactTables {
  hidden: number;
  language: number;
  vision: number;
  /** N x hidden uint8 codes of h. */
  codes: Uint8Array;
  /** N x 2: offset, scale (h ~= offset + scale * code). */
  affine: Float32Array;
  /** N x 2: ||o_l||, ||o_v|| (0 without a vision head). */
  norms: Float32Array;
  /** Last layer W (hidden x (Dl + Dv), row-major) and b. */
  W: Float32Array;
  b: Float32Array;
  /** The WebAssembly SIMD dot-product kernel over `codes` (attachExactKernel), when available. */
  kernel?: ExactKernel | null;
}

/**
 * Move the exact tier's codes into the WebAssembly kernel's memory (t.codes then views it) so exactScores
 * uses SIMD; returns whether it did (no WebAssembly SIMD or an odd width keeps the plain loop).
 */
export function attachExactKernel(t: ExactTables): boolean {
  if (t.kernel) return true;
  const k = ExactKernel.create(t.codes, t.hidden);
  if (!k) return false;
  t.codes = k.codes;
  t.kernel = k;
  return true;
}

/** Per-head projected query u_h = W_h q_h (hidden), beta_h = b_h . q_h and sum(u_h). */
function headProjection(
  t: ExactTables,
  q: Float32Array,
  col0: number,
  dim: number,
): { u: Float64Array; beta: number; sumU: number } {
  const D = t.language + t.vision;
  const u = new Float64Array(t.hidden);
  let sumU = 0;
  for (let k = 0; k < t.hidden; k++) {
    let s = 0;
    const o = k * D + col0;
    for (let d = 0; d < dim; d++) s += t.W[o + d]! * q[d]!;
    u[k] = s;
    sumU += s;
  }
  let beta = 0;
  for (let d = 0; d < dim; d++) beta += t.b[col0 + d]! * q[d]!;
  return { u, beta, sumU };
}

/**
 * Scores of the given points from the hidden-activation cache (exact up to 8-bit h). `ql`/`qv` are unit
 * query embeddings; weights as in `stackQuery`.
 */
export function exactScores(
  t: ExactTables,
  ql: Float32Array,
  qv: Float32Array | null,
  w: QueryWeights,
  indices: ArrayLike<number>,
  out = new Float32Array(indices.length),
): Float32Array {
  const wv = qv && t.vision > 0 ? w.vision : 0;
  const total = w.language + wv;
  const heads: { p: ReturnType<typeof headProjection>; weight: number; normCol: number }[] = [];
  if (w.language > 0)
    heads.push({ p: headProjection(t, ql, 0, t.language), weight: w.language / total, normCol: 0 });
  if (wv > 0 && qv)
    heads.push({ p: headProjection(t, qv, t.language, t.vision), weight: wv / total, normCol: 1 });
  const H = t.hidden;
  const codes = t.codes;
  const h0 = heads[0];
  const h1 = heads[1];
  if (!h0) return out.fill(0);
  const u0 = h0.p.u;
  const w0 = h0.weight,
    s0 = h0.p.sumU,
    b0 = h0.p.beta,
    n0 = h0.normCol;
  if (t.kernel) {
    const n = indices.length;
    const d0 = new Float64Array(n);
    t.kernel.dots(u0, indices, d0);
    const d1 = h1 ? new Float64Array(n) : null;
    if (h1 && d1) t.kernel.dots(h1.p.u, indices, d1);
    for (let m = 0; m < n; m++) {
      const i = indices[m]!;
      const off = t.affine[2 * i]!;
      const sc = t.affine[2 * i + 1]!;
      let v = (w0 * (sc * d0[m]! + off * s0 + b0)) / Math.max(t.norms[2 * i + n0]!, 1e-12);
      if (h1 && d1)
        v +=
          (h1.weight * (sc * d1[m]! + off * h1.p.sumU + h1.p.beta)) /
          Math.max(t.norms[2 * i + h1.normCol]!, 1e-12);
      out[m] = v;
    }
    return out;
  }
  if (!h1) {
    // One head (the vision head is off or weighted 0): one dot per point, four partial sums.
    const H4 = H - (H % 4);
    for (let m = 0; m < indices.length; m++) {
      const i = indices[m]!;
      const o = i * H;
      let a = 0,
        b = 0,
        c = 0,
        d = 0;
      let k = 0;
      for (; k < H4; k += 4) {
        a += codes[o + k]! * u0[k]!;
        b += codes[o + k + 1]! * u0[k + 1]!;
        c += codes[o + k + 2]! * u0[k + 2]!;
        d += codes[o + k + 3]! * u0[k + 3]!;
      }
      for (; k < H; k++) a += codes[o + k]! * u0[k]!;
      const d0 = a + b + c + d;
      out[m] =
        (w0 * (t.affine[2 * i + 1]! * d0 + t.affine[2 * i]! * s0 + b0)) /
        Math.max(t.norms[2 * i + n0]!, 1e-12);
    }
    return out;
  }
  const u1 = h1.p.u;
  const w1 = h1.weight,
    s1 = h1.p.sumU,
    b1 = h1.p.beta,
    n1 = h1.normCol;
  for (let m = 0; m < indices.length; m++) {
    const i = indices[m]!;
    const off = t.affine[2 * i]!;
    const sc = t.affine[2 * i + 1]!;
    // Both heads in one pass over the point's codes.
    let d0 = 0;
    let d1 = 0;
    const o = i * H;
    for (let k = 0; k < H; k++) {
      const c = codes[o + k]!;
      d0 += c * u0[k]!;
      d1 += c * u1[k]!;
    }
    out[m] =
      (w0 * (sc * d0 + off * s0 + b0)) / Math.max(t.norms[2 * i + n0]!, 1e-12) +
      (w1 * (sc * d1 + off * s1 + b1)) / Math.max(t.norms[2 * i + n1]!, 1e-12);
  }
  return out;
}

/** Quantise rows of h (n x H) to uint8 with a per-row affine (offset = row min, scale = range / 255). */
export function quantizeHidden(
  h: Float32Array,
  n: number,
  H: number,
  codes: Uint8Array,
  affine: Float32Array,
  rowStart: number,
): void {
  for (let r = 0; r < n; r++) {
    const o = r * H;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < H; k++) {
      const v = h[o + k]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const range = hi - lo;
    const scale = range > 0 ? range / 255 : 0;
    const inv = scale > 0 ? 1 / scale : 0;
    const co = (rowStart + r) * H;
    for (let k = 0; k < H; k++) codes[co + k] = Math.round((h[o + k]! - lo) * inv);
    affine[2 * (rowStart + r)] = lo;
    affine[2 * (rowStart + r) + 1] = scale;
  }
}

// ---------------------------------------------------------------------------------------------
// Rank agreement
// ---------------------------------------------------------------------------------------------

function ranks(v: Float32Array): Float64Array {
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a]! - v[b]!);
  const r = new Float64Array(v.length);
  for (let k = 0; k < idx.length;) {
    let e = k;
    while (e + 1 < idx.length && v[idx[e + 1]!] === v[idx[k]!]) e++;
    const avg = (k + e) / 2;
    for (let m = k; m <= e; m++) r[idx[m]!] = avg;
    k = e + 1;
  }
  return r;
}

/** Spearman rank correlation of two score vectors. */
export function spearman(a: Float32Array, b: Float32Array): number {
  const ra = ranks(a);
  const rb = ranks(b);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += ra[i]!;
    mb += rb[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i]! - ma;
    const y = rb[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 1;
}

/** Fraction of the exact top `fraction` of points that are also in the approximate top `fraction`. */
export function topOverlap(exact: Float32Array, approx: Float32Array, fraction = 0.01): number {
  const k = Math.max(1, Math.round(exact.length * fraction));
  const top = (v: Float32Array) =>
    new Set(
      Array.from({ length: v.length }, (_, i) => i)
        .sort((a, b) => v[b]! - v[a]!)
        .slice(0, k),
    );
  const a = top(exact);
  let hit = 0;
  for (const i of top(approx)) if (a.has(i)) hit++;
  return hit / k;
}
