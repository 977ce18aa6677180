import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { downsample } from './downsample';
import { MetricSeries } from './metrics-buffer';

describe('MetricSeries', () => {
  it('keeps one row per sample with NaN where a metric was absent, across growth', () => {
    const s = new MetricSeries(2);
    for (let i = 0; i < 10; i++)
      s.push(i === 5 ? { step: i * 10, loss: i, heldout_accuracy: 0.5 } : { step: i * 10, loss: i });
    expect(s.length).toBe(10);
    expect(Array.from(s.x)).toEqual(Array.from({ length: 16 }, (_, i) => (i < 10 ? i * 10 : 0)));
    expect(Array.from(s.column('loss')!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const acc = Array.from(s.column('heldout_accuracy')!);
    expect(acc[5]).toBe(0.5);
    expect(acc.filter(Number.isFinite)).toEqual([0.5]);
    expect(s.latest.heldout_accuracy).toBe(0.5);
  });

  it('ignores non-finite values but still records the row', () => {
    const s = new MetricSeries();
    s.push({ step: 1, loss: Number.NaN });
    expect(s.length).toBe(1);
    expect(s.latest.loss).toBeUndefined();
  });
});

describe('downsample', () => {
  it('returns short series unchanged, with NaN as null', () => {
    const r = downsample([0, 1, 2], [[1, Number.NaN, 3]], 3, 10);
    expect(r).toEqual({ x: [0, 1, 2], ys: [[1, null, 3]] });
  });

  it('bounds the output and keeps the global min and max of the key series (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 200 }),
        (vals, buckets) => {
          const x = vals.map((_, i) => i);
          const r = downsample(x, [vals], vals.length, buckets);
          expect(r.x.length).toBeLessThanOrEqual(
            Math.max(vals.length <= buckets * 2 ? vals.length : 0, buckets * 2),
          );
          const ys = r.ys[0]!.filter((v): v is number => v !== null);
          expect(Math.min(...ys)).toBe(Math.min(...vals));
          expect(Math.max(...ys)).toBe(Math.max(...vals));
          for (let i = 1; i < r.x.length; i++) expect(r.x[i]!).toBeGreaterThan(r.x[i - 1]!);
        },
      ),
      { numRuns: 1000, seed: 3 },
    );
  });

  it('downsamples 100k rows to at most 2 per bucket in a few ms', () => {
    const n = 100_000;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 100));
    const t0 = performance.now();
    const r = downsample(x, [y, y], n, 800);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(r.x.length).toBeLessThanOrEqual(1600);
  });
});
