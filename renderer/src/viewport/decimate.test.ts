import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimateStride, decimationStride, interleaveForLod } from './decimate';

describe('decimateStride', () => {
  it('keeps small clouds untouched (same arrays)', () => {
    const pos = new Float32Array(30);
    const d = decimateStride(pos, null, 100);
    expect(d.stride).toBe(1);
    expect(d.positions).toBe(pos);
  });

  it('samples every k-th point of a large cloud, colours aligned with positions', () => {
    const n = 2_500_000;
    const pos = new Float32Array(n * 3);
    const col = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      pos[i * 3] = i;
      col[i * 3] = i % 251;
    }
    const d = decimateStride(pos, col, 1_000_000);
    expect(d.stride).toBe(3);
    expect(d.count).toBeLessThanOrEqual(1_000_000);
    expect(d.positions[3]).toBe(3);
    expect(d.colors?.[3]).toBe(3 % 251);
    expect(d.positions[(d.count - 1) * 3]).toBe((d.count - 1) * 3);
  });

  it('never exceeds the budget and keeps point i*stride at slot i', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 1, max: 1000 }), (n, max) => {
        const pos = new Float32Array(n * 3).map((_, j) => j);
        const d = decimateStride(pos, null, max);
        expect(d.count).toBeLessThanOrEqual(Math.max(max, 0) || n);
        expect(d.stride).toBe(decimationStride(n, max));
        let mismatches = 0;
        for (let i = 0; i < d.count; i++) if (d.positions[i * 3] !== i * d.stride * 3) mismatches++;
        expect(mismatches).toBe(0);
        expect(d.count).toBe(Math.ceil(n / d.stride));
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});

describe('interleaveForLod', () => {
  it('is a permutation whose first half is every 2nd point and first quarter every 4th', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), (n) => {
        const pos = new Float32Array(n * 3).map((_, j) => Math.floor(j / 3));
        const col = new Uint8Array(n * 3).map((_, j) => Math.floor(j / 3) % 256);
        const out = interleaveForLod(pos, col, 3);
        const ids = Array.from({ length: n }, (_, i) => out.positions[i * 3]!);
        expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        let colourMismatches = 0;
        for (let i = 0; i < n; i++) if (out.colors?.[i * 3] !== ids[i]! % 256) colourMismatches++;
        expect(colourMismatches).toBe(0);
        if (n >= 16) {
          const half = ids.slice(0, Math.ceil(n / 2));
          expect(half.every((id) => id % 2 === 0)).toBe(true);
          const quarter = ids.slice(0, Math.ceil(n / 4));
          expect(quarter.every((id) => id % 4 === 0)).toBe(true);
        }
      }),
      { numRuns: 200, seed: 3 },
    );
  });
});
