import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssetError } from '../../lib/assets';
import { decodeLabelPoints, encodeLabelPoints } from './points-format';

const finiteF32 = fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });

describe('decodeLabelPoints', () => {
  it('round-trips any point set through encode/decode (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(finiteF32, finiteF32, finiteF32, fc.nat()), { maxLength: 50 }),
        (texts, pts) => {
          const positions_m = new Float32Array(pts.flatMap(([x, y, z]) => [x, y, z]));
          const labelIds = new Uint16Array(pts.map((p) => p[3] % texts.length));
          const d = decodeLabelPoints(encodeLabelPoints({ positions_m, labelIds, texts }));
          expect(d.count).toBe(pts.length);
          expect(Array.from(d.positions_m)).toEqual(Array.from(positions_m));
          expect(Array.from(d.labelIds)).toEqual(Array.from(labelIds));
          expect(d.texts).toEqual(texts);
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });

  it('never throws anything but AssetError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeLabelPoints(bytes.slice().buffer);
        } catch (err) {
          expect(err).toBeInstanceOf(AssetError);
        }
      }),
      { numRuns: 1000, seed: 7 },
    );
  });

  it('pads an odd point count to 4 bytes before the texts', () => {
    const buf = encodeLabelPoints({
      positions_m: new Float32Array([1, 2, 3]),
      labelIds: new Uint16Array([1]),
      texts: ['a', 'b'],
    });
    expect(buf.byteLength).toBe(8 + 12 + 4 + '["a","b"]'.length);
    expect(decodeLabelPoints(buf).labelIds[0]).toBe(1);
  });

  it('rejects a truncated file, naming it', () => {
    const buf = encodeLabelPoints({
      positions_m: new Float32Array([1, 2, 3]),
      labelIds: new Uint16Array([0]),
      texts: ['a'],
    });
    expect(() => decodeLabelPoints(buf.slice(0, buf.byteLength - 1), 'labels/points.bin')).toThrow(
      /labels\/points\.bin.*bytes/,
    );
  });

  it('rejects a label id beyond the text table', () => {
    const buf = encodeLabelPoints({
      positions_m: new Float32Array([1, 2, 3]),
      labelIds: new Uint16Array([3]),
      texts: ['a'],
    });
    expect(() => decodeLabelPoints(buf)).toThrow(/label id 3/);
  });

  it('rejects non-finite coordinates', () => {
    const buf = encodeLabelPoints({
      positions_m: new Float32Array([1, Number.NaN, 3]),
      labelIds: new Uint16Array([0]),
      texts: ['a'],
    });
    expect(() => decodeLabelPoints(buf)).toThrow(/non-finite/);
  });
});
