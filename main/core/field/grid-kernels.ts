/**
 * The one implementation of the per-level hash-grid and grid-Adam kernels, as plain JavaScript source.
 *
 * The same text is instantiated on the calling thread (`gridKernels`, via `new Function`) and evaluated by
 * the grid worker threads (grid-threads.ts builds the worker from it), so the single-threaded path, the
 * exported functions of hashgrid.ts / adam.ts and every worker run exactly the same arithmetic, and a level
 * gives bit-identical results whichever thread runs it. A string (not `fn.toString()`) keeps it independent of
 * how the TypeScript around it is transpiled, bundled or instrumented.
 *
 * Conventions: corner rows and weights are ordered [level][point][corner] (`(l * n + i) * 8 + c`, corner bits
 * x = 1, y = 2, z = 4). Features and feature gradients are addressed `out[l * ls + i * ps + f]`: point-major
 * (ps = L*F, ls = F) for the exported functions, level-major (ps = F, ls = n*F) between threads so that no two
 * threads write the same cache line. Grid rows are addressed `table[row * stride + offset + f]`.
 *
 * A thread pool shares work through a small Int32 control block (slots in `CTL`) and commands (`CMD`).
 */

/** Control-block slots (Int32 indices) shared by the calling thread and the workers. */
export const CTL = {
  /** Command sequence number: bumped (and notified) by the caller to start a command. */
  SEQ: 0,
  /** The command (CMD_*). */
  CMD: 1,
  /** Next level to claim (each thread Atomics.add's it; level = L - 1 - k, finest first). */
  NEXT: 2,
  /** Workers that finished the current command. */
  DONE: 3,
  /** Points of the current command. */
  N: 4,
  /** Set to 1 by a worker whose share threw. */
  ERR: 5,
  SIZE: 8,
} as const;

/** Commands (per level, on the level's own rows only). */
export const CMD = {
  /** Corners of `xyz` + gather of parameters into `feat` (level-major). */
  FORWARD: 1,
  /** Scatter-add of `dF` (level-major) into the G slot, listing touched rows per level. */
  SCATTER: 2,
  /** Scatter, then Adam over the level's touched rows (zeroing their gradient and marks). */
  SCATTER_ADAM_LAZY: 3,
  /** Scatter, then Adam over every row of the level. */
  SCATTER_ADAM_DENSE: 4,
  /** Zero the gradient of the listed rows and clear the lists. */
  CLEAR_GRAD: 5,
  /** Worker: take new buffers from its message port. */
  REBIND: 6,
  /** Worker: exit. */
  STOP: 7,
} as const;

/** Adam parameters (Float64 slots of the params block). */
export const PARAM = { STEP_SIZE: 0, INV_SQRT_BC2: 1, BETA1: 2, BETA2: 3, EPS: 4, WD: 5, SIZE: 8 } as const;

