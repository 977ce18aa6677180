/**
 * Turns a batch of point indices into what the loss needs: normalised positions and, per head, the U distinct
 * targets of the batch (labels for the language head, detections for the vision head) with the batch's
 * one-hot assignment, per-target counts and per-sample weights.
 */
import type { LabeledPointDataset } from '../dataset/types';
import type { FieldConfig } from './config';

export interface Bounds {
  min: [number, number, number];
  max: [number, number, number];
}

export class FieldDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldDataError';
  }
}

export interface HeadBatch {
  /** Distinct targets in the batch. */
  U: number;
  dim: number;
  /** `U * dim`, unit length. */
  targets: Float32Array;
  /** `B * U` one-hot: sample i's target is u. */
  onehot: Float32Array;
  /** `U`: how many samples of the batch have target u. */
  counts: Float32Array;
  /** `B` per-sample loss weights. */
  weight: Float32Array;
  /** `B` index of each sample's target among the U. */
  local: Int32Array;
  /** `U` dataset id (label id / detection id) of each distinct target. */
  ids: Int32Array;
}

export interface PreparedBatch {
  B: number;
  xyzUnit: Float32Array;
  language: HeadBatch;
  vision: HeadBatch | null;
}

/** Dataset bounds (the box normalised to [0,1]^3); degenerate axes get a 1 mm extent. */
export function datasetBounds(ds: LabeledPointDataset): Bounds {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < ds.points; i++) {
    for (let a = 0; a < 3; a++) {
      const v = ds.xyz[i * 3 + a]!;
      if (v < min[a]!) min[a] = v;
      if (v > max[a]!) max[a] = v;
    }
  }
  for (let a = 0; a < 3; a++) {
    if (!(max[a]! - min[a]! >= 1e-3)) {
      const c = Number.isFinite(min[a]!) ? (min[a]! + max[a]!) / 2 : 0;
      min[a] = c - 5e-4;
      max[a] = c + 5e-4;
    }
  }
  return { min, max };
}

/** Map world points into the unit box of `bounds`. */
export function normalizePoints(xyz: Float32Array, n: number, bounds: Bounds, out: Float32Array): void {
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++)
      out[i * 3 + a] = (xyz[i * 3 + a]! - bounds.min[a]!) / (bounds.max[a]! - bounds.min[a]!);
  }
}

function unitRows(src: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += src[r * dim + d]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) out[r * dim + d] = src[r * dim + d]! * inv;
  }
  return out;
}

/** Validate the dataset for training and return unit-length target tables. */
export function checkDataset(
  ds: LabeledPointDataset,
  source = 'dataset',
): { labelTargets: Float32Array; visionTargets: Float32Array | null } {
  const n = ds.points;
  const bad = (what: string) => new FieldDataError(`${source}: ${what}`);
  if (!Number.isInteger(n) || n < 2) throw bad(`needs at least 2 labeled points, has ${n}`);
  if (
    ds.xyz.length !== n * 3 ||
    ds.labelId.length !== n ||
    ds.detectionId.length !== n ||
    ds.weight.length !== n ||
    ds.distance_m.length !== n
  ) {
    throw bad('per-point arrays do not match the point count');
  }
  const nl = ds.labels.texts.length;
  if (nl < 1 || ds.labels.dim < 1 || ds.labels.embeddings.length !== nl * ds.labels.dim)
    throw bad('label embeddings do not match the label table');
  const hasVision = ds.detections.clipEmbeddings !== null;
  if (hasVision && ds.detections.clipEmbeddings!.length !== ds.detections.count * ds.detections.clipDim)
    throw bad('detection CLIP embeddings do not match the detection table');
  for (let i = 0; i < n; i++) {
    if (ds.labelId[i]! >= nl)
      throw bad(`point ${i} has label id ${ds.labelId[i]} but there are ${nl} labels`);
    if (hasVision && ds.detectionId[i]! >= ds.detections.count)
      throw bad(
        `point ${i} has detection id ${ds.detectionId[i]} but there are ${ds.detections.count} detections`,
      );
    if (
      !Number.isFinite(ds.xyz[i * 3]!) ||
      !Number.isFinite(ds.xyz[i * 3 + 1]!) ||
      !Number.isFinite(ds.xyz[i * 3 + 2]!)
    )
      throw bad(`point ${i} has a non-finite position`);
    if (!(ds.weight[i]! >= 0) || !(ds.distance_m[i]! >= 0))
      throw bad(`point ${i} has a negative or NaN weight/distance`);
  }
  return {
    labelTargets: unitRows(ds.labels.embeddings, nl, ds.labels.dim),
    visionTargets: hasVision
      ? unitRows(ds.detections.clipEmbeddings!, ds.detections.count, ds.detections.clipDim)
      : null,
  };
}

