/**
 * From one frame's detections to raw labels: masks at the depth resolution, back-projected and subsampled
 * points (probability `pointProbability`, seeded), with the ground-truth class of each point when known.
 *
 * Back-projection follows main/core/map/backproject.ts (ARKit camera axes, confidence 2 only, 0.1..3 m).
 */
import type { CameraIntrinsics, InstanceInfo, RgbImage } from '../capture/types';
import { DEFAULT_DEPTH_FILTER, type DepthFilter } from '../map/backproject';
import { NO_GT, emptyRaw, type RawLabels } from '../dataset/raw';
import {
  CLASS_SCORE_FLOOR,
  LabelingError,
  type Box,
  type DepthImage,
  type Detection,
  type Mask,
} from './types';
import { normalizeLabel } from './vocab';

export const MASK_DEPTH_BAND_M = 0.15;

/** Depth pixel range [x0, x1) x [y0, y1) covered by an RGB box. */
export function boxToDepthRange(
  box: Box,
  rgbW: number,
  rgbH: number,
  dw: number,
  dh: number,
): [number, number, number, number] {
  const sx = dw / rgbW,
    sy = dh / rgbH;
  const x0 = Math.max(0, Math.min(dw, Math.floor(box[0] * sx)));
  const y0 = Math.max(0, Math.min(dh, Math.floor(box[1] * sy)));
  const x1 = Math.max(x0, Math.min(dw, Math.ceil(box[2] * sx)));
  const y1 = Math.max(y0, Math.min(dh, Math.ceil(box[3] * sy)));
  return [x0, y0, x1, y1];
}

/**
 * Mask = box ∩ depth-consistent foreground: the valid depth pixels inside the box whose depth is within
 * `band_m` of the median depth in the box (the box's dominant surface).
 */
export function depthConsistentMask(
  box: Box,
  rgbW: number,
  rgbH: number,
  depth: DepthImage,
  band_m = MASK_DEPTH_BAND_M,
): Mask {
  const { width: dw, height: dh, depth_m } = depth;
  const [x0, y0, x1, y1] = boxToDepthRange(box, rgbW, rgbH, dw, dh);
  const data = new Uint8Array(dw * dh);
  const vals: number[] = [];
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const z = depth_m[y * dw + x]!;
      if (z > 0 && Number.isFinite(z)) vals.push(z);
    }
  if (vals.length === 0) return { width: dw, height: dh, data };
  vals.sort((a, b) => a - b);
  const median = vals[vals.length >> 1]!;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const p = y * dw + x;
      const z = depth_m[p]!;
      if (z > 0 && Math.abs(z - median) <= band_m) data[p] = 1;
    }
  return { width: dw, height: dh, data };
}

export interface FrameInput {
  frame: number;
  detections: readonly Detection[];
  depth_m: Float32Array;
  confidence: Uint8Array | null;
  depthIntrinsics: CameraIntrinsics;
  world_from_camera: ArrayLike<number>;
  rgb: RgbImage;
  /** Ground-truth instance ids at the depth resolution, when annotated. */
  gtLabels: Uint16Array | null;
  instances: ReadonlyMap<number, InstanceInfo> | null;
  pointProbability: number;
  rng: () => number;
  filter?: DepthFilter;
  labeler: string;
  encoders: RawLabels['encoders'];
}

