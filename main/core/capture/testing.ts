/**
 * Tiny valid captures for tests (used by other modules' tests too), and `backprojectFrame`.
 *
 * The scene: a flat wall at world z = WALL_Z_M (-3 m), facing +z. Frame i's camera sits at
 * (0.1·i, 0.05·i, 0) m and is yawed by 0.05·i rad about world +y; ARKit camera axes (looks along -z).
 * Every depth pixel sees the wall (depth quantised to whole millimetres so that the `.r3d` float32 and the
 * folder's uint16-mm PNG hold the same values), except the first depth row, which is 0 (invalid).
 * Confidence: 0 where depth is 0, 1 on the second row, 2 elsewhere. Ground-truth labels (annotations):
 * instance 1 ("chair") where the wall point has world x < 0, instance 2 ("table") where x >= 0,
 * 0 where depth is invalid — so labels are consistent across frames in world space.
 */
import { promises as fs } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import * as path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { writeFileAtomic } from '../util/atomic';
import { encodeLzfse } from './lzfse/encode';
import { encodePngGray } from './images';
import { encodeNpy } from './npy';
import { mul4, rigidFromQuaternion } from './common';
import type { CameraIntrinsics, CaptureSource } from './types';

export const WALL_Z_M = -3;

export interface TinyCaptureOptions {
  /** Number of frames (default 4). */
  frames?: number;
  /** RGB size (default 64 x 48). */
  rgbWidth?: number;
  rgbHeight?: number;
  /** Depth size (default 32 x 24). Must have the RGB aspect. */
  depthWidth?: number;
  depthHeight?: number;
  /** Write confidence maps (default true). */
  confidence?: boolean;
  /** Write `labels/N.png` + `labels/instances.json` (default false). */
  annotations?: boolean;
  /** fps in the metadata (default 30). */
  fps?: number;
  /** .r3d: leave `dw`/`dh` out of the metadata (the reader then infers the size; use 192x256 or 720x960). */
  omitDepthSize?: boolean;
  /** .r3d: deflate the rgbd entries too (default: stored, like Record3D). `metadata` is always deflated. */
  deflateRgbd?: boolean;
  /** .r3d: a non-identity initPose `[qx,qy,qz,qw,px,py,pz]` (default identity). */
  initPose?: number[];
  /** .r3d: change the metadata object before it is written. */
  mutateMetadata?: (metadata: Record<string, unknown>) => void;
  /** .r3d: replace entries (bytes) or drop them (null) before writing. */
  replaceEntries?: Record<string, Uint8Array | null>;
  /** folder: pose convention in poses.json (default 'opencv'). */
  convention?: 'opencv' | 'arkit';
  /** folder: depth as 16-bit mm PNG (default) or float32 metres `.npy`. */
  depthFormat?: 'png' | 'npy';
  /** folder: colour as JPEG (default) or PNG. */
  colorFormat?: 'jpg' | 'png';
  /** folder: zero-pad frame numbers in file names to this many digits (default 0 = none). */
  zeroPad?: number;
}

export interface TinyCaptureTruth {
  frameCount: number;
  rgbIntrinsics: CameraIntrinsics;
  depthIntrinsics: CameraIntrinsics;
  /** Row-major 4x4, ARKit camera axes, initPose applied. */
  world_from_camera: Float64Array[];
  timestamps_s: number[];
  depth_m: Float32Array[];
  confidence: Uint8Array[];
  labels: Uint16Array[];
  instances: Record<string, { class: string }>;
}

function frameGeometry(i: number): { q: [number, number, number, number]; p: [number, number, number] } {
  const yaw = 0.05 * i;
  return { q: [0, Math.sin(yaw / 2), 0, Math.cos(yaw / 2)], p: [0.1 * i, 0.05 * i, 0] };
}

