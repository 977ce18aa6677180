/**
 * The ground-truth labeler: detections straight from an annotated capture's instance masks, with optional,
 * seeded noise that imitates a real detector so the rest of the pipeline (QA edits, training, quality report)
 * can be exercised without model weights.
 *
 * Noise spec `drop=0.2,confuse=0.15,jitter=0.1[,seed=7]`:
 * - drop:    probability an object is missed in a frame;
 * - confuse: probability it gets a wrong class (its confusion partner, e.g. chair<->sofa, else another class
 *            seen in the capture); the true class keeps a lower secondary score;
 * - jitter:  box edges move by up to `jitter` x the box size; the mask follows the box: it shrinks to the
 *            part of the object inside the new box, and grows into depth-consistent pixels (within DEPTH_BAND_M
 *            of the object's median depth) in the part of the new box outside the old one;
 * - with any noise, scores spread over [0.5, 1] instead of all being 1.
 */
import type { CameraIntrinsics, InstanceInfo } from '../capture/types';
import {
  CLASS_SCORE_FLOOR,
  LabelingError,
  fnv1a,
  mulberry32,
  type Box,
  type ClassScore,
  type Detection,
} from './types';
import { normalizeLabel } from './vocab';

export interface NoiseSpec {
  drop: number;
  confuse: number;
  jitter: number;
  seed: number | null;
}

export const NO_NOISE: NoiseSpec = Object.freeze({ drop: 0, confuse: 0, jitter: 0, seed: null });
export const DEPTH_BAND_M = 0.15;
/** Instances smaller than this many depth pixels in a frame are not reported (like a detector's minimum size). */
export const MIN_INSTANCE_PIXELS = 12;

/** Symmetric confusion pairs used by the `confuse` noise. */
export const CONFUSIONS: ReadonlyArray<readonly [string, string]> = [
  ['chair', 'sofa'],
  ['armchair', 'sofa'],
  ['fridge', 'cabinet'],
  ['mug', 'bowl'],
  ['cup', 'mug'],
  ['table', 'desk'],
  ['tv', 'monitor'],
  ['laptop', 'monitor'],
  ['microwave', 'oven'],
  ['sink', 'bathtub'],
  ['bookshelf', 'cabinet'],
  ['shelf', 'bookshelf'],
  ['trash can', 'recycling bin'],
  ['bed', 'sofa'],
  ['lamp', 'plant'],
  ['door', 'cabinet'],
  ['stove', 'oven'],
  ['nightstand', 'cabinet'],
];

/**
 * splitmix32's finaliser: a bijective 32-bit mix with full avalanche. Seeds that differ in a few bits (hashes
 * of `gt:0:1`, `gt:0:2`, ...) give unrelated outputs, so PRNG streams seeded through it are uncorrelated.
 */
export function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97) >>> 0;
  return (z ^ (z >>> 15)) >>> 0;
}

/** The noise PRNG of one frame of a labeling run (seed = the run's noise seed). */
export function groundTruthRng(seed: number, frame: number): () => number {
  return mulberry32(splitmix32(fnv1a(`gt:${seed}:${frame}`)));
}

export function confusionPartners(label: string): string[] {
  const out: string[] = [];
  for (const [a, b] of CONFUSIONS) {
    if (a === label) out.push(b);
    else if (b === label) out.push(a);
  }
  return out;
}

