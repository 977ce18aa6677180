/**
 * Display-side point decimation. Above `maxPoints` the cloud is stride-sampled (every k-th point)
 * so a multi-million point map stays interactive; the map on disk is untouched.
 */

export const DEFAULT_MAX_DISPLAY_POINTS = 1_000_000;

export interface DecimatedPoints {
  count: number;
  stride: number;
  positions: Float32Array;
  colors: Uint8Array | null;
}

export function decimationStride(count: number, maxPoints: number): number {
  if (count <= maxPoints || maxPoints <= 0) return 1;
  return Math.ceil(count / maxPoints);
}

export function decimateStride(
  positions: Float32Array,
  colors: Uint8Array | null,
  maxPoints: number = DEFAULT_MAX_DISPLAY_POINTS,
): DecimatedPoints {
  const count = Math.floor(positions.length / 3);
  const stride = decimationStride(count, maxPoints);
  if (stride === 1) return { count, stride, positions, colors };
  const outCount = Math.ceil(count / stride);
  const outPos = new Float32Array(outCount * 3);
  const outCol = colors ? new Uint8Array(outCount * 3) : null;
  for (let j = 0, i = 0; j < outCount; j++, i += stride) {
    outPos[j * 3] = positions[i * 3] ?? 0;
    outPos[j * 3 + 1] = positions[i * 3 + 1] ?? 0;
    outPos[j * 3 + 2] = positions[i * 3 + 2] ?? 0;
    if (outCol && colors) {
      outCol[j * 3] = colors[i * 3] ?? 0;
      outCol[j * 3 + 1] = colors[i * 3 + 1] ?? 0;
      outCol[j * 3 + 2] = colors[i * 3 + 2] ?? 0;
    }
  }
  return { count: outCount, stride, positions: outPos, colors: outCol };
}

/**
 * Reorders points so that every prefix is a near-uniform sample: residues modulo 2^levels come in
 * bit-reversed order (for 3 levels: 0,4,2,6,1,5,3,7), so the first half of the buffer is every
 * 2nd point, the first quarter every 4th, the first eighth every 8th. The viewport then thins the
 * cloud while the camera moves just by shrinking the draw range (no buffer upload).
 */
export function interleaveForLod(
  positions: Float32Array,
  colors: Uint8Array | null,
  levels = 3,
): { positions: Float32Array; colors: Uint8Array | null } {
  const n = Math.floor(positions.length / 3);
  const buckets = 1 << levels;
  if (n < buckets * 2) return { positions, colors };
  const outPos = new Float32Array(n * 3);
  const outCol = colors ? new Uint8Array(n * 3) : null;
  let o = 0;
  for (let j = 0; j < buckets; j++) {
    let r = 0;
    for (let b = 0; b < levels; b++) if (j & (1 << b)) r |= 1 << (levels - 1 - b);
    for (let i = r; i < n; i += buckets, o++) {
      outPos[o * 3] = positions[i * 3] ?? 0;
      outPos[o * 3 + 1] = positions[i * 3 + 1] ?? 0;
      outPos[o * 3 + 2] = positions[i * 3 + 2] ?? 0;
      if (outCol && colors) {
        outCol[o * 3] = colors[i * 3] ?? 0;
        outCol[o * 3 + 1] = colors[i * 3 + 1] ?? 0;
        outCol[o * 3 + 2] = colors[i * 3 + 2] ?? 0;
      }
    }
  }
  return { positions: outPos, colors: outCol };
}