/** Build the raw labels of one frame (class names local to the frame; see concatRaw). */
export function frameToRaw(f: FrameInput): RawLabels {
  const { width: dw, height: dh, fx, fy, cx, cy } = f.depthIntrinsics;
  if (f.depth_m.length !== dw * dh)
    throw new LabelingError(
      'INVALID_INPUT',
      `frame ${f.frame}`,
      `depth has ${f.depth_m.length} pixels, expected ${dw}x${dh}`,
    );
  const filter = f.filter ?? DEFAULT_DEPTH_FILTER;
  const T = f.world_from_camera;
  const classes: string[] = [];
  const classIdx = new Map<string, number>();
  const cls = (name: string) => {
    let i = classIdx.get(name);
    if (i === undefined) {
      i = classes.length;
      classes.push(name);
      classIdx.set(name, i);
    }
    return i;
  };
  // Ground-truth classes (by instance id).
  const gtClasses: string[] = [];
  const gtIdx = new Map<string, number>();
  const gtOfInstance = new Map<number, number>();
  if (f.gtLabels && f.instances) {
    for (const [id, info] of f.instances) {
      const name = normalizeLabel(info.class);
      let g = gtIdx.get(name);
      if (g === undefined) {
        g = gtClasses.length;
        gtClasses.push(name);
        gtIdx.set(name, g);
      }
      gtOfInstance.set(id, g);
    }
  }
  const gtCounts = new Array<number>(gtClasses.length).fill(0);
  const valid = (p: number) => {
    const z = f.depth_m[p]!;
    return (
      z >= filter.min_depth_m && z <= filter.max_depth_m && (f.confidence === null || f.confidence[p] === 2)
    );
  };
  if (f.gtLabels) {
    for (let p = 0; p < f.gtLabels.length; p++) {
      const id = f.gtLabels[p]!;
      if (id === 0 || !valid(p)) continue;
      const g = gtOfInstance.get(id);
      if (g !== undefined) gtCounts[g] = gtCounts[g]! + f.pointProbability;
    }
  }
  const xyz: number[] = [],
    rgb: number[] = [],
    det: number[] = [],
    dist: number[] = [],
    gt: number[] = [];
  const frame: number[] = [],
    index: number[] = [],
    box: number[] = [],
    area: number[] = [];
  const offsets: number[] = [0],
    sc: number[] = [],
    sv: number[] = [];
  let clipDim = 0;
  const clipRows: Float32Array[] = [];
  const rgbW = f.rgb.width,
    rgbH = f.rgb.height;
  const sxr = rgbW / dw,
    syr = rgbH / dh;
  let nd = 0;
  f.detections.forEach((d, k) => {
    const scores = d.classScores
      .map((s) => ({ label: normalizeLabel(s.label), score: s.score }))
      .filter((s) => s.label.length > 0 && Number.isFinite(s.score) && s.score >= CLASS_SCORE_FLOOR)
      .sort((a, b) => b.score - a.score);
    if (scores.length === 0) return;
    const mask =
      d.mask ?? depthConsistentMask(d.box, rgbW, rgbH, { width: dw, height: dh, depth_m: f.depth_m });
    if (mask.width !== dw || mask.height !== dh)
      throw new LabelingError(
        'INVALID_INPUT',
        `frame ${f.frame}`,
        `detection ${k} mask is ${mask.width}x${mask.height}, expected the depth size ${dw}x${dh}`,
      );
    const id = nd++;
    let a = 0;
    const [x0, y0, x1, y1] = boxToDepthRange(d.box, rgbW, rgbH, dw, dh);
    const scanX0 = d.mask ? 0 : x0,
      scanX1 = d.mask ? dw : x1,
      scanY0 = d.mask ? 0 : y0,
      scanY1 = d.mask ? dh : y1;
    for (let y = scanY0; y < scanY1; y++) {
      const ray_y = -(y - cy) / fy;
      const rgbRow = Math.min(rgbH - 1, Math.floor((y + 0.5) * syr)) * rgbW;
      for (let x = scanX0; x < scanX1; x++) {
        const p = y * dw + x;
        if (mask.data[p] !== 1) continue;
        a++;
        if (!valid(p)) continue;
        if (f.rng() >= f.pointProbability) continue;
        const z = f.depth_m[p]!;
        const xc = ((x - cx) / fx) * z,
          yc = ray_y * z,
          zc = -z;
        xyz.push(
          T[0]! * xc + T[1]! * yc + T[2]! * zc + T[3]!,
          T[4]! * xc + T[5]! * yc + T[6]! * zc + T[7]!,
          T[8]! * xc + T[9]! * yc + T[10]! * zc + T[11]!,
        );
        const q = 3 * (rgbRow + Math.min(rgbW - 1, Math.floor((x + 0.5) * sxr)));
        rgb.push(f.rgb.data[q]!, f.rgb.data[q + 1]!, f.rgb.data[q + 2]!);
        det.push(id);
        dist.push(Math.sqrt(xc * xc + yc * yc + zc * zc));
        const g = f.gtLabels ? gtOfInstance.get(f.gtLabels[p]!) : undefined;
        gt.push(g === undefined ? NO_GT : g);
      }
    }
    frame.push(f.frame);
    index.push(k);
    box.push(...d.box);
    area.push(a);
    for (const s of scores) {
      sc.push(cls(s.label));
      sv.push(s.score);
    }
    offsets.push(sc.length);
    if (d.embedding) {
      if (clipDim === 0) clipDim = d.embedding.length;
      if (d.embedding.length === clipDim) clipRows.push(d.embedding);
    }
  });
  const raw = emptyRaw(f.labeler, f.encoders);
  raw.classes = classes;
  raw.gtClasses = gtClasses;
  raw.gtPointCounts = gtCounts;
  const useClip = clipDim > 0 && clipRows.length === nd;
  raw.detections = {
    count: nd,
    frame: Uint32Array.from(frame),
    indexInFrame: Uint32Array.from(index),
    box: Float32Array.from(box),
    maskArea: Uint32Array.from(area),
    scoreOffset: Uint32Array.from(offsets),
    scoreClass: Uint32Array.from(sc),
    scoreValue: Float32Array.from(sv),
    clipEmbeddings: useClip ? concatRows(clipRows, clipDim) : null,
    clipDim: useClip ? clipDim : 0,
  };
  raw.clipDim = useClip ? clipDim : 0;
  raw.points = {
    count: det.length,
    xyz: Float32Array.from(xyz),
    rgb: Uint8Array.from(rgb),
    detectionId: Uint32Array.from(det),
    distance_m: Float32Array.from(dist),
    gtClass: Uint16Array.from(gt),
  };
  return raw;
}

function concatRows(rows: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}
