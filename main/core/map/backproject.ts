/**
 * Back-projection of one depth frame into world points, on typed arrays (no per-point objects).
 *
 * Convention (ARKit camera axes, see capture/types.ts): depth pixel column i, row j with depth z (metres) is
 *   X_cam = ((i - cx)/fx * z, -(j - cy)/fy * z, -z)
 * and `point_in_world = world_from_camera * X_cam` (4x4 row-major). A pixel is valid when its confidence is 2
 * (where the capture has confidence) and `min_depth_m <= z <= max_depth_m` (CLIP-Fields keeps 0.1..3 m).
 * Colour comes from the RGB image at the same relative image position (nearest pixel; the RGB image may
 * have any size, e.g. a shrink-on-load decode at twice the depth resolution).
 */
import type { CameraIntrinsics, RgbImage } from '../capture/types';

export interface DepthFilter {
  min_depth_m: number;
  max_depth_m: number;
}

export const DEFAULT_DEPTH_FILTER: DepthFilter = { min_depth_m: 0.1, max_depth_m: 3.0 };

/** Reusable output buffers, sized for one depth frame. */
export interface PointBuffers {
  /** xyz per point, world metres. */
  points_world: Float32Array;
  /** rgb per point (zeros when no image was given). */
  rgb: Uint8Array;
}

export function allocPointBuffers(maxPoints: number): PointBuffers {
  return { points_world: new Float32Array(3 * maxPoints), rgb: new Uint8Array(3 * maxPoints) };
}

/** Fraction of depth pixels that pass the filter (0 for an empty frame). */
export function validDepthFraction(
  depth_m: Float32Array,
  confidence: Uint8Array | null,
  filter: DepthFilter = DEFAULT_DEPTH_FILTER,
): number {
  if (depth_m.length === 0) return 0;
  let valid = 0;
  const lo = filter.min_depth_m,
    hi = filter.max_depth_m;
  for (let p = 0; p < depth_m.length; p++) {
    const z = depth_m[p]!;
    if (z >= lo && z <= hi && (confidence === null || confidence[p] === 2)) valid++;
  }
  return valid / depth_m.length;
}

/**
 * Back-project the valid pixels of one depth frame into `out` (grown when too small). Returns the number
 * of points written. `rgb` may be null (colours are then zero). Throws RangeError on mismatched sizes.
 */
export function backprojectDepth(
  depth_m: Float32Array,
  confidence: Uint8Array | null,
  depthIntrinsics: CameraIntrinsics,
  world_from_camera: ArrayLike<number>,
  rgb: RgbImage | null,
  filter: DepthFilter,
  out: PointBuffers,
): number {
  const { width: w, height: h, fx, fy, cx, cy } = depthIntrinsics;
  if (depth_m.length !== w * h)
    throw new RangeError(`depth has ${depth_m.length} values, expected ${w}x${h}`);
  if (confidence && confidence.length !== w * h)
    throw new RangeError(`confidence has ${confidence.length} values, expected ${w}x${h}`);
  if (world_from_camera.length !== 16) throw new RangeError('world_from_camera must have 16 numbers');
  if (rgb && rgb.data.length < rgb.width * rgb.height * 3)
    throw new RangeError('rgb data is shorter than width*height*3');
  if (out.points_world.length < 3 * w * h) {
    out.points_world = new Float32Array(3 * w * h);
    out.rgb = new Uint8Array(3 * w * h);
  }
  const T = world_from_camera;
  const r00 = T[0]!,
    r01 = T[1]!,
    r02 = T[2]!,
    tx = T[3]!;
  const r10 = T[4]!,
    r11 = T[5]!,
    r12 = T[6]!,
    ty = T[7]!;
  const r20 = T[8]!,
    r21 = T[9]!,
    r22 = T[10]!,
    tz = T[11]!;
  const lo = filter.min_depth_m,
    hi = filter.max_depth_m;
  const pts = out.points_world;
  const col = out.rgb;
  const rgbW = rgb ? rgb.width : 0;
  const rgbH = rgb ? rgb.height : 0;
  const rgbData = rgb ? rgb.data : null;
  const sx = rgbW / w,
    sy = rgbH / h;
  // Precompute per-column/per-row normalised ray components and RGB sample positions.
  const ray_x = new Float64Array(w);
  const rgbCol = new Int32Array(w);
  for (let i = 0; i < w; i++) {
    ray_x[i] = (i - cx) / fx;
    rgbCol[i] = Math.min(rgbW - 1, Math.max(0, Math.floor((i + 0.5) * sx)));
  }
  let n = 0;
  for (let j = 0; j < h; j++) {
    const ray_y = -(j - cy) / fy;
    const rgbRow = Math.min(rgbH - 1, Math.max(0, Math.floor((j + 0.5) * sy))) * rgbW;
    const rowBase = j * w;
    for (let i = 0; i < w; i++) {
      const p = rowBase + i;
      const z = depth_m[p]!;
      if (!(z >= lo && z <= hi)) continue;
      if (confidence !== null && confidence[p] !== 2) continue;
      const xc = ray_x[i]! * z,
        yc = ray_y * z,
        zc = -z;
      const o = 3 * n;
      pts[o] = r00 * xc + r01 * yc + r02 * zc + tx;
      pts[o + 1] = r10 * xc + r11 * yc + r12 * zc + ty;
      pts[o + 2] = r20 * xc + r21 * yc + r22 * zc + tz;
      if (rgbData) {
        const q = 3 * (rgbRow + rgbCol[i]!);
        col[o] = rgbData[q]!;
        col[o + 1] = rgbData[q + 1]!;
        col[o + 2] = rgbData[q + 2]!;
      } else {
        col[o] = 0;
        col[o + 1] = 0;
        col[o + 2] = 0;
      }
      n++;
    }
  }
  return n;
}
