import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXACT_CHUNK, ExactKernel } from './exact-kernel';
import { type ExactTables, attachExactKernel, exactScores } from './scoring';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

describe('ExactKernel (WebAssembly SIMD)', () => {
  it('computes codes . u for any width and index list, within the int16 query quantisation', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8, 16, 24, 256, 600),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (H, N, seed) => {
          const r = rng(seed);
          const codes = Uint8Array.from({ length: N * H }, () => Math.floor(r() * 256));
          const u = Float64Array.from({ length: H }, () => (r() - 0.5) * 3);
          const idx = Int32Array.from({ length: 50 }, () => Math.floor(r() * N));
          const k = ExactKernel.create(codes, H)!;
          expect(k).not.toBeNull();
          const out = new Float64Array(idx.length);
          k.dots(u, idx, out);
          let maxAbs = 0;
          for (const v of u) maxAbs = Math.max(maxAbs, Math.abs(v));
          const step = maxAbs / Math.min(16383, Math.floor((2 ** 31 - 1) / (255 * H)));
          for (let m = 0; m < idx.length; m++) {
            let ref = 0;
            let sumCodes = 0;
            for (let j = 0; j < H; j++) {
              ref += codes[idx[m]! * H + j]! * u[j]!;
              sumCodes += codes[idx[m]! * H + j]!;
            }
            expect(Math.abs(out[m]! - ref)).toBeLessThanOrEqual((step / 2) * sumCodes + 1e-9);
          }
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });

  it('is exact for an integer query and handles more indices than one chunk', () => {
    const H = 32;
    const N = 300;
    const codes = Uint8Array.from({ length: N * H }, (_, i) => (i * 37) % 256);
    const qmax = Math.min(16383, Math.floor((2 ** 31 - 1) / (255 * H)));
    const u = Float64Array.from({ length: H }, (_, j) => (j === 3 ? qmax : (j % 7) - 3));
    const idx = Int32Array.from({ length: EXACT_CHUNK + 1234 }, (_, m) => (m * 7919) % N);
    const out = new Float64Array(idx.length);
    ExactKernel.create(codes, H)!.dots(u, idx, out);
    for (let m = 0; m < idx.length; m += 997) {
      let ref = 0;
      for (let j = 0; j < H; j++) ref += codes[idx[m]! * H + j]! * u[j]!;
      expect(out[m]).toBe(ref);
    }
    expect(out[idx.length - 1]).toBe(
      Array.from({ length: H }, (_, j) => codes[idx[idx.length - 1]! * H + j]! * u[j]!).reduce(
        (a, b) => a + b,
      ),
    );
  });

  it('declines widths that are not a multiple of 8', () => {
    expect(ExactKernel.create(new Uint8Array(12), 12)).toBeNull();
  });

  it('gives exactScores the same scores as the plain loop (one and two heads)', () => {
    const r = rng(7);
    const N = 500,
      H = 64,
      Dl = 12,
      Dv = 8;
    const make = (): ExactTables => ({
      hidden: H,
      language: Dl,
      vision: Dv,
      codes: Uint8Array.from({ length: N * H }, () => Math.floor(r() * 256)),
      affine: Float32Array.from({ length: 2 * N }, (_, i) => (i % 2 ? 0.01 + r() * 0.02 : -r())),
      norms: Float32Array.from({ length: 2 * N }, () => 0.5 + r()),
      W: Float32Array.from({ length: H * (Dl + Dv) }, () => r() - 0.5),
      b: Float32Array.from({ length: Dl + Dv }, () => r() - 0.5),
    });
    const plain = make();
    const simd: ExactTables = { ...plain, codes: Uint8Array.from(plain.codes) };
    expect(attachExactKernel(simd)).toBe(true);
    const unit = (n: number) => {
      const v = Float32Array.from({ length: n }, () => r() - 0.5);
      const s = Math.hypot(...v);
      return v.map((x) => x / s);
    };
    const ql = unit(Dl),
      qv = unit(Dv);
    const idx = Int32Array.from({ length: 300 }, () => Math.floor(r() * N));
    for (const [w, v] of [
      [{ language: 1, vision: 0 }, null],
      [{ language: 10, vision: 1 }, qv],
      [{ language: 1, vision: 10 }, qv],
    ] as const) {
      const a = exactScores(plain, ql, v, w, idx);
      const b = exactScores(simd, ql, v, w, idx);
      // Within the int16 query quantisation: about 1e-4 of the scores' scale (these random tables are not
      // cosines, so the scale is not 1).
      const scale = Math.max(...Array.from(a, Math.abs));
      for (let m = 0; m < idx.length; m++) expect(Math.abs(a[m]! - b[m]!)).toBeLessThan(1e-4 * scale);
    }
  });
});
