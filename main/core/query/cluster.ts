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

/** Connected components of `indices` (into `positions`, xyz per point) at voxel size `voxel_m`. */
export function voxelComponents(
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
  const groups: number[][] = [];
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
    groups.push(members);
  }
  const kept = groups.filter((g) => g.length >= minPoints).sort((a, b) => b.length - a.length);
  const label = new Int32Array(n).fill(-1);
  const members = kept.map((g, id) => {
    const arr = Int32Array.from(g, (m) => indices[m]!);
    for (const m of g) label[m] = id;
    return arr;
  });
  return { label, members };
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
