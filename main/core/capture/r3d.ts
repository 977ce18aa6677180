/**
 * Record3D `.r3d` capture reader.
 *
 * ## Format (as read here)
 * A ZIP file (entries stored or deflated; read on demand, see zip.ts) with:
 * - `metadata`: UTF-8 JSON object.
 *   - `w`, `h` (required, integers 1..16384): RGB image width and height in pixels.
 *   - `dw`, `dh` (optional, both or neither, integers 1..16384): depth/confidence width and height. When
 *     absent the depth size is inferred from the decoded size of the first depth frame: 192x256 or 720x960
 *     (w x h) floats when the RGB image is portrait (w <= h; this is CLIP-Fields' `reshape(256, 192)` /
 *     `reshape(960, 720)`), 256x192 or 960x720 when it is landscape. Any other size is an error.
 *     `dw/w` and `dh/h` must agree within 2 % (swapped dw/dh are refused).
 *   - `K` (required): 9 finite numbers, the RGB intrinsics in COLUMN-major order
 *     `[fx,0,0, 0,fy,0, cx,cy,1]`. fx, fy > 0; 0 <= cx <= w; 0 <= cy <= h; the off-diagonal zeros must be
 *     zero and K[8] must be 1 (within 1e-6·max(1,fx)), so a row-major K is refused rather than misread.
 *   - `fps` (optional): finite number >= 0; 0 or absent -> `info.fps = null`.
 *   - `poses` (required, 1..maxEntries items): per frame `[qx,qy,qz,qw,px,py,pz]`, camera-to-world,
 *     ARKit camera axes (x right, y up, z backward), Hamilton quaternion. All finite; |q| within 1 % of
 *     1 (then normalised); |p| <= 100 km. The frame count is `poses.length`.
 *   - `initPose` (optional, same form, default identity): applied LAST:
 *     `world_from_camera = T(initPose) · T(pose)`, i.e. `X_world = T(initPose)·T(pose)·X_cam`.
 *   - `frameTimestamps` (optional): finite seconds, at least one per frame (extra ones are ignored);
 *     used as `timestamp_s` verbatim. Without it, `timestamp_s = i / fps` (or `i` when fps is unknown).
 *   - Other keys are ignored.
 * - `rgbd/N.jpg` (N = frame index, no padding): the colour image, JPEG (PNG bytes also accepted), w x h.
 * - `rgbd/N.depth`: LZFSE stream of dw*dh little-endian float32 metres, row-major (dh rows of dw).
 *   0 = no measurement; NaN / infinite / negative values are returned as 0.
 * - `rgbd/N.conf` (optional; absent on non-LiDAR devices): LZFSE stream of dw*dh uint8 in {0,1,2}.
 *   `info.hasConfidence` is true when any `rgbd/N.conf` exists; then every frame must have one.
 * - `labels/instances.json` + `labels/N.png` (optional, annotated captures): see common.ts
 *   `parseInstances`; `labels/N.png` is a dw x dh greyscale PNG (16-bit, or 8-bit widened) of instance
 *   ids per DEPTH pixel, 0 = none. `info.hasAnnotations` is true when `labels/instances.json` exists.
 * - Depth intrinsics: the RGB K with row 0 scaled by dw/w and row 1 by dh/h
 *   (fx_d = fx·dw/w, cx_d = cx·dw/w, fy_d = fy·dh/h, cy_d = cy·dh/h).
 *
 * Per-entry caps (zip bombs): JPEG <= w*h*4 + 1 MiB; LZFSE depth stream <= 1.05·dw*dh*4 + 64 KiB and it
 * must decode to exactly dw*dh*4 bytes; confidence likewise with dw*dh; label PNG <= 1.1·dw*dh*2 + 1 MiB;
 * metadata <= 256 MiB; instances.json <= 16 MiB; all <= opts.maxBytes.
 */
