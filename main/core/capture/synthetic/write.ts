/**
 * Write the synthetic apartment as a real Record3D `.r3d` capture (a ZIP):
 *
 *   metadata            JSON (deflate): w, h, dw, dh, K (column-major 3x3 of the RGB camera), fps, poses
 *                       ([qx,qy,qz,qw,px,py,pz], camera-to-world, ARKit axes, qw >= 0), initPose (identity),
 *                       frameTimestamps, plus a `synthetic` block (generator, seed, classes)
 *   rgbd/N.jpg          colour, w x h, JPEG quality 85 (stored)
 *   rgbd/N.depth        LZFSE stream of dh x dw little-endian float32 metres, 0 = no measurement (stored)
 *   rgbd/N.conf         LZFSE stream of dh x dw uint8 confidence 0/1/2 (stored)
 *   labels/N.png        16-bit greyscale PNG, dw x dh, ground-truth instance id per depth pixel, 0 = background
 *                       (walls, floor, ceiling) (stored)
 *   labels/instances.json  {"instances": {"<id>": {"class": "<name>"}}} (deflate)
 *
 * Deterministic: the same options give a byte-identical file (fixed ZIP timestamps, seeded noise).
 * The depth intrinsics are the RGB intrinsics scaled by dw/w and dh/h (rows 0 and 1), as Record3D readers
 * assume. Ray casting is heavy: call this from a job handler / worker, never on a host's main thread.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { fsyncDir, tempPathFor, writeJsonAtomic } from '../../util/atomic';
import { encodePngGray } from '../images';
import { encodeLzfse } from '../lzfse/encode';
import { CaptureError, type CameraIntrinsics } from '../types';
import { generatePath } from './path';
import { compileScene, renderRgb, renderTruth, simulateLidar } from './render';
import { Rng, seedFrom } from './rng';
import { SCENE_GENERATOR_VERSION, generateScene, instanceClassMap } from './scene';

/** Changes whenever the bytes written for a given seed/options change. */
export const SYNTHETIC_GENERATOR_VERSION = `synthetic-apartment/${SCENE_GENERATOR_VERSION}.1`;
export const DEMO_CAPTURE_FILE = 'demo-seed0-v1.r3d';
export const DEMO_FRAMES = 200;

/** Horizontal focal length as a fraction of the image width (iPhone wide camera, portrait: ~52 deg HFOV). */
const FOCAL_PER_WIDTH = 483 / 480;
const ZIP_MTIME = new Date(2024, 0, 1, 0, 0, 0);

export interface SyntheticR3dOptions {
  seed: number;
  /** Number of frames (default 200). */
  frames?: number;
  /** RGB size (default 480 x 640, portrait). */
  rgbWidth?: number;
  rgbHeight?: number;
  /** Depth size (default 192 x 256, what Record3D LiDAR captures and CLIP-Fields expect). */
  depthWidth?: number;
  depthHeight?: number;
  /** JPEG quality (default 85). */
  jpegQuality?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SyntheticR3dResult {
  frames: number;
  bytes: number;
  classes: string[];
}

/** The RGB and depth intrinsics the generator uses for these sizes. */
export function syntheticIntrinsics(
  rgbWidth: number,
  rgbHeight: number,
  depthWidth: number,
  depthHeight: number,
): { rgb: CameraIntrinsics; depth: CameraIntrinsics } {
  const f = FOCAL_PER_WIDTH * rgbWidth;
  const rgb: CameraIntrinsics = {
    width: rgbWidth,
    height: rgbHeight,
    fx: f,
    fy: f,
    cx: (rgbWidth - 1) / 2,
    cy: (rgbHeight - 1) / 2,
  };
  const sx = depthWidth / rgbWidth;
  const sy = depthHeight / rgbHeight;
  const depth: CameraIntrinsics = {
    width: depthWidth,
    height: depthHeight,
    fx: rgb.fx * sx,
    fy: rgb.fy * sy,
    cx: rgb.cx * sx,
    cy: rgb.cy * sy,
  };
  return { rgb, depth };
}

/** Rotation part of a row-major 4x4 -> unit quaternion [qx, qy, qz, qw] with qw >= 0. */
export function rotationToQuaternion(m: ArrayLike<number>): [number, number, number, number] {
  const m00 = m[0]!,
    m01 = m[1]!,
    m02 = m[2]!,
    m10 = m[4]!,
    m11 = m[5]!,
    m12 = m[6]!,
    m20 = m[8]!,
    m21 = m[9]!,
    m22 = m[10]!;
  const tr = m00 + m11 + m22;
  let qx: number, qy: number, qz: number, qw: number;
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    qw = 0.25 * s;
    qx = (m21 - m12) / s;
    qy = (m02 - m20) / s;
    qz = (m10 - m01) / s;
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    qw = (m21 - m12) / s;
    qx = 0.25 * s;
    qy = (m01 + m10) / s;
    qz = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    qw = (m02 - m20) / s;
    qx = (m01 + m10) / s;
    qy = 0.25 * s;
    qz = (m12 + m21) / s;
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    qw = (m10 - m01) / s;
    qx = (m02 + m20) / s;
    qy = (m12 + m21) / s;
    qz = 0.25 * s;
  }
  const l = Math.hypot(qx, qy, qz, qw);
  const sgn = qw < 0 ? -1 : 1;
  return [(sgn * qx) / l, (sgn * qy) / l, (sgn * qz) / l, (sgn * qw) / l];
}