export const KERNEL_SOURCE = `
'use strict';
var PRIME_Y = 2654435761 | 0;
var PRIME_Z = 805459861 | 0;
var CTL_NEXT = ${CTL.NEXT}, CTL_N = ${CTL.N};
var CMD_FORWARD = ${CMD.FORWARD}, CMD_SCATTER = ${CMD.SCATTER}, CMD_SCATTER_ADAM_LAZY = ${CMD.SCATTER_ADAM_LAZY};
var CMD_SCATTER_ADAM_DENSE = ${CMD.SCATTER_ADAM_DENSE}, CMD_CLEAR_GRAD = ${CMD.CLEAR_GRAD};

// Rows and trilinear weights of the 8 corners of one point (x, y, z in [0,1] after clamping) at one level.
function pointCorners(x, y, z, s, dense, res, res2, mask, off, rowsOut, wOut, base) {
  x = x < 0 ? 0 : x > 1 ? 1 : x;
  y = y < 0 ? 0 : y > 1 ? 1 : y;
  z = z < 0 ? 0 : z > 1 ? 1 : z;
  var px = x * s + 0.5;
  var py = y * s + 0.5;
  var pz = z * s + 0.5;
  var x0 = Math.floor(px);
  var y0 = Math.floor(py);
  var z0 = Math.floor(pz);
  var fx = px - x0;
  var fy = py - y0;
  var fz = pz - z0;
  for (var c = 0; c < 8; c++) {
    var cx = x0 + (c & 1);
    var cy = y0 + ((c >> 1) & 1);
    var cz = z0 + ((c >> 2) & 1);
    var row;
    if (dense) row = cx + cy * res + cz * res2;
    else row = ((cx ^ Math.imul(cy, PRIME_Y) ^ Math.imul(cz, PRIME_Z)) >>> 0) & mask;
    rowsOut[base + c] = off + row;
    wOut[base + c] = (c & 1 ? fx : 1 - fx) * (c & 2 ? fy : 1 - fy) * (c & 4 ? fz : 1 - fz);
  }
}

// out[o..o+F) = sum over the 8 corners at 'base' of weight * row (F = 2 accumulates in doubles, other F in the
// float32 output, as the original TypeScript did).
function gatherPoint(table, stride, offset, rows, weights, base, out, o, F) {
  if (F === 2) {
    var a0 = 0;
    var a1 = 0;
    for (var c = 0; c < 8; c++) {
      var w = weights[base + c];
      var r = rows[base + c] * stride + offset;
      a0 += w * table[r];
      a1 += w * table[r + 1];
    }
    out[o] = a0;
    out[o + 1] = a1;
    return;
  }
  for (var f = 0; f < F; f++) out[o + f] = 0;
  for (var c2 = 0; c2 < 8; c2++) {
    var w2 = weights[base + c2];
    var r2 = rows[base + c2] * stride + offset;
    for (var f2 = 0; f2 < F; f2++) out[o + f2] += w2 * table[r2 + f2];
  }
}

function cornersLevel(lay, l, xyz, n, rowsOut, wOut) {
  var s = lay.scale[l], dense = lay.dense[l], res = lay.resolution[l];
  var res2 = res * res, mask = lay.rows[l] - 1, off = lay.rowOffset[l];
  for (var i = 0; i < n; i++)
    pointCorners(xyz[i * 3], xyz[i * 3 + 1], xyz[i * 3 + 2], s, dense, res, res2, mask, off, rowsOut, wOut, (l * n + i) * 8);
}

function gatherLevel(lay, l, table, stride, offset, rows, weights, n, out, ps, ls) {
  var F = lay.features;
  for (var i = 0; i < n; i++) gatherPoint(table, stride, offset, rows, weights, (l * n + i) * 8, out, l * ls + i * ps, F);
}

// Corners and gather of one level in one pass (the rows a point touches are fetched right after hashing).
function cornersGatherLevel(lay, l, xyz, n, rowsOut, wOut, table, stride, offset, out, ps, ls) {
  var s = lay.scale[l], dense = lay.dense[l], res = lay.resolution[l];
  var res2 = res * res, mask = lay.rows[l] - 1, off = lay.rowOffset[l], F = lay.features;
  for (var i = 0; i < n; i++) {
    var base = (l * n + i) * 8;
    pointCorners(xyz[i * 3], xyz[i * 3 + 1], xyz[i * 3 + 2], s, dense, res, res2, mask, off, rowsOut, wOut, base);
    gatherPoint(table, stride, offset, rowsOut, wOut, base, out, l * ls + i * ps, F);
  }
}

// grad[row] += weight * dF for the level's corners; rows written for the first time (mark 0) are appended to
// list[start + count ...] and marked. Returns the new count.
function scatterLevel(lay, l, dF, ps, ls, rows, weights, n, grad, stride, offset, mark, list, start, count) {
  var F = lay.features;
  for (var i = 0; i < n; i++) {
    var base = (l * n + i) * 8;
    var o = l * ls + i * ps;
    for (var c = 0; c < 8; c++) {
      var w = weights[base + c];
      var row = rows[base + c];
      var r = row * stride + offset;
      for (var f = 0; f < F; f++) grad[r + f] += w * dF[o + f];
      if (mark !== null && mark[row] === 0) {
        mark[row] = 1;
        list[start + count++] = row;
      }
    }
  }
  return count;
}

// torch Adam (L2 weight decay) on one interleaved row [p(F), g(F), m(F), v(F)] at data[base], zeroing g.
function adamRow(data, base, F, stepSize, invSqrtBc2, b1, b2, eps, wd) {
  for (var f = 0; f < F; f++) {
    var ip = base + f;
    var ig = ip + F;
    var im = ig + F;
    var iv = im + F;
    var gi = data[ig] + wd * data[ip];
    var mi = b1 * data[im] + (1 - b1) * gi;
    var vi = b2 * data[iv] + (1 - b2) * gi * gi;
    data[im] = mi;
    data[iv] = vi;
    data[ip] -= (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    data[ig] = 0;
  }
}

function adamRows(data, F, list, start, count, stepSize, invSqrtBc2, b1, b2, eps, wd) {
  var stride = 4 * F;
  for (var k = 0; k < count; k++) adamRow(data, list[start + k] * stride, F, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

function adamRange(data, F, r0, r1, stepSize, invSqrtBc2, b1, b2, eps, wd) {
  var stride = 4 * F;
  for (var r = r0; r < r1; r++) adamRow(data, r * stride, F, stepSize, invSqrtBc2, b1, b2, eps, wd);
}

// Zero the gradient slot (data[row * 4F + F ..+F]) of listed rows when 'data' is given; clear their marks.
function clearListed(data, F, list, start, count, mark) {
  for (var k = 0; k < count; k++) {
    var row = list[start + k];
    if (data !== null) {
      var g = row * 4 * F + F;
      for (var f = 0; f < F; f++) data[g + f] = 0;
    }
    mark[row] = 0;
  }
}

// Views of a pool's shared buffers (see grid-threads.ts) for one thread.
function makeState(lay, b) {
  var L = lay.levels;
  var listOff = new Int32Array(L + 1);
  for (var l = 0; l < L; l++) listOff[l + 1] = listOff[l] + Math.min(lay.rows[l], b.capacity * 8);
  return {
    lay: lay,
    capacity: b.capacity,
    ctl: new Int32Array(b.ctl),
    params: new Float64Array(b.params),
    data: new Float32Array(b.data),
    xyz: new Float32Array(b.xyz),
    rows: new Int32Array(b.rows),
    weights: new Float32Array(b.weights),
    feat: new Float32Array(b.feat),
    dF: new Float32Array(b.dF),
    mark: new Uint8Array(b.mark),
    lists: new Int32Array(b.lists),
    counts: new Int32Array(b.counts),
    listOff: listOff,
  };
}

function runLevel(st, cmd, l, n) {
  var lay = st.lay, F = lay.features, stride = 4 * F, p = st.params;
  if (cmd === CMD_FORWARD) {
    cornersGatherLevel(lay, l, st.xyz, n, st.rows, st.weights, st.data, stride, 0, st.feat, F, n * F);
    return;
  }
  if (cmd === CMD_CLEAR_GRAD) {
    clearListed(st.data, F, st.lists, st.listOff[l], st.counts[l], st.mark);
    st.counts[l] = 0;
    return;
  }
  var lazy = cmd !== CMD_SCATTER_ADAM_DENSE;
  var start = st.listOff[l];
  var count = scatterLevel(lay, l, st.dF, F, n * F, st.rows, st.weights, n, st.data, stride, F,
    lazy ? st.mark : null, st.lists, start, st.counts[l]);
  if (cmd === CMD_SCATTER) {
    st.counts[l] = count;
    return;
  }
  if (lazy) {
    adamRows(st.data, F, st.lists, start, count, p[0], p[1], p[2], p[3], p[4], p[5]);
    clearListed(null, F, st.lists, start, count, st.mark);
  } else {
    adamRange(st.data, F, lay.rowOffset[l], lay.rowOffset[l] + lay.rows[l], p[0], p[1], p[2], p[3], p[4], p[5]);
    clearListed(null, F, st.lists, start, count, st.mark);
  }
  st.counts[l] = 0;
}

// Claim levels (finest first: they cost the most) until none is left; every participating thread calls this.
function share(st, cmd) {
  var ctl = st.ctl, L = st.lay.levels, n = ctl[CTL_N];
  for (;;) {
    var k = Atomics.add(ctl, CTL_NEXT, 1);
    if (k >= L) return;
    runLevel(st, cmd, L - 1 - k, n);
  }
}

var kernels = {
  cornersLevel: cornersLevel,
  gatherLevel: gatherLevel,
  cornersGatherLevel: cornersGatherLevel,
  scatterLevel: scatterLevel,
  adamRows: adamRows,
  adamRange: adamRange,
  makeState: makeState,
  share: share,
};
`;