/** Build the scene's ground truth for the given options. */
export function tinyCaptureTruth(opts: TinyCaptureOptions = {}): TinyCaptureTruth {
  const frames = opts.frames ?? 4;
  const rw = opts.rgbWidth ?? 64;
  const rh = opts.rgbHeight ?? 48;
  const dw = opts.depthWidth ?? 32;
  const dh = opts.depthHeight ?? 24;
  const rgbIntrinsics: CameraIntrinsics = {
    width: rw,
    height: rh,
    fx: rw * 0.9,
    fy: rw * 0.9,
    cx: rw / 2 - 0.5,
    cy: rh / 2 - 0.5,
  };
  const sx = dw / rw;
  const sy = dh / rh;
  const depthIntrinsics: CameraIntrinsics = {
    width: dw,
    height: dh,
    fx: rgbIntrinsics.fx * sx,
    fy: rgbIntrinsics.fy * sy,
    cx: rgbIntrinsics.cx * sx,
    cy: rgbIntrinsics.cy * sy,
  };
  const init = opts.initPose
    ? rigidFromQuaternion(...(opts.initPose as [number, number, number, number, number, number, number]))
    : null;
  const truth: TinyCaptureTruth = {
    frameCount: frames,
    rgbIntrinsics,
    depthIntrinsics,
    world_from_camera: [],
    timestamps_s: [],
    depth_m: [],
    confidence: [],
    labels: [],
    instances: { '1': { class: 'chair' }, '2': { class: 'table' } },
  };
  const fps = opts.fps ?? 30;
  for (let i = 0; i < frames; i++) {
    const { q, p } = frameGeometry(i);
    const pose = rigidFromQuaternion(q[0], q[1], q[2], q[3], p[0], p[1], p[2]);
    const T = init ? mul4(init, pose) : pose;
    truth.world_from_camera.push(T);
    truth.timestamps_s.push(i / fps);
    const depth = new Float32Array(dw * dh);
    const conf = new Uint8Array(dw * dh);
    const labels = new Uint16Array(dw * dh);
    const { fx, fy, cx, cy } = depthIntrinsics;
    for (let v = 0; v < dh; v++) {
      for (let u = 0; u < dw; u++) {
        const k = v * dw + u;
        if (v === 0) continue; // invalid row
        // Ray (ARKit camera axes) for unit depth, to world.
        const dx = (u - cx) / fx;
        const dy = -(v - cy) / fy;
        const dz = -1;
        const wz = T[8]! * dx + T[9]! * dy + T[10]! * dz;
        const z = (WALL_Z_M - T[11]!) / wz;
        const z_mm = Math.round(z * 1000);
        if (!(z_mm > 0 && z_mm < 65535)) continue;
        const z_m = z_mm / 1000;
        depth[k] = z_m;
        conf[k] = v === 1 ? 1 : 2;
        const wx = T[0]! * dx * z_m + T[1]! * dy * z_m + T[2]! * dz * z_m + T[3]!;
        labels[k] = wx < 0 ? 1 : 2;
      }
    }
    truth.depth_m.push(depth);
    truth.confidence.push(conf);
    truth.labels.push(labels);
  }
  return truth;
}

async function rgbImage(i: number, w: number, h: number, format: 'jpg' | 'png'): Promise<Uint8Array> {
  const px = Buffer.alloc(w * h * 3);
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const k = (v * w + u) * 3;
      px[k] = Math.round((u / Math.max(1, w - 1)) * 255);
      px[k + 1] = Math.round((v / Math.max(1, h - 1)) * 255);
      px[k + 2] = (64 + 40 * i) % 256;
    }
  }
  const img = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  const out = format === 'jpg' ? await img.jpeg({ quality: 95 }).toBuffer() : await img.png().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

function f32Bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function zipToBuffer(
  entries: { name: string; data: Uint8Array; compress: boolean }[],
): Promise<Uint8Array> {
  const zip = new yazl.ZipFile();
  for (const e of entries)
    zip.addBuffer(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), e.name, {
      compress: e.compress,
      mtime: new Date(0),
    });
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve());
    zip.outputStream.on('error', reject);
  });
  zip.end();
  await done;
  const all = Buffer.concat(chunks);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

