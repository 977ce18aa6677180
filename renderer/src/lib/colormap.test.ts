import { describe, expect, it } from 'vitest';
import {
  colormapLut,
  confidenceToRgba,
  depthToRgba,
  labelColor,
  labelsToRgba,
  legendTicks,
} from './colormap';

describe('colormapLut', () => {
  it('viridis starts at dark purple and ends at yellow', () => {
    const lut = colormapLut('viridis');
    expect(Array.from(lut.slice(0, 3))).toEqual([0x44, 0x01, 0x54]);
    expect(Array.from(lut.slice(255 * 3, 256 * 3))).toEqual([0xfd, 0xe7, 0x25]);
  });

  it('turbo runs from blue through green to dark red', () => {
    const lut = colormapLut('turbo');
    const at = (k: number) => Array.from(lut.slice(k * 3, k * 3 + 3));
    const [r0, g0, b0] = at(25);
    const [r1, g1, b1] = at(255);
    const [rm, gm, bm] = at(140);
    expect(b0).toBeGreaterThan(r0!);
    expect(b0).toBeGreaterThan(g0!);
    expect(r1).toBeGreaterThan(g1! + 50);
    expect(r1).toBeGreaterThan(b1! + 50);
    expect(gm).toBeGreaterThan(rm!);
    expect(gm).toBeGreaterThan(bm!);
  });
});

describe('depthToRgba', () => {
  it('makes missing depth (0, NaN, Inf) transparent', () => {
    const rgba = depthToRgba(new Float32Array([0, NaN, Infinity, -1]), [0.5, 3], 'turbo');
    for (let i = 0; i < 4; i++) expect(rgba[i * 4 + 3]).toBe(0);
  });

  it('maps the range ends to the first and last LUT entries and clamps beyond', () => {
    const lut = colormapLut('viridis');
    const rgba = depthToRgba(new Float32Array([0.5, 3, 0.1, 9]), [0.5, 3], 'viridis');
    expect(Array.from(rgba.slice(0, 4))).toEqual([lut[0], lut[1], lut[2], 255]);
    expect(Array.from(rgba.slice(4, 8))).toEqual([lut[765], lut[766], lut[767], 255]);
    expect(Array.from(rgba.slice(8, 12))).toEqual(Array.from(rgba.slice(0, 4)));
    expect(Array.from(rgba.slice(12, 16))).toEqual(Array.from(rgba.slice(4, 8)));
  });
});

describe('overlays', () => {
  it('confidence: low is opaque-ish red, high is clear', () => {
    const rgba = confidenceToRgba(new Uint8Array([0, 2]));
    expect(rgba[0]).toBeGreaterThan(200);
    expect(rgba[3]).toBeGreaterThan(100);
    expect(rgba[7]).toBe(0);
  });

  it('labels: id 0 is transparent, equal ids share a colour, different ids differ', () => {
    const rgba = labelsToRgba(new Uint16Array([0, 5, 5, 6]));
    expect(rgba[3]).toBe(0);
    expect(Array.from(rgba.slice(4, 8))).toEqual(Array.from(rgba.slice(8, 12)));
    expect(Array.from(rgba.slice(4, 7))).not.toEqual(Array.from(rgba.slice(12, 15)));
    expect(labelColor(5)).toEqual(labelColor(5));
  });
});

describe('legendTicks', () => {
  it('spans the depth range evenly', () => {
    expect(legendTicks([1, 3], 5)).toEqual([1, 1.5, 2, 2.5, 3]);
    expect(legendTicks([NaN, 3])).toEqual([]);
  });
});
