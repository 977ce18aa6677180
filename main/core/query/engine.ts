/**
 * The query engine: text or image query -> per-point heatmap, calibrated hits, look-at point and robot goal.
 *
 * Weights (CLIP-Fields' weighted alignment, scoring.ts): "semantic" = language 10 : vision 1, "visual" = 1 : 10,
 * or an explicit `weight` in [0, 1] = the language share (vision = 1 - weight). "auto" rule: visual when the
 * query names an appearance attribute (a colour, material, pattern or finish word from VISUAL_WORDS), semantic
 * otherwise. Without a vision head or without a CLIP text encoder only the language head is scored.
 *
 * Calibrated threshold (text queries): the query competes, point by point, with the vocabulary's label texts
 * (the classes the field was trained on, from the cache manifest) and 32 generic null texts ("object", "thing",
 * "surface", ...; DISTRACTOR_TEXTS, minus any that resembles a vocabulary label). A point is a hit when the query's
 * score beats the best competitor there by at least delta. Competitors that are the query's own words (language
 * encoder cosine >= OWN_LABEL_SIMILARITY with the query: the label "mug" for "red mug") are not competitors.
 * delta is calibrated on the null texts: the largest margin any null text reaches over all the other competitors
 * on `min_points` points (an unrelated query is exchangeable with the nulls), at least MIN_MARGIN. So a made-up
 * class ("giraffe") is not found because, wherever the field has learned something, a vocabulary label explains
 * the point better; a present class is found on its instances however small they are.
 * Supervision mask: only map points near the labeled dataset's points (within one SUPPORT_CELL_M cube and its
 * 26 neighbours) can be hits. Elsewhere (walls, floor, anything no detection covered) the field was never
 * trained and its output is an extrapolation that can resemble any text. Without a dataset every point counts.
 * Points are first ranked by the fast (PCA int8) tier; every point within the fast tier's measured error of
 * the threshold is re-scored exactly (hidden-activation tier) and only exact scores decide hits. Hits are
 * clustered in 3D (voxel connected components, >= min_points). No cluster -> `not_found: true` + reason.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../dataset/format';
import type { LabeledPointDataset } from '../dataset/types';
import type { Vec3 } from '../goals/frame';
import { type GoalOptions, ProjectGeometry, goalFor, lookAtPoint } from '../goals/goal';
import type { FrameIndex } from '../../../preload/contract';
import { type QueryCache, queryCacheDir } from './cache';
import { clusterStats, voxelComponents } from './cluster';
import { type QueryEncoders, loadQueryEncoders } from './encoders';
import { QueryError } from './errors';
import { medianInPlace, topIndices } from '../util/select';
import { FastScorer } from './fast-scorer';
import { type QueryWeights, attachExactKernel, codeQuery, exactScores, stackQuery } from './scoring';

export type QueryMode = 'auto' | 'semantic' | 'visual';

export const VISUAL_WORDS = new Set(
  (
    'red green blue yellow orange purple violet pink brown black white grey gray beige golden gold silver cyan magenta teal navy maroon ' +
    'wooden wood metal metallic steel glass plastic leather fabric cloth marble stone ceramic concrete paper cardboard rubber wicker ' +
    'striped dotted spotted checkered plaid floral patterned shiny glossy matte transparent translucent dark light bright colorful colourful'
  ).split(' '),
);

/** Generic "null" texts: what an unrelated query scores like. None names a concrete object class. */
export const DISTRACTOR_TEXTS = (
  'object thing stuff item something piece part material texture pattern shape structure surface space area place ' +
  'scene view image photo picture background nothing anything everything element unit form kind type sort detail'
).split(' ');

/** Language-encoder cosine at or above which a vocabulary/null text counts as the query's own words. */
export const OWN_LABEL_SIMILARITY = 0.45;
/** Smallest calibrated margin over the best competitor. */
export const MIN_MARGIN = 0.05;
/** Cell of the supervision mask: map points within this cube (or a neighbouring one) of a labeled point. */
export const SUPPORT_CELL_M = 0.05;
/** Competitors kept per point (best first) so that a query's own labels can be skipped. */
const COMPETITOR_TOP = 4;

export const MODE_WEIGHTS: Record<'semantic' | 'visual', QueryWeights> = {
  semantic: { language: 10, vision: 1 },
  visual: { language: 1, vision: 10 },
};

export function autoMode(text: string): 'semantic' | 'visual' {
  const words = text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);
  return words.some((w) => VISUAL_WORDS.has(w)) ? 'visual' : 'semantic';
}

export interface QueryOptions {
  mode?: QueryMode;
  /** Language share in [0, 1]; overrides the mode's weights. */
  weight?: number;
  /** Hits to return (default 5). */
  top?: number;
  /** Threshold in robust standard deviations above the background median (default 5). */
  k_mad?: number;
  /** Smallest hit cluster in points (default 5); also the point count the null-text margin is calibrated on. */
  min_points?: number;
  /** Compute a stand-off goal for the best hit (default true). */
  goal?: boolean;
  goal_options?: GoalOptions;
  /**
   * Write the heatmap into this buffer (exactly `points` floats) instead of a new one; the caller must not
   * be using it any more (the studio alternates two, saving a 4 MB allocation per query on a 1M-point map).
   */
  scores_out?: Float32Array;
}

