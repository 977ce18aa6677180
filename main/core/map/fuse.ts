/**
 * Streaming voxel fusion: frames of world points go in one at a time, only per-voxel aggregates are kept.
 *
 * Per voxel (cell of `voxel_m`, default 2 cm, keyed by floor(point / voxel_m)):
 * - mean position (float64 sums) and mean colour,
 * - number of points and number of distinct frames that saw it,
 * - a sample of at most `MAX_FRAMES_PER_POINT` (8) distinct frame ids. While a voxel has been seen by up to 8
 *   frames all of them are kept; after that the list is a deterministic reservoir sample (each of the k frames
 *   seen so far stays with probability 8/k, decided by a hash of voxel and k), so the list spreads over the
 *   whole capture rather than holding only the first 8 frames. `finish()` sorts each list and builds a CSR.
 *
 * Memory is bounded by the number of occupied voxels (about 100 bytes each), never by the number of raw
 * points: an open-addressing hash table (linear probing, Int32Array, load <= 0.5) maps integer voxel
 * coordinates to a dense voxel id, and the per-voxel arrays are typed arrays that double when full.
 * Frames may come in any order but each frame id only once (a voxel counts a frame again whenever a
 * different frame id arrives after it).
 */
import { MAX_FRAMES_PER_POINT } from './format-parse';

const K = MAX_FRAMES_PER_POINT;
const MAX_COORD = 2 ** 30;

export interface FusedPoints {
  voxel_m: number;
  count: number;
  positions: Float32Array;
  colors: Uint8Array;
  frameCounts: Uint16Array;
  frameOffsets: Uint32Array;
  frameIds: Uint16Array | Uint32Array;
  /** Points per voxel (not stored in map.bin; useful for weighting). */
  pointCounts: Uint32Array;
}

