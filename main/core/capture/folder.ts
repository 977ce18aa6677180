/**
 * Plain-folder capture reader.
 *
 * ## Format
 * ```
 * <dir>/intrinsics.json
 * <dir>/poses.json
 * <dir>/color/N.jpg | N.jpeg | N.png         colour image, color.width x color.height
 * <dir>/depth/N.png | N.npy                  depth at depth.width x depth.height
 * <dir>/confidence/N.png                     optional, 8-bit greyscale 0/1/2 at the depth size
 * <dir>/labels/instances.json + labels/N.png optional ground truth (see common.ts parseInstances;
 *                                            N.png = 16-bit greyscale instance id per depth pixel, 0 = none)
 * ```
 * N is the frame index, with or without zero padding (`7.png`, `000007.png`); two files for the same
 * index in one folder (e.g. `7.png` and `07.png`, or `7.png` and `7.npy`) are refused. Other files are ignored.
 *
 * - `intrinsics.json`: `{"color": {"width","height","fx","fy","cx","cy"},
 *   "depth": {"width","height","fx","fy","cx","cy","scale_m"}}`. Sizes are integers 1..16384, focal lengths
 *   finite > 0, the principal point inside the image. `depth` may be omitted when depth is registered to
 *   colour at the same size (then depth = color intrinsics). `scale_m` = metres per stored unit, finite,
 *   0 < scale_m <= 1, default 0.001. Other keys are ignored.
 * - `poses.json`: `{"camera_convention": "opencv" | "arkit", "fps"?: number,
 *   "frames": [{"index": 0, "timestamp_s": 0.0, "world_from_camera": [[r0],[r1],[r2],[r3]]}, ...]}`.
 *   `world_from_camera` is 4x4 ROW-major camera-to-world, rigid (orthonormal rotation, det +1, last row
 *   0,0,0,1, all finite). The indices must be exactly 0..n-1 (any order); n is the frame count.
 *   `timestamp_s` is optional (default: the index / fps, or the index). `camera_convention` is required:
 *   OpenCV axes (x right, y down, z forward) are converted to ARKit axes on read:
 *   `world_from_camera_arkit = world_from_camera_opencv · diag(1,-1,-1,1)`. Other keys are ignored.
 * - `depth/N.png`: 16-bit greyscale, depth_m = value × scale_m, 0 = invalid.
 *   `depth/N.npy`: shape (height, width), `<f4` or `<f8` metres (scale_m NOT applied), or `<u2` units × scale_m.
 *   NaN / infinite / negative depths are returned as 0.
 *
 * Errors name the absolute path of the offending file. A missing per-frame file is a NOT_FOUND error when
 * that frame is read (the folder still opens).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodePngGray16, decodePngGray8, decodeRgb, sniffImageMime } from './images';
import { parseNpy } from './npy';
import {
  type CaptureOpenOptions,
  MAX_IMAGE_SIDE,
  checkConfidence,
  checkFrameIndex,
  isFiniteNumber,
  opencvToArkit,
  parseInstances,
  parseJsonBytes,
  resolveLimits,
  rigidProblem,
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

const MIB = 1024 * 1024;

export interface FolderIntrinsics {
  color: CameraIntrinsics;
  depth: CameraIntrinsics;
  /** Metres per stored depth unit (PNG / uint16 npy). */
  depthScale_m: number;
}

export interface FolderPoses {
  convention: 'opencv' | 'arkit';
  fps: number | null;
  /** Frame order (poses[i].index === i); world_from_camera already in ARKit camera axes. */
  poses: FramePose[];
}

