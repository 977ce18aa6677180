/**
 * Helpers shared by the capture readers: open options, frame-index checks, rigid-transform maths,
 * depth sanitising and the `labels/instances.json` parser.
 */
import { CaptureError, type InstanceInfo } from './types';

export interface CaptureOpenOptions {
  /** Most ZIP entries accepted in an `.r3d` (default 200 000); also the most frames in any capture. */
  maxEntries?: number;
  /**
   * Hard ceiling on the bytes produced by reading any ONE entry or file (default 512 MiB). Tighter
   * per-kind caps derived from the metadata (e.g. depth = dw*dh*4 + slack) apply below it.
   */
  maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_MAX_FRAMES = 200_000;
/** Largest accepted image side, in pixels. */
export const MAX_IMAGE_SIDE = 16384;

export function resolveLimits(opts: CaptureOpenOptions | undefined): {
  maxEntries: number;
  maxBytes: number;
} {
  const maxEntries = opts?.maxEntries ?? DEFAULT_MAX_FRAMES;
  const maxBytes = opts?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isInteger(maxEntries) || maxEntries < 1)
    throw new RangeError('maxEntries must be a positive integer');
  if (!Number.isInteger(maxBytes) || maxBytes < 1)
    throw new RangeError('maxBytes must be a positive integer');
  return { maxEntries, maxBytes };
}

export function checkFrameIndex(index: number, frameCount: number, file: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= frameCount) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `frame index ${index} is out of range (capture has ${frameCount} frames)`,
    );
  }
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** 4x4 row-major product a·b. */
export function mul4(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[r * 4 + k]! * b[k * 4 + c]!;
      out[r * 4 + c] = s;
    }
  }
  return out;
}

/**
 * Rigid transform (row-major 4x4) from a Hamilton quaternion (qx,qy,qz,qw) and a translation.
 * The quaternion must already be unit length.
 */
export function rigidFromQuaternion(
  qx: number,
  qy: number,
  qz: number,
  qw: number,
  px: number,
  py: number,
  pz: number,
): Float64Array {
  const m = new Float64Array(16);
  m[0] = 1 - 2 * (qy * qy + qz * qz);
  m[1] = 2 * (qx * qy - qz * qw);
  m[2] = 2 * (qx * qz + qy * qw);
  m[3] = px;
  m[4] = 2 * (qx * qy + qz * qw);
  m[5] = 1 - 2 * (qx * qx + qz * qz);
  m[6] = 2 * (qy * qz - qx * qw);
  m[7] = py;
  m[8] = 2 * (qx * qz - qy * qw);
  m[9] = 2 * (qy * qz + qx * qw);
  m[10] = 1 - 2 * (qx * qx + qy * qy);
  m[11] = pz;
  m[15] = 1;
  return m;
}

/** Largest translation magnitude accepted in a pose (metres): 100 km. */
export const MAX_TRANSLATION_M = 1e5;

/**
 * Why `m` (16 numbers, row-major) is not a rigid transform, or null: every entry finite, last row
 * (0,0,0,1) within 1e-6, rotation orthonormal within 1e-3 with determinant +1, |t| <= 100 km.
 */
export function rigidProblem(m: ArrayLike<number>): string | null {
  if (m.length !== 16) return 'must have 16 numbers';
  for (let i = 0; i < 16; i++) if (!Number.isFinite(m[i])) return 'has a NaN or infinite entry';
  if (
    Math.abs(m[12]!) > 1e-6 ||
    Math.abs(m[13]!) > 1e-6 ||
    Math.abs(m[14]!) > 1e-6 ||
    Math.abs(m[15]! - 1) > 1e-6
  ) {
    return 'last row is not (0, 0, 0, 1)';
  }
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += m[k * 4 + a]! * m[k * 4 + b]!;
      if (Math.abs(dot - (a === b ? 1 : 0)) > 1e-3) return 'rotation part is not orthonormal';
    }
  }
  const det =
    m[0]! * (m[5]! * m[10]! - m[6]! * m[9]!) -
    m[1]! * (m[4]! * m[10]! - m[6]! * m[8]!) +
    m[2]! * (m[4]! * m[9]! - m[5]! * m[8]!);
  if (det < 0) return 'rotation part is a reflection (determinant -1)';
  if (Math.hypot(m[3]!, m[7]!, m[11]!) > MAX_TRANSLATION_M)
    return `translation is larger than ${MAX_TRANSLATION_M} m`;
  return null;
}

/** Record3D/ARKit camera axes from OpenCV axes: world_from_camera_arkit = world_from_camera_opencv · diag(1,-1,-1,1). */
export function opencvToArkit(world_from_camera_opencv: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(world_from_camera_opencv as ArrayLike<number>);
  for (let r = 0; r < 4; r++) {
    out[r * 4 + 1] = -out[r * 4 + 1]!;
    out[r * 4 + 2] = -out[r * 4 + 2]!;
  }
  return out;
}

/** In place: NaN, infinite and negative depths become 0 (= no measurement). Returns the array. */
export function sanitizeDepth(depth_m: Float32Array): Float32Array {
  for (let i = 0; i < depth_m.length; i++) {
    const z = depth_m[i]!;
    if (!(z > 0 && z < Infinity)) depth_m[i] = 0;
  }
  return depth_m;
}

/** Little-endian float32 bytes -> a fresh, aligned Float32Array. */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const n = bytes.length >> 2;
  if (bytes.byteOffset % 4 === 0)
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
  return new Float32Array(bytes.slice(0, n * 4).buffer);
}

export function checkConfidence(conf: Uint8Array, file: string): Uint8Array {
  for (let i = 0; i < conf.length; i++) {
    if (conf[i]! > 2)
      throw new CaptureError(
        'INVALID_INPUT',
        file,
        `confidence value ${conf[i]} at pixel ${i} (expected 0, 1 or 2)`,
      );
  }
  return conf;
}

/**
 * `labels/instances.json`: `{"instances": {"<id>": {"class": "chair"}, ...}}` with ids 1..65535 (0 = none is
 * implicit) and a non-empty class name of at most 200 characters. Other keys are ignored.
 */
export function parseInstances(json: unknown, file: string): Map<number, InstanceInfo> {
  const bad = (reason: string): CaptureError => new CaptureError('INVALID_INPUT', file, reason);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('must be a JSON object');
  const inst = (json as Record<string, unknown>)['instances'];
  if (typeof inst !== 'object' || inst === null || Array.isArray(inst))
    throw bad('"instances" must be an object of id -> {"class": name}');
  const out = new Map<number, InstanceInfo>();
  for (const [key, value] of Object.entries(inst as Record<string, unknown>)) {
    if (!/^[1-9][0-9]{0,4}$/.test(key) || Number(key) > 65535)
      throw bad(`instance id "${key}" is not an integer in 1..65535`);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw bad(`instance ${key} must be an object`);
    const cls = (value as Record<string, unknown>)['class'];
    if (typeof cls !== 'string' || cls.trim().length === 0 || cls.length > 200)
      throw bad(`instance ${key} needs a non-empty "class" string (<= 200 chars)`);
    out.set(Number(key), { class: cls });
  }
  return out;
}

/** JSON.parse of UTF-8 bytes with a CaptureError naming the file. */
export function parseJsonBytes(bytes: Uint8Array, file: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CaptureError('INVALID_INPUT', file, 'is not valid UTF-8 text');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CaptureError('INVALID_INPUT', file, `is not valid JSON (${(err as Error).message})`);
  }
}
