/**
 * Per-point query scores (the heatmap asset, preload/contract/heatmap-format.ts: 16-bit scores per map point,
 * in the map file's order) turned into colours for
 * the viewport's displayed map, whose points were stride-decimated and then reordered for level of
 * detail (viewport/decimate.ts). Pure functions: no DOM, no THREE.
 */
import { colormapLut } from '../../lib/colormap';
import { AssetError } from '../../lib/assets';
import { srgbToLinearByte } from '../labels/palette';
import { HeatmapFormatError, decodeHeatmap } from '../../../../preload/contract/heatmap-format';

/** For each displayed vertex, the index of its point in the map file (mirrors decimateStride + interleaveForLod). */
export function displaySourceIndices(total: number, stride: number, levels = 3): Uint32Array {
  const n = stride > 1 ? Math.ceil(total / stride) : total;
  const out = new Uint32Array(n);
  const buckets = 1 << levels;
  if (n < buckets * 2) {
    for (let j = 0; j < n; j++) out[j] = j * stride;
    return out;
  }
  let o = 0;
  for (let j = 0; j < buckets; j++) {
    let r = 0;
    for (let b = 0; b < levels; b++) if (j & (1 << b)) r |= 1 << (levels - 1 - b);
    for (let i = r; i < n; i += buckets, o++) out[o] = i * stride;
  }
  return out;
}

export function decodeScores(buf: ArrayBuffer, expected: number, file: string): Float32Array {
  try {
    return decodeHeatmap(buf, expected, file).scores;
  } catch (err) {
    if (err instanceof HeatmapFormatError) throw new AssetError(file, err.problem);
    throw err;
  }
}

export interface HeatmapStyle {
  /** Scores mapped to the ends of the colour scale. */
  range: readonly [number, number];
  /** Points scoring below this are greyed (or darkened when hitsOnly). */
  threshold: number;
  hitsOnly: boolean;
}

let linearTurbo: Uint8Array | null = null;
/** Turbo as linear-light bytes (THREE encodes vertex colours to sRGB on output). */
function turboLinear(): Uint8Array {
  if (!linearTurbo) linearTurbo = colormapLut('turbo').map(srgbToLinearByte);
  return linearTurbo;
}

/** RGBA per displayed vertex. `source` maps displayed vertex -> score index. */
export function heatmapColors(
  scores: Float32Array,
  source: Uint32Array,
  style: HeatmapStyle,
  out: Uint8Array = new Uint8Array(source.length * 4),
): Uint8Array {
  const lut = turboLinear();
  const [lo, hi] = style.range;
  const span = hi > lo ? hi - lo : 1;
  const below = style.hitsOnly ? 6 : 40;
  for (let j = 0; j < source.length; j++) {
    const s = scores[source[j]!] ?? Number.NaN;
    const o = j * 4;
    if (!Number.isFinite(s) || s < style.threshold) {
      out[o] = below;
      out[o + 1] = below;
      out[o + 2] = below;
    } else {
      const t = (s - lo) / span;
      const k = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
      out[o] = lut[k * 3]!;
      out[o + 1] = lut[k * 3 + 1]!;
      out[o + 2] = lut[k * 3 + 2]!;
    }
    out[o + 3] = 255;
  }
  return out;
}

/** How many scores are at or above the threshold. */
export function countAbove(scores: Float32Array, threshold: number): number {
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= threshold) n++;
  return n;
}
