/**
 * Gravity / floor frame of a fused map.
 *
 * ARKit captures are gravity-aligned with +y up, so the up hint is +y. The floor is the lowest horizontal
 * plane with real support:
 * 1. a histogram of point heights along the up hint (2 cm bins);
 * 2. peaks (local maxima of the 3-bin window mass) that hold at least `min_fraction` of the points and at
 *    least `min_peak_ratio` of the strongest peak are candidates, tried from the lowest up;
 * 3. for a candidate, RANSAC among the points of its slab (+-2 bins) fits a plane whose normal is within
 *    `max_tilt_deg` of the hint; a least-squares refit on the inliers gives `up` and `height`. The first
 *    candidate whose plane holds most of its slab wins.
 * Returns null when no such plane exists (e.g. a close-up of a shelf).
 */
import type { MapFloor, Vec3 } from './format-parse';

export type Floor = MapFloor;

export interface FloorOptions {
  /** World up hint (unit). Default +y (ARKit). */
  up_hint?: Vec3;
  bin_m?: number;
  /** RANSAC inlier distance. */
  inlier_m?: number;
  max_tilt_deg?: number;
  /** A floor peak holds at least this fraction of all points. */
  min_fraction?: number;
  /** ... and at least this fraction of the strongest height peak. */
  min_peak_ratio?: number;
  /** Fewest points a floor may have. */
  min_points?: number;
  seed?: number;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Two unit vectors completing `up` to an orthonormal basis. */
function tangentBasis(up: Vec3): [Vec3, Vec3] {
  const helper: Vec3 = Math.abs(up[0]) < 0.9 ? [1, 0, 0] : [0, 0, 1];
  const e1 = normalize(cross(helper, up));
  const e2 = cross(up, e1);
  return [e1, e2];
}

/** Least-squares plane h = a*u + b*v + c over the given point indices, in the (e1, e2, up) basis. */
function fitPlane(
  points: Float32Array,
  idx: Int32Array,
  n: number,
  up: Vec3,
  e1: Vec3,
  e2: Vec3,
): { normal: Vec3; height: number } | null {
  let Suu = 0,
    Suv = 0,
    Svv = 0,
    Suh = 0,
    Svh = 0;
  // Centre for conditioning.
  let mu = 0,
    mv = 0,
    mh = 0;
  for (let k = 0; k < n; k++) {
    const i = 3 * idx[k]!;
    const p: Vec3 = [points[i]!, points[i + 1]!, points[i + 2]!];
    mu += dot(p, e1);
    mv += dot(p, e2);
    mh += dot(p, up);
  }
  mu /= n;
  mv /= n;
  mh /= n;
  for (let k = 0; k < n; k++) {
    const i = 3 * idx[k]!;
    const p: Vec3 = [points[i]!, points[i + 1]!, points[i + 2]!];
    const u = dot(p, e1) - mu,
      v = dot(p, e2) - mv,
      h = dot(p, up) - mh;
    Suu += u * u;
    Suv += u * v;
    Svv += v * v;
    Suh += u * h;
    Svh += v * h;
  }
  // Centred coordinates: the intercept is mh and [Suu Suv; Suv Svv][a b] = [Suh Svh].
  const det = Suu * Svv - Suv * Suv;
  if (!(Math.abs(det) > 1e-12)) return null;
  const a = (Suh * Svv - Svh * Suv) / det;
  const b = (Svh * Suu - Suh * Suv) / det;
  // Plane: h - mh = a (u - mu) + b (v - mv)  <=>  (up - a e1 - b e2) . p = mh - a mu - b mv
  const nRaw: Vec3 = [
    up[0] - a * e1[0] - b * e2[0],
    up[1] - a * e1[1] - b * e2[1],
    up[2] - a * e1[2] - b * e2[2],
  ];
  const s = Math.hypot(nRaw[0], nRaw[1], nRaw[2]);
  return { normal: [nRaw[0] / s, nRaw[1] / s, nRaw[2] / s], height: (mh - a * mu - b * mv) / s };
}

export function estimateFloor(points: Float32Array, count: number, opts: FloorOptions = {}): Floor | null {
  const upHint = normalize(opts.up_hint ?? [0, 1, 0]);
  const inlier_m = opts.inlier_m ?? 0.02;
  const cosTilt = Math.cos(((opts.max_tilt_deg ?? 10) * Math.PI) / 180);
  const minPoints = Math.max(opts.min_points ?? 100, Math.ceil((opts.min_fraction ?? 0.02) * count));
  if (count < minPoints || count < 3) return null;
  let hMin = Infinity,
    hMax = -Infinity;
  for (let i = 0; i < count; i++) {
    const h = upHint[0] * points[3 * i]! + upHint[1] * points[3 * i + 1]! + upHint[2] * points[3 * i + 2]!;
    if (!Number.isFinite(h)) continue;
    if (h < hMin) hMin = h;
    if (h > hMax) hMax = h;
  }
  if (!Number.isFinite(hMin)) return null;
  let bin = opts.bin_m ?? 0.02;
  const maxBins = 20_000;
  if ((hMax - hMin) / bin > maxBins) bin = (hMax - hMin) / maxBins;
  const nb = Math.floor((hMax - hMin) / bin) + 1;
  const hist = new Uint32Array(nb);
  const binOf = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const h = upHint[0] * points[3 * i]! + upHint[1] * points[3 * i + 1]! + upHint[2] * points[3 * i + 2]!;
    if (!Number.isFinite(h)) {
      binOf[i] = -1;
      continue;
    }
    const b = Math.min(nb - 1, Math.floor((h - hMin) / bin));
    binOf[i] = b;
    hist[b]!++;
  }
  const win = (b: number): number => (hist[b - 1] ?? 0) + hist[b]! + (hist[b + 1] ?? 0);
  const peaks: number[] = [];
  let strongest = 0;
  for (let b = 0; b < nb; b++) {
    const w = win(b);
    if (w >= (b > 0 ? win(b - 1) : 0) && w > (b + 1 < nb ? win(b + 1) : 0) && w >= minPoints) {
      peaks.push(b);
      if (w > strongest) strongest = w;
    }
  }
  const ratio = opts.min_peak_ratio ?? 0.1;
  const candidates = peaks.filter((b) => win(b) >= ratio * strongest);
  const rand = mulberry32(opts.seed ?? 12345);
  const [e1, e2] = tangentBasis(upHint);
  for (const peak of candidates) {
    const slab: number[] = [];
    for (let i = 0; i < count; i++) if (binOf[i]! >= peak - 2 && binOf[i]! <= peak + 2) slab.push(i);
    // RANSAC on at most 4000 slab points.
    const sampleN = Math.min(slab.length, 4000);
    const sample = new Int32Array(sampleN);
    for (let k = 0; k < sampleN; k++) sample[k] = slab[Math.floor((k * slab.length) / sampleN)]!;
    const P = (i: number): Vec3 => [points[3 * i]!, points[3 * i + 1]!, points[3 * i + 2]!];
    let best: { normal: Vec3; d: number; inliers: number } | null = null;
    for (let it = 0; it < 200; it++) {
      const a = P(sample[Math.floor(rand() * sampleN)]!);
      const b = P(sample[Math.floor(rand() * sampleN)]!);
      const c = P(sample[Math.floor(rand() * sampleN)]!);
      const nrm = cross([b[0] - a[0], b[1] - a[1], b[2] - a[2]], [c[0] - a[0], c[1] - a[1], c[2] - a[2]]);
      const len = Math.hypot(nrm[0], nrm[1], nrm[2]);
      if (!(len > 1e-9)) continue;
      let normal: Vec3 = [nrm[0] / len, nrm[1] / len, nrm[2] / len];
      if (dot(normal, upHint) < 0) normal = [-normal[0], -normal[1], -normal[2]];
      if (dot(normal, upHint) < cosTilt) continue;
      const d = dot(normal, a);
      let inl = 0;
      for (let k = 0; k < sampleN; k++) if (Math.abs(dot(normal, P(sample[k]!)) - d) <= inlier_m) inl++;
      if (!best || inl > best.inliers) best = { normal, d, inliers: inl };
    }
    if (!best || best.inliers < 0.5 * sampleN) continue;
    // Refine on all slab inliers (twice, tightening to the refitted plane).
    let normal = best.normal;
    let d = best.d;
    let fitted: { normal: Vec3; height: number } | null = null;
    for (let round = 0; round < 2; round++) {
      const inl = new Int32Array(slab.length);
      let ni = 0;
      for (const i of slab) if (Math.abs(dot(normal, P(i)) - d) <= inlier_m) inl[ni++] = i;
      if (ni < Math.max(3, 0.5 * minPoints)) break;
      const f = fitPlane(points, inl, ni, upHint, e1, e2);
      if (!f) break;
      fitted = f;
      normal = f.normal;
      d = f.height;
    }
    if (!fitted || dot(fitted.normal, upHint) < cosTilt) continue;
    return { up: fitted.normal, height: fitted.height };
  }
  return null;
}

