import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { FramePose } from '../capture/types';
import {
  laplacianVariance,
  rejectBlurry,
  rotationBetweenDeg,
  selectFrames,
  sharpnessOfEncoded,
} from './select';

function pose(index: number, x: number, yawDeg = 0): FramePose {
  const a = (yawDeg * Math.PI) / 180;
  const c = Math.cos(a),
    s = Math.sin(a);
  return {
    index,
    timestamp_s: index / 30,
    world_from_camera: new Float64Array([c, 0, s, x, 0, 1, 0, 0, -s, 0, c, 0, 0, 0, 0, 1]),
  };
}

const none = { min_translation_m: 0, min_rotation_deg: 0 };

describe('selectFrames', () => {
  it('takes every k-th frame starting at 0', () => {
    const poses = Array.from({ length: 10 }, (_, i) => pose(i, i));
    expect(selectFrames(poses, { every: 3, ...none })).toEqual([0, 3, 6, 9]);
    expect(selectFrames(poses, { every: 1, ...none })).toHaveLength(10);
  });

  it('skips near-duplicate poses relative to the last kept frame', () => {
    // x = 0, 0.02, 0.04, ... : with 5 cm minimum translation every third frame survives
    const poses = Array.from({ length: 10 }, (_, i) => pose(i, 0.02 * i));
    expect(selectFrames(poses, { every: 1, min_translation_m: 0.05, min_rotation_deg: 90 })).toEqual([
      0, 3, 6, 9,
    ]);
  });

  it('keeps a frame that turned enough even without moving', () => {
    const poses = [pose(0, 0, 0), pose(1, 0, 2), pose(2, 0, 11), pose(3, 0, 12)];
    expect(rotationBetweenDeg(poses[0]!.world_from_camera, poses[2]!.world_from_camera)).toBeCloseTo(11, 6);
    expect(selectFrames(poses, { every: 1, min_translation_m: 1, min_rotation_deg: 10 })).toEqual([0, 2]);
  });
});

describe('blur detection', () => {
  const W = 160,
    H = 120;
  const checker = (): Uint8Array => {
    const g = new Uint8Array(W * H);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) g[y * W + x] = ((x >> 3) + (y >> 3)) % 2 ? 220 : 30;
    return g;
  };

  it('scores a sharp image above its blurred copy', async () => {
    const g = checker();
    const sharpScore = laplacianVariance(g, W, H);
    const blurred = await sharp(Buffer.from(g), { raw: { width: W, height: H, channels: 1 } })
      .blur(3)
      .greyscale()
      .raw()
      .toBuffer();
    expect(laplacianVariance(new Uint8Array(blurred), W, H)).toBeLessThan(sharpScore / 10);
    expect(laplacianVariance(new Uint8Array(W * H).fill(128), W, H)).toBe(0);
  });

  it('measures encoded images and rejects frames far below the median', async () => {
    const g = checker();
    const raw = sharp(Buffer.from(g), { raw: { width: W, height: H, channels: 1 } });
    const sharpJpeg = new Uint8Array(await raw.clone().jpeg({ quality: 95 }).toBuffer());
    const blurJpeg = new Uint8Array(await raw.clone().blur(4).jpeg({ quality: 95 }).toBuffer());
    const scores = new Map<number, number>([
      [0, await sharpnessOfEncoded(sharpJpeg)],
      [1, await sharpnessOfEncoded(sharpJpeg)],
      [2, await sharpnessOfEncoded(blurJpeg)],
      [3, await sharpnessOfEncoded(sharpJpeg)],
    ]);
    const r = rejectBlurry([0, 1, 2, 3], (i) => scores.get(i)!);
    expect(r.blurry).toEqual([2]);
    expect(r.kept).toEqual([0, 1, 3]);
  });
});
