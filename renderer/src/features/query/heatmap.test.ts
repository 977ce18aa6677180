import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimateStride, interleaveForLod } from '../../viewport/decimate';
import { countAbove, decodeScores, displaySourceIndices, heatmapColors } from './heatmap';
import { encodeHeatmap } from '../../../../preload/contract/heatmap-format';
import { AssetError } from '../../lib/assets';

describe('displaySourceIndices', () => {
  it('matches the viewport decimation + LOD reorder for any size (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3000 }),
        fc.integer({ min: 1, max: 3000 }),
        (total, maxPoints) => {
          const pos = new Float32Array(total * 3);
          for (let i = 0; i < total; i++) pos[i * 3] = i;
          const dec = decimateStride(pos, null, maxPoints);
          const lod = interleaveForLod(dec.positions, null, 3);
          const idx = displaySourceIndices(total, dec.stride);
          expect(idx.length).toBe(dec.count);
          for (let j = 0; j < idx.length; j++) expect(idx[j]).toBe(lod.positions[j * 3]);
        },
      ),
      { numRuns: 1000, seed: 11 },
    );
  });
});

describe('heatmapColors', () => {
  it('greys points below the threshold and colours the rest by score', () => {
    const scores = new Float32Array([0, 0.5, 1]);
    const rgba = heatmapColors(scores, Uint32Array.from([0, 1, 2]), {
      range: [0, 1],
      threshold: 0.4,
      hitsOnly: false,
    });
    expect(Array.from(rgba.subarray(0, 4))).toEqual([40, 40, 40, 255]);
    expect(Array.from(rgba.subarray(4, 8))).not.toEqual(Array.from(rgba.subarray(8, 12)));
    const dark = heatmapColors(scores, Uint32Array.from([0]), {
      range: [0, 1],
      threshold: 0.4,
      hitsOnly: true,
    });
    expect(dark[0]).toBeLessThan(40);
  });
});

describe('decodeScores / countAbove', () => {
  it('decodes the heatmap asset, checks it against the map and counts hits', () => {
    const bytes = encodeHeatmap(new Float32Array([0.1, 0.9, 0.5]));
    const s = decodeScores(bytes.slice().buffer, 3, 'query/heatmap-1.u16');
    expect(countAbove(s, 0.5)).toBe(2);
    expect(() => decodeScores(bytes.slice().buffer, 4, 'query/heatmap-1.u16')).toThrow(
      /heatmap-1\.u16.*3 scores but the map has 4 points/,
    );
    expect(() => decodeScores(new ArrayBuffer(8), 3, 'query/heatmap-1.u16')).toThrow(AssetError);
  });
});