/** The layout fields the kernels read (a GridLayout satisfies it; workers get a structured clone). */
export interface KernelLayout {
  levels: number;
  features: number;
  scale: Float64Array;
  resolution: Int32Array;
  dense: boolean[];
  rows: Int32Array;
  rowOffset: Int32Array;
}

/** SharedArrayBuffers of a pool (see grid-threads.ts); `capacity` = points per command at most. */
export interface PoolBuffers {
  capacity: number;
  ctl: SharedArrayBuffer;
  params: SharedArrayBuffer;
  data: SharedArrayBuffer;
  xyz: SharedArrayBuffer;
  rows: SharedArrayBuffer;
  weights: SharedArrayBuffer;
  feat: SharedArrayBuffer;
  dF: SharedArrayBuffer;
  mark: SharedArrayBuffer;
  lists: SharedArrayBuffer;
  counts: SharedArrayBuffer;
}

/** Per-thread views made by `makeState`. */
export interface PoolState {
  lay: KernelLayout;
  capacity: number;
  ctl: Int32Array;
  params: Float64Array;
  data: Float32Array;
  xyz: Float32Array;
  rows: Int32Array;
  weights: Float32Array;
  feat: Float32Array;
  dF: Float32Array;
  mark: Uint8Array;
  lists: Int32Array;
  counts: Int32Array;
  listOff: Int32Array;
}

