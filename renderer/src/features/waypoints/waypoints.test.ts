import { describe, expect, it } from 'vitest';
import { reorderIds } from './store';
import { buildTopView, mapToPixel } from './topview';

describe('reorderIds', () => {
  it('moves an id and clamps at the ends', () => {
    expect(reorderIds(['a', 'b', 'c'], 'c', -1)).toEqual(['a', 'c', 'b']);
    expect(reorderIds(['a', 'b', 'c'], 'a', -1)).toEqual(['a', 'b', 'c']);
    expect(reorderIds(['a', 'b', 'c'], 'a', 5)).toEqual(['b', 'c', 'a']);
  });
});

describe('buildTopView', () => {
  const identity = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  it('puts a point at its map x, y (y up the image) and marks its pixel occupied', () => {
    const v = buildTopView(new Float32Array([0, 0, 0, 2, 1, 5]), identity, 100, 0)!;
    expect(v.width).toBe(100);
    expect(v.height).toBe(50);
    const [c, r] = mapToPixel(v, 2, 1);
    expect([Math.round(c), Math.round(r)]).toEqual([100, 0]);
    expect(v.density[49 * 100 + 0]).toBeGreaterThan(0);
  });
  it('applies map_from_world (a 90° yaw turns world +x into map +y)', () => {
    const yaw90 = [0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    const v = buildTopView(new Float32Array([0, 0, 0, 1, 0, 0]), yaw90, 10, 0)!;
    expect(v.max_m[1]).toBeCloseTo(1);
    expect(v.max_m[0]).toBeCloseTo(0);
  });
  it('is null for no points', () => {
    expect(buildTopView(new Float32Array(0), identity)).toBeNull();
  });
});