/** Parse and validate a noise spec; '' / 'none' mean no noise. Throws LabelingError naming the bad part. */
export function parseNoiseSpec(spec: string): NoiseSpec {
  const s = spec.trim();
  const out: NoiseSpec = { drop: 0, confuse: 0, jitter: 0, seed: null };
  if (s === '' || s === 'none') return out;
  if (s.length > 200) throw new LabelingError('BAD_ARGS', 'noise', 'noise spec is too long');
  const seen = new Set<string>();
  for (const part of s.split(',')) {
    const m = /^\s*([a-z]+)\s*=\s*([^\s,]+)\s*$/.exec(part);
    if (!m)
      throw new LabelingError(
        'BAD_ARGS',
        'noise',
        `"${part}" is not key=value (expected e.g. drop=0.2,confuse=0.15,jitter=0.1)`,
      );
    const key = m[1]!,
      valueText = m[2]!;
    if (seen.has(key)) throw new LabelingError('BAD_ARGS', 'noise', `"${key}" is given twice`);
    seen.add(key);
    if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(valueText))
      throw new LabelingError('BAD_ARGS', 'noise', `${key}: "${valueText}" is not a number`);
    const v = Number(valueText);
    if (key === 'seed') {
      if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff)
        throw new LabelingError(
          'BAD_ARGS',
          'noise',
          `seed must be an integer 0..4294967295, got ${valueText}`,
        );
      out.seed = v;
    } else if (key === 'drop' || key === 'confuse') {
      if (!(v >= 0 && v <= 1))
        throw new LabelingError(
          'BAD_ARGS',
          'noise',
          `${key} must be a probability in [0, 1], got ${valueText}`,
        );
      out[key] = v;
    } else if (key === 'jitter') {
      if (!(v >= 0 && v <= 0.5))
        throw new LabelingError(
          'BAD_ARGS',
          'noise',
          `jitter must be in [0, 0.5] (fraction of the box size), got ${valueText}`,
        );
      out.jitter = v;
    } else {
      throw new LabelingError(
        'BAD_ARGS',
        'noise',
        `unknown key "${key}" (known: drop, confuse, jitter, seed)`,
      );
    }
  }
  return out;
}

export function formatNoiseSpec(n: NoiseSpec): string {
  const parts = [`drop=${n.drop}`, `confuse=${n.confuse}`, `jitter=${n.jitter}`];
  if (n.seed !== null) parts.push(`seed=${n.seed}`);
  return parts.join(',');
}

export function hasNoise(n: NoiseSpec): boolean {
  return n.drop > 0 || n.confuse > 0 || n.jitter > 0;
}

export interface GroundTruthFrame {
  /** Instance ids at the depth resolution (0 = none). */
  labels: Uint16Array;
  depth_m: Float32Array;
  depthIntrinsics: CameraIntrinsics;
  rgbWidth: number;
  rgbHeight: number;
  instances: ReadonlyMap<number, InstanceInfo>;
}

export interface GroundTruthDetection extends Detection {
  instanceId: number;
  /** The true (normalised) class, whatever the noise did to classScores. */
  trueClass: string;
}

/**
 * Detections for one annotated frame. `rng` drives the noise (seed it per frame for reproducibility, e.g.
 * `groundTruthRng`); `classPool` is where confused labels come from when a class has no confusion partner.
 * One 32-bit draw of `rng` seeds the frame; each instance then draws from its own stream, seeded by mixing
 * (splitmix32) that draw with the instance id, so the noise is uncorrelated across frames and instances even
 * when the caller's per-frame seeds are nearly equal.
 */
