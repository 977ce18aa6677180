/**
 * Frame selection, as in CLIP-Fields (`sample_freq`): every k-th frame, optionally without near-duplicate
 * poses and without blurry frames.
 *
 * - `every`: frames 0, k, 2k, ...
 * - near duplicates: a candidate is kept only when it moved at least `min_translation_m` or turned at least
 *   `min_rotation_deg` relative to the last kept frame (both 0 = keep all).
 * - blur: sharpness = variance of the Laplacian of a grey image downscaled to ~160 px wide; a frame is
 *   blurry when its sharpness is below `rel_threshold` x the median sharpness of the candidates.
 */
import sharp from 'sharp';
import type { FramePose } from '../capture/types';

export interface SelectOptions {
  every: number;
  min_translation_m: number;
  min_rotation_deg: number;
}

/** Rotation angle (degrees) between the rotation parts of two 4x4 row-major poses. */
export function rotationBetweenDeg(a: ArrayLike<number>, b: ArrayLike<number>): number {
  // trace(Ra^T Rb) = sum over i,j of Ra[i][j] * Rb[i][j]
  let tr = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) tr += a[4 * i + j]! * b[4 * i + j]!;
  const c = Math.min(1, Math.max(-1, (tr - 1) / 2));
  return (Math.acos(c) * 180) / Math.PI;
}

export function translationBetweenM(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return Math.hypot(a[3]! - b[3]!, a[7]! - b[7]!, a[11]! - b[11]!);
}

/** Indices of the selected frames, ascending. */
export function selectFrames(poses: readonly FramePose[], opts: SelectOptions): number[] {
  const every = Math.max(1, Math.floor(opts.every));
  const out: number[] = [];
  let last: FramePose | null = null;
  for (let i = 0; i < poses.length; i += every) {
    const pose = poses[i]!;
    if (last) {
      const moved = translationBetweenM(last.world_from_camera, pose.world_from_camera);
      const turned = rotationBetweenDeg(last.world_from_camera, pose.world_from_camera);
      if (moved < opts.min_translation_m && turned < opts.min_rotation_deg) continue;
    }
    out.push(i);
    last = pose;
  }
  return out;
}

/** Variance of the 4-neighbour Laplacian over the interior of a grey image. */
export function laplacianVariance(grey: Uint8Array, width: number, height: number): number {
  if (width < 3 || height < 3 || grey.length < width * height) return 0;
  let s = 0,
    s2 = 0,
    n = 0;
  for (let y = 1; y < height - 1; y++) {
    const r = y * width;
    for (let x = 1; x < width - 1; x++) {
      const p = r + x;
      const l = grey[p - 1]! + grey[p + 1]! + grey[p - width]! + grey[p + width]! - 4 * grey[p]!;
      s += l;
      s2 += l * l;
      n++;
    }
  }
  const mean = s / n;
  return s2 / n - mean * mean;
}

/** Sharpness of an encoded JPEG/PNG (decoded with shrink-on-load to ~`width` px wide, grey). */
export async function sharpnessOfEncoded(bytes: Uint8Array, width = 160): Promise<number> {
  const { data, info } = await sharp(bytes)
    .resize({ width })
    .greyscale()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const c = info.channels;
  let grey = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (c !== 1) grey = grey.filter((_, k) => k % c === 0);
  return laplacianVariance(grey, info.width, info.height);
}

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Split candidates into kept and blurry by sharpness relative to the candidates' median. */
export function rejectBlurry(
  indices: readonly number[],
  sharpnessOf: (index: number) => number,
  rel_threshold = 0.35,
): { kept: number[]; blurry: number[]; median: number } {
  const values = indices.map(sharpnessOf);
  const med = median(values.filter(Number.isFinite));
  const kept: number[] = [];
  const blurry: number[] = [];
  indices.forEach((idx, k) => {
    const v = values[k]!;
    if (Number.isFinite(v) && v < rel_threshold * med) blurry.push(idx);
    else kept.push(idx);
  });
  return { kept, blurry, median: med };
}
