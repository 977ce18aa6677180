/**
 * Builds the query cache of a field over the map's points (see cache.ts for the layout):
 * 1. evaluate a strided sample of points and fit a rank-r PCA of their unit outputs y;
 * 2. evaluate every point: uint8 hidden activations, head norms, PCA coordinates, top label;
 * 3. quantise the PCA coordinates to int8 per component (scale = max |z_j| / 127);
 * 4. measure rank agreement (Spearman, top-1% overlap) of both tiers against exact scores on the sample, with
 *    the dataset's label embeddings as probe queries;
 * 5. derive instances: points grouped by top label, each group split into 3D connected components.
 */
import type { FieldState } from '../field/backend';
import type { LabelTable } from '../dataset/types';
import { type Agreement, CACHE_FORMAT, CACHE_VERSION, type Instance, type QueryCache } from './cache';
import { clusterStats, voxelComponents } from './cluster';
import { FieldEvaluator, lastLayer } from './field-eval';
import { fitPca } from './pca';
import {
  type ExactTables,
  codeQuery,
  exactScores,
  fastScoresJs,
  quantizeHidden,
  scoresFromUnitOutputs,
  spearman,
  stackQuery,
  topOverlap,
} from './scoring';
import { QueryError } from './errors';

export interface BuildCacheOptions {
  /** PCA rank (multiple of 8); default 16. */
  rank?: number;
  /** Points used to fit the PCA and measure agreement; default 20000. */
  samplePoints?: number;
  labels?: LabelTable | null;
  encoders?: { language: string; vision: string | null };
  fieldId?: string;
  mapVoxel_m?: number;
  /** Instance clustering voxel; default max(0.05, 2 * map voxel). */
  instanceVoxel_m?: number;
  /** Smallest top-label cosine for a point to join an instance; default 0.3. */
  instanceMinScore?: number;
  /** Smallest instance, in points; default 20. */
  instanceMinPoints?: number;
  signal?: AbortSignal;
  progress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_RANK = 16;

function gatherRows(xyz: Float32Array, idx: Int32Array): Float32Array {
  const out = new Float32Array(idx.length * 3);
  for (let m = 0; m < idx.length; m++) out.set(xyz.subarray(3 * idx[m]!, 3 * idx[m]! + 3), 3 * m);
  return out;
}

function summary(v: number[]): { mean: number; min: number } {
  return { mean: v.reduce((a, b) => a + b, 0) / Math.max(1, v.length), min: v.length ? Math.min(...v) : 1 };
}

export async function buildQueryCache(
  state: FieldState,
  positions: Float32Array,
  opts: BuildCacheOptions = {},
): Promise<QueryCache> {
  const N = Math.floor(positions.length / 3);
  if (N < 1) throw new QueryError('INVALID_INPUT', null, 'the map has no points to evaluate');
  const rank = opts.rank ?? DEFAULT_RANK;
  const progress = opts.progress ?? (() => undefined);
  const Dl = state.dims.language;
  const Dv = state.dims.vision;
  const D = Dl + Dv;
  const labels = opts.labels && opts.labels.dim === Dl && opts.labels.texts.length > 0 ? opts.labels : null;

  // 1. PCA on a strided sample.
  const S = Math.min(N, opts.samplePoints ?? 20000);
  const stride = N / S;
  const sampleIdx = Int32Array.from({ length: S }, (_, k) => Math.min(N - 1, Math.floor(k * stride)));
  const ySample = new Float32Array(S * D);
  progress('sample', 0, 1);
  const ev0 = await FieldEvaluator.create(state);
  const H = ev0.heads.hidden;
  try {
    await ev0.run(
      gatherRows(positions, sampleIdx),
      (c) => {
        ySample.set(c.y, c.start * D);
      },
      opts.signal,
    );
  } finally {
    await ev0.dispose();
  }
  const r = Math.min(Math.max(8, Math.ceil(Math.min(rank, D) / 8) * 8), 128);
  const pca = await fitPca(ySample, S, D, r);
  if (pca.rank < r) {
    // D < r (tiny heads): pad the basis with zero columns so the kernel's rank stays a multiple of 8.
    const basis = new Float32Array(D * r);
    for (let d = 0; d < D; d++)
      for (let j = 0; j < pca.rank; j++) basis[d * r + j] = pca.basis[d * pca.rank + j]!;
    pca.basis = basis;
    pca.variances = Float64Array.from({ length: r }, (_, j) => pca.variances[j] ?? 0);
    pca.rank = r;
  }
  progress('sample', 1, 1);

  // 2. Every point.
  const Np = Math.ceil(N / 4) * 4;
  const hiddenCodes = new Uint8Array(N * H);
  const affine = new Float32Array(N * 2);
  const norms = new Float32Array(N * 2);
  const zf = new Float32Array(N * r);
  const topLabel = new Int16Array(N).fill(-1);
  const topScore = new Float32Array(N);
  const ev = await FieldEvaluator.create(state, {
    pca: { mean: pca.mean, basis: pca.basis, rank: r },
    labels: labels ? { embeddings: labels.embeddings, count: labels.texts.length } : null,
  });
  try {
    await ev.run(
      positions.subarray(0, N * 3),
      (c) => {
        quantizeHidden(c.hidden, c.n, H, hiddenCodes, affine, c.start);
        for (let i = 0; i < c.n; i++) {
          norms[2 * (c.start + i)] = c.normLanguage[i]!;
          norms[2 * (c.start + i) + 1] = c.normVision ? c.normVision[i]! : 0;
        }
        zf.set(c.z!, c.start * r);
        if (c.topLabel && c.topScore) {
          for (let i = 0; i < c.n; i++) topLabel[c.start + i] = c.topLabel[i]!;
          topScore.set(c.topScore, c.start);
        }
        progress('evaluate', c.start + c.n, N);
      },
      opts.signal,
    );
  } finally {
    await ev.dispose();
  }

  // 3. int8 codes.
  const codeScale = new Float32Array(r);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < r; j++) codeScale[j] = Math.max(codeScale[j]!, Math.abs(zf[i * r + j]!));
  for (let j = 0; j < r; j++) codeScale[j] = codeScale[j]! > 0 ? codeScale[j]! / 127 : 1;
  const codes = new Int8Array(Np * r);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < r; j++) codes[i * r + j] = Math.round(zf[i * r + j]! / codeScale[j]!);
  const fast = { rank: r, dim: D, mean: pca.mean, basis: pca.basis, codeScale, codes };
  const { W, b } = lastLayer(state);
  const exact: ExactTables = { hidden: H, language: Dl, vision: Dv, codes: hiddenCodes, affine, norms, W, b };

  // 4. Rank agreement on the sample.
  let agreement: Agreement | null = null;
  if (labels && S >= 100) {
    const probes = Math.min(8, labels.texts.length);
    const fs: number[] = [];
    const fo: number[] = [];
    const es: number[] = [];
    const eo: number[] = [];
    const ro: number[] = [];
    let rms = 0;
    let rmax = 0;
    for (let p = 0; p < probes; p++) {
      const l = Math.floor((p * labels.texts.length) / probes);
      const ql = labels.embeddings.subarray(l * Dl, (l + 1) * Dl);
      const qv =
        labels.clipEmbeddings && labels.clipDim === Dv
          ? labels.clipEmbeddings.subarray(l * Dv, (l + 1) * Dv)
          : null;
      const w = p % 2 === 0 || !qv ? { language: 10, vision: 1 } : { language: 1, vision: 10 };
      const Q = stackQuery(ql, qv, Dl, Dv, w);
      const ref = scoresFromUnitOutputs(ySample, D, Q);
      const { qz, bias } = codeQuery(fast, Q);
      const all = new Float32Array(N);
      fastScoresJs(codes, r, qz, bias, 0, N, all);
      const approx = Float32Array.from(sampleIdx, (i) => all[i]!);
      const ex = exactScores(exact, ql, qv, w, sampleIdx);
      for (let m = 0; m < S; m++) {
        const e = Math.abs(approx[m]! - ref[m]!);
        rms += e * e;
        rmax = Math.max(rmax, e);
      }
      // Re-ranked: exact scores for the fast top 5%, fast scores elsewhere (pushed below every candidate).
      const cut = [...approx].sort((a, b) => b - a)[Math.max(0, Math.round(S * 0.05) - 1)]!;
      const rer = Float32Array.from(approx, (v) => v - 10);
      const cand = Int32Array.from([...approx.keys()].filter((m) => approx[m]! >= cut));
      const ce = exactScores(
        exact,
        ql,
        qv,
        w,
        Int32Array.from(cand, (m) => sampleIdx[m]!),
      );
      cand.forEach((m, k) => (rer[m] = ce[k]!));
      ro.push(topOverlap(ref, rer, 0.01));
      fs.push(spearman(ref, approx));
      fo.push(topOverlap(ref, approx, 0.01));
      es.push(spearman(ref, ex));
      eo.push(topOverlap(ref, ex, 0.01));
    }
    const a = summary(fs);
    const bo = summary(fo);
    const c = summary(es);
    const d = summary(eo);
    const rr = summary(ro);
    agreement = {
      sample_points: S,
      probes,
      fast: {
        spearman_mean: a.mean,
        spearman_min: a.min,
        top1pct_overlap_mean: bo.mean,
        top1pct_overlap_min: bo.min,
        residual_rms: Math.sqrt(rms / (S * probes)),
        residual_max: rmax,
      },
      reranked: { top1pct_overlap_mean: rr.mean, top1pct_overlap_min: rr.min },
      exact: {
        spearman_mean: c.mean,
        spearman_min: c.min,
        top1pct_overlap_mean: d.mean,
        top1pct_overlap_min: d.min,
      },
    };
  }

  // 5. Instances from the top-label segmentation.
  progress('instances', 0, 1);
  const instanceVoxel = opts.instanceVoxel_m ?? Math.max(0.05, 2 * (opts.mapVoxel_m ?? 0.02));
  const minPts = opts.instanceMinPoints ?? 20;
  const minScore = opts.instanceMinScore ?? 0.3;
  const instance = new Int32Array(N).fill(-1);
  const found: { label_id: number; members: Int32Array }[] = [];
  if (labels) {
    const byLabel = new Map<number, number[]>();
    for (let i = 0; i < N; i++) {
      const l = topLabel[i]!;
      if (l < 0 || !(topScore[i]! >= minScore)) continue;
      let list = byLabel.get(l);
      if (!list) byLabel.set(l, (list = []));
      list.push(i);
    }
    for (const [l, idx] of [...byLabel.entries()].sort((a, b) => a[0] - b[0])) {
      for (const members of voxelComponents(positions, idx, instanceVoxel, minPts).members)
        found.push({ label_id: l, members });
    }
  }
  found.sort((a, b) => b.members.length - a.members.length || a.label_id - b.label_id);
  const instances: Instance[] = found.map((f, id) => {
    for (const p of f.members) instance[p] = id;
    const st = clusterStats(positions, f.members);
    return {
      id,
      label: labels!.texts[f.label_id] ?? `label ${f.label_id}`,
      label_id: f.label_id,
      points: f.members.length,
      centroid_world_m: st.centroid,
      min_world_m: st.min,
      max_world_m: st.max,
    };
  });
  progress('instances', 1, 1);

  const explained = pca.totalVariance > 0 ? pca.variances.reduce((s, v) => s + v, 0) / pca.totalVariance : 1;
  return {
    manifest: {
      format: CACHE_FORMAT,
      version: CACHE_VERSION,
      created_at: new Date().toISOString(),
      field: { step: state.step, id: opts.fieldId ?? `step-${state.step}` },
      map: { points: N, voxel_m: opts.mapVoxel_m ?? 0 },
      points: N,
      points_padded: Np,
      heads: { language: Dl, vision: Dv, hidden: H },
      encoders: opts.encoders ?? { language: 'unknown', vision: null },
      pca: { rank: r, explained_variance: Math.min(1, explained) },
      agreement,
      labels: labels ? labels.texts.slice() : [],
      instance_voxel_m: instanceVoxel,
      instances,
    },
    fast,
    exact,
    topLabel,
    instance,
    topScore,
  };
}
