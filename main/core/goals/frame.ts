/**
 * The map frame robots use: z up along the floor normal, x forward, y left (REP 103), origin on the floor.
 * `map_from_world` is a 4x4 row-major rigid transform: point_in_map = M * [point_in_world, 1]. The default
 * comes from the map's floor (map/floor.ts `mapFromWorldDefault`); an operator may move the origin (in the
 * default frame's floor plane) and rotate it about z by `yaw_rad`:
 *   point_in_map = Rz(-yaw) * (point_in_default - [origin_x, origin_y, 0]).
 */
import type { MapFloor } from '../map/format';
import { mapFromWorldDefault } from '../map/floor';

export type Vec3 = [number, number, number];

export interface MapFrameSettings {
  /** Origin of the map frame, in the default floor frame, metres. */
  origin_m: [number, number];
  /** Rotation of the map frame about the floor normal relative to the default, radians. */
  yaw_rad: number;
}

export const DEFAULT_FRAME_SETTINGS: MapFrameSettings = { origin_m: [0, 0], yaw_rad: 0 };

export function mapFromWorld(
  floor: MapFloor | null,
  settings: MapFrameSettings = DEFAULT_FRAME_SETTINGS,
): Float64Array {
  const M0 = mapFromWorldDefault(floor);
  const c = Math.cos(-settings.yaw_rad);
  const s = Math.sin(-settings.yaw_rad);
  const [ox, oy] = settings.origin_m;
  // A = Rz(-yaw) * T(-origin)
  const A = new Float64Array([
    c,
    -s,
    0,
    -(c * ox - s * oy),
    s,
    c,
    0,
    -(s * ox + c * oy),
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    1,
  ]);
  return matMul4(A, M0);
}

export function matMul4(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++) {
      let v = 0;
      for (let k = 0; k < 4; k++) v += a[4 * r + k]! * b[4 * k + c]!;
      out[4 * r + c] = v;
    }
  return out;
}

export function transformPoint(M: ArrayLike<number>, p: ArrayLike<number>): Vec3 {
  const x = p[0]!;
  const y = p[1]!;
  const z = p[2]!;
  return [
    M[0]! * x + M[1]! * y + M[2]! * z + M[3]!,
    M[4]! * x + M[5]! * y + M[6]! * z + M[7]!,
    M[8]! * x + M[9]! * y + M[10]! * z + M[11]!,
  ];
}

/** Inverse of a rigid 4x4 (rotation + translation). */
export function invertRigid(M: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[4 * r + c] = M[4 * c + r]!;
  for (let r = 0; r < 3; r++)
    out[4 * r + 3] = -(out[4 * r]! * M[3]! + out[4 * r + 1]! * M[7]! + out[4 * r + 2]! * M[11]!);
  out[15] = 1;
  return out;
}

/** Transform every point (xyz triplets) into the map frame. */
export function transformPoints(M: ArrayLike<number>, xyz: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const x = xyz[3 * i]!;
    const y = xyz[3 * i + 1]!;
    const z = xyz[3 * i + 2]!;
    out[3 * i] = M[0]! * x + M[1]! * y + M[2]! * z + M[3]!;
    out[3 * i + 1] = M[4]! * x + M[5]! * y + M[6]! * z + M[7]!;
    out[3 * i + 2] = M[8]! * x + M[9]! * y + M[10]! * z + M[11]!;
  }
  return out;
}

/** Quaternion (x, y, z, w) of a rotation by `yaw` about z. */
export function yawQuaternion(yaw_rad: number): { x: number; y: number; z: number; w: number } {
  return { x: 0, y: 0, z: Math.sin(yaw_rad / 2), w: Math.cos(yaw_rad / 2) };
}

/** Yaw (about map z) of a world-frame direction, after rotating it into the map frame. */
export function yawOfWorldDirection(M: ArrayLike<number>, dir: ArrayLike<number>): number {
  const dx = M[0]! * dir[0]! + M[1]! * dir[1]! + M[2]! * dir[2]!;
  const dy = M[4]! * dir[0]! + M[5]! * dir[1]! + M[6]! * dir[2]!;
  return Math.atan2(dy, dx);
}

/** World-frame horizontal direction of a map-frame yaw. */
export function worldDirectionOfYaw(M: ArrayLike<number>, yaw_rad: number): Vec3 {
  const inv = invertRigid(M);
  const d = [Math.cos(yaw_rad), Math.sin(yaw_rad), 0];
  return [
    inv[0]! * d[0]! + inv[1]! * d[1]!,
    inv[4]! * d[0]! + inv[5]! * d[1]!,
    inv[8]! * d[0]! + inv[9]! * d[1]!,
  ];
}

export function normalizeAngle(a: number): number {
  let x = a % (2 * Math.PI);
  if (x > Math.PI) x -= 2 * Math.PI;
  if (x <= -Math.PI) x += 2 * Math.PI;
  return x;
}
