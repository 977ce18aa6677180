/**
 * Shared types of the labeling pipeline: text/image encoders, open-vocabulary detectors, detections.
 *
 * Boxes are in RGB pixels `[x0, y0, x1, y1]` (x0 <= x1, y0 <= y1, inclusive-exclusive); masks are at the DEPTH
 * resolution (that is where points are back-projected from).
 */
import type { ErrorCode } from '../../../preload/contract';
import type { RgbImage } from '../capture/types';

/** Scores below this are not kept in raw detections (QA edits can re-apply anything above it). */
export const CLASS_SCORE_FLOOR = 0.05;

export type Box = [number, number, number, number];

export interface ClassScore {
  label: string;
  score: number;
}

export interface DepthImage {
  width: number;
  height: number;
  /** Metres, row-major, 0 = invalid. */
  depth_m: Float32Array;
}

/** A binary mask (1 = inside) at the given resolution. */
export interface Mask {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface Detection {
  box: Box;
  /** Every class scoring at least CLASS_SCORE_FLOOR, best first (at least one entry). */
  classScores: ClassScore[];
  /** Image-space embedding of the detected region (CLIP space), when the detector or a crop encoder gives one. */
  embedding?: Float32Array;
  /** Pixel mask at the depth resolution; when absent the label job derives box ∩ depth-consistent foreground. */
  mask?: Mask;
}

/** Open-vocabulary detector adapter (OWL-ViT, OWLv2; Detic/Grounding-DINO can implement it later). */
export interface Detector {
  readonly name: string;
  /** Model ids that produced the detections (part of the label cache key). */
  readonly modelIds: readonly string[];
  /** One line on how the detector runs (e.g. whether its text tower runs once per vocabulary), for the job log. */
  readonly modeReason?: string;
  detect(rgb: RgbImage, depth: DepthImage | null, vocab: readonly string[]): Promise<Detection[]>;
  dispose(): Promise<void>;
}

export interface TextEncoder {
  readonly name: string;
  readonly dim: number;
  /** `texts.length * dim` unit-length rows. */
  encode(texts: readonly string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface ImageCropEncoder {
  readonly name: string;
  readonly dim: number;
  /** One unit-length row per box (`boxes.length * dim`). */
  encodeCrops(rgb: RgbImage, boxes: readonly Box[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Every expected labeling failure: names the file (or parameter) and the problem. */
export class LabelingError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly file: string | null,
    readonly reason: string,
  ) {
    super(file ? `${file}: ${reason}` : reason);
    this.name = 'LabelingError';
  }
}

/** L2-normalise each `dim`-row of `v` in place (zero rows stay zero). */
export function l2NormalizeRows(v: Float32Array, dim: number): Float32Array {
  for (let o = 0; o + dim <= v.length; o += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += v[o + k]! * v[o + k]!;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < dim; k++) v[o + k] = v[o + k]! * inv;
    }
  }
  return v;
}

/** Deterministic PRNG (mulberry32) so noise and subsampling are reproducible from a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 32-bit FNV-1a of a string (UTF-16 code units), for seeding and hashing features. */
export function fnv1a(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
