import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scrollOffsetFor, visibleRange } from './virtual';

describe('visibleRange', () => {
  it('renders only a window of a 300-frame strip', () => {
    const r = visibleRange(0, 800, 112, 300, 4);
    expect(r.start).toBe(0);
    expect(r.end).toBeLessThan(20);
    const mid = visibleRange(112 * 150, 800, 112, 300, 4);
    expect(mid.start).toBe(146);
    expect(mid.end - mid.start).toBeLessThan(20);
  });

  it('always covers every item that intersects the viewport and stays in bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 8, max: 300 }),
        (count, scroll, width, item) => {
          const r = visibleRange(scroll, width, item, count, 3);
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeLessThanOrEqual(count);
          expect(r.start).toBeLessThanOrEqual(r.end);
          for (let i = 0; i < count; i++) {
            const intersects = i * item < scroll + width && (i + 1) * item > scroll;
            if (intersects) {
              expect(i).toBeGreaterThanOrEqual(r.start);
              expect(i).toBeLessThan(r.end);
            }
          }
        },
      ),
      { numRuns: 300, seed: 42 },
    );
  });

  it('handles empty and degenerate input', () => {
    expect(visibleRange(0, 800, 112, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(NaN, 800, 112, 10)).toEqual({ start: 0, end: 0 });
  });
});

describe('scrollOffsetFor', () => {
  it('centres the item and clamps to the scrollable range', () => {
    expect(scrollOffsetFor(0, 800, 100, 300)).toBe(0);
    expect(scrollOffsetFor(100, 800, 100, 300)).toBe(100 * 100 + 50 - 400);
    expect(scrollOffsetFor(299, 800, 100, 300)).toBe(300 * 100 - 800);
  });
});
