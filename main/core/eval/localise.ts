/**
 * Look-at point and "not found" for one text query over scored points (the evaluation's own rule, used for the
 * field and the baselines alike so they are compared on equal terms):
 * - found when the best point scores at least `threshold` (cosine of the unit language feature with the query);
 * - the look-at point: the points scoring within `margin` of the best (at most `topFraction` of the points,
 *   at least one) are split into 3D connected components (10 cm voxels); the component with the largest total
 *   score wins and its member nearest to the component's centroid is the look-at point.
 */
import { voxelComponents } from '../query/cluster';

export interface LocaliseOptions {
  threshold?: number;
  margin?: number;
  topFraction?: number;
  clusterVoxel_m?: number;
}

export const DEFAULT_NOT_FOUND_THRESHOLD = 0.6;

export interface LocaliseResult {
  found: boolean;
  best: number;
  look_at: [number, number, number] | null;
}

/** Cosine of each `dim`-row of `features` (unit or zero rows) with the unit query. */
export function scoreRows(features: Float32Array, n: number, dim: number, query: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let d = 0; d < dim; d++) s += features[o + d]! * query[d]!;
    out[i] = s;
  }
  return out;
}

export function localise(
  xyz: Float32Array,
  scores: Float32Array,
  opts: LocaliseOptions = {},
): LocaliseResult {
  const n = scores.length;
  const threshold = opts.threshold ?? DEFAULT_NOT_FOUND_THRESHOLD;
  let best = -Infinity;
  for (let i = 0; i < n; i++) if (scores[i]! > best) best = scores[i]!;
  if (n === 0 || !(best >= threshold)) return { found: false, best: n === 0 ? 0 : best, look_at: null };
  const margin = opts.margin ?? 0.05;
  const maxTop = Math.max(1, Math.floor(n * (opts.topFraction ?? 0.02)));
  let cand: number[] = [];
  for (let i = 0; i < n; i++) if (scores[i]! >= best - margin) cand.push(i);
  if (cand.length > maxTop) cand = cand.sort((a, b) => scores[b]! - scores[a]!).slice(0, maxTop);
  const comps = voxelComponents(xyz, cand, opts.clusterVoxel_m ?? 0.1);
  let bestComp: Int32Array | null = null;
  let bestSum = -Infinity;
  for (const m of comps.members) {
    let s = 0;
    for (const p of m) s += scores[p]!;
    if (s > bestSum) {
      bestSum = s;
      bestComp = m;
    }
  }
  if (!bestComp || bestComp.length === 0) return { found: false, best, look_at: null };
  const c = [0, 0, 0];
  for (const p of bestComp) for (let a = 0; a < 3; a++) c[a]! += xyz[3 * p + a]!;
  for (let a = 0; a < 3; a++) c[a]! /= bestComp.length;
  let pick = bestComp[0]!;
  let pickD = Infinity;
  for (const p of bestComp) {
    const d = (xyz[3 * p]! - c[0]!) ** 2 + (xyz[3 * p + 1]! - c[1]!) ** 2 + (xyz[3 * p + 2]! - c[2]!) ** 2;
    if (d < pickD) {
      pickD = d;
      pick = p;
    }
  }
  return { found: true, best, look_at: [xyz[3 * pick]!, xyz[3 * pick + 1]!, xyz[3 * pick + 2]!] };
}