/**
 * The default map frame: z up (the floor normal), x forward (the world's -z projected onto the floor, i.e.
 * the first camera's heading in an ARKit world), y left; origin on the floor right below the world origin
 * (REP 103). Returns `map_from_world` as 16 numbers, row-major: point_in_map = M * [point_in_world, 1].
 * Without a floor it assumes up = +y and the floor through the world origin.
 */
export function mapFromWorldDefault(floor: Floor | null): Float64Array {
  const up = normalize(floor ? floor.up : [0, 1, 0]);
  const height = floor ? floor.height : 0;
  let fwd: Vec3 = [0, 0, -1];
  let f = [
    fwd[0] - dot(fwd, up) * up[0],
    fwd[1] - dot(fwd, up) * up[1],
    fwd[2] - dot(fwd, up) * up[2],
  ] as Vec3;
  if (Math.hypot(f[0], f[1], f[2]) < 1e-6) {
    fwd = [1, 0, 0];
    f = [fwd[0] - dot(fwd, up) * up[0], fwd[1] - dot(fwd, up) * up[1], fwd[2] - dot(fwd, up) * up[2]];
  }
  const x = normalize(f);
  const y = cross(up, x);
  const z = up;
  // Origin: world origin projected onto the floor plane {p : up . p = height}.
  const o: Vec3 = [height * up[0], height * up[1], height * up[2]];
  const m = new Float64Array(16);
  const rows = [x, y, z];
  for (let r = 0; r < 3; r++) {
    const a = rows[r]!;
    m[4 * r] = a[0];
    m[4 * r + 1] = a[1];
    m[4 * r + 2] = a[2];
    m[4 * r + 3] = -dot(a, o);
  }
  m[15] = 1;
  return m;
}