import * as path from 'node:path';
import { decodeLzfse } from './lzfse/decode';
import { ZipReader } from './zip';
import { decodePngGray16, decodeRgb, sniffImageMime } from './images';
import {
  type CaptureOpenOptions,
  MAX_IMAGE_SIDE,
  MAX_TRANSLATION_M,
  checkConfidence,
  checkFrameIndex,
  float32FromBytes,
  isFiniteNumber,
  mul4,
  parseInstances,
  parseJsonBytes,
  resolveLimits,
  rigidFromQuaternion,
  sanitizeDepth,
} from './common';
import {
  CaptureError,
  type CameraIntrinsics,
  type CaptureInfo,
  type CaptureSource,
  type FramePose,
  type InstanceInfo,
  type RgbImage,
} from './types';

export const R3D_METADATA = 'metadata';
export const R3D_INSTANCES = 'labels/instances.json';
const MIB = 1024 * 1024;

export interface R3dMetadata {
  rgbWidth: number;
  rgbHeight: number;
  /** null when `dw`/`dh` are absent (inferred later from the first depth frame). */
  depthWidth: number | null;
  depthHeight: number | null;
  /** RGB intrinsics (from the column-major `K`). */
  rgbIntrinsics: CameraIntrinsics;
  fps: number | null;
  /** Row-major 4x4 world_from_camera per frame, initPose already applied. */
  world_from_camera: Float64Array[];
  timestamps_s: number[];
}