export function groundTruthDetections(
  f: GroundTruthFrame,
  noise: NoiseSpec,
  rng: () => number,
  classPool: readonly string[],
): GroundTruthDetection[] {
  const { width: dw, height: dh } = f.depthIntrinsics;
  if (f.labels.length !== dw * dh)
    throw new LabelingError(
      'INVALID_INPUT',
      'labels',
      `label image has ${f.labels.length} pixels, expected ${dw}x${dh}`,
    );
  if (f.depth_m.length !== dw * dh)
    throw new LabelingError(
      'INVALID_INPUT',
      'depth',
      `depth has ${f.depth_m.length} pixels, expected ${dw}x${dh}`,
    );
  // Per-instance pixel count and bbox (depth pixels, inclusive).
  const stats = new Map<number, { n: number; x0: number; y0: number; x1: number; y1: number }>();
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const id = f.labels[y * dw + x]!;
      if (id === 0) continue;
      let s = stats.get(id);
      if (!s) {
        s = { n: 0, x0: x, y0: y, x1: x, y1: y };
        stats.set(id, s);
      }
      s.n++;
      if (x < s.x0) s.x0 = x;
      if (x > s.x1) s.x1 = x;
      if (y < s.y0) s.y0 = y;
      if (y > s.y1) s.y1 = y;
    }
  }
  const sx = f.rgbWidth / dw,
    sy = f.rgbHeight / dh;
  const noisy = hasNoise(noise);
  const out: GroundTruthDetection[] = [];
  const ids = [...stats.keys()].sort((a, b) => a - b);
  const frameSeed = Math.floor(rng() * 4294967296) >>> 0;
  for (const id of ids) {
    const s = stats.get(id)!;
    const info = f.instances.get(id);
    // The instance's own stream: its fate does not depend on which other instances are in the frame.
    const r = mulberry32(splitmix32((frameSeed ^ splitmix32(id)) >>> 0));
    const uDrop = r(),
      uConfuse = r(),
      uPick = r(),
      uScore = r(),
      uSecond = r();
    const uj = [r(), r(), r(), r()];
    if (!info || s.n < MIN_INSTANCE_PIXELS) continue;
    if (uDrop < noise.drop) continue;
    const trueClass = normalizeLabel(info.class);
    if (trueClass.length === 0) continue;
    let classScores: ClassScore[];
    if (uConfuse < noise.confuse) {
      const partners = confusionPartners(trueClass);
      const pool = partners.length > 0 ? partners : classPool.filter((c) => c !== trueClass);
      const wrong =
        pool.length > 0 ? pool[Math.min(pool.length - 1, Math.floor(uPick * pool.length))]! : trueClass;
      const sWrong = 0.5 + 0.4 * uScore;
      const sTrue = Math.max(CLASS_SCORE_FLOOR, sWrong * (0.3 + 0.6 * uSecond));
      classScores =
        wrong === trueClass
          ? [{ label: trueClass, score: sWrong }]
          : [
              { label: wrong, score: sWrong },
              { label: trueClass, score: sTrue },
            ];
    } else {
      classScores = [{ label: trueClass, score: noisy ? 0.5 + 0.5 * uScore : 1 }];
    }
    // Box in depth pixels (exclusive upper bounds), then jitter.
    let bx0 = s.x0,
      by0 = s.y0,
      bx1 = s.x1 + 1,
      by1 = s.y1 + 1;
    if (noise.jitter > 0) {
      const w = bx1 - bx0,
        h = by1 - by0;
      bx0 = Math.round(bx0 + (uj[0]! * 2 - 1) * noise.jitter * w);
      by0 = Math.round(by0 + (uj[1]! * 2 - 1) * noise.jitter * h);
      bx1 = Math.round(bx1 + (uj[2]! * 2 - 1) * noise.jitter * w);
      by1 = Math.round(by1 + (uj[3]! * 2 - 1) * noise.jitter * h);
      bx0 = Math.max(0, Math.min(dw - 1, bx0));
      by0 = Math.max(0, Math.min(dh - 1, by0));
      bx1 = Math.max(bx0 + 1, Math.min(dw, bx1));
      by1 = Math.max(by0 + 1, Math.min(dh, by1));
    }
    const mask = new Uint8Array(dw * dh);
    let area = 0;
    const jittered = bx0 !== s.x0 || by0 !== s.y0 || bx1 !== s.x1 + 1 || by1 !== s.y1 + 1;
    const median = jittered ? medianDepthOf(f.labels, f.depth_m, id) : 0;
    for (let y = by0; y < by1; y++) {
      for (let x = bx0; x < bx1; x++) {
        const p = y * dw + x;
        const inOld = x >= s.x0 && x <= s.x1 && y >= s.y0 && y <= s.y1;
        let on = f.labels[p] === id;
        if (!on && !inOld && median > 0) {
          const z = f.depth_m[p]!;
          on = z > 0 && Math.abs(z - median) <= DEPTH_BAND_M;
        }
        if (on) {
          mask[p] = 1;
          area++;
        }
      }
    }
    if (area === 0) continue;
    const box: Box = [bx0 * sx, by0 * sy, bx1 * sx, by1 * sy];
    out.push({ box, classScores, mask: { width: dw, height: dh, data: mask }, instanceId: id, trueClass });
  }
  return out;
}

function medianDepthOf(labels: Uint16Array, depth_m: Float32Array, id: number): number {
  const vals: number[] = [];
  for (let p = 0; p < labels.length; p++) if (labels[p] === id && depth_m[p]! > 0) vals.push(depth_m[p]!);
  if (vals.length === 0) return 0;
  vals.sort((a, b) => a - b);
  return vals[vals.length >> 1]!;
}