export interface HitDetection {
  detection_id: number;
  frame: number;
  label: string;
  score: number;
  box_px: [number, number, number, number];
  points: number;
}

export interface QueryHit {
  /** Score-weighted centroid of the hit's top points (the look-at point for this hit). */
  world_m: Vec3;
  map_m: Vec3;
  /** Peak exact score. */
  score: number;
  /** Sum over the hit's points of (margin - threshold margin). */
  support: number;
  extent_m: Vec3;
  /** Axis-aligned bounds of the hit's points, world metres. */
  bounds_world_m: { min: Vec3; max: Vec3 };
  points: number;
  /** Capture frames that saw the hit's points, most points first (<= 10). */
  support_frames: { frame: number; points: number }[];
  /** Labeled detections near the hit's top points (evidence), most points first (<= 5). */
  detections: HitDetection[];
  instance_id: number | null;
  instance_label: string | null;
}

export interface QueryResult {
  query: string;
  kind: 'text' | 'image';
  mode: 'semantic' | 'visual' | 'custom';
  weights: QueryWeights;
  encoders: { language: string | null; vision: string | null };
  frame: 'map';
  not_found: boolean;
  reason: string | null;
  /**
   * Calibration. 'competitors' (text queries): a hit point's score beats the best competitor text (vocabulary
   * labels and generic null texts, less the query's own words) by at least `margin`. 'median-mad' (image
   * queries): score >= margin = median + min(k * 1.4826 * MAD, (peak - median) / 2).
   */
  threshold: {
    rule: 'competitors' | 'median-mad';
    margin: number;
    null_texts: number;
    labels: number;
    own_labels: string[];
    median: number;
    mad: number;
    k: number;
  };
  hits: QueryHit[];
  look_at: { world_m: Vec3; map_m: Vec3 } | null;
  goal: { frame: 'map'; map_m: [number, number]; yaw_rad: number; world_m: Vec3; distance_m: number } | null;
  goal_error: string | null;
  timings_ms: {
    encode: number;
    score: number;
    null_model: number;
    rerank: number;
    cluster: number;
    /** Hit statistics, supporting frames and detections of the top clusters. */
    describe: number;
    goal: number;
    total: number;
  };
}

export interface ViewEstimate {
  frame: number;
  /** Share of the top-hit score mass this frame saw. */
  score: number;
  world_from_camera: number[];
}

export interface EngineOptions {
  encoders?: QueryEncoders;
  threads?: number;
  geometry?: ProjectGeometry;
  /** Labeled dataset for the detections of hits (loaded from the project when omitted; null to skip). */
  dataset?: LabeledPointDataset | null;
  modelsDir?: string;
  /** Re-rank with the WebAssembly SIMD kernel where available (default true; false keeps the plain loop). */
  exactKernel?: boolean;
}

/** Detections near points: a voxel hash of the labeled dataset's points. */
class DatasetIndex {
  private readonly cells = new Map<string, number[]>();
  constructor(
    readonly ds: LabeledPointDataset,
    readonly cell_m = 0.05,
  ) {
    for (let i = 0; i < ds.points; i++) {
      const k = this.key(ds.xyz[3 * i]!, ds.xyz[3 * i + 1]!, ds.xyz[3 * i + 2]!);
      let l = this.cells.get(k);
      if (!l) this.cells.set(k, (l = []));
      l.push(i);
    }
  }
  private key(x: number, y: number, z: number): string {
    return `${Math.floor(x / this.cell_m)},${Math.floor(y / this.cell_m)},${Math.floor(z / this.cell_m)}`;
  }
  near(x: number, y: number, z: number): number[] {
    const out: number[] = [];
    const cx = Math.floor(x / this.cell_m);
    const cy = Math.floor(y / this.cell_m);
    const cz = Math.floor(z / this.cell_m);
    for (let dz = -1; dz <= 1; dz++)
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const l = this.cells.get(`${cx + dx},${cy + dy},${cz + dz}`);
          if (!l) continue;
          for (const i of l) {
            const d2 =
              (this.ds.xyz[3 * i]! - x) ** 2 +
              (this.ds.xyz[3 * i + 1]! - y) ** 2 +
              (this.ds.xyz[3 * i + 2]! - z) ** 2;
            if (d2 <= this.cell_m * this.cell_m) out.push(i);
          }
        }
    return out;
  }
}

interface Competitors {
  /** Vocabulary labels first (`labels` of them), then the null texts. */
  texts: string[];
  labels: number;
  /** Unit language embeddings (texts x Dl) and CLIP text embeddings (texts x Dv) when the vision head is used. */
  l: Float32Array;
  v: Float32Array | null;
}

interface CompetitionModel {
  /** Per point, the best K competitor scores (descending) and their text indices (-1 = none). */
  top: Float32Array;
  arg: Int16Array;
  K: number;
  delta: number;
  /** Per point, the best competitor outside a query's own labels, by own-label set (a few kept). */
  bases: Map<string, Float32Array>;
}

