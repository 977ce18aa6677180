/**
 * Nearest-neighbour distances between two point sets with a voxel-hash grid (cell = search radius), for
 * checking that surfaces seen from different frames coincide.
 */

/** Exact key for cell coordinates within +-2^16 per axis (< 2^51, a safe integer); others wrap, which is harmless here. */
const cellKey = (x: number, y: number, z: number): number =>
  (((x + 0x10000) & 0x1ffff) * 0x20000 + ((y + 0x10000) & 0x1ffff)) * 0x20000 + ((z + 0x10000) & 0x1ffff);

/** For each point of `a`, the distance to its nearest point of `b` within `radius_m` (Infinity if none). */
export function nearestNeighbourDistances(
  a: Float32Array,
  na: number,
  b: Float32Array,
  nb: number,
  radius_m: number,
): Float64Array {
  const inv = 1 / radius_m;
  const key = (x: number, y: number, z: number): number =>
    cellKey(Math.floor(x * inv), Math.floor(y * inv), Math.floor(z * inv));
  const cells = new Map<number, number[]>();
  for (let i = 0; i < nb; i++) {
    const k = key(b[3 * i]!, b[3 * i + 1]!, b[3 * i + 2]!);
    const list = cells.get(k);
    if (list) list.push(i);
    else cells.set(k, [i]);
  }
  const out = new Float64Array(na).fill(Infinity);
  const r2 = radius_m * radius_m;
  for (let i = 0; i < na; i++) {
    const x = a[3 * i]!,
      y = a[3 * i + 1]!,
      z = a[3 * i + 2]!;
    const cx = Math.floor(x * inv),
      cy = Math.floor(y * inv),
      cz = Math.floor(z * inv);
    let best = r2;
    let found = false;
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (let dz = -1; dz <= 1; dz++) {
          const list = cells.get(cellKey(cx + dx, cy + dy, cz + dz));
          if (!list) continue;
          for (const j of list) {
            const ex = b[3 * j]! - x,
              ey = b[3 * j + 1]! - y,
              ez = b[3 * j + 2]! - z;
            const d2 = ex * ex + ey * ey + ez * ez;
            if (d2 <= best) {
              best = d2;
              found = true;
            }
          }
        }
    if (found) out[i] = Math.sqrt(best);
  }
  return out;
}

/** Overlap (share of finite distances), median and 90th percentile of the finite distances. */
export function overlapStats(dist: Float64Array): { overlap: number; median_m: number; p90_m: number } {
  const f = Array.from(dist)
    .filter(Number.isFinite)
    .sort((x, y) => x - y);
  const q = (p: number): number => (f.length ? f[Math.min(f.length - 1, Math.floor(p * f.length))]! : NaN);
  return { overlap: dist.length ? f.length / dist.length : 0, median_m: q(0.5), p90_m: q(0.9) };
}
