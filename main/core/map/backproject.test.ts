import { describe, expect, it } from 'vitest';
import type { CameraIntrinsics } from '../capture/types';
import { allocPointBuffers, backprojectDepth, DEFAULT_DEPTH_FILTER, validDepthFraction } from './backproject';
import { lookAt, renderScene, DEFAULT_SCENE } from './fake-capture';

const K: CameraIntrinsics = { width: 4, height: 3, fx: 2, fy: 4, cx: 1.5, cy: 1 };
const I = new Float64Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

function onePixel(i: number, j: number, z: number): Float32Array {
  const d = new Float32Array(K.width * K.height);
  d[j * K.width + i] = z;
  return d;
}

describe('backprojectDepth', () => {
  it('uses ARKit camera axes: x right, y up (toward the image top), looking along -z', () => {
    const out = allocPointBuffers(12);
    // column 3 (right of cx = 1.5), row 2 (below cy = 1), depth 2 m
    const n = backprojectDepth(onePixel(3, 2, 2), null, K, I, null, DEFAULT_DEPTH_FILTER, out);
    expect(n).toBe(1);
    expect(out.points_world[0]).toBeCloseTo(((3 - 1.5) / 2) * 2, 6); // +x
    expect(out.points_world[1]).toBeCloseTo((-(2 - 1) / 4) * 2, 6); // row below centre -> y < 0
    expect(out.points_world[2]).toBeCloseTo(-2, 6);
  });

  it('applies world_from_camera (row-major, camera to world)', () => {
    // camera rotated 90 deg about world y (looking along world -x), placed at (1, 2, 3)
    const T = new Float64Array([0, 0, 1, 1, 0, 1, 0, 2, -1, 0, 0, 3, 0, 0, 0, 1]);
    const out = allocPointBuffers(12);
    backprojectDepth(onePixel(3, 2, 2), null, K, T, null, DEFAULT_DEPTH_FILTER, out);
    const xc = 1.5,
      yc = -0.5,
      zc = -2;
    expect(out.points_world[0]).toBeCloseTo(zc + 1, 6);
    expect(out.points_world[1]).toBeCloseTo(yc + 2, 6);
    expect(out.points_world[2]).toBeCloseTo(-xc + 3, 6);
  });

  it('keeps only confidence 2 and depth within [min, max]', () => {
    const depth = new Float32Array([0, 0.05, 0.1, 1, 3, 3.01, 1, 1, 1, 1, 1, NaN]);
    const conf = new Uint8Array([2, 2, 2, 2, 2, 2, 0, 1, 2, 2, 2, 2]);
    const out = allocPointBuffers(12);
    expect(backprojectDepth(depth, conf, K, I, null, DEFAULT_DEPTH_FILTER, out)).toBe(6); // 0.1, 1, 3, idx 8,9,10
    expect(backprojectDepth(depth, null, K, I, null, DEFAULT_DEPTH_FILTER, out)).toBe(8);
    expect(validDepthFraction(depth, conf)).toBeCloseTo(6 / 12, 9);
  });

  it('samples colour at the same relative position of a larger RGB image', () => {
    const rgb = { width: 8, height: 6, data: new Uint8Array(8 * 6 * 3) };
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 8; x++) rgb.data.set([x * 10, y * 10, 7], 3 * (y * 8 + x));
    const out = allocPointBuffers(12);
    backprojectDepth(onePixel(3, 2, 1), null, K, I, rgb, DEFAULT_DEPTH_FILTER, out);
    // depth pixel (3,2) covers RGB pixels (6..7, 4..5); nearest sample of its centre is (7, 5)
    expect(Array.from(out.rgb.subarray(0, 3))).toEqual([70, 50, 7]);
  });

  it('reconstructs a ray-cast floor exactly on the plane y = 0', () => {
    const Kd: CameraIntrinsics = { width: 64, height: 48, fx: 50, fy: 50, cx: 31.5, cy: 23.5 };
    const pose = lookAt([0, 1.5, 0], [0, 0, -2.5]);
    const r = renderScene({ ...DEFAULT_SCENE, boxes: [] }, Kd, pose);
    const out = allocPointBuffers(1);
    const n = backprojectDepth(r.depth_m, null, Kd, pose, null, { min_depth_m: 0.1, max_depth_m: 10 }, out);
    expect(n).toBeGreaterThan(1000);
    for (let p = 0; p < n; p++) expect(Math.abs(out.points_world[3 * p + 1]!)).toBeLessThan(1e-4);
  });

  it('rejects mismatched sizes with a RangeError', () => {
    expect(() =>
      backprojectDepth(new Float32Array(5), null, K, I, null, DEFAULT_DEPTH_FILTER, allocPointBuffers(1)),
    ).toThrow(RangeError);
  });
});