/** Per point, the best competitor score among texts not in `ownMask` (the K-th best when all K are own). */
function competitorBase(model: CompetitionModel, ownMask: Uint8Array, N: number): Float32Array {
  const { top, arg, K } = model;
  const base = new Float32Array(N);
  for (let i = 0, o = 0; i < N; i++, o += K) {
    const j0 = arg[o]!;
    if (j0 >= 0 && ownMask[j0] === 0) {
      base[i] = top[o]!;
      continue;
    }
    let b = top[o + K - 1]!;
    for (let k = 1; k < K; k++) {
      const j = arg[o + k]!;
      if (j >= 0 && ownMask[j] === 0) {
        b = top[o + k]!;
        break;
      }
    }
    base[i] = b;
  }
  return base;
}

/** Most points re-scored exactly in the threshold band per query (the best margins are kept). */
const RERANK_CAP = 60_000;
/** Points clearly above the threshold that are re-scored exactly anyway: the best, which set peaks and look-at. */
const PEAK_EXACT = 4096;

/** An Int32 list that grows by doubling. */
class GrowableInt32 {
  private buf = new Int32Array(4096);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const grown = new Int32Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.length++] = v;
  }
  view(): Int32Array {
    return this.buf.subarray(0, this.length);
  }
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[i * D + d]! * b[j * D + d]!;
  return s;
}

/**
 * The member point nearest `p`: a weighted centroid can fall between the parts of a cluster (two windows of one
 * wall, an L-shaped desk); the look-at point should lie on the object.
 */
function snapToMember(positions: Float32Array, members: Int32Array, p: Vec3): Vec3 {
  let best = -1;
  let bestD = Infinity;
  for (const m of members) {
    const d =
      (positions[3 * m]! - p[0]) ** 2 +
      (positions[3 * m + 1]! - p[1]) ** 2 +
      (positions[3 * m + 2]! - p[2]) ** 2;
    if (d < bestD) [best, bestD] = [m, d];
  }
  return best < 0 ? p : [positions[3 * best]!, positions[3 * best + 1]!, positions[3 * best + 2]!];
}

interface Search {
  scores: Float32Array;
  threshold: QueryResult['threshold'];
  /** margin = score minus what it must beat (the null texts' best, or 0 for image queries); hits have margin >= threshold.margin. */
  clusters: { members: Int32Array; margin: Float32Array; support: number; peak: number }[];
  reason: string | null;
  t: { score: number; null_model: number; rerank: number; cluster: number };
}

export class QueryEngine {
  private competitorSet: Competitors | null = null;
  private readonly models = new Map<string, CompetitionModel>();
  private datasetIndex: DatasetIndex | null | undefined;
  private supervisedMask: Uint8Array | null | undefined;
  private counter: { frames: Int32Array; instances: Int32Array } | null = null;
  /** Why the labeled dataset (evidence for hits) could not be loaded, if it could not. */
  datasetError: string | null = null;

  private constructor(
    readonly projectDir: string,
    readonly scorer: FastScorer,
    readonly geometry: ProjectGeometry,
    readonly encoders: QueryEncoders,
    private readonly ownsEncoders: boolean,
    private dataset: LabeledPointDataset | null | undefined,
  ) {}

  static async open(projectDir: string, opts: EngineOptions = {}): Promise<QueryEngine> {
    const geometry = opts.geometry ?? (await ProjectGeometry.load(projectDir));
    const scorer = await FastScorer.open(
      queryCacheDir(projectDir),
      opts.threads !== undefined ? { threads: opts.threads } : {},
    );
    try {
      const m = scorer.cache.manifest;
      if (m.points !== geometry.map.count)
        throw new QueryError(
          'CONFLICT',
          path.join(queryCacheDir(projectDir), 'manifest.json'),
          `query cache has ${m.points} points but the map has ${geometry.map.count}: re-run evaluate-field`,
        );
      const encoders =
        opts.encoders ??
        (await loadQueryEncoders(m.encoders, opts.modelsDir ? { modelsDir: opts.modelsDir } : {}));
      if (encoders.language.dim !== m.heads.language)
        throw new QueryError(
          'CONFLICT',
          null,
          `sentence encoder "${encoders.language.name}" gives ${encoders.language.dim}-d vectors, the field's language head has ${m.heads.language}`,
        );
      // Exact re-ranking with the WebAssembly SIMD kernel (the plain loop where it is unavailable).
      if (opts.exactKernel !== false) attachExactKernel(scorer.cache.exact);
      return new QueryEngine(projectDir, scorer, geometry, encoders, !opts.encoders, opts.dataset);
    } catch (err) {
      await scorer.dispose();
      throw err;
    }
  }

  get cache(): QueryCache {
    return this.scorer.cache;
  }

  private clipUsable(): boolean {
    const c = this.encoders.clipText;
    return !!c && this.cache.manifest.heads.vision > 0 && c.dim === this.cache.manifest.heads.vision;
  }

