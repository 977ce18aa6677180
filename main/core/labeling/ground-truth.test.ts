import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  NO_NOISE,
  groundTruthDetections,
  parseNoiseSpec,
  formatNoiseSpec,
  type GroundTruthFrame,
} from './ground-truth';
import { LabelingError, mulberry32 } from './types';

/** 40x20 depth frame: chair (id 1) at x 5..14, y 5..14 at 2 m in front of a 2.05 m surface; sofa (id 2) at x 25..34 at 2.5 m; wall at 4 m. */
function frame(): GroundTruthFrame {
  const w = 40,
    h = 20;
  const labels = new Uint16Array(w * h);
  const depth = new Float32Array(w * h).fill(4);
  // An unlabeled surface just behind the chair (depth-consistent with it), e.g. the seat's backdrop.
  for (let y = 0; y < h; y++) for (let x = 0; x < 20; x++) depth[y * w + x] = 2.05;
  for (let y = 5; y < 15; y++) {
    for (let x = 5; x < 15; x++) {
      labels[y * w + x] = 1;
      depth[y * w + x] = 2;
    }
    for (let x = 25; x < 35; x++) {
      labels[y * w + x] = 2;
      depth[y * w + x] = 2.5;
    }
  }
  return {
    labels,
    depth_m: depth,
    depthIntrinsics: { width: w, height: h, fx: 30, fy: 30, cx: 20, cy: 10 },
    rgbWidth: 80,
    rgbHeight: 40,
    instances: new Map([
      [1, { class: 'Chair' }],
      [2, { class: 'sofa' }],
    ]),
  };
}
const area = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

describe('parseNoiseSpec', () => {
  it('parses the documented spec', () => {
    expect(parseNoiseSpec('drop=0.2,confuse=0.15,jitter=0.1')).toEqual({
      drop: 0.2,
      confuse: 0.15,
      jitter: 0.1,
      seed: null,
    });
    expect(parseNoiseSpec('')).toEqual(NO_NOISE);
    expect(parseNoiseSpec('none')).toEqual(NO_NOISE);
    expect(parseNoiseSpec('seed=5, drop=1')).toEqual({ drop: 1, confuse: 0, jitter: 0, seed: 5 });
  });
  it('rejects bad specs with a message naming the part', () => {
    expect(() => parseNoiseSpec('drop=2')).toThrow(/drop must be a probability/);
    expect(() => parseNoiseSpec('drop=0.1,drop=0.2')).toThrow(/given twice/);
    expect(() => parseNoiseSpec('blur=0.1')).toThrow(/unknown key "blur"/);
    expect(() => parseNoiseSpec('drop=abc')).toThrow(/not a number/);
    expect(() => parseNoiseSpec('jitter=0.9')).toThrow(/jitter must be in/);
    expect(() => parseNoiseSpec('drop')).toThrow(/not key=value/);
  });
  it('parses or throws LabelingError for any string, and round-trips what it parses', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc
            .array(
              fc.tuple(
                fc.constantFrom('drop', 'confuse', 'jitter', 'seed', 'x'),
                fc.oneof(fc.double(), fc.nat().map(String), fc.string()),
              ),
            )
            .map((kv) => kv.map(([k, v]) => `${k}=${String(v)}`).join(',')),
        ),
        (s) => {
          try {
            const n = parseNoiseSpec(s);
            expect(parseNoiseSpec(formatNoiseSpec(n))).toEqual(n);
          } catch (err) {
            expect(err).toBeInstanceOf(LabelingError);
          }
        },
      ),
      { numRuns: 1000, seed: 5 },
    );
  });
});

describe('groundTruthDetections', () => {
  it('gives one exact detection per instance with score 1 and a box scaled to RGB', () => {
    const d = groundTruthDetections(frame(), NO_NOISE, mulberry32(1), []);
    expect(d.map((x) => x.classScores)).toEqual([
      [{ label: 'chair', score: 1 }],
      [{ label: 'sofa', score: 1 }],
    ]);
    expect(d[0]!.box).toEqual([10, 10, 30, 30]);
    expect(area(d[0]!.mask!.data)).toBe(100);
  });
  it('drop=1 misses every object', () => {
    expect(groundTruthDetections(frame(), { ...NO_NOISE, drop: 1 }, mulberry32(1), [])).toEqual([]);
  });
  it('confuse=1 swaps to the confusion partner and keeps the true class second', () => {
    const d = groundTruthDetections(frame(), { ...NO_NOISE, confuse: 1 }, mulberry32(2), ['chair', 'sofa']);
    const chair = d.find((x) => x.instanceId === 1)!;
    expect(chair.classScores[0]!.label).toBe('sofa');
    expect(chair.classScores[1]!.label).toBe('chair');
    expect(chair.classScores[0]!.score).toBeGreaterThan(chair.classScores[1]!.score);
    expect(chair.trueClass).toBe('chair');
  });
  it('jitter moves boxes and the mask follows (shrinks inside, grows into depth-consistent pixels)', () => {
    let grew = false,
      shrank = false;
    for (let s = 0; s < 30; s++) {
      for (const d of groundTruthDetections(frame(), { ...NO_NOISE, jitter: 0.3 }, mulberry32(s), [])) {
        const a = area(d.mask!.data);
        if (a > 100) grew = true;
        if (a < 100) shrank = true;
        // Every mask pixel lies inside the (depth-scaled) box.
        const [x0, y0, x1, y1] = d.box.map((v) => v / 2);
        d.mask!.data.forEach((m, p) => {
          if (m) {
            const x = p % 40,
              y = Math.floor(p / 40);
            expect(x >= x0! && x < x1! && y >= y0! && y < y1!).toBe(true);
          }
        });
        expect(d.classScores[0]!.score).toBeGreaterThanOrEqual(0.5);
      }
    }
    expect(grew && shrank).toBe(true);
  });
  it('is reproducible from the seed', () => {
    const spec = { drop: 0.3, confuse: 0.3, jitter: 0.2, seed: null };
    const a = groundTruthDetections(frame(), spec, mulberry32(9), ['bed']);
    const b = groundTruthDetections(frame(), spec, mulberry32(9), ['bed']);
    expect(a).toEqual(b);
  });
});

describe('groundTruthRng', () => {
  it('gives independent, uniform streams per frame (no correlated first draws)', async () => {
    const { groundTruthRng } = await import('./ground-truth');
    // The first draw of consecutive frames must spread over [0, 1) like any other draw.
    const first = Array.from({ length: 2000 }, (_, f) => groundTruthRng(7, f)());
    const below = (p: number) => first.filter((x) => x < p).length / first.length;
    for (const p of [0.1, 0.4, 0.7]) expect(Math.abs(below(p) - p)).toBeLessThan(0.04);
    // Same seed and frame: same stream.
    expect(groundTruthRng(7, 3)()).toBe(groundTruthRng(7, 3)());
  });
});
