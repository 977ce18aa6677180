/**
 * Multi-resolution hash grid (instant-NGP / torch-ngp GridEncoder), forward gather and backward scatter-add
 * over typed arrays.
 *
 * Level l has scale s_l = N_min * b^l - 1 with b = exp((ln N_max - ln N_min) / (L - 1)); a point x in [0,1]^3
 * maps to pos = x * s_l + 0.5, its cell corner p0 = floor(pos) and fractional offset f = pos - p0. The level's
 * grid has res_l = ceil(s_l) + 2 vertices per axis (so p0 + 1 always fits); when res_l^3 <= 2^T the level is
 * indexed densely (x + y*res + z*res^2), otherwise by the spatial hash
 * (x * 1 XOR y * 2654435761 XOR z * 805459861) mod 2^T in uint32 arithmetic.
 * The output feature of a level is the trilinear interpolation of its 8 corner rows (F features each).
 * All levels live in one table of `totalRows * F` floats, level l starting at row `rowOffset[l]`.
 * The arithmetic lives in grid-kernels.ts (one implementation shared with the grid worker threads).
 */
import type { GridConfig } from './config';
import { gridKernels } from './grid-kernels';

export interface GridLayout {
  levels: number;
  features: number;
  scale: Float64Array;
  resolution: Int32Array;
  dense: boolean[];
  rows: Int32Array;
  rowOffset: Int32Array;
  totalRows: number;
  /** Feature width L * F. */
  outDim: number;
}

const PRIME_Y = 2654435761 | 0;
const PRIME_Z = 805459861 | 0;

export function gridLayout(cfg: GridConfig): GridLayout {
  const L = cfg.levels;
  const tableSize = 2 ** cfg.log2TableSize;
  const b = L > 1 ? Math.exp((Math.log(cfg.maxResolution) - Math.log(cfg.baseResolution)) / (L - 1)) : 1;
  const scale = new Float64Array(L);
  const resolution = new Int32Array(L);
  const rows = new Int32Array(L);
  const rowOffset = new Int32Array(L);
  const dense: boolean[] = [];
  let total = 0;
  for (let l = 0; l < L; l++) {
    const s = cfg.baseResolution * b ** l - 1;
    const res = Math.ceil(s) + 2;
    scale[l] = s;
    resolution[l] = res;
    const isDense = res ** 3 <= tableSize;
    dense.push(isDense);
    rows[l] = isDense ? res ** 3 : tableSize;
    rowOffset[l] = total;
    total += rows[l]!;
  }
  return {
    levels: L,
    features: cfg.featuresPerLevel,
    scale,
    resolution,
    dense,
    rows,
    rowOffset,
    totalRows: total,
    outDim: L * cfg.featuresPerLevel,
  };
}

/** Row (within its level) of grid vertex (x, y, z) at level l. */
export function vertexRow(layout: GridLayout, l: number, x: number, y: number, z: number): number {
  if (layout.dense[l]) {
    const r = layout.resolution[l]!;
    return x + y * r + z * r * r;
  }
  const h = (x ^ Math.imul(y, PRIME_Y) ^ Math.imul(z, PRIME_Z)) >>> 0;
  return h & (layout.rows[l]! - 1);
}

/**
 * Corner rows (global, including level offsets) and trilinear weights of `n` points: `rows` and `weights`
 * are `n * L * 8`, ordered [level][point][corner], corner bits (x = 1, y = 2, z = 4).
 */
export interface GridCorners {
  n: number;
  rows: Int32Array;
  weights: Float32Array;
}

export function allocCorners(layout: GridLayout, n: number): GridCorners {
  return { n, rows: new Int32Array(n * layout.levels * 8), weights: new Float32Array(n * layout.levels * 8) };
}

/** Compute corner rows and weights for points already normalised to [0,1]^3 (values outside are clamped). */
export function computeCorners(layout: GridLayout, xyzUnit: Float32Array, n: number, out: GridCorners): void {
  out.n = n;
  for (let l = 0; l < layout.levels; l++)
    gridKernels.cornersLevel(layout, l, xyzUnit, n, out.rows, out.weights);
}

