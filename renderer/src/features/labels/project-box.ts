/**
 * Which labeled points a detection covers: points of the given labels that lie in front of the frame's
 * camera and project inside the detection's box (RGB pixels). Occlusion is ignored, so a box over a
 * chair also catches chair points behind it; restricting to the detection's class keeps that small.
 * Camera axes are ARKit's (x right, y up, z backward): pixel (u, v) = (cx + fx x/d, cy - fy y/d), d = -z.
 */
export interface RgbIntrinsics {
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

/** Depth intrinsics [fx, fy, cx, cy] rescaled from the depth image to the RGB image. */
export function rgbIntrinsicsFrom(
  depthK: readonly [number, number, number, number],
  depthSize: readonly [number, number],
  rgbSize: readonly [number, number],
): RgbIntrinsics {
  const sx = rgbSize[0] / depthSize[0];
  const sy = rgbSize[1] / depthSize[1];
  return { fx: depthK[0] * sx, fy: depthK[1] * sy, cx: depthK[2] * sx, cy: depthK[3] * sy };
}

export function pointsInBox(
  positions_m: Float32Array,
  labelIds: Uint16Array,
  wantedIds: ReadonlySet<number>,
  world_from_camera: readonly number[],
  k: RgbIntrinsics,
  box: readonly [number, number, number, number],
): Uint32Array {
  const m = world_from_camera;
  // camera_from_world = [R^T | -R^T t] for the row-major rigid transform [R | t].
  const r00 = m[0]!,
    r01 = m[1]!,
    r02 = m[2]!,
    tx = m[3]!;
  const r10 = m[4]!,
    r11 = m[5]!,
    r12 = m[6]!,
    ty = m[7]!;
  const r20 = m[8]!,
    r21 = m[9]!,
    r22 = m[10]!,
    tz = m[11]!;
  const out: number[] = [];
  const n = labelIds.length;
  for (let i = 0; i < n; i++) {
    if (!wantedIds.has(labelIds[i]!)) continue;
    const dx = positions_m[i * 3]! - tx;
    const dy = positions_m[i * 3 + 1]! - ty;
    const dz = positions_m[i * 3 + 2]! - tz;
    const x = r00 * dx + r10 * dy + r20 * dz;
    const y = r01 * dx + r11 * dy + r21 * dz;
    const z = r02 * dx + r12 * dy + r22 * dz;
    const d = -z;
    if (!(d > 1e-3)) continue;
    const u = k.cx + (k.fx * x) / d;
    const v = k.cy - (k.fy * y) / d;
    if (u >= box[0] && u < box[2] && v >= box[1] && v < box[3]) out.push(i);
  }
  return Uint32Array.from(out);
}

export function centroidOf(positions_m: Float32Array, indices: Uint32Array): [number, number, number] | null {
  if (indices.length === 0) return null;
  let x = 0,
    y = 0,
    z = 0;
  for (const i of indices) {
    x += positions_m[i * 3]!;
    y += positions_m[i * 3 + 1]!;
    z += positions_m[i * 3 + 2]!;
  }
  return [x / indices.length, y / indices.length, z / indices.length];
}
