/**
 * Ground truth of an annotated capture for evaluation, read in one pass over the selected frames:
 * - evaluation points: back-projected object pixels (instance id != 0, class known) of the HELD-OUT frames,
 *   a seeded sample of at most `pointsPerFrame` per frame, each with its ground-truth class;
 * - instance geometry: per instance, its observed surface points (from every selected frame) voxel-downsampled,
 *   and their axis-aligned box, for the localisation rule;
 * - a few held-out frames kept whole (at the depth resolution) for the label-overlay images of the report.
 *
 * Back-projection follows map/backproject.ts (ARKit camera axes, confidence 2 only, depth filter).
 */
import type { CaptureSource } from '../capture/types';
import { DEFAULT_DEPTH_FILTER, type DepthFilter } from '../map/backproject';
import { Rng } from '../field/rng';
import { normalizeLabel } from '../labeling/vocab';
import type { InstanceGeometry } from './metrics';

export interface OverlayFrame {
  frame: number;
  width: number;
  height: number;
  /** Colour at the depth resolution, packed RGB. */
  rgb: Uint8Array;
  /** Ground-truth class index per depth pixel (-1 = background / no class / invalid depth). */
  gt: Int16Array;
  /** Pixel index (into width*height) of each back-projected valid object pixel, and its xyz. */
  pixel: Int32Array;
  xyz: Float32Array;
}

export interface EvalGroundTruth {
  /** Sorted, normalised class names of the annotated instances. */
  classes: string[];
  /** Evaluation points of the held-out frames. */
  xyz: Float32Array;
  gtClass: Int32Array;
  count: number;
  heldoutFrames: number;
  instances: InstanceGeometry[];
  overlays: OverlayFrame[];
}

export interface GroundTruthOptions {
  /** Frames whose pixels are evaluation points. */
  heldout: readonly number[];
  /** Every selected frame (for instance geometry). */
  all: readonly number[];
  filter?: DepthFilter;
  pointsPerFrame?: number;
  /** Voxel size of the instance surface samples (default 0.05 m). */
  instanceVoxel_m?: number;
  overlayFrames?: number;
  seed?: number;
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

export class EvalInputError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'EvalInputError';
  }
}

async function downscaleRgbTo(src: CaptureSource, frame: number, w: number, h: number): Promise<Uint8Array> {
  const img = await src.readRgb(frame);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(img.height - 1, Math.floor(((y + 0.5) * img.height) / h));
    for (let x = 0; x < w; x++) {
      const sx = Math.min(img.width - 1, Math.floor(((x + 0.5) * img.width) / w));
      const s = 3 * (sy * img.width + sx),
        d = 3 * (y * w + x);
      out[d] = img.data[s]!;
      out[d + 1] = img.data[s + 1]!;
      out[d + 2] = img.data[s + 2]!;
    }
  }
  return out;
}

