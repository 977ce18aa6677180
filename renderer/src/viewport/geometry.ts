/**
 * Camera/trajectory geometry for the viewport. Poses follow the contract: `world_from_camera` is
 * 4x4 row-major with ARKit camera axes (x right, y up, z backward; the camera looks along -z).
 */
import { colormapLut } from '../lib/colormap';

export type Vec3 = [number, number, number];

/** Applies a row-major 4x4 rigid transform to a point. */
export function transformPoint(m: readonly number[], p: Vec3): Vec3 {
  const [x, y, z] = p;
  const e = (i: number) => m[i] ?? 0;
  return [
    e(0) * x + e(1) * y + e(2) * z + e(3),
    e(4) * x + e(5) * y + e(6) * z + e(7),
    e(8) * x + e(9) * y + e(10) * z + e(11),
  ];
}

export function cameraCenter(world_from_camera: readonly number[]): Vec3 {
  return [world_from_camera[3] ?? 0, world_from_camera[7] ?? 0, world_from_camera[11] ?? 0];
}

export interface PinholeIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/**
 * The four image-corner rays at distance `depth_m`, in camera coordinates (ARKit axes):
 * pixel (u, v) with v downward maps to x = (u - cx) / fx * d, y = -(v - cy) / fy * d, z = -d.
 * Order: top-left, top-right, bottom-right, bottom-left.
 */
export function frustumCornersCamera(k: PinholeIntrinsics, depth_m: number): Vec3[] {
  const px: [number, number][] = [
    [0, 0],
    [k.width, 0],
    [k.width, k.height],
    [0, k.height],
  ];
  return px.map(([u, v]) => [((u - k.cx) / k.fx) * depth_m, (-(v - k.cy) / k.fy) * depth_m, -depth_m]);
}

/** Vertices per frustum in the LineSegments layout below (8 segments: 4 edges + 4 rim). */
export const FRUSTUM_VERTS = 16;

/**
 * Line-segment vertices (xyz) for the frustum of each pose, in world coordinates.
 * Frame i owns vertices [i * FRUSTUM_VERTS, (i + 1) * FRUSTUM_VERTS).
 */
export function frustumSegments(
  poses: readonly (readonly number[])[],
  k: PinholeIntrinsics,
  depth_m: number,
): Float32Array {
  const out = new Float32Array(poses.length * FRUSTUM_VERTS * 3);
  const cornersCam = frustumCornersCamera(k, depth_m);
  let o = 0;
  const put = (p: Vec3) => {
    out[o++] = p[0];
    out[o++] = p[1];
    out[o++] = p[2];
  };
  for (const m of poses) {
    const c = cameraCenter(m);
    const w = cornersCam.map((p) => transformPoint(m, p));
    for (let i = 0; i < 4; i++) {
      put(c);
      put(w[i]!);
    }
    for (let i = 0; i < 4; i++) {
      put(w[i]!);
      put(w[(i + 1) % 4]!);
    }
  }
  return out;
}

/** Frame index owning a vertex of `frustumSegments`' output. */
export function frameOfFrustumVertex(vertexIndex: number): number {
  return Math.floor(vertexIndex / FRUSTUM_VERTS);
}

export function trajectoryPositions(poses: readonly (readonly number[])[]): Float32Array {
  const out = new Float32Array(poses.length * 3);
  poses.forEach((m, i) => {
    out.set(cameraCenter(m), i * 3);
  });
  return out;
}

/** Colours points by their height along `up` (turbo), between the 2nd and 98th percentile. */
export function heightColors(positions: Float32Array, up: Vec3 = [0, 1, 0]): Uint8Array {
  const n = Math.floor(positions.length / 3);
  const len = Math.hypot(up[0], up[1], up[2]) || 1;
  const ux = up[0] / len;
  const uy = up[1] / len;
  const uz = up[2] / len;
  const h = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    h[i] = (positions[i * 3] ?? 0) * ux + (positions[i * 3 + 1] ?? 0) * uy + (positions[i * 3 + 2] ?? 0) * uz;
  }
  const [lo, hi] = robustRange(h);
  const span = hi > lo ? hi - lo : 1;
  const lut = colormapLut('turbo');
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const t = ((h[i] ?? 0) - lo) / span;
    const k = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
    out[i * 3] = lut[k * 3] ?? 0;
    out[i * 3 + 1] = lut[k * 3 + 1] ?? 0;
    out[i * 3 + 2] = lut[k * 3 + 2] ?? 0;
  }
  return out;
}

/** 2nd..98th percentile of finite values, from a sample of at most 20k (fast on 1M points). */
export function robustRange(values: Float32Array): [number, number] {
  const n = values.length;
  if (n === 0) return [0, 1];
  const step = Math.max(1, Math.floor(n / 20000));
  const sample: number[] = [];
  for (let i = 0; i < n; i += step) {
    const v = values[i] ?? NaN;
    if (Number.isFinite(v)) sample.push(v);
  }
  if (sample.length === 0) return [0, 1];
  sample.sort((a, b) => a - b);
  const at = (q: number) =>
    sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))] ?? 0;
  return [at(0.02), at(0.98)];
}

/** Axis-aligned bounds of finite points; null when there are none. */
export function pointBounds(positions: Float32Array): { min: Vec3; max: Vec3 } | null {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  let any = false;
  for (let i = 0; i + 2 < positions.length; i += 3) {
    const x = positions[i] ?? NaN;
    const y = positions[i + 1] ?? NaN;
    const z = positions[i + 2] ?? NaN;
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) continue;
    any = true;
    if (x < min[0]) min[0] = x;
    if (y < min[1]) min[1] = y;
    if (z < min[2]) min[2] = z;
    if (x > max[0]) max[0] = x;
    if (y > max[1]) max[1] = y;
    if (z > max[2]) max[2] = z;
  }
  return any ? { min, max } : null;
}
