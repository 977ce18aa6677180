import { describe, expect, it } from 'vitest';
import {
  cameraCenter,
  FRUSTUM_VERTS,
  frameOfFrustumVertex,
  frustumCornersCamera,
  frustumSegments,
  heightColors,
  trajectoryPositions,
  transformPoint,
} from './geometry';

const I = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
const translate = (x: number, y: number, z: number) => [1, 0, 0, x, 0, 1, 0, y, 0, 0, 1, z, 0, 0, 0, 1];
const k = { width: 200, height: 100, fx: 100, fy: 100, cx: 100, cy: 50 };

describe('camera geometry (ARKit axes)', () => {
  it('reads the camera centre from the row-major translation column', () => {
    expect(cameraCenter(translate(1, 2, 3))).toEqual([1, 2, 3]);
    expect(transformPoint(translate(1, 2, 3), [1, 1, 1])).toEqual([2, 3, 4]);
  });

  it('puts the frustum in front of the camera (-z) with the image top at +y', () => {
    const [tl, tr, br, bl] = frustumCornersCamera(k, 2);
    expect(tl).toEqual([-2, 1, -2]);
    expect(tr).toEqual([2, 1, -2]);
    expect(br).toEqual([2, -1, -2]);
    expect(bl).toEqual([-2, -1, -2]);
  });

  it('lays out 16 vertices per frame and maps vertices back to frames', () => {
    const seg = frustumSegments([I, translate(5, 0, 0)], k, 1);
    expect(seg.length).toBe(2 * FRUSTUM_VERTS * 3);
    expect(Array.from(seg.slice(FRUSTUM_VERTS * 3, FRUSTUM_VERTS * 3 + 3))).toEqual([5, 0, 0]);
    expect(frameOfFrustumVertex(0)).toBe(0);
    expect(frameOfFrustumVertex(FRUSTUM_VERTS - 1)).toBe(0);
    expect(frameOfFrustumVertex(FRUSTUM_VERTS)).toBe(1);
  });

  it('collects trajectory positions in frame order', () => {
    expect(Array.from(trajectoryPositions([translate(0, 0, 0), translate(1, 2, 3)]))).toEqual([
      0, 0, 0, 1, 2, 3,
    ]);
  });
});

describe('heightColors', () => {
  it('colours low points differently from high points along the up axis', () => {
    const n = 100;
    const pos = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) pos[i * 3 + 1] = i / 10;
    const c = heightColors(pos, [0, 1, 0]);
    expect(Array.from(c.slice(0, 3))).not.toEqual(Array.from(c.slice((n - 1) * 3, n * 3)));
    // Along x nothing varies: every point gets the same colour.
    const flat = heightColors(pos, [1, 0, 0]);
    expect(Array.from(flat.slice(0, 3))).toEqual(Array.from(flat.slice((n - 1) * 3, n * 3)));
  });
});
