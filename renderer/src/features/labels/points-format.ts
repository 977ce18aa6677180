/**
 * Decoder for the labeled-points asset `labels/points.bin` (served by the studio):
 *   u32 n, u32 labelsJsonBytes, f32 xyz[3n] (world frame, metres), u16 labelId[n] padded to 4 bytes,
 *   then a UTF-8 JSON array of label texts (labelId indexes it). Little-endian throughout.
 */
import { AssetError } from '../../lib/assets';

export const LABEL_POINTS_ASSET = 'labels/points.bin';

export interface LabelPoints {
  count: number;
  /** xyz per point, world frame, metres. */
  positions_m: Float32Array;
  /** Index into `texts` per point. */
  labelIds: Uint16Array;
  texts: string[];
}

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Decodes the asset, checking every length and index; bad input throws AssetError naming the file. */
export function decodeLabelPoints(buf: ArrayBuffer, file = LABEL_POINTS_ASSET): LabelPoints {
  if (buf.byteLength < 8)
    throw new AssetError(file, `is ${buf.byteLength} bytes, shorter than its 8-byte header`);
  const dv = new DataView(buf);
  const n = dv.getUint32(0, true);
  const jsonBytes = dv.getUint32(4, true);
  const idsBytes = pad4(n * 2);
  const expected = 8 + n * 12 + idsBytes + jsonBytes;
  if (expected !== buf.byteLength)
    throw new AssetError(
      file,
      `header says ${n} points and ${jsonBytes} bytes of label texts (${expected} bytes in all) but the file has ${buf.byteLength} bytes`,
    );
  let texts: unknown;
  try {
    texts = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(buf, 8 + n * 12 + idsBytes, jsonBytes)),
    );
  } catch (err) {
    throw new AssetError(
      file,
      `label texts are not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (!Array.isArray(texts) || !texts.every((t): t is string => typeof t === 'string'))
    throw new AssetError(file, 'label texts are not a JSON array of strings');
  // Copies keep the typed arrays independent of the fetched buffer (which the asset cache may hold).
  const positions_m = new Float32Array(buf.slice(8, 8 + n * 12));
  for (let i = 0; i < positions_m.length; i++) {
    if (!Number.isFinite(positions_m[i]!))
      throw new AssetError(file, `point ${Math.floor(i / 3)} has a non-finite coordinate`);
  }
  const labelIds = new Uint16Array(buf.slice(8 + n * 12, 8 + n * 12 + n * 2));
  for (let i = 0; i < n; i++) {
    if (labelIds[i]! >= texts.length)
      throw new AssetError(
        file,
        `point ${i} has label id ${labelIds[i]} but there are only ${texts.length} label texts`,
      );
  }
  return { count: n, positions_m, labelIds, texts };
}

/** Encoder (the inverse of decodeLabelPoints), used by tests and fixtures. */
export function encodeLabelPoints(p: {
  positions_m: Float32Array;
  labelIds: Uint16Array;
  texts: readonly string[];
}): ArrayBuffer {
  const n = p.labelIds.length;
  const json = new TextEncoder().encode(JSON.stringify(p.texts));
  const idsBytes = pad4(n * 2);
  const out = new ArrayBuffer(8 + n * 12 + idsBytes + json.length);
  const dv = new DataView(out);
  dv.setUint32(0, n, true);
  dv.setUint32(4, json.length, true);
  new Float32Array(out, 8, n * 3).set(p.positions_m.subarray(0, n * 3));
  new Uint16Array(out, 8 + n * 12, n).set(p.labelIds);
  new Uint8Array(out, 8 + n * 12 + idsBytes).set(json);
  return out;
}