/** The bytes of a tiny `.r3d` (plus its ground truth). */
export async function buildTinyR3d(
  opts: TinyCaptureOptions = {},
): Promise<{ bytes: Uint8Array; truth: TinyCaptureTruth }> {
  const truth = tinyCaptureTruth(opts);
  const { rgbIntrinsics: K, depthIntrinsics: D } = truth;
  const metadata: Record<string, unknown> = {
    w: K.width,
    h: K.height,
    K: [K.fx, 0, 0, 0, K.fy, 0, K.cx, K.cy, 1],
    fps: opts.fps ?? 30,
    poses: truth.world_from_camera.map((_, i) => {
      const { q, p } = frameGeometry(i);
      return [...q, ...p];
    }),
    initPose: opts.initPose ?? [0, 0, 0, 1, 0, 0, 0],
    frameTimestamps: truth.timestamps_s,
  };
  if (!opts.omitDepthSize) {
    metadata['dw'] = D.width;
    metadata['dh'] = D.height;
  }
  opts.mutateMetadata?.(metadata);
  const entries = new Map<string, { data: Uint8Array; compress: boolean }>();
  entries.set('metadata', { data: new TextEncoder().encode(JSON.stringify(metadata)), compress: true });
  const compress = opts.deflateRgbd ?? false;
  for (let i = 0; i < truth.frameCount; i++) {
    entries.set(`rgbd/${i}.jpg`, { data: await rgbImage(i, K.width, K.height, 'jpg'), compress });
    entries.set(`rgbd/${i}.depth`, { data: encodeLzfse(f32Bytes(truth.depth_m[i]!)), compress });
    if (opts.confidence ?? true)
      entries.set(`rgbd/${i}.conf`, { data: encodeLzfse(truth.confidence[i]!), compress });
    if (opts.annotations)
      entries.set(`labels/${i}.png`, {
        data: encodePngGray(D.width, D.height, truth.labels[i]!),
        compress: true,
      });
  }
  if (opts.annotations)
    entries.set('labels/instances.json', {
      data: new TextEncoder().encode(JSON.stringify({ instances: truth.instances })),
      compress: true,
    });
  for (const [name, data] of Object.entries(opts.replaceEntries ?? {})) {
    if (data === null) entries.delete(name);
    else entries.set(name, { data, compress: entries.get(name)?.compress ?? false });
  }
  const bytes = await zipToBuffer([...entries].map(([name, e]) => ({ name, ...e })));
  return { bytes, truth };
}

/** Write a tiny valid `.r3d` to `file` (atomically). Default: 4 frames, 64x48 JPEG, 32x24 depth, confidence. */
export async function writeTinyR3d(file: string, opts: TinyCaptureOptions = {}): Promise<TinyCaptureTruth> {
  const { bytes, truth } = await buildTinyR3d(opts);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, bytes);
  return truth;
}

/** Write a tiny valid plain-folder capture into `dir` (created). Same scene and defaults as writeTinyR3d. */
export async function writeTinyFolder(dir: string, opts: TinyCaptureOptions = {}): Promise<TinyCaptureTruth> {
  const truth = tinyCaptureTruth(opts);
  const { rgbIntrinsics: K, depthIntrinsics: D } = truth;
  const convention = opts.convention ?? 'opencv';
  const pad = (i: number): string => String(i).padStart(opts.zeroPad ?? 0, '0');
  for (const sub of [
    'color',
    'depth',
    ...((opts.confidence ?? true) ? ['confidence'] : []),
    ...(opts.annotations ? ['labels'] : []),
  ]) {
    await fs.mkdir(path.join(dir, sub), { recursive: true });
  }
  await writeFileAtomic(
    path.join(dir, 'intrinsics.json'),
    JSON.stringify({ color: K, depth: { ...D, scale_m: 0.001 } }, null, 1),
  );
  const frames = truth.world_from_camera.map((T, index) => {
    const M = Array.from(T);
    if (convention === 'opencv') {
      for (let r = 0; r < 4; r++) {
        M[r * 4 + 1] = -M[r * 4 + 1]!;
        M[r * 4 + 2] = -M[r * 4 + 2]!;
      }
    }
    return {
      index,
      timestamp_s: truth.timestamps_s[index],
      world_from_camera: [0, 1, 2, 3].map((r) => M.slice(r * 4, r * 4 + 4)),
    };
  });
  await writeFileAtomic(
    path.join(dir, 'poses.json'),
    JSON.stringify({ camera_convention: convention, fps: opts.fps ?? 30, frames }, null, 1),
  );
  const colorFormat = opts.colorFormat ?? 'jpg';
  for (let i = 0; i < truth.frameCount; i++) {
    await writeFileAtomic(
      path.join(dir, 'color', `${pad(i)}.${colorFormat}`),
      await rgbImage(i, K.width, K.height, colorFormat),
    );
    const depth = truth.depth_m[i]!;
    if ((opts.depthFormat ?? 'png') === 'npy') {
      await writeFileAtomic(path.join(dir, 'depth', `${pad(i)}.npy`), encodeNpy(depth, [D.height, D.width]));
    } else {
      const mm = new Uint16Array(depth.length);
      for (let k = 0; k < depth.length; k++) mm[k] = Math.round(depth[k]! * 1000);
      await writeFileAtomic(path.join(dir, 'depth', `${pad(i)}.png`), encodePngGray(D.width, D.height, mm));
    }
    if (opts.confidence ?? true)
      await writeFileAtomic(
        path.join(dir, 'confidence', `${pad(i)}.png`),
        encodePngGray(D.width, D.height, truth.confidence[i]!),
      );
    if (opts.annotations)
      await writeFileAtomic(
        path.join(dir, 'labels', `${pad(i)}.png`),
        encodePngGray(D.width, D.height, truth.labels[i]!),
      );
  }
  if (opts.annotations)
    await writeFileAtomic(
      path.join(dir, 'labels', 'instances.json'),
      JSON.stringify({ instances: truth.instances }),
    );
  return truth;
}

