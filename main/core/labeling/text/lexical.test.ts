import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LEXICAL_DIM, LexicalTextEncoder, lexicalEmbed } from './lexical';

const dot = (a: Float32Array, b: Float32Array, i: number, j: number) => {
  let s = 0;
  for (let k = 0; k < LEXICAL_DIM; k++) s += a[i * LEXICAL_DIM + k]! * b[j * LEXICAL_DIM + k]!;
  return s;
};

describe('lexical-384 encoder', () => {
  it('gives unit-length 384-d rows, deterministically', async () => {
    const enc = new LexicalTextEncoder();
    expect(enc.name).toBe('lexical-384');
    const a = await enc.encode(['chair', 'trash can', '']);
    expect(a.length).toBe(3 * 384);
    for (let i = 0; i < 3; i++) expect(dot(a, a, i, i)).toBeCloseTo(1, 5);
    expect(await enc.encode(['chair'])).toEqual(a.slice(0, 384));
  });
  it('normalises before hashing (Trash_Can == trash can)', () => {
    expect(lexicalEmbed(['Trash_Can'])).toEqual(lexicalEmbed(['trash can']));
  });
  it('ranks shared spelling above unrelated words', () => {
    const e = lexicalEmbed(['armchair', 'chair', 'microwave']);
    expect(dot(e, e, 0, 1)).toBeGreaterThan(dot(e, e, 0, 2) + 0.1);
  });
  it('is unit length for any text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const e = lexicalEmbed([s]);
        let n = 0;
        for (const v of e) n += v * v;
        return Math.abs(n - 1) < 1e-4;
      }),
      { numRuns: 1000, seed: 3 },
    );
  });
});
