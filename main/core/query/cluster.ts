/**
 * 3D clustering of point subsets: points are binned into cubic voxels (edge `voxel_m`) and voxels that touch
 * (26-neighbourhood) form one connected component. Voxel keys pack 17 bits per axis into one JS number
 * (+-65536 voxels per axis around the origin; points beyond are clamped into the border voxel).
 */

const BIAS = 1 << 16;
const LIM = (1 << 17) - 1;
const S1 = 1 << 17;
const S2 = S1 * S1;

function clampCell(v: number): number {
  const c = Math.floor(v) + BIAS;
  return c < 0 ? 0 : c > LIM ? LIM : c;
}

export interface Components {
  /** Component id per input index (-1 for points in components smaller than `minPoints`). */
  label: Int32Array;
  /** Members (input indices) of each kept component, largest first. */
  members: Int32Array[];
}

/** Largest bounding box (in voxels) the dense path allocates a cell grid for. */
const DENSE_MAX_CELLS = 1 << 22;
/** The dense path's cell grid, kept between calls (queries cluster their hits every time). */
let scratchGrid: Int32Array | null = null;

/**
 * Connected components of `indices` (into `positions`, xyz per point) at voxel size `voxel_m`. When the
 * points' bounding box spans at most DENSE_MAX_CELLS voxels (a query's hits usually do), a dense cell grid
 * replaces the hash map; both give the same components.
 */
export function voxelComponents(
  positions: Float32Array,
  indices: ArrayLike<number>,
  voxel_m: number,
  minPoints = 1,
): Components {
  return (
    denseVoxelComponents(positions, indices, voxel_m, minPoints) ??
    hashedVoxelComponents(positions, indices, voxel_m, minPoints)
  );
}

function finish(n: number, groups: Int32Array[], indices: ArrayLike<number>, minPoints: number): Components {
  const kept = groups.filter((g) => g.length >= minPoints).sort((a, b) => b.length - a.length);
  const label = new Int32Array(n).fill(-1);
  const members = kept.map((g, id) => {
    const arr = new Int32Array(g.length);
    for (let k = 0; k < g.length; k++) {
      const m = g[k]!;
      label[m] = id;
      arr[k] = indices[m]!;
    }
    return arr;
  });
  return { label, members };
}

export function denseVoxelComponents(
  positions: Float32Array,
  indices: ArrayLike<number>,
  voxel_m: number,
  minPoints = 1,
): Components | null {
  const n = indices.length;
  const inv = 1 / voxel_m;
  const cell = new Int32Array(3 * n);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let m = 0; m < n; m++) {
    const p = indices[m]!;
    for (let a = 0; a < 3; a++) {
      const c = clampCell(positions[3 * p + a]! * inv);
      cell[3 * m + a] = c;
      if (c < lo[a]!) lo[a] = c;
      if (c > hi[a]!) hi[a] = c;
    }
  }
  if (n === 0) return { label: new Int32Array(0), members: [] };
  const X = hi[0]! - lo[0]! + 1;
  const Y = hi[1]! - lo[1]! + 1;
  const Z = hi[2]! - lo[2]! + 1;
  if (X * Y * Z > DENSE_MAX_CELLS) return null;
  // Voxel id per cell (-1 = empty), voxels numbered in order of first point.
  const cells = X * Y * Z;
  if (!scratchGrid || scratchGrid.length < cells) scratchGrid = new Int32Array(Math.max(cells, 1 << 16));
  const grid = scratchGrid.subarray(0, cells).fill(-1);
  const voxelOf = new Int32Array(n);
  const voxelCell: number[] = [];
  for (let m = 0; m < n; m++) {
    const g = cell[3 * m]! - lo[0]! + (cell[3 * m + 1]! - lo[1]!) * X + (cell[3 * m + 2]! - lo[2]!) * X * Y;
    let v = grid[g]!;
    if (v < 0) {
      v = voxelCell.length;
      grid[g] = v;
      voxelCell.push(g);
    }
    voxelOf[m] = v;
  }
  const V = voxelCell.length;
  // Points of each voxel, in input order (counting sort).
  const start = new Int32Array(V + 1);
  for (let m = 0; m < n; m++) start[voxelOf[m]! + 1]!++;
  for (let v = 0; v < V; v++) start[v + 1]! += start[v]!;
  const fill = start.slice(0, V);
  const byVoxel = new Int32Array(n);
  for (let m = 0; m < n; m++) byVoxel[fill[voxelOf[m]!]!++] = m;
  const comp = new Int32Array(V).fill(-1);
  const stack = new Int32Array(V);
  const groups: Int32Array[] = [];
  for (let s0 = 0; s0 < V; s0++) {
    if (comp[s0] !== -1) continue;
    const id = groups.length;
    comp[s0] = id;
    let sp = 0;
    stack[sp++] = s0;
    const members: number[] = [];
    while (sp > 0) {
      const v = stack[--sp]!;
      for (let k = start[v]!; k < start[v + 1]!; k++) members.push(byVoxel[k]!);
      const g = voxelCell[v]!;
      const x = g % X;
      const y = Math.floor(g / X) % Y;
      const z = Math.floor(g / (X * Y));
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz;
        if (zz < 0 || zz >= Z) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy >= Y) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx >= X) continue;
            const nv = grid[xx + yy * X + zz * X * Y]!;
            if (nv >= 0 && comp[nv] === -1) {
              comp[nv] = id;
              stack[sp++] = nv;
            }
          }
        }
      }
    }
    groups.push(Int32Array.from(members));
  }
  return finish(n, groups, indices, minPoints);
}

