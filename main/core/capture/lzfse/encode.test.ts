import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLzfse } from './decode';
import { encodeLzfse } from './encode';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIXTURES, name)));
const magicAt = (b: Uint8Array, pos: number): string => String.fromCharCode(...b.subarray(pos, pos + 4));
const u32At = (b: Uint8Array, pos: number): number =>
  (b[pos]! | (b[pos + 1]! << 8) | (b[pos + 2]! << 16) | (b[pos + 3]! << 24)) >>> 0;

/** Block magics of a stream, following the bvx-/bvxn header lengths. */
function blockMagics(stream: Uint8Array): string[] {
  const magics: string[] = [];
  let pos = 0;
  for (;;) {
    const m = magicAt(stream, pos);
    magics.push(m);
    if (m === 'bvx$') break;
    if (m === 'bvx-') pos += 8 + u32At(stream, pos + 4);
    else if (m === 'bvxn') pos += 12 + u32At(stream, pos + 8);
    else throw new Error(`unexpected block ${m}`);
  }
  expect(pos + 4).toBe(stream.length);
  return magics;
}

const roundTrip = (data: Uint8Array): boolean =>
  Buffer.from(decodeLzfse(encodeLzfse(data))).equals(Buffer.from(data));

describe('encodeLzfse', () => {
  it('emits only bvx$ for empty input', () => {
    expect(Array.from(encodeLzfse(new Uint8Array(0)))).toEqual([0x62, 0x76, 0x78, 0x24]);
  });

  it('compresses the confidence map with an LZVN block to under 10% of its size', () => {
    const conf = read('conf-256x192-u8.bin');
    const enc = encodeLzfse(conf);
    expect(blockMagics(enc)).toEqual(['bvxn', 'bvx$']);
    expect(enc.length).toBeLessThan(conf.length / 10);
    expect(roundTrip(conf)).toBe(true);
  });

  it('falls back to a raw block when LZVN does not shrink the data', () => {
    const rnd = read('random-4000.bin');
    const enc = encodeLzfse(rnd);
    expect(blockMagics(enc)).toEqual(['bvx-', 'bvx$']);
    expect(enc.length).toBe(rnd.length + 12);
  });

  it('round-trips every fixture input byte-exactly', () => {
    for (const name of [
      'depth-256x192-f32.bin',
      'conf-256x192-u8.bin',
      'small-text.bin',
      'repetitive-256k.bin',
      'mixed-blocks.bin',
      'one-byte.bin',
      'depth-head-4096.bin',
    ]) {
      expect(roundTrip(read(name)), name).toBe(true);
    }
  });

  it('splits inputs over 1 MiB into several blocks that still round-trip', () => {
    const data = new Uint8Array(2_500_000);
    for (let i = 0; i < data.length; i++) data[i] = ((i * 31) % 251) ^ (i >> 12);
    const enc = encodeLzfse(data);
    expect(blockMagics(enc).length).toBe(4);
    expect(roundTrip(data)).toBe(true);
  });

  it('uses every LZVN opcode family on data with short, medium, long and repeated distances', () => {
    // Deterministic corpus: literal runs, then copies at distances in each opcode's range.
    const data = new Uint8Array(80_000);
    let s = 12345;
    const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
    for (let i = 0; i < 20_000; i++) data[i] = rnd();
    let pos = 20_000;
    const copy = (d: number, len: number): void => {
      for (let i = 0; i < len; i++, pos++) data[pos] = data[pos - d]!;
    };
    const lits = (n: number): void => {
      for (let i = 0; i < n; i++) data[pos++] = rnd();
    };
    // [distance, match length, literals before, literals after]; the first long match ends the
    // encoder's fast skipping through the random prefix.
    const plan = [
      [5000, 64, 0, 120],
      [100, 6, 2, 20],
      [900, 30, 1, 20],
      [5000, 20, 3, 20],
      [19_000, 9, 0, 20],
      [19_500, 300, 40, 20],
      [100, 5, 2, 0],
      [100, 7, 1, 8],
      [3, 600, 0, 20],
      [1, 20, 2, 20],
      [19_000, 20, 0, 20],
    ] as const;
    for (const [d, len, before, after] of plan) {
      lits(before);
      copy(d, len);
      lits(after);
    }
    pos += 20_000; // a zero tail, so that LZVN beats the raw fallback despite the random prefix
    const seen = new Set<string>();
    const enc = encodeLzfse(data.subarray(0, pos));
    expect(magicAt(enc, 0)).toBe('bvxn');
    const end = 12 + u32At(enc, 8);
    for (let p = 12; p < end;) {
      const op = enc[p]!;
      let L = 0;
      let len: number;
      let name: string;
      if (op === 0x06) break;
      if (op >= 0xf0) [name, len] = op === 0xf0 ? ['lrg_m', 2] : ['sml_m', 1];
      else if (op >= 0xe0)
        [name, len, L] = op === 0xe0 ? ['lrg_l', 2, enc[p + 1]! + 16] : ['sml_l', 1, op & 15];
      else if (op >= 0xa0 && op <= 0xbf) [name, len, L] = ['med_d', 3, (op >> 3) & 3];
      else if ((op & 7) === 7) [name, len, L] = ['lrg_d', 3, op >> 6];
      else if ((op & 7) === 6) [name, len, L] = ['pre_d', 1, op >> 6];
      else [name, len, L] = ['sml_d', 2, op >> 6];
      seen.add(name);
      p += len + L;
    }
    expect([...seen].sort()).toEqual([
      'lrg_d',
      'lrg_l',
      'lrg_m',
      'med_d',
      'pre_d',
      'sml_d',
      'sml_l',
      'sml_m',
    ]);
    expect(roundTrip(data.subarray(0, pos))).toBe(true);
  });

  it('round-trips 1000 random and structured buffers (property)', () => {
    const structured = fc
      .record({
        alphabet: fc.integer({ min: 1, max: 256 }),
        runBias: fc.double({ min: 0, max: 0.99, noNaN: true }),
        farCopy: fc.double({ min: 0, max: 0.9, noNaN: true }),
        length: fc.integer({ min: 0, max: 40_000 }),
        seed: fc.integer(),
      })
      .map(({ alphabet, runBias, farCopy, length, seed }) => {
        // Deterministic generator: runs, short- and long-distance repeats (exercises every LZVN distance opcode).
        let s = seed >>> 0 || 1;
        const next = (): number => {
          s ^= s << 13;
          s ^= s >>> 17;
          s ^= s << 5;
          return (s >>> 0) / 4294967296;
        };
        const out = new Uint8Array(length);
        for (let i = 0; i < length; i++) {
          const r = next();
          if (i > 0 && r < runBias) out[i] = out[i - 1]!;
          else if (i > 16 && r < runBias + farCopy * (1 - runBias))
            out[i] = out[i - 1 - Math.floor(next() * Math.min(i - 1, 30_000))]!;
          else out[i] = Math.floor(next() * alphabet);
        }
        return out;
      });
    const float32Rows = fc
      .array(fc.float({ min: 0, max: 5, noNaN: true }), { maxLength: 4000 })
      .map((v) => new Uint8Array(Float32Array.from(v).buffer));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), structured, float32Rows), (data) =>
        roundTrip(data),
      ),
      { numRuns: 1000, seed: 0x1fce },
    );
  });
});