/**
 * Forward: features `n * (L*F)` = sum over corners of weight * table row. Row r's F values start at
 * `table[r * stride + offset]` (stride F for a plain table; the trainer interleaves parameters, gradient and
 * Adam moments per row, see GridStore).
 */
export function gatherFeatures(
  layout: GridLayout,
  table: Float32Array,
  corners: GridCorners,
  out: Float32Array,
  stride = layout.features,
  offset = 0,
): void {
  const { rows, weights, n } = corners;
  // Level-outer loops keep one level's rows hot in cache at a time.
  for (let l = 0; l < layout.levels; l++)
    gridKernels.gatherLevel(
      layout,
      l,
      table,
      stride,
      offset,
      rows,
      weights,
      n,
      out,
      layout.outDim,
      layout.features,
    );
}

/** Rows written by a scatter: `mark[row]` is 1 for rows in `list[0..count)`; clear with clearTouched. */
export interface TouchedRows {
  mark: Uint8Array;
  list: Int32Array;
  count: number;
}

export function makeTouched(layout: GridLayout, capacity: number): TouchedRows {
  return {
    mark: new Uint8Array(layout.totalRows),
    list: new Int32Array(Math.min(layout.totalRows, capacity)),
    count: 0,
  };
}

export function clearTouched(t: TouchedRows): void {
  for (let k = 0; k < t.count; k++) t.mark[t.list[k]!] = 0;
  t.count = 0;
}

/**
 * Backward: grad[row] += weight * dFeatures for every corner (the adjoint of gatherFeatures), with the same
 * row addressing (`stride`, `offset`). When `touched` is given, each row written is appended to it once.
 */
export function scatterFeatureGrads(
  layout: GridLayout,
  dFeatures: Float32Array,
  corners: GridCorners,
  grad: Float32Array,
  touched?: TouchedRows,
  stride = layout.features,
  offset = 0,
): void {
  const { rows, weights, n } = corners;
  let count = touched?.count ?? 0;
  for (let l = 0; l < layout.levels; l++) {
    count = gridKernels.scatterLevel(
      layout,
      l,
      dFeatures,
      layout.outDim,
      layout.features,
      rows,
      weights,
      n,
      grad,
      stride,
      offset,
      touched?.mark ?? null,
      touched?.list ?? null,
      0,
      count,
    );
  }
  if (touched) touched.count = count;
}

/**
 * The trainer's grid storage: per row, F parameters, F gradient accumulators and the F + F Adam moments side
 * by side (`stride = 4F`), so the random row accesses of gather, scatter and Adam each touch one place.
 */
export class GridStore {
  readonly F: number;
  readonly stride: number;
  readonly data: Float32Array;
  static readonly P = 0;
  static readonly G = 1;
  static readonly M = 2;
  static readonly V = 3;

  /** `shared`: allocate `data` on a SharedArrayBuffer (for the grid worker threads, see grid-threads.ts). */
  constructor(
    readonly rows: number,
    F: number,
    shared = false,
  ) {
    this.F = F;
    this.stride = 4 * F;
    const bytes = rows * this.stride * 4;
    this.data = new Float32Array(shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  }

  /** Copy one slot (P, G, M or V) out as a plain `rows * F` table. */
  extract(slot: number): Float32Array {
    const out = new Float32Array(this.rows * this.F);
    const { F, stride, data } = this;
    const off = slot * F;
    for (let r = 0; r < this.rows; r++)
      for (let f = 0; f < F; f++) out[r * F + f] = data[r * stride + off + f]!;
    return out;
  }

  /** Write a plain `rows * F` table into one slot. */
  insert(slot: number, src: Float32Array): void {
    const { F, stride, data } = this;
    const off = slot * F;
    for (let r = 0; r < this.rows; r++)
      for (let f = 0; f < F; f++) data[r * stride + off + f] = src[r * F + f]!;
  }
}