function parseCamera(v: unknown, key: string, file: string): CameraIntrinsics {
  const bad = (reason: string): CaptureError => new CaptureError('INVALID_INPUT', file, `"${key}" ${reason}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad('must be an object {width,height,fx,fy,cx,cy}');
  const o = v as Record<string, unknown>;
  const width = o['width'];
  const height = o['height'];
  if (!(typeof width === 'number' && Number.isInteger(width) && width >= 1 && width <= MAX_IMAGE_SIDE))
    throw bad(`"width" must be an integer in 1..${MAX_IMAGE_SIDE}`);
  if (!(typeof height === 'number' && Number.isInteger(height) && height >= 1 && height <= MAX_IMAGE_SIDE))
    throw bad(`"height" must be an integer in 1..${MAX_IMAGE_SIDE}`);
  const nums: Record<'fx' | 'fy' | 'cx' | 'cy', number> = { fx: 0, fy: 0, cx: 0, cy: 0 };
  for (const k of ['fx', 'fy', 'cx', 'cy'] as const) {
    const x = o[k];
    if (!isFiniteNumber(x)) throw bad(`"${k}" must be a finite number`);
    nums[k] = x;
  }
  if (!(nums.fx > 0 && nums.fy > 0)) throw bad('focal lengths must be > 0');
  if (!(nums.cx >= 0 && nums.cx <= width && nums.cy >= 0 && nums.cy <= height))
    throw bad(`principal point (${nums.cx}, ${nums.cy}) lies outside the ${width}x${height} image`);
  return { width, height, ...nums };
}

/** Validate a parsed `intrinsics.json` value. */
export function parseFolderIntrinsics(json: unknown, file = 'intrinsics.json'): FolderIntrinsics {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new CaptureError('INVALID_INPUT', file, 'must be a JSON object');
  const o = json as Record<string, unknown>;
  const color = parseCamera(o['color'], 'color', file);
  if (o['depth'] === undefined || o['depth'] === null)
    return { color, depth: { ...color }, depthScale_m: 0.001 };
  const depth = parseCamera(o['depth'], 'depth', file);
  const scale = (o['depth'] as Record<string, unknown>)['scale_m'];
  let depthScale_m = 0.001;
  if (scale !== undefined && scale !== null) {
    if (!isFiniteNumber(scale) || !(scale > 0 && scale <= 1))
      throw new CaptureError('INVALID_INPUT', file, '"depth"."scale_m" must be a finite number in (0, 1]');
    depthScale_m = scale;
  }
  return { color, depth, depthScale_m };
}

/** Validate a parsed `poses.json` value. */
export function parseFolderPoses(json: unknown, file = 'poses.json', maxFrames = 200_000): FolderPoses {
  const bad = (reason: string): CaptureError => new CaptureError('INVALID_INPUT', file, reason);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('must be a JSON object');
  const o = json as Record<string, unknown>;
  const convention = o['camera_convention'];
  if (convention !== 'opencv' && convention !== 'arkit')
    throw bad('"camera_convention" must be "opencv" or "arkit"');
  let fps: number | null = null;
  if (o['fps'] !== undefined && o['fps'] !== null) {
    if (!isFiniteNumber(o['fps']) || o['fps'] < 0 || o['fps'] > 10000)
      throw bad('"fps" must be a finite number in 0..10000');
    fps = o['fps'] > 0 ? o['fps'] : null;
  }
  const frames = o['frames'];
  if (!Array.isArray(frames) || frames.length === 0) throw bad('"frames" must be a non-empty array');
  if (frames.length > maxFrames)
    throw new CaptureError('TOO_LARGE', file, `${frames.length} frames; the limit is ${maxFrames}`);
  const poses: (FramePose | undefined)[] = new Array<FramePose | undefined>(frames.length);
  frames.forEach((f: unknown, k: number) => {
    const where = `"frames"[${k}]`;
    if (typeof f !== 'object' || f === null || Array.isArray(f)) throw bad(`${where} must be an object`);
    const fr = f as Record<string, unknown>;
    const index = fr['index'];
    if (!(typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < frames.length)) {
      throw bad(`${where}."index" must be an integer in 0..${frames.length - 1} (indices must be 0..n-1)`);
    }
    if (poses[index]) throw bad(`${where}: frame index ${index} appears twice`);
    let timestamp_s: number;
    const ts = fr['timestamp_s'];
    if (ts === undefined || ts === null) timestamp_s = fps ? index / fps : index;
    else if (isFiniteNumber(ts)) timestamp_s = ts;
    else throw bad(`${where}."timestamp_s" must be a finite number`);
    const rows = fr['world_from_camera'];
    if (!Array.isArray(rows) || rows.length !== 4 || !rows.every((r) => Array.isArray(r) && r.length === 4)) {
      throw bad(`${where}."world_from_camera" must be a 4x4 array of rows`);
    }
    const flat = (rows as unknown[][]).flat();
    if (!flat.every(isFiniteNumber))
      throw bad(`${where}."world_from_camera" has a NaN, infinite or non-numeric entry`);
    const m = Float64Array.from(flat as number[]);
    const problem = rigidProblem(m);
    if (problem) throw bad(`${where}."world_from_camera" is not a rigid transform: ${problem}`);
    poses[index] = { index, timestamp_s, world_from_camera: convention === 'opencv' ? opencvToArkit(m) : m };
  });
  return { convention, fps, poses: poses as FramePose[] };
}

type IndexedFiles = Map<number, string>;

async function listIndexed(dir: string, exts: RegExp, maxFiles: number): Promise<IndexedFiles | null> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new CaptureError('INVALID_INPUT', dir, 'is not a folder');
    throw new CaptureError('IO', dir, `cannot list folder (${code ?? (err as Error).message})`);
  }
  if (names.length > maxFiles)
    throw new CaptureError('TOO_LARGE', dir, `holds ${names.length} files; the limit is ${maxFiles}`);
  const out: IndexedFiles = new Map();
  for (const name of names) {
    const m = /^([0-9]{1,9})\.([A-Za-z]+)$/.exec(name);
    if (!m || !exts.test(m[2]!)) continue;
    const index = Number(m[1]);
    const prev = out.get(index);
    if (prev !== undefined)
      throw new CaptureError(
        'INVALID_INPUT',
        path.join(dir, name),
        `frame ${index} also has ${prev} in the same folder`,
      );
    out.set(index, name);
  }
  return out;
}

async function readFileCapped(file: string, maxBytes: number): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CaptureError('NOT_FOUND', file, 'file is missing');
    throw new CaptureError('IO', file, `cannot open (${code ?? (err as Error).message})`);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new CaptureError('INVALID_INPUT', file, 'is not a regular file');
    if (st.size > maxBytes)
      throw new CaptureError('TOO_LARGE', file, `is ${st.size} bytes; at most ${maxBytes} expected`);
    const buf = new Uint8Array(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await handle.read(buf, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    if (off !== st.size) throw new CaptureError('IO', file, 'file shrank while being read');
    return buf;
  } catch (err) {
    if (err instanceof CaptureError) throw err;
    throw new CaptureError('IO', file, `read failed (${(err as Error).message})`);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

class FolderCapture implements CaptureSource {
  private closed = false;

  constructor(
    readonly info: CaptureInfo,
    readonly poses: readonly FramePose[],
    private readonly depthScale_m: number,
    private readonly files: {
      color: IndexedFiles;
      depth: IndexedFiles;
      confidence: IndexedFiles | null;
      labels: IndexedFiles | null;
    },
    private readonly maxBytes: number,
  ) {}

  private locate(
    kind: 'color' | 'depth' | 'confidence' | 'labels',
    index: number,
    defaultExt: string,
  ): string {
    const root = this.info.path;
    const canonical = path.join(root, kind, `${index}.${defaultExt}`);
    checkFrameIndex(index, this.info.frameCount, canonical);
    if (this.closed) throw new CaptureError('IO', canonical, 'capture is closed');
    const name = this.files[kind]?.get(index);
    if (name === undefined)
      throw new CaptureError(
        'NOT_FOUND',
        canonical,
        `frame ${index} has no ${kind} file in ${path.join(root, kind)}`,
      );
    return path.join(root, kind, name);
  }

  async readRgbEncoded(
    index: number,
  ): Promise<{ bytes: Uint8Array; mime: 'image/jpeg' | 'image/png'; file: string }> {
    const file = this.locate('color', index, 'jpg');
    const { width, height } = this.info.rgbIntrinsics;
    const bytes = await readFileCapped(file, Math.min(this.maxBytes, width * height * 4 + MIB));
    const mime = sniffImageMime(bytes);
    if (!mime) throw new CaptureError('INVALID_INPUT', file, 'is not a JPEG or PNG image');
    return { bytes, mime, file };
  }

  async readRgb(index: number): Promise<RgbImage> {
    const { bytes, file } = await this.readRgbEncoded(index);
    const { width, height } = this.info.rgbIntrinsics;
    return decodeRgb(bytes, file, { expectWidth: width, expectHeight: height, maxPixels: width * height });
  }

  async readDepth(index: number): Promise<Float32Array> {
    const file = this.locate('depth', index, 'png');
    const { width, height } = this.info.depthIntrinsics;
    const n = width * height;
    if (file.toLowerCase().endsWith('.npy')) {
      const bytes = await readFileCapped(file, Math.min(this.maxBytes, n * 8 + 65536));
      const arr = parseNpy(bytes, file, { maxElements: n });
      if (arr.shape.length !== 2 || arr.shape[0] !== height || arr.shape[1] !== width) {
        throw new CaptureError(
          'INVALID_INPUT',
          file,
          `array shape (${arr.shape.join(', ')}) but the depth size is ${width}x${height}, expected shape (${height}, ${width})`,
        );
      }
      let out: Float32Array;
      if (arr.dtype === '<f4') out = arr.data as Float32Array;
      else if (arr.dtype === '<f8') out = Float32Array.from(arr.data);
      else if (arr.dtype === '<u2') {
        out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = arr.data[i]! * this.depthScale_m;
      } else
        throw new CaptureError(
          'INVALID_INPUT',
          file,
          `depth dtype ${arr.dtype} is not supported (<f4, <f8 metres or <u2 units)`,
        );
      return sanitizeDepth(out);
    }
    const bytes = await readFileCapped(file, Math.min(this.maxBytes, Math.ceil(n * 2 * 1.1) + MIB));
    const png = decodePngGray16(bytes, file, width, height);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = png.data[i]! * this.depthScale_m;
    return out;
  }

  async readConfidence(index: number): Promise<Uint8Array | null> {
    if (!this.info.hasConfidence) {
      checkFrameIndex(index, this.info.frameCount, path.join(this.info.path, 'confidence', `${index}.png`));
      return null;
    }
    const file = this.locate('confidence', index, 'png');
    const { width, height } = this.info.depthIntrinsics;
    const bytes = await readFileCapped(file, Math.min(this.maxBytes, Math.ceil(width * height * 1.1) + MIB));
    return checkConfidence(decodePngGray8(bytes, file, width, height).data, file);
  }

  async readLabels(index: number): Promise<Uint16Array | null> {
    if (!this.info.hasAnnotations) {
      checkFrameIndex(index, this.info.frameCount, path.join(this.info.path, 'labels', `${index}.png`));
      return null;
    }
    const file = this.locate('labels', index, 'png');
    const { width, height } = this.info.depthIntrinsics;
    const bytes = await readFileCapped(
      file,
      Math.min(this.maxBytes, Math.ceil(width * height * 2 * 1.1) + MIB),
    );
    return decodePngGray16(bytes, file, width, height).data;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Open a plain-folder capture (see the format notes at the top of this file). */
export async function openFolder(dir: string, opts: CaptureOpenOptions = {}): Promise<CaptureSource> {
  const { maxEntries, maxBytes } = resolveLimits(opts);
  const root = path.resolve(dir);
  const intrinsicsFile = path.join(root, 'intrinsics.json');
  const posesFile = path.join(root, 'poses.json');
  const intr = parseFolderIntrinsics(
    parseJsonBytes(await readFileCapped(intrinsicsFile, Math.min(maxBytes, 16 * MIB)), intrinsicsFile),
    intrinsicsFile,
  );
  const posed = parseFolderPoses(
    parseJsonBytes(await readFileCapped(posesFile, Math.min(maxBytes, 256 * MIB)), posesFile),
    posesFile,
    maxEntries,
  );
  const maxFiles = maxEntries + 10_000;
  const color = await listIndexed(path.join(root, 'color'), /^(jpg|jpeg|png)$/i, maxFiles);
  if (!color)
    throw new CaptureError(
      'NOT_FOUND',
      path.join(root, 'color'),
      'folder is missing (colour images color/N.jpg|png)',
    );
  const depth = await listIndexed(path.join(root, 'depth'), /^(png|npy)$/i, maxFiles);
  if (!depth)
    throw new CaptureError(
      'NOT_FOUND',
      path.join(root, 'depth'),
      'folder is missing (depth images depth/N.png|npy)',
    );
  const confidenceList = await listIndexed(path.join(root, 'confidence'), /^png$/i, maxFiles);
  const confidence = confidenceList && confidenceList.size > 0 ? confidenceList : null;
  let labels: IndexedFiles | null = null;
  let instances: Map<number, InstanceInfo> | null = null;
  const instancesFile = path.join(root, 'labels', 'instances.json');
  let instancesBytes: Uint8Array | null = null;
  try {
    instancesBytes = await readFileCapped(instancesFile, Math.min(maxBytes, 16 * MIB));
  } catch (err) {
    if (!(err instanceof CaptureError && err.code === 'NOT_FOUND')) throw err;
  }
  if (instancesBytes) {
    instances = parseInstances(parseJsonBytes(instancesBytes, instancesFile), instancesFile);
    labels = (await listIndexed(path.join(root, 'labels'), /^png$/i, maxFiles)) ?? new Map();
  }
  const info: CaptureInfo = {
    format: 'folder',
    path: root,
    frameCount: posed.poses.length,
    rgbIntrinsics: intr.color,
    depthIntrinsics: intr.depth,
    fps: posed.fps,
    hasConfidence: confidence !== null,
    hasAnnotations: instances !== null,
    instances,
  };
  return new FolderCapture(
    info,
    posed.poses,
    intr.depthScale_m,
    { color, depth, confidence, labels },
    maxBytes,
  );
}
