/**
 * Field-free baselines evaluated on the same labeled points and metrics as the field:
 * (a) nearest labeled point: a point takes the label of the nearest labeled point in 3D (uniform-grid index);
 * (b) voxel feature map (VLMaps / OK-Robot style): label embeddings averaged per 5 cm voxel and queried directly
 *     (the point's voxel, else the nearest non-empty voxel of its 3x3x3 neighbourhood; otherwise no answer).
 * Both expose per-point unit language features, so text queries are scored exactly like the field's.
 */

/** Packs integer cell coordinates (|c| < 2^20) into one JS number. */
function cellKey(ix: number, iy: number, iz: number): number {
  return (ix + 1048576) * 4398046511104 + (iy + 1048576) * 2097152 + (iz + 1048576);
}

/** Uniform-grid nearest-neighbour index over 3D points. */
export class PointGridIndex {
  private readonly cells = new Map<number, number[]>();
  private readonly inv: number;
  constructor(
    readonly xyz: Float32Array,
    readonly count: number,
    readonly cell_m = 0.1,
  ) {
    if (!(cell_m > 0)) throw new RangeError('cell size must be > 0');
    this.inv = 1 / cell_m;
    for (let i = 0; i < count; i++) {
      const k = cellKey(
        Math.floor(xyz[3 * i]! * this.inv),
        Math.floor(xyz[3 * i + 1]! * this.inv),
        Math.floor(xyz[3 * i + 2]! * this.inv),
      );
      let list = this.cells.get(k);
      if (!list) this.cells.set(k, (list = []));
      list.push(i);
    }
  }

  /** Index of the nearest point within `maxDist_m`, or -1. */
  nearest(x: number, y: number, z: number, maxDist_m = 0.5): number {
    const cx = Math.floor(x * this.inv),
      cy = Math.floor(y * this.inv),
      cz = Math.floor(z * this.inv);
    const maxRing = Math.ceil(maxDist_m * this.inv);
    let best = -1;
    let bestD = maxDist_m * maxDist_m;
    for (let r = 0; r <= maxRing; r++) {
      // Any point in ring r is at least (r - 1) cells away: stop once that exceeds the best distance.
      if (best >= 0 && (r - 1) * this.cell_m > Math.sqrt(bestD)) break;
      for (let dx = -r; dx <= r; dx++) {
        for (let dy = -r; dy <= r; dy++) {
          for (let dz = -r; dz <= r; dz++) {
            if (Math.max(Math.abs(dx), Math.abs(dy), Math.abs(dz)) !== r) continue;
            const list = this.cells.get(cellKey(cx + dx, cy + dy, cz + dz));
            if (!list) continue;
            for (const i of list) {
              const ex = this.xyz[3 * i]! - x,
                ey = this.xyz[3 * i + 1]! - y,
                ez = this.xyz[3 * i + 2]! - z;
              const d = ex * ex + ey * ey + ez * ez;
              if (d <= bestD) {
                bestD = d;
                best = i;
              }
            }
          }
        }
      }
    }
    return best;
  }

  memoryBytes(): number {
    return this.count * (12 + 4) + this.cells.size * 16;
  }
}

/** Baseline (a): label id of the nearest labeled point (-1 when none within `maxDist_m`). */
export function nearestLabel(
  index: PointGridIndex,
  labelId: ArrayLike<number>,
  query: Float32Array,
  maxDist_m = 0.5,
): Int32Array {
  const n = Math.floor(query.length / 3);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = index.nearest(query[3 * i]!, query[3 * i + 1]!, query[3 * i + 2]!, maxDist_m);
    out[i] = j >= 0 ? labelId[j]! : -1;
  }
  return out;
}

/** Baseline (b): averaged label embeddings per voxel. */
export class VoxelFeatureMap {
  private readonly index = new Map<number, number>();
  readonly features: Float32Array;
  readonly voxels: number;
  private readonly inv: number;