  /** Vocabulary labels plus the null texts that resemble none of them, embedded once. */
  private async competitors(): Promise<Competitors> {
    if (this.competitorSet) return this.competitorSet;
    const labels = [...new Set(this.cache.manifest.labels.map((t) => t.trim()).filter((t) => t.length > 0))];
    const Dl = this.encoders.language.dim;
    const labelL = labels.length > 0 ? await this.encoders.language.encode(labels) : new Float32Array(0);
    const nullL = await this.encoders.language.encode(DISTRACTOR_TEXTS);
    const nulls: string[] = [];
    const keep: number[] = [];
    DISTRACTOR_TEXTS.forEach((t, j) => {
      for (let l = 0; l < labels.length; l++)
        if (dot(nullL, j, labelL, l, Dl) >= OWN_LABEL_SIMILARITY) return;
      nulls.push(t);
      keep.push(j);
    });
    const texts = [...labels, ...nulls];
    const l = new Float32Array(texts.length * Dl);
    l.set(labelL, 0);
    keep.forEach((j, k) => l.set(nullL.subarray(j * Dl, (j + 1) * Dl), (labels.length + k) * Dl));
    const v = this.clipUsable() ? await this.encoders.clipText!.encode(texts) : null;
    this.competitorSet = { texts, labels: labels.length, l, v };
    return this.competitorSet;
  }

