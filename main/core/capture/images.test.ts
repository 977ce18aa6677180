import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import {
  decodePngGray16,
  decodePngGray8,
  decodeRgb,
  encodePngGray,
  readPngHeader,
  sniffImageMime,
} from './images';
import { CaptureError } from './types';

async function caught(p: Promise<unknown>): Promise<CaptureError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CaptureError);
  return e as CaptureError;
}
function caughtSync(f: () => unknown): CaptureError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return e as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

const rgbPixels = Buffer.from(Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 20) % 256));

describe('decodeRgb', () => {
  it('decodes a PNG to exact packed RGB (alpha removed)', async () => {
    const rgba = Buffer.alloc(4 * 3 * 4, 255);
    for (let i = 0; i < 12; i++) rgba.set(rgbPixels.subarray(i * 3, i * 3 + 3), i * 4);
    const png = await sharp(rgba, { raw: { width: 4, height: 3, channels: 4 } })
      .png()
      .toBuffer();
    const img = await decodeRgb(png, 'c.png');
    expect([img.width, img.height]).toEqual([4, 3]);
    expect(Buffer.from(img.data)).toEqual(rgbPixels);
  });

  it('decodes a greyscale JPEG to three channels', async () => {
    const jpg = await sharp(Buffer.alloc(16 * 8, 128), { raw: { width: 16, height: 8, channels: 1 } })
      .jpeg()
      .toBuffer();
    const img = await decodeRgb(jpg, 'g.jpg');
    expect(img.data.length).toBe(16 * 8 * 3);
    expect(Math.abs(img.data[0]! - 128)).toBeLessThan(3);
  });

  it('names unreadable, truncated and non-image files', async () => {
    const jpg = await sharp(rgbPixels, { raw: { width: 4, height: 3, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect((await caught(decodeRgb(jpg.subarray(0, 30), 'rgbd/3.jpg'))).file).toBe('rgbd/3.jpg');
    const e = await caught(decodeRgb(new TextEncoder().encode('hello'), 'x.jpg'));
    expect(e.reason).toMatch(/not a JPEG or PNG/);
  });

  it('refuses an image of an unexpected size and one over the pixel limit', async () => {
    const jpg = await sharp(rgbPixels, { raw: { width: 4, height: 3, channels: 3 } })
      .jpeg()
      .toBuffer();
    expect((await caught(decodeRgb(jpg, 'a.jpg', { expectWidth: 3, expectHeight: 4 }))).reason).toMatch(
      /4x3, expected 3x4/,
    );
    expect((await caught(decodeRgb(jpg, 'a.jpg', { maxPixels: 5 }))).code).toBe('INVALID_INPUT');
  });

  it('sniffs JPEG and PNG', async () => {
    expect(
      sniffImageMime(
        await sharp(rgbPixels, { raw: { width: 4, height: 3, channels: 3 } })
          .jpeg()
          .toBuffer(),
      ),
    ).toBe('image/jpeg');
    expect(sniffImageMime(encodePngGray(1, 1, new Uint8Array([0])))).toBe('image/png');
    expect(sniffImageMime(new Uint8Array([1, 2, 3]))).toBeNull();
  });
});

describe('greyscale PNG', () => {
  it('round-trips 16-bit values exactly (no rescaling), including 65535', () => {
    const v = Uint16Array.from([0, 1, 255, 256, 1000, 65535]);
    const png = encodePngGray(3, 2, v);
    expect(readPngHeader(png, 'd.png')).toEqual({ width: 3, height: 2, bitDepth: 16, colorType: 0 });
    expect(decodePngGray16(png, 'd.png', 3, 2).data).toEqual(v);
  });

  it('round-trips 8-bit confidence and widens 8-bit to uint16 labels', () => {
    const v = Uint8Array.from([0, 1, 2, 2]);
    const png = encodePngGray(2, 2, v);
    expect(decodePngGray8(png, 'c.png').data).toEqual(v);
    expect(decodePngGray16(png, 'l.png').data).toEqual(Uint16Array.from(v));
  });

  it('checks the size from the header before decoding, and refuses colour PNGs', async () => {
    const png = encodePngGray(3, 2, new Uint16Array(6));
    expect(caughtSync(() => decodePngGray16(png, 'depth/0.png', 192, 256)).reason).toBe(
      'PNG is 3x2, expected 192x256 (w x h)',
    );
    const rgb = await sharp(rgbPixels, { raw: { width: 4, height: 3, channels: 3 } })
      .png()
      .toBuffer();
    expect(caughtSync(() => decodePngGray16(rgb, 'depth/1.png')).reason).toMatch(/colour type 2/);
    expect(caughtSync(() => decodePngGray8(png, 'confidence/0.png')).reason).toMatch(/bit depth 16/);
  });

  it('names a corrupt PNG body', () => {
    const png = encodePngGray(8, 8, new Uint16Array(64).fill(7));
    const broken = Uint8Array.from(png);
    for (let i = 40; i < broken.length - 12; i++) broken[i] = 0xaa;
    expect(caughtSync(() => decodePngGray16(broken, 'labels/4.png')).file).toBe('labels/4.png');
  });
});
