/**
 * Image decoding for capture readers.
 *
 * - Colour (JPEG or PNG, any channel count / bit depth sharp reads) -> packed 8-bit RGB via sharp
 *   (`sharp(buf).removeAlpha().toColourspace('srgb').raw()`).
 * - Single-channel PNG (depth in uint16 units, instance labels, confidence) -> typed arrays via pngjs
 *   (`skipRescale`, so 16-bit samples keep their stored values). Only greyscale PNGs (colour type 0) are
 *   accepted for these; the PNG header is checked against the expected size BEFORE decoding so a
 *   "decompression bomb" PNG cannot make us allocate more than the caller expects.
 *
 * Every failure is a CaptureError naming `file` (the path shown to the user, e.g. `rgbd/3.jpg`).
 */
import sharp from 'sharp';
import { PNG } from 'pngjs';
import { CaptureError, type RgbImage } from './types';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export type ImageMime = 'image/jpeg' | 'image/png';

/** Sniff JPEG/PNG from magic bytes; null when neither. */
export function sniffImageMime(bytes: Uint8Array): ImageMime | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'image/png';
  return null;
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

/** Read the IHDR of a PNG without decoding it. */
export function readPngHeader(bytes: Uint8Array, file: string): PngHeader {
  if (sniffImageMime(bytes) !== 'image/png' || bytes.length < 33) {
    throw new CaptureError('INVALID_INPUT', file, 'not a PNG file');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunkLen = dv.getUint32(8);
  const chunkType = String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!);
  if (chunkType !== 'IHDR' || chunkLen !== 13)
    throw new CaptureError('INVALID_INPUT', file, 'PNG does not start with an IHDR chunk');
  return { width: dv.getUint32(16), height: dv.getUint32(20), bitDepth: bytes[24]!, colorType: bytes[25]! };
}

export interface DecodeRgbOptions {
  /** When given, the decoded image must have exactly this size. */
  expectWidth?: number;
  expectHeight?: number;
  /** Refuse images with more pixels than this (default 100 megapixels). */
  maxPixels?: number;
}

/** Decode a JPEG or PNG to packed 8-bit RGB. */
export async function decodeRgb(
  bytes: Uint8Array,
  file: string,
  opts: DecodeRgbOptions = {},
): Promise<RgbImage> {
  const mime = sniffImageMime(bytes);
  if (!mime) throw new CaptureError('INVALID_INPUT', file, 'not a JPEG or PNG image');
  const maxPixels = opts.maxPixels ?? 100_000_000;
  let out: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    out = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `unreadable ${mime === 'image/jpeg' ? 'JPEG' : 'PNG'}: ${(err as Error).message}`,
    );
  }
  const { width, height, channels } = out.info;
  if (channels !== 3 || out.data.length !== width * height * 3) {
    throw new CaptureError('INVALID_INPUT', file, `decoded to ${channels} channels, expected RGB`);
  }
  if (
    (opts.expectWidth !== undefined && width !== opts.expectWidth) ||
    (opts.expectHeight !== undefined && height !== opts.expectHeight)
  ) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `image is ${width}x${height}, expected ${opts.expectWidth ?? width}x${opts.expectHeight ?? height} (w x h)`,
    );
  }
  return { width, height, data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length) };
}

export interface GrayPng<T extends Uint8Array | Uint16Array> {
  width: number;
  height: number;
  data: T;
}

function decodeGrayPng(
  bytes: Uint8Array,
  file: string,
  allowedBitDepths: readonly number[],
  expectWidth: number | undefined,
  expectHeight: number | undefined,
): { width: number; height: number; bitDepth: number; samples: Uint8Array | Uint16Array } {
  const h = readPngHeader(bytes, file);
  if (h.colorType !== 0)
    throw new CaptureError('INVALID_INPUT', file, `PNG colour type ${h.colorType}, expected greyscale (0)`);
  if (!allowedBitDepths.includes(h.bitDepth)) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `PNG bit depth ${h.bitDepth}, expected ${allowedBitDepths.join(' or ')}`,
    );
  }
  if (
    (expectWidth !== undefined && h.width !== expectWidth) ||
    (expectHeight !== undefined && h.height !== expectHeight)
  ) {
    throw new CaptureError(
      'INVALID_INPUT',
      file,
      `PNG is ${h.width}x${h.height}, expected ${expectWidth ?? h.width}x${expectHeight ?? h.height} (w x h)`,
    );
  }
  if (h.width === 0 || h.height === 0 || h.width * h.height > 100_000_000) {
    throw new CaptureError('INVALID_INPUT', file, `PNG size ${h.width}x${h.height} out of range`);
  }
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (err) {
    throw new CaptureError('INVALID_INPUT', file, `unreadable PNG: ${(err as Error).message}`);
  }
  const n = png.width * png.height;
  const rgba = png.data as unknown as Uint8Array | Uint16Array;
  if (png.width !== h.width || png.height !== h.height || rgba.length !== n * 4) {
    throw new CaptureError('INVALID_INPUT', file, 'PNG decoded to an unexpected size');
  }
  const samples = h.bitDepth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  if (h.bitDepth === 16 && !(rgba instanceof Uint16Array))
    throw new CaptureError('INVALID_INPUT', file, 'PNG 16-bit samples were not preserved');
  for (let i = 0; i < n; i++) samples[i] = rgba[i * 4]!;
  return { width: png.width, height: png.height, bitDepth: h.bitDepth, samples };
}

/** Decode a 16-bit greyscale PNG (depth units, instance ids) to its stored uint16 values. 8-bit greyscale is widened. */
export function decodePngGray16(
  bytes: Uint8Array,
  file: string,
  expectWidth?: number,
  expectHeight?: number,
): GrayPng<Uint16Array> {
  const r = decodeGrayPng(bytes, file, [8, 16], expectWidth, expectHeight);
  const data = r.samples instanceof Uint16Array ? r.samples : Uint16Array.from(r.samples);
  return { width: r.width, height: r.height, data };
}

/** Decode an 8-bit greyscale PNG (confidence 0/1/2). */
export function decodePngGray8(
  bytes: Uint8Array,
  file: string,
  expectWidth?: number,
  expectHeight?: number,
): GrayPng<Uint8Array> {
  const r = decodeGrayPng(bytes, file, [8], expectWidth, expectHeight);
  return { width: r.width, height: r.height, data: r.samples as Uint8Array };
}

/** Encode a greyscale PNG (8- or 16-bit) — used by the test capture writers. */
export function encodePngGray(width: number, height: number, samples: Uint8Array | Uint16Array): Uint8Array {
  const bitDepth = samples instanceof Uint16Array ? 16 : 8;
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
  // pngjs reads 16-bit input as native-endian uint16 over the WHOLE backing ArrayBuffer: give it a fresh exact copy.
  const copy = bitDepth === 16 ? new Uint16Array(samples) : new Uint8Array(samples);
  png.data = Buffer.from(copy.buffer);
  const out = PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
