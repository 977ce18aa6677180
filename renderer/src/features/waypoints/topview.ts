/**
 * The 2D top view: map points projected into the map frame (x forward/right, y left, z up) and binned
 * into a density image, plus the transform from map metres to canvas pixels. Pure: no DOM.
 */
export interface TopView {
  width: number;
  height: number;
  /** Occupancy-like density per pixel (0..255), row 0 at the top (max y). */
  density: Uint8Array;
  /** Map-frame bounds covered, metres. */
  min_m: [number, number];
  max_m: [number, number];
  /** Pixels per metre. */
  scale: number;
}

/** Bins world points (xyz) into a top view of the map frame given map_from_world (4x4 row-major). */
export function buildTopView(
  positions_world_m: Float32Array,
  map_from_world: readonly number[],
  maxSide_px = 512,
  pad_m = 0.25,
): TopView | null {
  const n = Math.floor(positions_world_m.length / 3);
  if (n === 0 || map_from_world.length !== 16) return null;
  const m = map_from_world;
  const xs = new Float32Array(n);
  const ys = new Float32Array(n);
  let x0 = Infinity,
    y0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const px = positions_world_m[i * 3]!,
      py = positions_world_m[i * 3 + 1]!,
      pz = positions_world_m[i * 3 + 2]!;
    const x = m[0]! * px + m[1]! * py + m[2]! * pz + m[3]!;
    const y = m[4]! * px + m[5]! * py + m[6]! * pz + m[7]!;
    xs[i] = x;
    ys[i] = y;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  x0 -= pad_m;
  y0 -= pad_m;
  x1 += pad_m;
  y1 += pad_m;
  const scale = maxSide_px / Math.max(x1 - x0, y1 - y0, 1e-6);
  const width = Math.max(1, Math.ceil((x1 - x0) * scale));
  const height = Math.max(1, Math.ceil((y1 - y0) * scale));
  const counts = new Uint32Array(width * height);
  let maxC = 0;
  for (let i = 0; i < n; i++) {
    const c = Math.min(width - 1, Math.floor((xs[i]! - x0) * scale));
    const r = Math.min(height - 1, Math.floor((y1 - ys[i]!) * scale));
    const k = r * width + c;
    const v = ++counts[k]!;
    counts[k] = v;
    if (v > maxC) maxC = v;
  }
  const density = new Uint8Array(width * height);
  const logMax = Math.log1p(maxC);
  for (let k = 0; k < counts.length; k++)
    density[k] = counts[k] ? Math.max(40, Math.round((Math.log1p(counts[k]!) / logMax) * 255)) : 0;
  return { width, height, density, min_m: [x0, y0], max_m: [x1, y1], scale };
}

/** Map-frame metres -> top-view pixel (column, row). */
export function mapToPixel(v: TopView, x_m: number, y_m: number): [number, number] {
  return [(x_m - v.min_m[0]) * v.scale, (v.max_m[1] - y_m) * v.scale];
}