/**
 * Back-project frame i's valid depth pixels (optionally every `stride`-th row/column) to world points
 * (ARKit axes: X_cam = ((u-cx)/fx·z, -(v-cy)/fy·z, -z); X_world = world_from_camera · X_cam).
 * Returns xyz triples and the depth pixel index of each point.
 */
export async function backprojectFrame(
  source: Pick<CaptureSource, 'info' | 'poses' | 'readDepth'>,
  i: number,
  stride = 1,
): Promise<{ points_world: Float32Array; pixel: Uint32Array; count: number }> {
  const depth = await source.readDepth(i);
  const { width, height, fx, fy, cx, cy } = source.info.depthIntrinsics;
  const T = source.poses[i]!.world_from_camera;
  const pts: number[] = [];
  const pix: number[] = [];
  for (let v = 0; v < height; v += stride) {
    for (let u = 0; u < width; u += stride) {
      const z = depth[v * width + u]!;
      if (!(z > 0)) continue;
      const x = ((u - cx) / fx) * z;
      const y = -((v - cy) / fy) * z;
      const zc = -z;
      pts.push(
        T[0]! * x + T[1]! * y + T[2]! * zc + T[3]!,
        T[4]! * x + T[5]! * y + T[6]! * zc + T[7]!,
        T[8]! * x + T[9]! * y + T[10]! * zc + T[11]!,
      );
      pix.push(v * width + u);
    }
  }
  return { points_world: Float32Array.from(pts), pixel: Uint32Array.from(pix), count: pix.length };
}

export interface HandZipEntry {
  /** Entry name (encoded as UTF-8 with the UTF-8 flag when non-ASCII). */
  name: string;
  /** Uncompressed content. */
  data: Uint8Array;
  /** 0 = stored (default), 8 = deflate; any other number is written as is (with `data` stored). */
  method?: number;
  /** General purpose bit flag (e.g. 1 = encrypted). */
  flags?: number;
  /** External file attributes (e.g. (0o120777 << 16) >>> 0 for a symlink). */
  externalAttrs?: number;
  /** Lie in the headers: declared uncompressed / compressed size and CRC-32. */
  declaredSize?: number;
  declaredCompressedSize?: number;
  declaredCrc?: number;
}

/**
 * Hand-write a ZIP (local headers, central directory, end record) with full control over every field, for
 * hostile-input tests. `declaredEntryCount` overrides the count in the end record.
 */
export function buildZip(entries: HandZipEntry[], opts: { declaredEntryCount?: number } = {}): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const utf8 = /[^\x20-\x7e]/.test(e.name) ? 0x800 : 0;
    const method = e.method ?? 0;
    const payload = method === 8 ? deflateRawSync(e.data) : Buffer.from(e.data);
    const crc = e.declaredCrc ?? crc32(e.data) >>> 0;
    const usize = e.declaredSize ?? e.data.length;
    const csize = e.declaredCompressedSize ?? payload.length;
    const flags = (e.flags ?? 0) | utf8;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(csize >>> 0, 18);
    local.writeUInt32LE(usize >>> 0, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE((3 << 8) | 20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(flags, 8);
    cd.writeUInt16LE(method, 10);
    cd.writeUInt16LE(0, 12);
    cd.writeUInt16LE(0x21, 14);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(csize >>> 0, 20);
    cd.writeUInt32LE(usize >>> 0, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE((e.externalAttrs ?? 0o100644 << 16) >>> 0, 38);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, payload);
    central.push(cd, name);
    offset += local.length + name.length + payload.length;
  }
  const cdBuf = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  const count = opts.declaredEntryCount ?? entries.length;
  eocd.writeUInt16LE(Math.min(count, 0xffff), 8);
  eocd.writeUInt16LE(Math.min(count, 0xffff), 10);
  eocd.writeUInt32LE(cdBuf.length, 12);
  eocd.writeUInt32LE(offset, 16);
  const all = Buffer.concat([...parts, cdBuf, eocd]);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}