function isIntIn(v: unknown, lo: number, hi: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

function parsePose7(v: unknown, what: string, file: string): Float64Array {
  const bad = (reason: string): CaptureError => new CaptureError('INVALID_INPUT', file, `${what} ${reason}`);
  if (!Array.isArray(v) || v.length !== 7) throw bad('must be [qx,qy,qz,qw,px,py,pz] (7 numbers)');
  if (!v.every(isFiniteNumber)) throw bad('has a NaN, infinite or non-numeric value');
  const [qx, qy, qz, qw, px, py, pz] = v as number[];
  const n = Math.hypot(qx!, qy!, qz!, qw!);
  if (!(Math.abs(n - 1) <= 0.01)) throw bad(`quaternion has norm ${n} (expected 1)`);
  if (Math.hypot(px!, py!, pz!) > MAX_TRANSLATION_M)
    throw bad(`position is farther than ${MAX_TRANSLATION_M} m`);
  return rigidFromQuaternion(qx! / n, qy! / n, qz! / n, qw! / n, px!, py!, pz!);
}

/** Validate a parsed `metadata` JSON value (see the format notes at the top of this file). */
export function parseR3dMetadata(
  json: unknown,
  file: string = R3D_METADATA,
  maxFrames = 200_000,
): R3dMetadata {
  const bad = (reason: string): CaptureError => new CaptureError('INVALID_INPUT', file, reason);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('must be a JSON object');
  const m = json as Record<string, unknown>;
  const w = m['w'];
  const h = m['h'];
  if (!isIntIn(w, 1, MAX_IMAGE_SIDE) || !isIntIn(h, 1, MAX_IMAGE_SIDE))
    throw bad(`"w" and "h" must be integers in 1..${MAX_IMAGE_SIDE}`);

  let depthWidth: number | null = null;
  let depthHeight: number | null = null;
  const dw = m['dw'];
  const dh = m['dh'];
  if (dw !== undefined || dh !== undefined) {
    if (!isIntIn(dw, 1, MAX_IMAGE_SIDE) || !isIntIn(dh, 1, MAX_IMAGE_SIDE))
      throw bad(`"dw" and "dh" must both be integers in 1..${MAX_IMAGE_SIDE}`);
    depthWidth = dw;
    depthHeight = dh;
    checkDepthAspect(w, h, dw, dh, file);
  }

  const K = m['K'];
  if (!Array.isArray(K) || K.length !== 9 || !K.every(isFiniteNumber))
    throw bad('"K" must be 9 finite numbers (column-major 3x3)');
  const k = K as number[];
  const fx = k[0]!;
  const fy = k[4]!;
  const cx = k[6]!;
  const cy = k[7]!;
  if (!(fx > 0) || !(fy > 0)) throw bad(`"K" has non-positive focal length (fx=${fx}, fy=${fy})`);
  const tol = 1e-6 * Math.max(1, fx);
  if (Math.abs(k[2]!) > tol || Math.abs(k[5]!) > tol)
    throw bad('"K" looks row-major: K[2] and K[5] must be 0 (expected [fx,0,0, 0,fy,0, cx,cy,1])');
  if (Math.abs(k[1]!) > tol || Math.abs(k[3]!) > tol) throw bad('"K" has non-zero skew/off-diagonal terms');
  if (Math.abs(k[8]! - 1) > 1e-6) throw bad('"K"[8] must be 1');
  if (!(cx >= 0 && cx <= w) || !(cy >= 0 && cy <= h))
    throw bad(`"K" principal point (${cx}, ${cy}) lies outside the ${w}x${h} image`);

  let fps: number | null = null;
  if (m['fps'] !== undefined && m['fps'] !== null) {
    if (!isFiniteNumber(m['fps']) || m['fps'] < 0 || m['fps'] > 10000)
      throw bad('"fps" must be a finite number in 0..10000');
    fps = m['fps'] > 0 ? m['fps'] : null;
  }

  const poses = m['poses'];
  if (!Array.isArray(poses) || poses.length === 0)
    throw bad('"poses" must be a non-empty array (one pose per frame)');
  if (poses.length > maxFrames)
    throw new CaptureError('TOO_LARGE', file, `${poses.length} frames; the limit is ${maxFrames}`);
  const init =
    m['initPose'] === undefined || m['initPose'] === null
      ? null
      : parsePose7(m['initPose'], '"initPose"', file);
  const world_from_camera = poses.map((p, i) => {
    const t = parsePose7(p, `"poses"[${i}]`, file);
    return init ? mul4(init, t) : t;
  });

  let timestamps_s: number[];
  const ts = m['frameTimestamps'];
  if (ts !== undefined && ts !== null) {
    if (!Array.isArray(ts) || ts.length < poses.length)
      throw bad(`"frameTimestamps" must be an array with at least ${poses.length} numbers`);
    if (!ts.every(isFiniteNumber)) throw bad('"frameTimestamps" has a NaN, infinite or non-numeric value');
    timestamps_s = (ts as number[]).slice(0, poses.length);
  } else {
    timestamps_s = poses.map((_, i) => (fps ? i / fps : i));
  }

  return {
    rgbWidth: w,
    rgbHeight: h,
    depthWidth,
    depthHeight,
    rgbIntrinsics: { width: w, height: h, fx, fy, cx, cy },
    fps,
    world_from_camera,
    timestamps_s,
  };
}

function checkDepthAspect(w: number, h: number, dw: number, dh: number, file: string): void {
  const sx = dw / w;
  const sy = dh / h;
  if (Math.abs(sx - sy) > 0.02 * Math.max(sx, sy)) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `depth size ${dw}x${dh} does not have the aspect of the ${w}x${h} RGB image (dw/dh swapped?)`,
    );
  }
}

/** Depth intrinsics: RGB K with row 0 scaled by dw/w and row 1 by dh/h. */
export function depthIntrinsicsFromRgb(
  rgb: CameraIntrinsics,
  depthWidth: number,
  depthHeight: number,
): CameraIntrinsics {
  const sx = depthWidth / rgb.width;
  const sy = depthHeight / rgb.height;
  return {
    width: depthWidth,
    height: depthHeight,
    fx: rgb.fx * sx,
    fy: rgb.fy * sy,
    cx: rgb.cx * sx,
    cy: rgb.cy * sy,
  };
}

