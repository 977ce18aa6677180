import { describe, expect, it } from 'vitest';
import { centroidOf, pointsInBox, rgbIntrinsicsFrom } from './project-box';

const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const k = { fx: 100, fy: 100, cx: 50, cy: 50 };

describe('pointsInBox', () => {
  it('keeps points of the wanted labels that project inside the box, in front of the camera', () => {
    // Camera at origin looking down -z. Point 0 projects to the centre; point 1 is behind; point 2 is the
    // wrong label; point 3 is up-left (v decreases as y rises) and outside the lower-right box.
    const pos = new Float32Array([0, 0, -2, 0, 0, 2, 0, 0, -2, -0.5, 0.5, -1]);
    const ids = new Uint16Array([0, 0, 1, 0]);
    expect(Array.from(pointsInBox(pos, ids, new Set([0]), identity, k, [40, 40, 60, 60]))).toEqual([0]);
    expect(Array.from(pointsInBox(pos, ids, new Set([0]), identity, k, [0, 0, 10, 10]))).toEqual([3]);
  });

  it('applies the camera pose (camera moved +1 m in x sees the point at x=1 centred)', () => {
    const pose = [1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const pos = new Float32Array([1, 0, -3]);
    expect(pointsInBox(pos, new Uint16Array([0]), new Set([0]), pose, k, [49, 49, 51, 51]).length).toBe(1);
  });
});

describe('rgbIntrinsicsFrom', () => {
  it('scales depth intrinsics to RGB pixels', () => {
    expect(rgbIntrinsicsFrom([10, 20, 30, 40], [256, 192], [1024, 768])).toEqual({
      fx: 40,
      fy: 80,
      cx: 120,
      cy: 160,
    });
  });
});

describe('centroidOf', () => {
  it('averages the chosen points and is null for none', () => {
    const pos = new Float32Array([0, 0, 0, 2, 4, 6, 100, 100, 100]);
    expect(centroidOf(pos, Uint32Array.from([0, 1]))).toEqual([1, 2, 3]);
    expect(centroidOf(pos, new Uint32Array(0))).toBeNull();
  });
});