function hash3(x: number, y: number, z: number): number {
  let h = Math.imul(x, 0x8da6b343) ^ Math.imul(y, 0xd8163841) ^ Math.imul(z, 0xcb1ab31f);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

function mix2(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

export class VoxelFusion {
  readonly voxel_m: number;
  private readonly inv: number;
  private n = 0;
  private cap: number;
  private table: Int32Array;
  private mask: number;
  private kx: Int32Array;
  private ky: Int32Array;
  private kz: Int32Array;
  private sum: Float64Array; // x,y,z,r,g,b per voxel
  private pts: Uint32Array;
  private frames: Uint32Array; // distinct frames seen
  private lastFrame: Int32Array;
  private slots: Uint32Array; // K per voxel
  private maxFrameId = 0;
  private dropped = 0;

  constructor(voxel_m = 0.02, initialCapacity = 1 << 14) {
    if (!(Number.isFinite(voxel_m) && voxel_m > 0))
      throw new RangeError(`voxel_m must be positive, got ${voxel_m}`);
    this.voxel_m = voxel_m;
    this.inv = 1 / voxel_m;
    this.cap = Math.max(16, initialCapacity);
    let t = 16;
    while (t < 2 * this.cap) t *= 2;
    this.table = new Int32Array(t).fill(-1);
    this.mask = t - 1;
    this.kx = new Int32Array(this.cap);
    this.ky = new Int32Array(this.cap);
    this.kz = new Int32Array(this.cap);
    this.sum = new Float64Array(6 * this.cap);
    this.pts = new Uint32Array(this.cap);
    this.frames = new Uint32Array(this.cap);
    this.lastFrame = new Int32Array(this.cap);
    this.slots = new Uint32Array(K * this.cap);
  }

  /** Occupied voxels so far. */
  get size(): number {
    return this.n;
  }

  /** Points ignored because they were not finite or absurdly far away. */
  get droppedPoints(): number {
    return this.dropped;
  }

  /** Approximate bytes held by the fusion state. */
  get bytes(): number {
    return this.table.byteLength + this.cap * (12 + 48 + 4 + 4 + 4 + 4 * K);
  }

  private grow(): void {
    const cap = this.cap * 2;
    const g32 = <T extends Int32Array | Uint32Array>(a: T, C: new (n: number) => T, per = 1): T => {
      const b = new C(cap * per);
      b.set(a);
      return b;
    };
    this.kx = g32(this.kx, Int32Array);
    this.ky = g32(this.ky, Int32Array);
    this.kz = g32(this.kz, Int32Array);
    this.pts = g32(this.pts, Uint32Array);
    this.frames = g32(this.frames, Uint32Array);
    this.lastFrame = g32(this.lastFrame, Int32Array);
    this.slots = g32(this.slots, Uint32Array, K);
    const s = new Float64Array(6 * cap);
    s.set(this.sum);
    this.sum = s;
    this.cap = cap;
    // Rehash into a table of twice the capacity.
    const t = new Int32Array(2 * cap).fill(-1);
    const mask = t.length - 1;
    for (let v = 0; v < this.n; v++) {
      let h = hash3(this.kx[v]!, this.ky[v]!, this.kz[v]!) & mask;
      while (t[h] !== -1) h = (h + 1) & mask;
      t[h] = v;
    }
    this.table = t;
    this.mask = mask;
  }

  /** Add `count` points of frame `frameId` (xyz in `points_world`, rgb in `rgb`, 3 values per point). */
  addFrame(frameId: number, points_world: Float32Array, rgb: Uint8Array, count: number): void {
    if (!Number.isInteger(frameId) || frameId < 0 || frameId > 0x7fffffff)
      throw new RangeError(`bad frame id ${frameId}`);
    if (points_world.length < 3 * count || rgb.length < 3 * count)
      throw new RangeError('point buffers are shorter than count');
    if (frameId > this.maxFrameId) this.maxFrameId = frameId;
    const inv = this.inv;
    for (let p = 0; p < count; p++) {
      const x = points_world[3 * p]!,
        y = points_world[3 * p + 1]!,
        z = points_world[3 * p + 2]!;
      const fx = Math.floor(x * inv),
        fy = Math.floor(y * inv),
        fz = Math.floor(z * inv);
      // Rejects NaN too (comparisons with NaN are false).
      if (!(Math.abs(fx) < MAX_COORD && Math.abs(fy) < MAX_COORD && Math.abs(fz) < MAX_COORD)) {
        this.dropped++;
        continue;
      }
      let h = hash3(fx, fy, fz) & this.mask;
      let v: number;
      for (;;) {
        v = this.table[h]!;
        if (v === -1) {
          if (this.n >= this.cap) {
            this.grow();
            h = hash3(fx, fy, fz) & this.mask;
            continue; // re-probe in the new table (the voxel is still absent)
          }
          v = this.n++;
          this.table[h] = v;
          this.kx[v] = fx;
          this.ky[v] = fy;
          this.kz[v] = fz;
          this.lastFrame[v] = -1;
          break;
        }
        if (this.kx[v] === fx && this.ky[v] === fy && this.kz[v] === fz) break;
        h = (h + 1) & this.mask;
      }
      const s = 6 * v;
      const sum = this.sum;
      sum[s] = sum[s]! + x;
      sum[s + 1] = sum[s + 1]! + y;
      sum[s + 2] = sum[s + 2]! + z;
      sum[s + 3] = sum[s + 3]! + rgb[3 * p]!;
      sum[s + 4] = sum[s + 4]! + rgb[3 * p + 1]!;
      sum[s + 5] = sum[s + 5]! + rgb[3 * p + 2]!;
      this.pts[v] = this.pts[v]! + 1;
      if (this.lastFrame[v] !== frameId) {
        this.lastFrame[v] = frameId;
        const k = this.frames[v]! + 1; // this is the k-th distinct frame of the voxel
        this.frames[v] = k;
        if (k <= K) {
          this.slots[K * v + k - 1] = frameId;
        } else {
          const r = mix2(v, k) % k;
          if (r < K) this.slots[K * v + r] = frameId;
        }
      }
    }
  }

  /**
   * Build the output arrays (voxel order = first-seen order). Voxels with fewer than `minPoints` points
   * are left out. Frame ids are stored as Uint16 when every id fits, else Uint32.
   */
  finish(minPoints = 1): FusedPoints {
    let count = 0;
    let m = 0;
    for (let v = 0; v < this.n; v++) {
      if (this.pts[v]! >= minPoints) {
        count++;
        m += Math.min(K, this.frames[v]!);
      }
    }
    const positions = new Float32Array(3 * count);
    const colors = new Uint8Array(3 * count);
    const frameCounts = new Uint16Array(count);
    const frameOffsets = new Uint32Array(count + 1);
    const frameIds = this.maxFrameId <= 0xffff ? new Uint16Array(m) : new Uint32Array(m);
    const pointCounts = new Uint32Array(count);
    const tmp: number[] = [];
    let o = 0;
    let q = 0;
    for (let v = 0; v < this.n; v++) {
      const c = this.pts[v]!;
      if (c < minPoints) continue;
      const s = 6 * v;
      positions[3 * o] = this.sum[s]! / c;
      positions[3 * o + 1] = this.sum[s + 1]! / c;
      positions[3 * o + 2] = this.sum[s + 2]! / c;
      colors[3 * o] = Math.round(this.sum[s + 3]! / c);
      colors[3 * o + 1] = Math.round(this.sum[s + 4]! / c);
      colors[3 * o + 2] = Math.round(this.sum[s + 5]! / c);
      const f = this.frames[v]!;
      frameCounts[o] = Math.min(0xffff, f);
      pointCounts[o] = c;
      const kept = Math.min(K, f);
      tmp.length = 0;
      for (let k = 0; k < kept; k++) tmp.push(this.slots[K * v + k]!);
      tmp.sort((a, b) => a - b);
      for (let k = 0; k < kept; k++) frameIds[q++] = tmp[k]!;
      o++;
      frameOffsets[o] = q;
    }
    return {
      voxel_m: this.voxel_m,
      count,
      positions,
      colors,
      frameCounts,
      frameOffsets,
      frameIds,
      pointCounts,
    };
  }
}
