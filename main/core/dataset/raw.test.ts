import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { crc32 } from 'node:zlib';
import { DatasetError } from './binary';
import { NO_GT, concatRaw, decodeRaw, emptyRaw, encodeRaw, type RawLabels } from './raw';
import { decodePoints, encodePoints } from './format';

function makeRaw(frame: number, classes: string[], gt: string[]): RawLabels {
  const r = emptyRaw('ground-truth', { language: 'lexical-384', vision: null });
  r.classes = classes;
  r.gtClasses = gt;
  r.gtPointCounts = gt.map((_, i) => i + 0.5);
  r.detections = {
    count: 2,
    frame: Uint32Array.of(frame, frame),
    indexInFrame: Uint32Array.of(0, 1),
    box: Float32Array.of(0, 0, 10, 10, 5, 5, 20, 20),
    maskArea: Uint32Array.of(50, 60),
    scoreOffset: Uint32Array.of(0, 2, 3),
    scoreClass: Uint32Array.of(0, 1, 1),
    scoreValue: Float32Array.of(0.9, 0.3, 0.8),
    clipEmbeddings: Float32Array.of(1, 0, 0, 1),
    clipDim: 2,
  };
  r.points = {
    count: 3,
    xyz: Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8),
    rgb: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9),
    detectionId: Uint32Array.of(0, 1, 1),
    distance_m: Float32Array.of(1, 2, 3),
    gtClass: Uint16Array.of(0, NO_GT, 0),
  };
  return r;
}

/** Rewrite the CRC so mutations reach the structural checks. */
function fixCrc(b: Uint8Array): Uint8Array {
  if (b.length < 32) return b;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setUint32(24, b.length - 32, true);
  dv.setUint32(28, crc32(b.subarray(32)) >>> 0, true);
  return b;
}

describe('raw labels', () => {
  it('round-trips', () => {
    const r = makeRaw(3, ['chair', 'sofa'], ['chair']);
    expect(decodeRaw(encodeRaw(r), 'raw.bin')).toEqual(r);
  });

  it('concatenates frames, merging class tables by name and offsetting detection ids', () => {
    const a = makeRaw(0, ['chair', 'sofa'], ['chair']);
    const b = makeRaw(1, ['sofa', 'bed'], ['bed', 'chair']);
    const m = concatRaw([a, b], 'ground-truth', a.encoders);
    expect(m.classes).toEqual(['chair', 'sofa', 'bed']);
    expect(m.gtClasses).toEqual(['chair', 'bed']);
    expect(m.gtPointCounts).toEqual([0.5 + 1.5, 0.5]);
    expect(Array.from(m.detections.scoreClass)).toEqual([0, 1, 1, 1, 2, 2]);
    expect(Array.from(m.detections.scoreOffset)).toEqual([0, 2, 3, 5, 6]);
    expect(Array.from(m.points.detectionId)).toEqual([0, 1, 1, 2, 3, 3]);
    expect(Array.from(m.points.gtClass)).toEqual([0, NO_GT, 0, 1, NO_GT, 1]);
    expect(decodeRaw(encodeRaw(m), 'm')).toEqual(m);
  });

  it('rejects out-of-range references even with a valid checksum', () => {
    const r = makeRaw(0, ['chair'], []);
    r.detections.scoreClass = Uint32Array.of(0, 5, 0);
    expect(() => decodeRaw(encodeRaw(r), 'raw.bin')).toThrow(/raw.bin: scoreClass\[1\] = 5 is out of range/);
  });

  it('mutated files (checksum fixed up) decode or throw DatasetError', () => {
    const good = encodeRaw(makeRaw(2, ['chair', 'sofa'], ['chair']));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.boolean(),
        (muts, trunc) => {
          let b = good.slice();
          for (const [o, v] of muts) b[o] = v;
          if (trunc) b = b.slice(0, muts[0]![0]);
          try {
            decodeRaw(fixCrc(b), 'raw.bin');
          } catch (err) {
            expect(err).toBeInstanceOf(DatasetError);
          }
        },
      ),
      { numRuns: 2000, seed: 21 },
    );
  });

  it('mutated point chunks (checksum fixed up) decode or throw DatasetError', () => {
    const good = encodePoints({
      points: 4,
      xyz: new Float32Array(12).fill(1),
      rgb: new Uint8Array(12),
      labelId: Uint16Array.of(0, 1, 0, 1),
      detectionId: Uint32Array.of(0, 0, 1, 1),
      weight: new Float32Array(4).fill(0.5),
      distance_m: new Float32Array(4).fill(2),
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        (muts) => {
          const b = good.slice();
          for (const [o, v] of muts) b[o] = v;
          try {
            const p = decodePoints(fixCrc(b), 'p.bin', { labels: 2, detections: 2 });
            for (const v of p.labelId) expect(v).toBeLessThan(2);
            for (const v of p.xyz) expect(Number.isFinite(v)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(DatasetError);
          }
        },
      ),
      { numRuns: 2000, seed: 22 },
    );
  });
});
