import { describe, expect, it } from 'vitest';
import { buildPalette, colorOf, pointColors, srgbToLinearByte, UNKNOWN_RGB } from './palette';

describe('buildPalette', () => {
  it('gives a class the same colour whatever order the names arrive in', () => {
    const a = buildPalette(['sofa', 'chair', 'table']);
    const b = buildPalette(['table', 'sofa', 'chair', 'chair']);
    for (const n of ['sofa', 'chair', 'table']) expect(a.get(n)).toEqual(b.get(n));
  });

  it('gives 60 classes 60 distinct colours', () => {
    const names = Array.from({ length: 60 }, (_, i) => `class ${i}`);
    const p = buildPalette(names);
    expect(new Set([...p.values()].map((c) => c.join(','))).size).toBe(60);
  });

  it('falls back to grey for an unknown class', () => {
    expect(colorOf(buildPalette(['a']), 'zzz')).toEqual(UNKNOWN_RGB);
  });
});

describe('pointColors', () => {
  it('colours each point by its label and greys classes outside the filter or rejected', () => {
    const texts = ['chair', 'sofa', 'wall'];
    const pal = buildPalette(texts);
    const rgba = pointColors(new Uint16Array([0, 1, 2]), texts, pal, {
      only: new Set(['chair', 'wall']),
      rejected: new Set(['wall']),
      dim: [1, 2, 3],
    });
    expect(Array.from(rgba.subarray(0, 4))).toEqual([...pal.get('chair')!, 255]);
    expect(Array.from(rgba.subarray(4, 8))).toEqual([1, 2, 3, 255]);
    expect(Array.from(rgba.subarray(8, 12))).toEqual([1, 2, 3, 255]);
  });
});

describe('srgbToLinearByte', () => {
  it('keeps black and white and darkens mid-grey to about 22%', () => {
    expect(srgbToLinearByte(0)).toBe(0);
    expect(srgbToLinearByte(255)).toBe(255);
    expect(srgbToLinearByte(128)).toBe(55);
  });
});