/** Row-major 4x4 camera-to-world from a Record3D pose [qx, qy, qz, qw, px, py, pz]. */
export function poseToMatrix(p: readonly number[]): Float64Array {
  const [x, y, z, w, px, py, pz] = p as [number, number, number, number, number, number, number];
  const m = new Float64Array(16);
  m[0] = 1 - 2 * (y * y + z * z);
  m[1] = 2 * (x * y - z * w);
  m[2] = 2 * (x * z + y * w);
  m[3] = px;
  m[4] = 2 * (x * y + z * w);
  m[5] = 1 - 2 * (x * x + z * z);
  m[6] = 2 * (y * z - x * w);
  m[7] = py;
  m[8] = 2 * (x * z - y * w);
  m[9] = 2 * (y * z + x * w);
  m[10] = 1 - 2 * (x * x + y * y);
  m[11] = pz;
  m[15] = 1;
  return m;
}

function checkInt(file: string, name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi)
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `${name} must be an integer in ${lo}..${hi}, got ${String(v)}`,
    );
  return v;
}

function float32Le(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** Render every frame and write the `.r3d` atomically (temp file in the same folder, fsync, rename). */
export async function writeSyntheticR3d(
  outPath: string,
  opts: SyntheticR3dOptions,
): Promise<SyntheticR3dResult> {
  const file = path.resolve(outPath);
  if (!Number.isFinite(opts.seed))
    throw new CaptureError('INVALID_INPUT', file, `seed must be a finite number, got ${String(opts.seed)}`);
  const frames = checkInt(file, 'frames', opts.frames ?? DEMO_FRAMES, 1, 20_000);
  const w = checkInt(file, 'rgbWidth', opts.rgbWidth ?? 480, 8, 4096);
  const h = checkInt(file, 'rgbHeight', opts.rgbHeight ?? 640, 8, 4096);
  const dw = checkInt(file, 'depthWidth', opts.depthWidth ?? 192, 4, 2048);
  const dh = checkInt(file, 'depthHeight', opts.depthHeight ?? 256, 4, 2048);
  const quality = checkInt(file, 'jpegQuality', opts.jpegQuality ?? 85, 1, 100);
  opts.signal?.throwIfAborted();

  const scene = generateScene(opts.seed);
  const cs = compileScene(scene);
  const camPath = generatePath(scene, { frames });
  const K = syntheticIntrinsics(w, h, dw, dh);
  // Store quaternions, and render with the matrices rebuilt from them, so readers see exactly our geometry.
  const poses = camPath.poses.map((m) => {
    const q = rotationToQuaternion(m);
    return [q[0], q[1], q[2], q[3], m[3]!, m[7]!, m[11]!];
  });
  const metadata = {
    w,
    h,
    dw,
    dh,
    K: [K.rgb.fx, 0, 0, 0, K.rgb.fy, 0, K.rgb.cx, K.rgb.cy, 1],
    fps: camPath.fps,
    cameraType: 1,
    poses,
    initPose: [0, 0, 0, 1, 0, 0, 0],
    frameTimestamps: camPath.timestamps_s,
    synthetic: { generator: SYNTHETIC_GENERATOR_VERSION, seed: opts.seed, classes: scene.classes },
  };
  const instances: Record<string, { class: string }> = {};
  for (const [id, cls] of instanceClassMap(scene)) instances[String(id)] = { class: cls };

  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  const zip = new yazl.ZipFile();
  const ws = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  const written = new Promise<void>((resolve, reject) => {
    ws.on('close', resolve);
    ws.on('error', reject);
    zip.outputStream.on('error', reject);
  });
  written.catch(() => undefined);
  zip.outputStream.pipe(ws);
  const entry = (name: string, data: Uint8Array, compress: boolean): void => {
    zip.addBuffer(Buffer.from(data.buffer, data.byteOffset, data.byteLength), name, {
      mtime: ZIP_MTIME,
      forceDosTimestamp: true,
      compress,
    });
  };
  try {
    entry('metadata', Buffer.from(JSON.stringify(metadata)), true);
    for (let f = 0; f < frames; f++) {
      opts.signal?.throwIfAborted();
      const pose = poseToMatrix(poses[f]!);
      const rgb = renderRgb(cs, pose, K.rgb, { noiseSeed: seedFrom(opts.seed, f, 1) });
      // JPEG encoding runs on libuv's pool while this thread renders the depth
      const jpeg = sharp(rgb, { raw: { width: w, height: h, channels: 3 } })
        .jpeg({ quality, chromaSubsampling: '4:2:0' })
        .toBuffer();
      jpeg.catch(() => undefined);
      const truth = renderTruth(cs, pose, K.depth);
      const lidar = simulateLidar(truth, dw, dh, new Rng(seedFrom(opts.seed, f, 2)));
      const depthZ = encodeLzfse(float32Le(lidar.depth_m));
      const confZ = encodeLzfse(lidar.confidence);
      const labels = encodePngGray(dw, dh, truth.ids);
      entry(`rgbd/${f}.jpg`, await jpeg, false);
      entry(`rgbd/${f}.depth`, depthZ, false);
      entry(`rgbd/${f}.conf`, confZ, false);
      entry(`labels/${f}.png`, labels, false);
      opts.onProgress?.(f + 1, frames);
    }
    entry('labels/instances.json', Buffer.from(JSON.stringify({ instances })), true);
    zip.end();
    await written;
    const fh = await fs.open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
    await fsyncDir(path.dirname(file));
  } catch (err) {
    zip.outputStream.unpipe(ws);
    ws.destroy();
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if (err instanceof CaptureError || (err instanceof Error && err.name === 'AbortError')) throw err;
    throw new CaptureError(
      'IO',
      file,
      `cannot write the synthetic capture: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const st = await fs.stat(file);
  return { frames, bytes: st.size, classes: scene.classes.slice() };
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const rs = createReadStream(file);
    rs.on('data', (chunk) => hash.update(chunk));
    rs.on('end', resolve);
    rs.on('error', reject);
  });
  return hash.digest('hex');
}

interface CacheSidecar {
  generator: string;
  seed: number;
  frames: number;
  rgbWidth: number;
  rgbHeight: number;
  bytes: number;
  sha256: string;
}

export interface CachedCaptureSpec {
  seed: number;
  frames: number;
  rgbWidth: number;
  rgbHeight: number;
  /** File name inside the cache folder; the sidecar is the same name with `.json` instead of `.r3d`. */
  fileName: string;
}

/**
 * A synthetic capture generated into `cacheDir` on first use and reused after, as long as its sidecar JSON
 * names this generator version and the same spec, and the file's size and sha256 still match.
 */
export async function ensureCachedCapture(
  cacheDir: string,
  spec: CachedCaptureSpec,
  opts: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  const dir = path.resolve(cacheDir);
  const file = path.join(dir, spec.fileName);
  const sidecarPath = path.join(dir, spec.fileName.replace(/\.r3d$/i, '') + '.json');
  try {
    const sc = JSON.parse(await fs.readFile(sidecarPath, 'utf8')) as Partial<CacheSidecar>;
    const st = await fs.stat(file);
    if (
      sc.generator === SYNTHETIC_GENERATOR_VERSION &&
      sc.seed === spec.seed &&
      sc.frames === spec.frames &&
      sc.rgbWidth === spec.rgbWidth &&
      sc.rgbHeight === spec.rgbHeight &&
      sc.bytes === st.size &&
      typeof sc.sha256 === 'string' &&
      (await sha256File(file)) === sc.sha256
    ) {
      return file;
    }
  } catch {
    // missing or unreadable cache entry: regenerate below
  }
  await fs.mkdir(dir, { recursive: true });
  const r = await writeSyntheticR3d(file, {
    seed: spec.seed,
    frames: spec.frames,
    rgbWidth: spec.rgbWidth,
    rgbHeight: spec.rgbHeight,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const sidecar: CacheSidecar = {
    generator: SYNTHETIC_GENERATOR_VERSION,
    seed: spec.seed,
    frames: r.frames,
    rgbWidth: spec.rgbWidth,
    rgbHeight: spec.rgbHeight,
    bytes: r.bytes,
    sha256: await sha256File(file),
  };
  await writeJsonAtomic(sidecarPath, sidecar);
  return file;
}

/**
 * The bundled demo capture (seed 0, 200 frames, 480 x 640) in `cacheDir/demo-seed0-v1.r3d`, generated on first
 * use (about a minute of ray casting on two cores: run it inside a job) and reused after.
 */
export function ensureDemoCapture(
  cacheDir: string,
  opts: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<string> {
  return ensureCachedCapture(
    cacheDir,
    { seed: 0, frames: DEMO_FRAMES, rgbWidth: 480, rgbHeight: 640, fileName: DEMO_CAPTURE_FILE },
    opts,
  );
}

/** CLI entry (`clip-fields demo-scene`): write the capture for `seed` to `out`. */
export async function demoSceneMain(args: {
  seed: number;
  out: string;
  frames?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}): Promise<SyntheticR3dResult & { out: string }> {
  const out = path.resolve(args.out);
  const r = await writeSyntheticR3d(out, {
    seed: args.seed,
    ...(args.frames !== undefined ? { frames: args.frames } : {}),
    ...(args.onProgress ? { onProgress: args.onProgress } : {}),
    ...(args.signal ? { signal: args.signal } : {}),
  });
  return { ...r, out };
}