  /** Map points near a labeled point (1) or not (0); null without a dataset (every point counts). */
  private async supervision(): Promise<Uint8Array | null> {
    if (this.supervisedMask !== undefined) return this.supervisedMask;
    const index = await this.loadDatasetIndex();
    if (!index || index.ds.points === 0) return (this.supervisedMask = null);
    const ds = index.ds;
    const inv = 1 / SUPPORT_CELL_M;
    const key = (x: number, y: number, z: number) =>
      x + 32768 + (y + 32768) * 65536 + (z + 32768) * 4294967296;
    const cells = new Set<number>();
    for (let i = 0; i < ds.points; i++) {
      const x = Math.floor(ds.xyz[3 * i]! * inv),
        y = Math.floor(ds.xyz[3 * i + 1]! * inv),
        z = Math.floor(ds.xyz[3 * i + 2]! * inv);
      for (let dz = -1; dz <= 1; dz++)
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) cells.add(key(x + dx, y + dy, z + dz));
    }
    const pos = this.geometry.map.positions;
    const N = this.cache.manifest.points;
    const mask = new Uint8Array(N);
    for (let i = 0; i < N; i++)
      if (
        cells.has(
          key(
            Math.floor(pos[3 * i]! * inv),
            Math.floor(pos[3 * i + 1]! * inv),
            Math.floor(pos[3 * i + 2]! * inv),
          ),
        )
      )
        mask[i] = 1;
    return (this.supervisedMask = mask);
  }

  private async loadDatasetIndex(): Promise<DatasetIndex | null> {
    if (this.datasetIndex !== undefined) return this.datasetIndex;
    if (this.dataset === undefined) {
      try {
        this.dataset = await loadDataset(this.projectDir);
      } catch (err) {
        this.datasetError = (err as Error).message;
        this.dataset = null;
      }
    }
    this.datasetIndex = this.dataset ? new DatasetIndex(this.dataset) : null;
    return this.datasetIndex;
  }

  /**
   * The competition at weights `w`: every point's best COMPETITOR_TOP competitor scores (fast tier) and the
   * calibrated margin delta: the largest margin a null text reaches over every other competitor on `minPoints`
   * points (at least MIN_MARGIN).
   */
  private async competitionModel(
    w: QueryWeights,
    withVision: boolean,
    minPoints: number,
  ): Promise<CompetitionModel> {
    const key = `${w.language}:${w.vision}:${withVision}:${minPoints}`;
    const hit = this.models.get(key);
    if (hit) return hit;
    const c = this.cache;
    const N = c.manifest.points;
    const { language: Dl, vision: Dv } = c.manifest.heads;
    const comp = await this.competitors();
    const T = comp.texts.length;
    const K = COMPETITOR_TOP;
    const top = new Float32Array(N * K).fill(-Infinity);
    const arg = new Int16Array(N * K).fill(-1);
    for (let j = 0; j < T; j++) {
      const dl = comp.l.subarray(j * Dl, (j + 1) * Dl);
      const dv = withVision && comp.v ? comp.v.subarray(j * Dv, (j + 1) * Dv) : null;
      const { qz, bias } = codeQuery(c.fast, stackQuery(dl, dv, Dl, Dv, w));
      const sc = await this.scorer.score(qz, bias);
      for (let i = 0; i < N; i++) {
        const v = sc[i]!;
        const o = i * K;
        if (!(v > top[o + K - 1]!)) continue;
        let k = K - 1;
        while (k > 0 && v > top[o + k - 1]!) {
          top[o + k] = top[o + k - 1]!;
          arg[o + k] = arg[o + k - 1]!;
          k--;
        }
        top[o + k] = v;
        arg[o + k] = j;
      }
    }
    // Null calibration: where null text j is the best competitor, it beats the others by top1 - top2.
    const per: number[][] = Array.from({ length: T }, () => []);
    for (let i = 0; i < N; i++) {
      const j = arg[i * K]!;
      if (j >= comp.labels) per[j]!.push(top[i * K]! - (K > 1 ? top[i * K + 1]! : -Infinity));
    }
    let delta = MIN_MARGIN;
    for (const m of per) {
      if (m.length < minPoints) continue;
      m.sort((x, y) => y - x);
      delta = Math.max(delta, m[minPoints - 1]!);
    }
    const model = { top, arg, delta, K, bases: new Map<string, Float32Array>() };
    this.models.set(key, model);
    return model;
  }

  /**
   * Fast scores, calibrated threshold, exact re-scoring near it, 3D clusters of the hits.
   * Text queries: a point is a hit when its exact score beats the best null text there by delta (see
   * nullModel). Image queries (no image nulls): score >= median + min(k * 1.4826 * MAD, (peak - median) / 2).
   */
  private async search(
    ql: Float32Array,
    qv: Float32Array | null,
    w: QueryWeights,
    opts: QueryOptions,
    text: boolean,
  ): Promise<Search> {
    const c = this.cache;
    const N = c.manifest.points;
    const { language: Dl, vision: Dv } = c.manifest.heads;
    const minPoints = opts.min_points ?? 5;
    const t0 = performance.now();
    const Q = stackQuery(ql, qv, Dl, Dv, w);
    const { qz, bias } = codeQuery(c.fast, Q);
    const fast = await this.scorer.score(qz, bias);
    const out = opts.scores_out?.length === N ? opts.scores_out : null;
    const scores = out ? (out.set(fast.subarray(0, N)), out) : fast.slice(0, N);
    const t1 = performance.now();
    const stride = Math.max(1, Math.floor(N / 65536));
    const sample = new Float32Array(Math.ceil(N / stride));
    for (let i = 0, k = 0; i < N; i += stride) sample[k++] = scores[i]!;
    const med = medianInPlace(sample);
    for (let i = 0; i < sample.length; i++) sample[i] = Math.abs(sample[i]! - med);
    const mad = medianInPlace(sample);
    const k = opts.k_mad ?? 5;
    // base[i]: what the query must beat at point i, by `delta`.
    let base: Float32Array | null = null;
    let delta: number;
    let ownLabels: string[] = [];
    let comp: Competitors | null = null;
    if (text) {
      const model = await this.competitionModel(w, qv !== null, minPoints);
      comp = await this.competitors();
      const own = new Set<number>();
      for (let j = 0; j < comp.texts.length; j++)
        if (dot(ql, 0, comp.l, j, Dl) >= OWN_LABEL_SIMILARITY) own.add(j);
      ownLabels = [...own].filter((j) => j < comp!.labels).map((j) => comp!.texts[j]!);
      const ownKey = [...own].join(',');
      base = model.bases.get(ownKey) ?? null;
      if (!base) {
        const ownMask = new Uint8Array(comp.texts.length);
        for (const j of own) ownMask[j] = 1;
        base = competitorBase(model, ownMask, N);
        // A handful of bases (N floats each) cover repeated queries of the same words.
        if (model.bases.size >= 4) model.bases.delete(model.bases.keys().next().value!);
        model.bases.set(ownKey, base);
      }
      delta = model.delta;
    } else {
      let peak = -Infinity;
      for (let i = 0; i < N; i++) if (scores[i]! > peak) peak = scores[i]!;
      delta = med + Math.max(0.02, Math.min(k * 1.4826 * Math.max(mad, 1e-4), 0.5 * (peak - med)));
    }
    const t1b = performance.now();
    const threshold: QueryResult['threshold'] = {
      rule: text ? 'competitors' : 'median-mad',
      margin: delta,
      null_texts: comp ? comp.texts.length - comp.labels : 0,
      labels: comp ? comp.labels : 0,
      own_labels: ownLabels,
      median: med,
      mad,
      k,
    };
    const marginOf = (i: number, s: number) => (base ? s - base[i]! : s);
    // Candidates: within the fast tier's measured error of the threshold.
    const ag = c.manifest.agreement;
    const err = ag ? Math.max(0.01, 1.5 * ag.fast.residual_max, 4 * ag.fast.residual_rms) : 0.1;
    const supervised = await this.supervision();
    // One pass over every point (plain loops: this runs on ~1M points per query). Fast margins within `err`
    // of the threshold are the band that exact scores decide; above it a point is a hit whatever the exact
    // score, and only the best of those are re-scored exactly (the reported peaks and look-at points).
    const lowest = delta - err;
    const highest = delta + err;
    const band = new GrowableInt32();
    const sure = new GrowableInt32();
    for (let i = 0; i < N; i++) {
      if (supervised && supervised[i] !== 1) continue;
      const m = base ? scores[i]! - base[i]! : scores[i]!;
      if (m < lowest) continue;
      if (m >= highest) sure.push(i);
      else band.push(i);
    }
    let cand = band.view();
    if (cand.length > RERANK_CAP) {
      // Keep the RERANK_CAP best margins of the band.
      const margins = Float32Array.from(cand, (i) => marginOf(i, scores[i]!));
      cand = Int32Array.from(topIndices(margins, RERANK_CAP), (j) => cand[j]!);
    }
    let sureIdx = sure.view();
    let sureRest = new Int32Array(0);
    if (sureIdx.length > PEAK_EXACT) {
      const margins = Float32Array.from(sureIdx, (i) => marginOf(i, scores[i]!));
      const top = topIndices(margins, PEAK_EXACT);
      const chosen = new Uint8Array(sureIdx.length);
      for (const j of top) chosen[j] = 1;
      const all = sureIdx;
      sureIdx = Int32Array.from(top, (j) => all[j]!);
      sureRest = all.filter((_, j) => chosen[j] === 0);
    }
    const rescored = new Int32Array(cand.length + sureIdx.length);
    rescored.set(cand);
    rescored.set(sureIdx, cand.length);
    const exact = exactScores(c.exact, ql, qv, w, rescored);
    // Hits: exact margin >= delta where re-scored, plus the rest of the sure points; a hit's margin is
    // marginOf(p, scores[p]) once its exact score is written.
    const hitBuf = new Int32Array(rescored.length + sureRest.length);
    let nHits = 0;
    for (let m = 0; m < rescored.length; m++) {
      const p = rescored[m]!;
      scores[p] = exact[m]!;
      if (marginOf(p, exact[m]!) >= delta) hitBuf[nHits++] = p;
    }
    hitBuf.set(sureRest, nHits);
    nHits += sureRest.length;
    const hitIdx = hitBuf.subarray(0, nHits);
    const t2 = performance.now();
    const t = { score: t1 - t0, null_model: t1b - t1, rerank: t2 - t1b, cluster: 0 };
    if (hitIdx.length === 0) {
      const reason = text
        ? `no point scores above the best competitor (${comp!.labels} vocabulary labels, ${comp!.texts.length - comp!.labels} generic null texts${ownLabels.length ? `; not "${ownLabels.join('", "')}", the query's own words` : ''}) by the calibrated margin ${delta.toFixed(3)}`
        : `no point scores above median + ${k} robust deviations`;
      return { scores, threshold, clusters: [], reason, t };
    }
    const comps = voxelComponents(
      this.geometry.map.positions,
      hitIdx,
      c.manifest.instance_voxel_m,
      minPoints,
    );
    const clusters = comps.members.map((members) => {
      const mg = Float32Array.from(members, (p) => marginOf(p, scores[p]!));
      let support = 0;
      let peak = -Infinity;
      for (let m = 0; m < members.length; m++) {
        support += mg[m]! - delta;
        peak = Math.max(peak, scores[members[m]!]!);
      }
      return { members, margin: mg, support, peak };
    });
    clusters.sort((a, b) => b.support - a.support);
    t.cluster = performance.now() - t2;
    const reason =
      clusters.length === 0
        ? `points above the threshold are scattered (no cluster of ${minPoints}+ points)`
        : null;
    return { scores, threshold, clusters, reason, t };
  }

  private async describeHits(s: Search, top: number): Promise<QueryHit[]> {
    const c = this.cache;
    const map = this.geometry.map;
    const index = await this.loadDatasetIndex();
    if (!this.counter) {
      // Scratch counters (zero between uses), sized once per engine.
      let maxFrame = 0;
      for (let k = 0; k < map.frameIds.length; k++)
        if (map.frameIds[k]! > maxFrame) maxFrame = map.frameIds[k]!;
      let maxInstance = 0;
      for (let k = 0; k < c.instance.length; k++)
        if (c.instance[k]! > maxInstance) maxInstance = c.instance[k]!;
      this.counter = { frames: new Int32Array(maxFrame + 1), instances: new Int32Array(maxInstance + 1) };
    }
    const counter = this.counter;
    return s.clusters.slice(0, top).map((cl) => {
      const st = clusterStats(map.positions, cl.members);
      const look = snapToMember(
        map.positions,
        cl.members,
        lookAtPoint(map.positions, cl.members, cl.margin, s.threshold.margin),
      );
      // Counts per frame and per instance in typed arrays (a cluster can have ~100k points x ~20 frames).
      const frameCount = counter.frames;
      const instCount = counter.instances;
      const seenFrames: number[] = [];
      const seenInst: number[] = [];
      for (let m = 0; m < cl.members.length; m++) {
        const p = cl.members[m]!;
        for (let k = map.frameOffsets[p]!; k < map.frameOffsets[p + 1]!; k++) {
          const f = map.frameIds[k]!;
          if (frameCount[f] === 0) seenFrames.push(f);
          frameCount[f] = frameCount[f]! + 1;
        }
        const id = c.instance[p]!;
        if (id >= 0 && id < instCount.length) {
          if (instCount[id] === 0) seenInst.push(id);
          instCount[id] = instCount[id]! + 1;
        }
      }
      const frames = new Map<number, number>();
      for (const f of seenFrames) {
        frames.set(f, frameCount[f]!);
        frameCount[f] = 0;
      }
      let instance_id: number | null = null;
      let bestN = 0;
      for (const id of seenInst) {
        const n = instCount[id]!;
        instCount[id] = 0;
        if (n > bestN || (n === bestN && instance_id !== null && id < instance_id))
          [instance_id, bestN] = [id, n];
      }
      const detections: HitDetection[] = [];
      if (index) {
        const order = topIndices(cl.margin, 50);
        const count = new Map<number, number>();
        for (const m of order) {
          const p = cl.members[m]!;
          for (const i of index.near(
            map.positions[3 * p]!,
            map.positions[3 * p + 1]!,
            map.positions[3 * p + 2]!,
          )) {
            const det = index.ds.detectionId[i]!;
            count.set(det, (count.get(det) ?? 0) + 1);
          }
        }
        const dt = index.ds.detections;
        for (const [det, n] of [...count.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)) {
          if (det >= dt.count) continue;
          detections.push({
            detection_id: det,
            frame: dt.frame[det]!,
            label: index.ds.labels.texts[dt.labelId[det]!] ?? '',
            score: dt.score[det]!,
            box_px: [dt.box[4 * det]!, dt.box[4 * det + 1]!, dt.box[4 * det + 2]!, dt.box[4 * det + 3]!],
            points: n,
          });
        }
      }
      return {
        world_m: look,
        map_m: this.geometry.toMap(look),
        score: cl.peak,
        support: cl.support,
        extent_m: st.extent,
        bounds_world_m: { min: st.min, max: st.max },
        points: cl.members.length,
        support_frames: [...frames.entries()]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, 10)
          .map(([frame, points]) => ({ frame, points })),
        detections,
        instance_id,
        instance_label: instance_id !== null ? (c.manifest.instances[instance_id]?.label ?? null) : null,
      };
    });
  }

  private weightsFor(
    text: string,
    opts: QueryOptions,
    hasVision: boolean,
  ): { mode: QueryResult['mode']; w: QueryWeights } {
    if (opts.weight !== undefined) {
      if (!(opts.weight >= 0 && opts.weight <= 1))
        throw new QueryError(
          'BAD_ARGS',
          null,
          `weight ${opts.weight} must be in [0, 1] (the language share)`,
        );
      return { mode: 'custom', w: { language: opts.weight, vision: 1 - opts.weight } };
    }
    const mode = !opts.mode || opts.mode === 'auto' ? (hasVision ? autoMode(text) : 'semantic') : opts.mode;
    return { mode, w: MODE_WEIGHTS[mode] };
  }

  private async finish(
    kind: 'text' | 'image',
    query: string,
    mode: QueryResult['mode'],
    w: QueryWeights,
    encoders: QueryResult['encoders'],
    s: Search,
    opts: QueryOptions,
    tEncode: number,
    t0: number,
  ): Promise<{ result: QueryResult; scores: Float32Array }> {
    const td = performance.now();
    const hits = await this.describeHits(s, opts.top ?? 5);
    const tg = performance.now();
    const best = hits[0];
    let goal: QueryResult['goal'] = null;
    let goal_error: string | null = null;
    if (best && opts.goal !== false) {
      try {
        const g = goalFor(this.geometry, best.world_m, {
          target_radius_m: Math.max(
            0.1,
            Math.hypot(best.extent_m[0], best.extent_m[1], best.extent_m[2]) / 2,
          ),
          ...opts.goal_options,
        });
        if (g.ok)
          goal = {
            frame: 'map',
            map_m: g.map_m,
            yaw_rad: g.yaw_rad,
            world_m: g.world_m,
            distance_m: g.distance_m,
          };
        else goal_error = g.reason;
      } catch (err) {
        goal_error = (err as Error).message;
      }
    }
    const now = performance.now();
    const result: QueryResult = {
      query,
      kind,
      mode,
      weights: w,
      encoders,
      frame: 'map',
      not_found: hits.length === 0,
      reason: hits.length === 0 ? s.reason : null,
      threshold: s.threshold,
      hits,
      look_at: best ? { world_m: best.world_m, map_m: best.map_m } : null,
      goal,
      goal_error,
      timings_ms: {
        encode: tEncode,
        score: s.t.score,
        null_model: s.t.null_model,
        rerank: s.t.rerank,
        cluster: s.t.cluster,
        describe: tg - td,
        goal: now - tg,
        total: now - t0,
      },
    };
    return { result, scores: s.scores };
  }

  /**
   * Build the per-engine state a default text query needs (competitor model, supervision, hit support) and
   * run a few throwaway queries.
   */
  async warm(): Promise<void> {
    const clip = this.clipUsable();
    const { w } = this.weightsFor('', { mode: 'semantic' }, clip);
    await this.competitors();
    await this.competitionModel(w, clip, 5);
    if (clip) await this.competitionModel(MODE_WEIGHTS.visual, true, 5);
    await this.supervision();
    await this.loadDatasetIndex();
    // A few throwaway queries of vocabulary labels compile the query path and build the occupancy grid for
    // goals, so the operator's first queries run at warm speed (about 2-3x faster than cold).
    for (const label of this.cache.manifest.labels.slice(0, 3)) await this.query(label, {});
  }

  /** A text query. `scores` is the per-point heatmap (fast tier, exact near the threshold). */
  async query(text: string, opts: QueryOptions = {}): Promise<{ result: QueryResult; scores: Float32Array }> {
    const q = text.trim();
    if (q.length === 0 || q.length > 1000)
      throw new QueryError('BAD_ARGS', null, 'query text must have 1-1000 characters');
    const t0 = performance.now();
    const clip = this.clipUsable();
    const { mode, w } = this.weightsFor(q, opts, clip);
    const ql = await this.encoders.language.encode([q]);
    const qv = clip ? await this.encoders.clipText!.encode([q]) : null;
    const tEncode = performance.now() - t0;
    const s = await this.search(ql, qv, w, opts, true);
    return this.finish(
      'text',
      q,
      mode,
      w,
      { language: this.encoders.language.name, vision: qv ? this.encoders.clipText!.name : null },
      s,
      opts,
      tEncode,
      t0,
    );
  }

  /**
   * An image query: a CLIP image embedding scored against the vision head only, plus view localisation: the
   * capture frames that saw the top hits' points, weighted by score above the threshold; the best frame's
   * pose is the estimated camera pose.
   */
  async queryImage(
    embedding: Float32Array,
    opts: QueryOptions & { label?: string } = {},
  ): Promise<{ result: QueryResult; scores: Float32Array; views: ViewEstimate[] }> {
    const m = this.cache.manifest;
    if (m.heads.vision === 0)
      throw new QueryError(
        'UNSUPPORTED',
        null,
        'this field has no vision head (the dataset had no CLIP embeddings): image queries need one',
      );
    if (embedding.length !== m.heads.vision)
      throw new QueryError(
        'BAD_ARGS',
        null,
        `image embedding has ${embedding.length} values, the vision head has ${m.heads.vision}`,
      );
    const t0 = performance.now();
    const q = Float32Array.from(embedding);
    let n = 0;
    for (const v of q) n += v * v;
    if (!(n > 0) || !Number.isFinite(n))
      throw new QueryError('BAD_ARGS', null, 'image embedding must be finite and non-zero');
    for (let i = 0; i < q.length; i++) q[i]! /= Math.sqrt(n);
    const w = { language: 0, vision: 1 };
    const s = await this.search(new Float32Array(m.heads.language), q, w, opts, false);
    const out = await this.finish(
      'image',
      opts.label ?? 'image',
      'visual',
      w,
      { language: null, vision: this.encoders.image?.name ?? 'clip-image-embedding' },
      s,
      opts,
      0,
      t0,
    );
    return { ...out, views: this.localiseView(s, this.geometry.frames) };
  }

  /** Encode an RGB image with the installed CLIP image encoder and run `queryImage`. */
  async queryImageFile(
    file: string,
    opts: QueryOptions = {},
  ): Promise<{ result: QueryResult; scores: Float32Array; views: ViewEstimate[] }> {
    const enc = this.encoders.image;
    if (!enc)
      throw new QueryError(
        'UNSUPPORTED',
        file,
        'image queries need the CLIP image encoder (install the CLIP models)',
      );
    let img: { data: Buffer; info: { width: number; height: number } };
    try {
      img = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    } catch (err) {
      throw new QueryError('INVALID_INPUT', file, `cannot decode image: ${(err as Error).message}`);
    }
    const rgb = { width: img.info.width, height: img.info.height, data: new Uint8Array(img.data) };
    const emb = await enc.encodeCrops(rgb, [[0, 0, rgb.width, rgb.height]]);
    return this.queryImage(emb, { ...opts, label: path.basename(file) });
  }

  private localiseView(s: Search, frames: FrameIndex | null): ViewEstimate[] {
    const map = this.geometry.map;
    const mass = new Map<number, number>();
    let total = 0;
    for (const cl of s.clusters.slice(0, 3)) {
      cl.members.forEach((p, m) => {
        const w = cl.margin[m]! - s.threshold.margin;
        for (let k = map.frameOffsets[p]!; k < map.frameOffsets[p + 1]!; k++)
          mass.set(map.frameIds[k]!, (mass.get(map.frameIds[k]!) ?? 0) + w);
        total += w;
      });
    }
    return [...mass.entries()]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, 5)
      .map(([frame, v]) => ({
        frame,
        score: total > 0 ? v / total : 0,
        world_from_camera: frames?.frames[frame]?.world_from_camera ?? [],
      }));
  }

  async dispose(): Promise<void> {
    await this.scorer.dispose();
    if (this.ownsEncoders) await this.encoders.dispose();
  }
}

/** CLI-ready: open the project's engine, run one text query, close. */
export async function runQuery(
  projectDir: string,
  text: string,
  opts: QueryOptions & { encoders?: QueryEncoders; dataset?: LabeledPointDataset | null } = {},
): Promise<QueryResult> {
  const engine = await QueryEngine.open(projectDir, {
    ...(opts.encoders ? { encoders: opts.encoders } : {}),
    ...(opts.dataset !== undefined ? { dataset: opts.dataset } : {}),
  });
  try {
    return (await engine.query(text, opts)).result;
  } finally {
    await engine.dispose();
  }
}
