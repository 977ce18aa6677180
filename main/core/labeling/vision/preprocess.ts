/**
 * CLIP image preprocessing, as CLIPImageProcessor does it: resize so the shortest side is `size` (bicubic,
 * the long side `floor(size * long / short)`), center-crop `size` x `size` (offsets floored), scale to [0, 1],
 * normalise per channel with CLIP's mean/std, CHW float32. OWL-ViT stretches the whole image to a square
 * instead; OWLv2 pads it to a square (grey 0.5, bottom/right) first.
 */
import sharp from 'sharp';
import type { RgbImage } from '../../capture/types';
import type { Box } from '../types';

export const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** Clip a box to the image and round it to whole pixels (at least 1x1). */
export function pixelBox(
  box: Box,
  w: number,
  h: number,
): { left: number; top: number; width: number; height: number } {
  const x0 = Math.max(0, Math.min(w - 1, Math.floor(box[0])));
  const y0 = Math.max(0, Math.min(h - 1, Math.floor(box[1])));
  const x1 = Math.max(x0 + 1, Math.min(w, Math.ceil(box[2])));
  const y1 = Math.max(y0 + 1, Math.min(h, Math.ceil(box[3])));
  return { left: x0, top: y0, width: x1 - x0, height: y1 - y0 };
}

/** Packed RGB bytes -> normalised CHW floats written at `out[offset..]`. */
export function normalizeInto(
  rgb: Uint8Array,
  w: number,
  h: number,
  out: Float32Array,
  offset: number,
): void {
  const plane = w * h;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++)
      out[offset + c * plane + p] = (rgb[3 * p + c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  }
}

function rawInput(img: RgbImage) {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
}

/** CLIP-preprocess the region `box` of `img` into `out` (3 x size x size floats at `offset`). */
export async function clipPreprocessCrop(
  img: RgbImage,
  box: Box | null,
  size: number,
  out: Float32Array,
  offset: number,
): Promise<void> {
  const r = box
    ? pixelBox(box, img.width, img.height)
    : { left: 0, top: 0, width: img.width, height: img.height };
  const short = Math.min(r.width, r.height),
    long = Math.max(r.width, r.height);
  const longSide = Math.max(size, Math.floor((size * long) / short));
  const rw = r.width <= r.height ? size : longSide;
  const rh = r.width <= r.height ? longSide : size;
  const left = Math.floor((rw - size) / 2),
    top = Math.floor((rh - size) / 2);
  const buf = await rawInput(img)
    .extract(r)
    .resize(rw, rh, { kernel: 'cubic', fit: 'fill' })
    .extract({ left, top, width: size, height: size })
    .raw()
    .toBuffer();
  normalizeInto(buf, size, size, out, offset);
}

/** OWL-ViT: stretch to size x size. OWLv2: pad to a square with grey (0.5) at the bottom/right, then resize. */
export async function owlPreprocess(
  img: RgbImage,
  size: number,
  mode: 'stretch' | 'pad-square',
): Promise<{ pixels: Float32Array; scaleX: number; scaleY: number }> {
  const out = new Float32Array(3 * size * size);
  let pipeline = rawInput(img);
  let sx = img.width,
    sy = img.height;
  if (mode === 'pad-square') {
    const side = Math.max(img.width, img.height);
    pipeline = pipeline.extend({
      right: side - img.width,
      bottom: side - img.height,
      background: { r: 128, g: 128, b: 128 },
    });
    sx = sy = side;
  }
  const buf = await sharp(await pipeline.raw().toBuffer(), { raw: { width: sx, height: sy, channels: 3 } })
    .resize(size, size, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
  normalizeInto(buf, size, size, out, 0);
  // pred_boxes are relative to the (padded) square: multiply by these to get RGB pixels.
  return { pixels: out, scaleX: sx, scaleY: sy };
}