function headBatch(
  ids: ArrayLike<number>,
  idx: ArrayLike<number>,
  table: Float32Array,
  dim: number,
  weight: Float32Array,
  scratch: Int32Array,
): HeadBatch {
  const B = idx.length;
  const local = new Int32Array(B);
  const uniq: number[] = [];
  for (let i = 0; i < B; i++) {
    const id = ids[idx[i]!]!;
    let u = scratch[id]!;
    if (u < 0) {
      u = uniq.length;
      scratch[id] = u;
      uniq.push(id);
    }
    local[i] = u;
  }
  const U = uniq.length;
  for (const id of uniq) scratch[id] = -1;
  const targets = new Float32Array(U * dim);
  uniq.forEach((id, u) => targets.set(table.subarray(id * dim, (id + 1) * dim), u * dim));
  const onehot = new Float32Array(B * U);
  const counts = new Float32Array(U);
  for (let i = 0; i < B; i++) {
    onehot[i * U + local[i]!] = 1;
    counts[local[i]!]! += 1;
  }
  return { U, dim, targets, onehot, counts, weight, local, ids: Int32Array.from(uniq) };
}

export class BatchPreparer {
  private readonly labelScratch: Int32Array;
  private readonly detScratch: Int32Array;

  constructor(
    private readonly ds: LabeledPointDataset,
    private readonly bounds: Bounds,
    private readonly targets: { labelTargets: Float32Array; visionTargets: Float32Array | null },
    private readonly cfg: FieldConfig,
  ) {
    this.labelScratch = new Int32Array(ds.labels.texts.length).fill(-1);
    this.detScratch = new Int32Array(Math.max(1, ds.detections.count)).fill(-1);
  }

  prepare(idx: ArrayLike<number>): PreparedBatch {
    const ds = this.ds;
    const B = idx.length;
    const xyz = new Float32Array(B * 3);
    for (let i = 0; i < B; i++) {
      const p = idx[i]!;
      xyz[i * 3] = ds.xyz[p * 3]!;
      xyz[i * 3 + 1] = ds.xyz[p * 3 + 1]!;
      xyz[i * 3 + 2] = ds.xyz[p * 3 + 2]!;
    }
    const xyzUnit = new Float32Array(B * 3);
    normalizePoints(xyz, B, this.bounds, xyzUnit);
    const wl = new Float32Array(B);
    for (let i = 0; i < B; i++) wl[i] = ds.weight[idx[i]!]!;
    const language = headBatch(
      ds.labelId,
      idx,
      this.targets.labelTargets,
      ds.labels.dim,
      wl,
      this.labelScratch,
    );
    let vision: HeadBatch | null = null;
    if (this.targets.visionTargets) {
      const wv = new Float32Array(B);
      const k = this.cfg.loss.visionDistanceDecay;
      for (let i = 0; i < B; i++) wv[i] = Math.exp(-k * ds.distance_m[idx[i]!]!);
      vision = headBatch(
        ds.detectionId,
        idx,
        this.targets.visionTargets,
        ds.detections.clipDim,
        wv,
        this.detScratch,
      );
    }
    return { B, xyzUnit, language, vision };
  }
}
