import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeHeatmap, encodeHeatmap, HeatmapFormatError } from './heatmap-format';

describe('heatmap asset format', () => {
  it('round-trips any scores to within half a quantisation step of their range', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { maxLength: 400 }), (xs) => {
        const s = Float32Array.from(xs);
        const { scores, lo, hi } = decodeHeatmap(encodeHeatmap(s), s.length, 'h.u16');
        const tol = (hi - lo) / 65535 / 2 + 1e-6 * Math.max(1, Math.abs(lo), Math.abs(hi));
        for (let i = 0; i < s.length; i++) expect(Math.abs(scores[i]! - s[i]!)).toBeLessThanOrEqual(tol);
        if (s.length) {
          expect(lo).toBe(Math.fround(Math.min(...s)));
          expect(hi).toBe(Math.fround(Math.max(...s)));
        }
      }),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('stores non-finite scores as the bottom of the range', () => {
    const { scores } = decodeHeatmap(encodeHeatmap(Float32Array.of(0.2, NaN, 0.8)), 3, 'h.u16');
    expect(scores[1]).toBeCloseTo(0.2, 6);
  });

  it('rejects any corrupted or truncated asset with an error naming the file', () => {
    const good = encodeHeatmap(Float32Array.from({ length: 20 }, (_, i) => i / 20));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: good.length }),
        fc.integer({ min: 0, max: 15 }),
        fc.integer({ min: 1, max: 255 }),
        (cut, at, xor) => {
          const bad = Uint8Array.from(good.subarray(0, cut));
          if (at < bad.length && at < 16) bad[at]! ^= xor;
          if (cut === good.length && at >= 16) return; // untouched payload bytes are valid
          try {
            decodeHeatmap(bad, 20, 'query/heatmap-3.u16');
          } catch (e) {
            expect(e).toBeInstanceOf(HeatmapFormatError);
            expect((e as Error).message).toMatch(/^query\/heatmap-3\.u16: /);
            return;
          }
          // A flipped bit in lo/hi can still be a valid range: then the decode must be well-formed.
          expect(cut).toBe(good.length);
        },
      ),
      { numRuns: 1000, seed: 12 },
    );
    expect(() => decodeHeatmap(good, 21, 'x.u16')).toThrow(/holds 20 scores but the map has 21 points/);
  });
});
