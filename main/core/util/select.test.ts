import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { medianInPlace, topIndices } from './select';

function sortedMedian(xs: Float32Array): number {
  const s = Float32Array.from(xs).sort();
  const n = s.length;
  return n === 0 ? 0 : n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

describe('medianInPlace (quickselect)', () => {
  it('equals the sorted median for any array, duplicates included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.float({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, 1, -1)), {
          maxLength: 300,
        }),
        (xs) => {
          const a = Float32Array.from(xs);
          expect(medianInPlace(Float32Array.from(a))).toBe(sortedMedian(a));
        },
      ),
      { numRuns: 1000, seed: 20261126 },
    );
  });
});

describe('topIndices', () => {
  it('is the first k of a stable descending sort', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(0, 0.5, 1, 2, -1, 3.25), { maxLength: 200 }),
        fc.integer({ min: 1, max: 60 }),
        (xs, k) => {
          const a = Float32Array.from(xs);
          const expected = Array.from(a.keys())
            .sort((x, y) => a[y]! - a[x]!)
            .slice(0, k);
          expect(topIndices(a, k)).toEqual(expected);
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });
});