/** Depth (w, h) from a decoded float32 byte count when `dw`/`dh` are absent; null when not a known size. */
export function inferDepthSize(
  decodedBytes: number,
  rgbWidth: number,
  rgbHeight: number,
): { width: number; height: number } | null {
  const portrait = rgbWidth <= rgbHeight;
  for (const [long, short] of [
    [256, 192],
    [960, 720],
  ] as const) {
    if (decodedBytes === long * short * 4)
      return portrait ? { width: short, height: long } : { width: long, height: short };
  }
  return null;
}

function lzfseCap(rawBytes: number): number {
  return Math.ceil(rawBytes * 1.05) + 65536;
}

class R3dCapture implements CaptureSource {
  readonly poses: readonly FramePose[];

  constructor(
    readonly info: CaptureInfo,
    poses: FramePose[],
    private readonly zip: ZipReader,
    private readonly maxBytes: number,
  ) {
    this.poses = poses;
  }

  private cap(n: number): number {
    return Math.min(n, this.maxBytes);
  }

  async readRgbEncoded(
    index: number,
  ): Promise<{ bytes: Uint8Array; mime: 'image/jpeg' | 'image/png'; file: string }> {
    const file = `rgbd/${index}.jpg`;
    checkFrameIndex(index, this.info.frameCount, file);
    const { width, height } = this.info.rgbIntrinsics;
    const bytes = await this.zip.read(file, this.cap(width * height * 4 + MIB));
    const mime = sniffImageMime(bytes);
    if (!mime)
      throw new CaptureError(
        'INVALID_INPUT',
        file,
        `is not a JPEG or PNG image (in ${path.basename(this.info.path)})`,
      );
    return { bytes, mime, file };
  }

  async readRgb(index: number): Promise<RgbImage> {
    const { bytes, file } = await this.readRgbEncoded(index);
    const { width, height } = this.info.rgbIntrinsics;
    return decodeRgb(bytes, file, { expectWidth: width, expectHeight: height, maxPixels: width * height });
  }

  private async readLzfse(file: string, rawBytes: number, what: string): Promise<Uint8Array> {
    const packed = await this.zip.read(file, this.cap(lzfseCap(rawBytes)));
    let raw: Uint8Array;
    try {
      raw = decodeLzfse(packed, { maxOutputBytes: rawBytes, expectedBytes: rawBytes });
    } catch (err) {
      throw new CaptureError('INVALID_INPUT', file, `corrupt LZFSE ${what}: ${(err as Error).message}`);
    }
    if (raw.length !== rawBytes) {
      const { width, height } = this.info.depthIntrinsics;
      throw new CaptureError(
        'INVALID_INPUT',
        file,
        `${what} decodes to ${raw.length} bytes; the depth size ${width}x${height} needs ${rawBytes}`,
      );
    }
    return raw;
  }

  async readDepth(index: number): Promise<Float32Array> {
    const file = `rgbd/${index}.depth`;
    checkFrameIndex(index, this.info.frameCount, file);
    const { width, height } = this.info.depthIntrinsics;
    const raw = await this.readLzfse(file, width * height * 4, 'depth');
    return sanitizeDepth(float32FromBytes(raw));
  }

  async readConfidence(index: number): Promise<Uint8Array | null> {
    const file = `rgbd/${index}.conf`;
    checkFrameIndex(index, this.info.frameCount, file);
    if (!this.info.hasConfidence) return null;
    const { width, height } = this.info.depthIntrinsics;
    return checkConfidence(await this.readLzfse(file, width * height, 'confidence'), file);
  }

  async readLabels(index: number): Promise<Uint16Array | null> {
    const file = `labels/${index}.png`;
    checkFrameIndex(index, this.info.frameCount, file);
    if (!this.info.hasAnnotations) return null;
    const { width, height } = this.info.depthIntrinsics;
    const bytes = await this.zip.read(file, this.cap(Math.ceil(width * height * 2 * 1.1) + MIB));
    return decodePngGray16(bytes, file, width, height).data;
  }

  close(): Promise<void> {
    return this.zip.close();
  }
}