export async function readEvalGroundTruth(
  src: CaptureSource,
  opts: GroundTruthOptions,
): Promise<EvalGroundTruth> {
  const info = src.info;
  if (!info.hasAnnotations || !info.instances) {
    throw new EvalInputError(
      info.path,
      'the capture has no ground-truth annotations (labels/N.png + labels/instances.json): evaluation needs an annotated capture such as the synthetic apartment',
    );
  }
  const classOfInstance = new Map<number, string>();
  for (const [id, inst] of info.instances) {
    const c = normalizeLabel(inst.class);
    if (c.length > 0) classOfInstance.set(id, c);
  }
  const classes = [...new Set(classOfInstance.values())].sort();
  const classIdx = new Map(classes.map((c, i) => [c, i]));
  const filter = opts.filter ?? DEFAULT_DEPTH_FILTER;
  const perFrame = opts.pointsPerFrame ?? 1500;
  const voxel = opts.instanceVoxel_m ?? 0.05;
  const heldout = new Set(opts.heldout);
  const overlayWanted = new Set<number>();
  const nOverlay = Math.min(opts.overlayFrames ?? 3, opts.heldout.length);
  for (let k = 0; k < nOverlay; k++)
    overlayWanted.add(opts.heldout[Math.floor(((k + 0.5) * opts.heldout.length) / nOverlay)]!);
  const rng = new Rng(((opts.seed ?? 0) ^ 0x6a09e667) >>> 0);
  const { width: w, height: h, fx, fy, cx, cy } = info.depthIntrinsics;

  const xyz: number[] = [];
  const gtClass: number[] = [];
  const instVoxels = new Map<number, Map<string, [number, number, number]>>();
  const overlays: OverlayFrame[] = [];
  const frames = [...new Set([...opts.all, ...opts.heldout])].sort((a, b) => a - b);
  let done = 0;
  const px = new Float64Array(3);
  for (const f of frames) {
    opts.signal?.throwIfAborted();
    const [depth, conf, labels] = await Promise.all([
      src.readDepth(f),
      src.readConfidence(f),
      src.readLabels(f),
    ]);
    if (!labels)
      throw new EvalInputError(
        `${info.path} frame ${f}`,
        'annotated capture has no label image for this frame',
      );
    if (labels.length !== w * h || depth.length !== w * h)
      throw new EvalInputError(`${info.path} frame ${f}`, `label/depth images are not ${w}x${h}`);
    const T = src.poses[f]!.world_from_camera;
    const project = (p: number): void => {
      const i = p % w,
        j = (p - i) / w;
      const z = depth[p]!;
      const xc = ((i - cx) / fx) * z,
        yc = (-(j - cy) / fy) * z,
        zc = -z;
      px[0] = T[0]! * xc + T[1]! * yc + T[2]! * zc + T[3]!;
      px[1] = T[4]! * xc + T[5]! * yc + T[6]! * zc + T[7]!;
      px[2] = T[8]! * xc + T[9]! * yc + T[10]! * zc + T[11]!;
    };
    const valid = (p: number): boolean => {
      const z = depth[p]!;
      return z >= filter.min_depth_m && z <= filter.max_depth_m && (conf === null || conf[p] === 2);
    };
    const objectPixels: number[] = [];
    for (let p = 0; p < w * h; p++) {
      const id = labels[p]!;
      if (id === 0 || !classOfInstance.has(id) || !valid(p)) continue;
      objectPixels.push(p);
      // Instance surface: every 2nd pixel in each direction is plenty at 5 cm voxels.
      const i = p % w,
        j = (p - i) / w;
      if ((i & 1) === 0 && (j & 1) === 0) {
        project(p);
        let vox = instVoxels.get(id);
        if (!vox) instVoxels.set(id, (vox = new Map()));
        const key = `${Math.floor(px[0]! / voxel)},${Math.floor(px[1]! / voxel)},${Math.floor(px[2]! / voxel)}`;
        if (!vox.has(key)) vox.set(key, [px[0]!, px[1]!, px[2]!]);
      }
    }
    if (heldout.has(f)) {
      // Seeded sample without replacement (partial Fisher-Yates).
      const k = Math.min(perFrame, objectPixels.length);
      for (let a = 0; a < k; a++) {
        const b = a + rng.int(objectPixels.length - a);
        const t = objectPixels[a]!;
        objectPixels[a] = objectPixels[b]!;
        objectPixels[b] = t;
        const p = objectPixels[a]!;
        project(p);
        xyz.push(px[0]!, px[1]!, px[2]!);
        gtClass.push(classIdx.get(classOfInstance.get(labels[p]!)!)!);
      }
      if (overlayWanted.has(f)) {
        const gt = new Int16Array(w * h).fill(-1);
        const pix: number[] = [];
        const pts: number[] = [];
        for (let p = 0; p < w * h; p++) {
          const id = labels[p]!;
          if (id === 0 || !classOfInstance.has(id) || !valid(p)) continue;
          gt[p] = classIdx.get(classOfInstance.get(id)!)!;
          project(p);
          pix.push(p);
          pts.push(px[0]!, px[1]!, px[2]!);
        }
        overlays.push({
          frame: f,
          width: w,
          height: h,
          rgb: await downscaleRgbTo(src, f, w, h),
          gt,
          pixel: Int32Array.from(pix),
          xyz: Float32Array.from(pts),
        });
      }
    }
    opts.progress?.(++done, frames.length);
  }
  const instances: InstanceGeometry[] = [];
  for (const [id, vox] of [...instVoxels].sort((a, b) => a[0] - b[0])) {
    const pts = new Float32Array(vox.size * 3);
    const min: [number, number, number] = [Infinity, Infinity, Infinity];
    const max: [number, number, number] = [-Infinity, -Infinity, -Infinity];
    let o = 0;
    for (const p of vox.values()) {
      for (let a = 0; a < 3; a++) {
        pts[o + a] = p[a]!;
        if (p[a]! < min[a]!) min[a] = p[a]!;
        if (p[a]! > max[a]!) max[a] = p[a]!;
      }
      o += 3;
    }
    instances.push({ id, className: classOfInstance.get(id)!, points: pts, min, max });
  }
  return {
    classes,
    xyz: Float32Array.from(xyz),
    gtClass: Int32Array.from(gtClass),
    count: gtClass.length,
    heldoutFrames: opts.heldout.length,
    instances,
    overlays,
  };
}