export function hashedVoxelComponents(
  positions: Float32Array,
  indices: ArrayLike<number>,
  voxel_m: number,
  minPoints = 1,
): Components {
  const n = indices.length;
  const inv = 1 / voxel_m;
  const keyOf = new Float64Array(n);
  const voxels = new Map<number, number[]>();
  for (let m = 0; m < n; m++) {
    const p = indices[m]!;
    const key =
      clampCell(positions[3 * p]! * inv) +
      clampCell(positions[3 * p + 1]! * inv) * S1 +
      clampCell(positions[3 * p + 2]! * inv) * S2;
    keyOf[m] = key;
    let list = voxels.get(key);
    if (!list) voxels.set(key, (list = []));
    list.push(m);
  }
  const comp = new Map<number, number>();
  const groups: Int32Array[] = [];
  const stack: number[] = [];
  for (const start of voxels.keys()) {
    if (comp.has(start)) continue;
    const id = groups.length;
    const members: number[] = [];
    comp.set(start, id);
    stack.push(start);
    while (stack.length > 0) {
      const key = stack.pop()!;
      for (const m of voxels.get(key)!) members.push(m);
      const x = key % S1;
      const y = Math.floor(key / S1) % S1;
      const z = Math.floor(key / S2);
      for (let dz = -1; dz <= 1; dz++) {
        const zz = z + dz;
        if (zz < 0 || zz > LIM) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const yy = y + dy;
          if (yy < 0 || yy > LIM) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const xx = x + dx;
            if (xx < 0 || xx > LIM || (dx === 0 && dy === 0 && dz === 0)) continue;
            const nk = xx + yy * S1 + zz * S2;
            if (voxels.has(nk) && !comp.has(nk)) {
              comp.set(nk, id);
              stack.push(nk);
            }
          }
        }
      }
    }
    groups.push(Int32Array.from(members));
  }
  return finish(n, groups, indices, minPoints);
}

export interface ClusterStats {
  centroid: [number, number, number];
  min: [number, number, number];
  max: [number, number, number];
  extent: [number, number, number];
}

export function clusterStats(positions: Float32Array, members: ArrayLike<number>): ClusterStats {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  const c = [0, 0, 0];
  for (let m = 0; m < members.length; m++) {
    const p = members[m]!;
    for (let a = 0; a < 3; a++) {
      const v = positions[3 * p + a]!;
      c[a]! += v;
      if (v < min[a]!) min[a] = v;
      if (v > max[a]!) max[a] = v;
    }
  }
  const n = Math.max(1, members.length);
  return {
    centroid: [c[0]! / n, c[1]! / n, c[2]! / n],
    min,
    max,
    extent: [max[0] - min[0], max[1] - min[1], max[2] - min[2]],
  };
}
