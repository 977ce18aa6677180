/**
 * The studio's per-query heatmap asset `query/heatmap-<seq>.u16`: one score per map point, in the map file's
 * order, quantised to 16 bits over the query's score range (half the bytes of float32, and a quantisation
 * step of range / 65535, far below what the colour ramp or the threshold slider resolve).
 *
 * Browser-safe and dependency-free, shared by the compute worker (encoder) and the renderer (decoder).
 *
 * Layout (little-endian):
 *
 * | offset | size | type  | field                                             |
 * |-------:|-----:|-------|---------------------------------------------------|
 * |      0 |    4 | ASCII | magic `CFH1`                                      |
 * |      4 |    4 | u32   | N, points                                         |
 * |      8 |    4 | f32   | lo, the smallest finite score (0 when none)       |
 * |     12 |    4 | f32   | hi, the largest finite score (lo when none)       |
 * |     16 |   2N | u16   | q[i] = round((score[i] - lo) / (hi - lo) * 65535) |
 *
 * Non-finite scores are stored as 0 (= lo). Decoding gives lo + q * (hi - lo) / 65535.
 */

export const HEATMAP_MAGIC = 'CFH1';
export const HEATMAP_HEADER_BYTES = 16;

export class HeatmapFormatError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'HeatmapFormatError';
  }
}

/** Encode `n` scores; pass their finite min and max as `range` when already known (saves a pass). */
export function encodeHeatmap(
  scores: Float32Array,
  n = scores.length,
  range?: readonly [number, number],
): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  if (range) [lo, hi] = range;
  else
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      if (s < lo) lo = s;
      if (s > hi) hi = s;
    }
  if (!(lo <= hi) || !Number.isFinite(lo) || !Number.isFinite(hi)) lo = hi = 0;
  // Round the range to float32 first, so the decoder (which reads float32) uses the same numbers.
  const f = new Float32Array([lo, hi]);
  lo = f[0]!;
  hi = f[1]!;
  const out = new Uint8Array(HEATMAP_HEADER_BYTES + 2 * n);
  const dv = new DataView(out.buffer);
  for (let k = 0; k < 4; k++) out[k] = HEATMAP_MAGIC.charCodeAt(k);
  dv.setUint32(4, n, true);
  dv.setFloat32(8, lo, true);
  dv.setFloat32(12, hi, true);
  const q = new Uint16Array(out.buffer, HEATMAP_HEADER_BYTES, n);
  const scale = hi > lo ? 65535 / (hi - lo) : 0;
  for (let i = 0; i < n; i++) {
    // +0.5 then the Uint16Array store's truncation rounds; NaN fails the first test and stores 0.
    const v = (scores[i]! - lo) * scale + 0.5;
    q[i] = v >= 0 ? (v < 65535 ? v : 65535) : 0;
  }
  return out;
}

/** Decode a heatmap asset; `expected` is the map's point count. Throws HeatmapFormatError naming `file`. */
export function decodeHeatmap(
  buf: ArrayBuffer | Uint8Array,
  expected: number,
  file: string,
): { scores: Float32Array; lo: number; hi: number } {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (bytes.byteLength < HEATMAP_HEADER_BYTES)
    throw new HeatmapFormatError(file, `${bytes.byteLength} bytes is shorter than the 16-byte header`);
  const magic = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (magic !== HEATMAP_MAGIC)
    throw new HeatmapFormatError(file, `not a heatmap (magic ${JSON.stringify(magic)}, expected "CFH1")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(4, true);
  if (n !== expected)
    throw new HeatmapFormatError(file, `holds ${n} scores but the map has ${expected} points`);
  if (bytes.byteLength !== HEATMAP_HEADER_BYTES + 2 * n)
    throw new HeatmapFormatError(
      file,
      `expected ${HEATMAP_HEADER_BYTES + 2 * n} bytes for ${n} points, got ${bytes.byteLength}`,
    );
  const lo = dv.getFloat32(8, true);
  const hi = dv.getFloat32(12, true);
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo)
    throw new HeatmapFormatError(file, `bad score range [${lo}, ${hi}]`);
  const step = (hi - lo) / 65535;
  const scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const off = HEATMAP_HEADER_BYTES + 2 * i;
    scores[i] = lo + (bytes[off]! | (bytes[off + 1]! << 8)) * step;
  }
  return { scores, lo, hi };
}