  /** `embeddings` is `labels x dim`; each point contributes its label's embedding (times `weight` when given). */
  constructor(
    xyz: Float32Array,
    labelId: ArrayLike<number>,
    count: number,
    embeddings: Float32Array,
    readonly dim: number,
    readonly voxel_m = 0.05,
    weight?: ArrayLike<number>,
  ) {
    if (!(voxel_m > 0)) throw new RangeError('voxel size must be > 0');
    this.inv = 1 / voxel_m;
    const slots: number[] = [];
    for (let i = 0; i < count; i++) {
      const k = cellKey(
        Math.floor(xyz[3 * i]! * this.inv),
        Math.floor(xyz[3 * i + 1]! * this.inv),
        Math.floor(xyz[3 * i + 2]! * this.inv),
      );
      let s = this.index.get(k);
      if (s === undefined) {
        s = this.index.size;
        this.index.set(k, s);
      }
      slots.push(s);
    }
    this.voxels = this.index.size;
    const f = new Float32Array(this.voxels * dim);
    for (let i = 0; i < count; i++) {
      const o = slots[i]! * dim,
        e = labelId[i]! * dim,
        w = weight ? weight[i]! : 1;
      for (let d = 0; d < dim; d++) f[o + d]! += w * embeddings[e + d]!;
    }
    for (let v = 0; v < this.voxels; v++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += f[v * dim + d]! ** 2;
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < dim; d++) f[v * dim + d]! *= inv;
    }
    this.features = f;
  }

  /** Voxel slot answering point (x, y, z): its own voxel, else the nearest non-empty neighbour; -1 if none. */
  slotOf(x: number, y: number, z: number): number {
    const fx = x * this.inv,
      fy = y * this.inv,
      fz = z * this.inv;
    const cx = Math.floor(fx),
      cy = Math.floor(fy),
      cz = Math.floor(fz);
    const own = this.index.get(cellKey(cx, cy, cz));
    if (own !== undefined) return own;
    let best = -1;
    let bestD = Infinity;
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        for (let dz = -1; dz <= 1; dz++) {
          const s = this.index.get(cellKey(cx + dx, cy + dy, cz + dz));
          if (s === undefined) continue;
          const ex = cx + dx + 0.5 - fx,
            ey = cy + dy + 0.5 - fy,
            ez = cz + dz + 0.5 - fz;
          const d = ex * ex + ey * ey + ez * ez;
          if (d < bestD) {
            bestD = d;
            best = s;
          }
        }
      }
    }
    return best;
  }

  /** Unit features per query point (zero rows where no voxel answers) and the slot used (-1 = none). */
  lookup(query: Float32Array): { features: Float32Array; slot: Int32Array } {
    const n = Math.floor(query.length / 3);
    const out = new Float32Array(n * this.dim);
    const slot = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = this.slotOf(query[3 * i]!, query[3 * i + 1]!, query[3 * i + 2]!);
      slot[i] = s;
      if (s >= 0) out.set(this.features.subarray(s * this.dim, (s + 1) * this.dim), i * this.dim);
    }
    return { features: out, slot };
  }

  memoryBytes(): number {
    return this.voxels * (this.dim * 4 + 16);
  }
}

/** Label id with the highest cosine for each unit feature row (-1 for zero rows). */
export function argmaxLabel(
  features: Float32Array,
  n: number,
  labelEmbeddings: Float32Array,
  labels: number,
  dim: number,
): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestS = -Infinity;
    let any = false;
    for (let d = 0; d < dim; d++)
      if (features[i * dim + d] !== 0) {
        any = true;
        break;
      }
    if (!any) {
      out[i] = -1;
      continue;
    }
    for (let c = 0; c < labels; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += features[i * dim + d]! * labelEmbeddings[c * dim + d]!;
      if (s > bestS) {
        bestS = s;
        best = c;
      }
    }
    out[i] = best;
  }
  return out;
}
