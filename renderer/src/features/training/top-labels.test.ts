import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssetError } from '../../lib/assets';
import { buildPalette, srgbToLinearByte } from '../labels/palette';
import { decodeTopLabels, encodeTopLabels, NO_LABEL_RGB, topLabelColors, topLabelCounts } from './top-labels';

describe('decodeTopLabels', () => {
  it('round-trips any top-label array through encode/decode (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: -1, max: 1000 }), { maxLength: 60 }),
        (texts, raw) => {
          const topLabel = new Int16Array(raw.map((v) => (v < 0 ? -1 : v % texts.length)));
          const d = decodeTopLabels(encodeTopLabels({ topLabel, texts }), topLabel.length);
          expect(d.count).toBe(topLabel.length);
          expect(Array.from(d.topLabel)).toEqual(Array.from(topLabel));
          expect(d.texts).toEqual(texts);
        },
      ),
      { numRuns: 1000, seed: 11 },
    );
  });

  it('never throws anything but AssetError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeTopLabels(bytes.slice().buffer);
        } catch (err) {
          expect(err).toBeInstanceOf(AssetError);
        }
      }),
      { numRuns: 1000, seed: 12 },
    );
  });

  it('pads an odd point count to 4 bytes before the texts', () => {
    const buf = encodeTopLabels({ topLabel: new Int16Array([1, -1, 0]), texts: ['a', 'b'] });
    expect(buf.byteLength).toBe(8 + 8 + '["a","b"]'.length);
    expect(Array.from(decodeTopLabels(buf).topLabel)).toEqual([1, -1, 0]);
  });

  it('rejects a label index past the texts, naming the point', () => {
    const buf = encodeTopLabels({ topLabel: new Int16Array([0, 2]), texts: ['a', 'b'] });
    expect(() => decodeTopLabels(buf)).toThrow(/point 1 has top label 2/);
  });

  it('rejects a point count that differs from the map', () => {
    const buf = encodeTopLabels({ topLabel: new Int16Array([0, 1]), texts: ['a', 'b'] });
    expect(() => decodeTopLabels(buf, 3)).toThrow(/has 2 points but the map has 3/);
  });
});

describe('topLabelColors', () => {
  it('colours displayed vertices by their source point’s label with the labels palette, grey for none', () => {
    const top = { count: 3, topLabel: new Int16Array([1, -1, 0]), texts: ['sofa', 'chair'] };
    const palette = buildPalette(['chair', 'sofa']);
    const out = topLabelColors(top, new Uint32Array([2, 0, 1]), palette);
    const lin = (c: readonly number[]) => c.map(srgbToLinearByte);
    expect(Array.from(out.subarray(0, 3))).toEqual(lin(palette.get('sofa')!));
    expect(Array.from(out.subarray(4, 7))).toEqual(lin(palette.get('chair')!));
    expect(Array.from(out.subarray(8, 11))).toEqual(lin(NO_LABEL_RGB));
    expect([out[3], out[7], out[11]]).toEqual([255, 255, 255]);
  });

  it('counts points per label and unlabeled points', () => {
    const c = topLabelCounts({ count: 4, topLabel: new Int16Array([1, -1, 1, 0]), texts: ['a', 'b'] });
    expect(c.none).toBe(1);
    expect([...c.counts]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });
});