type F32 = Float32Array;
type I32 = Int32Array;

export interface GridKernels {
  cornersLevel(lay: KernelLayout, l: number, xyz: F32, n: number, rowsOut: I32, wOut: F32): void;
  gatherLevel(
    lay: KernelLayout,
    l: number,
    table: F32,
    stride: number,
    offset: number,
    rows: I32,
    weights: F32,
    n: number,
    out: F32,
    ps: number,
    ls: number,
  ): void;
  cornersGatherLevel(
    lay: KernelLayout,
    l: number,
    xyz: F32,
    n: number,
    rowsOut: I32,
    wOut: F32,
    table: F32,
    stride: number,
    offset: number,
    out: F32,
    ps: number,
    ls: number,
  ): void;
  scatterLevel(
    lay: KernelLayout,
    l: number,
    dF: F32,
    ps: number,
    ls: number,
    rows: I32,
    weights: F32,
    n: number,
    grad: F32,
    stride: number,
    offset: number,
    mark: Uint8Array | null,
    list: I32 | null,
    start: number,
    count: number,
  ): number;
  adamRows(
    data: F32,
    F: number,
    list: I32,
    start: number,
    count: number,
    stepSize: number,
    invSqrtBc2: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
  ): void;
  adamRange(
    data: F32,
    F: number,
    r0: number,
    r1: number,
    stepSize: number,
    invSqrtBc2: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
  ): void;
  makeState(lay: KernelLayout, buffers: PoolBuffers): PoolState;
  share(st: PoolState, cmd: number): void;
}

// The kernels are our own source text (see above), evaluated once.
export const gridKernels = new Function(`${KERNEL_SOURCE}\nreturn kernels;`)() as GridKernels;

/** Adam step constants exactly as adam.ts computes them (bias corrections in float64). */
export function adamStepConstants(
  lr: number,
  beta1: number,
  beta2: number,
  t: number,
): { stepSize: number; invSqrtBc2: number } {
  return { stepSize: lr / (1 - beta1 ** t), invSqrtBc2: 1 / Math.sqrt(1 - beta2 ** t) };
}
