/**
 * The field's top label per map point (`field/top-labels.bin`, served by the studio once the query
 * cache is built):
 *   u32 n, u32 jsonLen, i16 topLabel[n] (one per MAP point in map order; -1 = none) padded to 4 bytes,
 *   then a UTF-8 JSON array of label texts (topLabel indexes it). Little-endian throughout.
 * Pure functions: no DOM, no THREE.
 */
import { AssetError } from '../../lib/assets';
import { colorOf, srgbToLinearByte, type Palette, type Rgb } from '../labels/palette';

export const TOP_LABELS_ASSET = 'field/top-labels.bin';

export interface TopLabels {
  count: number;
  /** Index into `texts` per map point; -1 when the field has no label for the point. */
  topLabel: Int16Array;
  texts: string[];
}

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/**
 * Decodes the asset, checking every length and index. `expectedPoints` (the map's point count), when
 * given, must match. Bad input throws AssetError naming the file and the problem.
 */
export function decodeTopLabels(
  buf: ArrayBuffer,
  expectedPoints: number | null = null,
  file = TOP_LABELS_ASSET,
): TopLabels {
  if (buf.byteLength < 8)
    throw new AssetError(file, `is ${buf.byteLength} bytes, shorter than its 8-byte header`);
  const dv = new DataView(buf);
  const n = dv.getUint32(0, true);
  const jsonBytes = dv.getUint32(4, true);
  const idsBytes = pad4(n * 2);
  const expected = 8 + idsBytes + jsonBytes;
  if (expected !== buf.byteLength)
    throw new AssetError(
      file,
      `header says ${n} points and ${jsonBytes} bytes of label texts (${expected} bytes in all) but the file has ${buf.byteLength} bytes`,
    );
  if (expectedPoints !== null && n !== expectedPoints)
    throw new AssetError(
      file,
      `has ${n} points but the map has ${expectedPoints}: rebuild the query cache (Evaluate field)`,
    );
  let texts: unknown;
  try {
    texts = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(buf, 8 + idsBytes, jsonBytes)),
    );
  } catch (err) {
    throw new AssetError(
      file,
      `label texts are not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (!Array.isArray(texts) || !texts.every((t): t is string => typeof t === 'string'))
    throw new AssetError(file, 'label texts are not a JSON array of strings');
  const topLabel = new Int16Array(buf.slice(8, 8 + n * 2));
  for (let i = 0; i < n; i++) {
    const v = topLabel[i]!;
    if (v < -1 || v >= texts.length)
      throw new AssetError(
        file,
        `point ${i} has top label ${v} but there are only ${texts.length} label texts`,
      );
  }
  return { count: n, topLabel, texts };
}

/** Encoder (the inverse of decodeTopLabels), used by tests and fixtures. */
export function encodeTopLabels(p: { topLabel: Int16Array; texts: readonly string[] }): ArrayBuffer {
  const n = p.topLabel.length;
  const json = new TextEncoder().encode(JSON.stringify(p.texts));
  const idsBytes = pad4(n * 2);
  const out = new ArrayBuffer(8 + idsBytes + json.length);
  const dv = new DataView(out);
  dv.setUint32(0, n, true);
  dv.setUint32(4, json.length, true);
  new Int16Array(out, 8, n).set(p.topLabel);
  new Uint8Array(out, 8 + idsBytes).set(json);
  return out;
}

/** Grey for points the field leaves unlabeled (sRGB). */
export const NO_LABEL_RGB: Rgb = [70, 70, 70];

/**
 * RGBA per displayed vertex (linear-light bytes, as THREE expects vertex colours). `source` maps each
 * displayed vertex to its map point (see query/heatmap displaySourceIndices); the palette is the
 * Labels pane's, so a class has the same colour everywhere.
 */
export function topLabelColors(
  top: TopLabels,
  source: Uint32Array,
  palette: Palette,
  out: Uint8Array = new Uint8Array(source.length * 4),
): Uint8Array {
  const lin = (c: Rgb): Rgb => [srgbToLinearByte(c[0]), srgbToLinearByte(c[1]), srgbToLinearByte(c[2])];
  const table = top.texts.map((t) => lin(colorOf(palette, t)));
  const none = lin(NO_LABEL_RGB);
  for (let j = 0; j < source.length; j++) {
    const id = top.topLabel[source[j]!] ?? -1;
    const c = id >= 0 ? (table[id] ?? none) : none;
    const o = j * 4;
    out[o] = c[0];
    out[o + 1] = c[1];
    out[o + 2] = c[2];
    out[o + 3] = 255;
  }
  return out;
}

/** Points per label text (and how many have none), for the legend. */
export function topLabelCounts(top: TopLabels): { counts: Map<string, number>; none: number } {
  const perId = new Uint32Array(top.texts.length);
  let none = 0;
  for (let i = 0; i < top.count; i++) {
    const v = top.topLabel[i]!;
    if (v < 0) none++;
    else perId[v] = perId[v]! + 1;
  }
  const counts = new Map<string, number>();
  top.texts.forEach((t, i) => counts.set(t, (counts.get(t) ?? 0) + perId[i]!));
  return { counts, none };
}