/** Open a `.r3d` from an already opened ZIP (takes ownership: closes it on error). */
export async function openR3dFromZip(zip: ZipReader, opts: CaptureOpenOptions = {}): Promise<CaptureSource> {
  const { maxEntries, maxBytes } = resolveLimits(opts);
  try {
    const meta = parseR3dMetadata(
      parseJsonBytes(await zip.read(R3D_METADATA, Math.min(256 * MIB, maxBytes)), R3D_METADATA),
      R3D_METADATA,
      maxEntries,
    );
    const frameCount = meta.world_from_camera.length;
    let depthWidth = meta.depthWidth;
    let depthHeight = meta.depthHeight;
    if (depthWidth === null || depthHeight === null) {
      // Infer from the first depth frame present.
      let first = -1;
      for (let i = 0; i < frameCount; i++) {
        if (zip.has(`rgbd/${i}.depth`)) {
          first = i;
          break;
        }
      }
      if (first < 0)
        throw new CaptureError(
          'INVALID_INPUT',
          'rgbd/0.depth',
          `no rgbd/N.depth entries in ${path.basename(zip.file)}`,
        );
      const file = `rgbd/${first}.depth`;
      const maxRaw = 960 * 720 * 4;
      const packed = await zip.read(file, Math.min(maxBytes, lzfseCap(maxRaw)));
      let raw: Uint8Array;
      try {
        raw = decodeLzfse(packed, { maxOutputBytes: maxRaw });
      } catch (err) {
        throw new CaptureError('INVALID_INPUT', file, `corrupt LZFSE depth: ${(err as Error).message}`);
      }
      const size = inferDepthSize(raw.length, meta.rgbWidth, meta.rgbHeight);
      if (!size) {
        throw new CaptureError(
          'INVALID_INPUT',
          file,
          `depth decodes to ${raw.length} bytes, which is neither 256x192 nor 960x720 float32, and metadata has no "dw"/"dh"`,
        );
      }
      depthWidth = size.width;
      depthHeight = size.height;
      checkDepthAspect(meta.rgbWidth, meta.rgbHeight, depthWidth, depthHeight, file);
    }
    const names = zip.names();
    const hasConfidence = names.some((n) => /^rgbd\/[0-9]+\.conf$/.test(n));
    let instances: Map<number, InstanceInfo> | null = null;
    if (zip.has(R3D_INSTANCES)) {
      instances = parseInstances(
        parseJsonBytes(await zip.read(R3D_INSTANCES, Math.min(16 * MIB, maxBytes)), R3D_INSTANCES),
        R3D_INSTANCES,
      );
    }
    const info: CaptureInfo = {
      format: 'r3d',
      path: zip.file,
      frameCount,
      rgbIntrinsics: meta.rgbIntrinsics,
      depthIntrinsics: depthIntrinsicsFromRgb(meta.rgbIntrinsics, depthWidth, depthHeight),
      fps: meta.fps,
      hasConfidence,
      hasAnnotations: instances !== null,
      instances,
    };
    const poses: FramePose[] = meta.world_from_camera.map((world_from_camera, index) => ({
      index,
      timestamp_s: meta.timestamps_s[index]!,
      world_from_camera,
    }));
    return new R3dCapture(info, poses, zip, maxBytes);
  } catch (err) {
    await zip.close();
    // Errors about an entry (`metadata`, `rgbd/0.depth`) also name the archive they are in.
    const archive = path.basename(zip.file);
    if (err instanceof CaptureError && !err.message.includes(archive))
      throw new CaptureError(err.code, err.file, `${err.reason} (in ${archive})`);
    throw err;
  }
}

/** Open a Record3D `.r3d` file. */
export async function openR3d(file: string, opts: CaptureOpenOptions = {}): Promise<CaptureSource> {
  const { maxEntries } = resolveLimits(opts);
  const zip = await ZipReader.open(path.resolve(file), { maxEntries });
  return openR3dFromZip(zip, opts);
}
