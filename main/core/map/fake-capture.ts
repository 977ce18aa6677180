/**
 * An in-memory CaptureSource for tests and benchmarks: a ray-cast scene of axis-aligned boxes on a floor
 * (world y-up, floor at y = 0), seen by cameras with ARKit axes. Depth is exact; colour is a flat colour
 * per surface so tests can tell surfaces apart.
 */
import sharp from 'sharp';
import {
  CaptureError,
  type CameraIntrinsics,
  type CaptureSource,
  type FramePose,
  type RgbImage,
} from '../capture/types';

export interface Box {
  min: [number, number, number];
  max: [number, number, number];
  rgb: [number, number, number];
}

export interface FakeScene {
  floor_y: number;
  floor_rgb: [number, number, number];
  boxes: Box[];
}

export const DEFAULT_SCENE: FakeScene = {
  floor_y: 0,
  floor_rgb: [120, 120, 120],
  boxes: [
    { min: [-0.4, 0, -2.4], max: [0.2, 0.7, -1.8], rgb: [200, 40, 40] },
    { min: [0.5, 0, -2.0], max: [0.9, 0.3, -1.6], rgb: [40, 40, 200] },
  ],
};

/** A camera at `eye` looking at `target` (ARKit axes: x right, y up, z backward), row-major 4x4. */
export function lookAt(eye: [number, number, number], target: [number, number, number]): Float64Array {
  const f = [target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]];
  const fl = Math.hypot(f[0]!, f[1]!, f[2]!);
  const zc = [-f[0]! / fl, -f[1]! / fl, -f[2]! / fl]; // camera z points backward
  // x = up_world x z (camera right), normalised
  let xc = [zc[2]!, 0, -zc[0]!];
  const xl = Math.hypot(xc[0]!, xc[1]!, xc[2]!);
  xc = [xc[0]! / xl, xc[1]! / xl, xc[2]! / xl];
  const yc = [
    zc[1]! * xc[2]! - zc[2]! * xc[1]!,
    zc[2]! * xc[0]! - zc[0]! * xc[2]!,
    zc[0]! * xc[1]! - zc[1]! * xc[0]!,
  ];
  return new Float64Array([
    xc[0]!,
    yc[0]!,
    zc[0]!,
    eye[0],
    xc[1]!,
    yc[1]!,
    zc[1]!,
    eye[1],
    xc[2]!,
    yc[2]!,
    zc[2]!,
    eye[2],
    0,
    0,
    0,
    1,
  ]);
}

/** Ray-cast depth (metres along -z_cam) and colour at the depth resolution. */
export function renderScene(
  scene: FakeScene,
  K: CameraIntrinsics,
  world_from_camera: ArrayLike<number>,
): { depth_m: Float32Array; rgb: Uint8Array } {
  const { width: w, height: h, fx, fy, cx, cy } = K;
  const T = world_from_camera;
  const o = [T[3]!, T[7]!, T[11]!];
  const depth_m = new Float32Array(w * h);
  const rgb = new Uint8Array(3 * w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const dc = [(i - cx) / fx, -(j - cy) / fy, -1];
      const d = [0, 1, 2].map((r) => T[4 * r]! * dc[0]! + T[4 * r + 1]! * dc[1]! + T[4 * r + 2]! * dc[2]!);
      let best = Infinity;
      let col: [number, number, number] = [0, 0, 0];
      if (d[1]! < -1e-9) {
        const t = (scene.floor_y - o[1]!) / d[1]!;
        if (t > 0 && t < best) {
          best = t;
          col = scene.floor_rgb;
        }
      }
      for (const b of scene.boxes) {
        let t0 = 0,
          t1 = Infinity;
        for (let a = 0; a < 3; a++) {
          if (Math.abs(d[a]!) < 1e-12) {
            if (o[a]! < b.min[a]! || o[a]! > b.max[a]!) t0 = Infinity;
            continue;
          }
          let ta = (b.min[a]! - o[a]!) / d[a]!,
            tb = (b.max[a]! - o[a]!) / d[a]!;
          if (ta > tb) [ta, tb] = [tb, ta];
          t0 = Math.max(t0, ta);
          t1 = Math.min(t1, tb);
        }
        if (t0 <= t1 && t0 > 0 && t0 < best) {
          best = t0;
          col = b.rgb;
        }
      }
      const p = j * w + i;
      if (Number.isFinite(best)) {
        depth_m[p] = best; // the camera-z component of d is -1, so t is the depth
        rgb[3 * p] = col[0];
        rgb[3 * p + 1] = col[1];
        rgb[3 * p + 2] = col[2];
      }
    }
  }
  return { depth_m, rgb };
}

export interface FakeCaptureOptions {
  frames: number;
  depth: CameraIntrinsics;
  /** RGB size as a multiple of the depth size (default 2). */
  rgbScale?: number;
  scene?: FakeScene;
  poseOf?: (i: number) => Float64Array;
  /** Frames whose reads fail (as a corrupt file would). */
  corrupt?: Set<number>;
  /** Delay per read in ms (to test cancellation mid-capture). */
  readDelayMs?: number;
  withConfidence?: boolean;
  path?: string;
}

/** Frames circle the scene at 1.4 m height, looking at its centre. */
export function orbitPose(i: number, n: number): Float64Array {
  const a = -0.6 + (1.2 * i) / Math.max(1, n - 1);
  const c: [number, number, number] = [0.2, 0.3, -2.0];
  return lookAt([c[0] + 2.0 * Math.sin(a), 1.4, c[2] + 2.0 * Math.cos(a)], c);
}

export async function makeFakeCapture(opts: FakeCaptureOptions): Promise<CaptureSource> {
  const scene = opts.scene ?? DEFAULT_SCENE;
  const K = opts.depth;
  const s = opts.rgbScale ?? 2;
  const rgbK: CameraIntrinsics = {
    width: K.width * s,
    height: K.height * s,
    fx: K.fx * s,
    fy: K.fy * s,
    cx: K.cx * s,
    cy: K.cy * s,
  };
  const poses: FramePose[] = [];
  const frames: { depth_m: Float32Array; jpeg: Uint8Array }[] = [];
  for (let i = 0; i < opts.frames; i++) {
    const world_from_camera = (opts.poseOf ?? ((k: number) => orbitPose(k, opts.frames)))(i);
    poses.push({ index: i, timestamp_s: i / 30, world_from_camera });
    const r = renderScene(scene, K, world_from_camera);
    const jpeg = await sharp(Buffer.from(r.rgb), { raw: { width: K.width, height: K.height, channels: 3 } })
      .resize(rgbK.width, rgbK.height, { kernel: 'nearest' })
      .jpeg({ quality: 90 })
      .toBuffer();
    frames.push({ depth_m: r.depth_m, jpeg: new Uint8Array(jpeg) });
  }
  const capPath = opts.path ?? '/fake/capture.r3d';
  const check = async (i: number, what: string): Promise<void> => {
    if (opts.readDelayMs) await new Promise((res) => setTimeout(res, opts.readDelayMs));
    if (!Number.isInteger(i) || i < 0 || i >= opts.frames)
      throw new CaptureError('NOT_FOUND', `rgbd/${i}.${what}`, 'no such frame');
    if (opts.corrupt?.has(i))
      throw new CaptureError('INVALID_INPUT', `rgbd/${i}.${what}`, 'corrupt LZFSE stream (test)');
  };
  return {
    info: {
      format: 'r3d',
      path: capPath,
      frameCount: opts.frames,
      rgbIntrinsics: rgbK,
      depthIntrinsics: K,
      fps: 30,
      hasConfidence: opts.withConfidence ?? true,
      hasAnnotations: false,
      instances: null,
    },
    poses,
    async readRgbEncoded(i) {
      await check(i, 'jpg');
      return { bytes: frames[i]!.jpeg, mime: 'image/jpeg', file: `rgbd/${i}.jpg` };
    },
    async readRgb(i): Promise<RgbImage> {
      await check(i, 'jpg');
      const { data, info } = await sharp(frames[i]!.jpeg).raw().toBuffer({ resolveWithObject: true });
      return { width: info.width, height: info.height, data: new Uint8Array(data) };
    },
    async readDepth(i) {
      await check(i, 'depth');
      return frames[i]!.depth_m.slice();
    },
    async readConfidence(i) {
      await check(i, 'conf');
      return (opts.withConfidence ?? true) ? new Uint8Array(K.width * K.height).fill(2) : null;
    },
    async readLabels() {
      return null;
    },
    async close() {},
  };
}
