import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeLzfse, LzfseError } from './decode';
import { encodeLzfse } from './encode';

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '__fixtures__');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(FIXTURES, name)));

const SEEDS: Uint8Array[] = [
  read('conf-256x192-u8.lzfse'),
  read('conf-256x192-u8.v1.lzfse'),
  read('depth-head-4096.lzfse'),
  read('conf-head-4095.lzfse'),
  read('small-text.lzfse'),
  read('mixed-blocks.lzfse'),
  read('one-byte.lzfse'),
  read('repetitive-256k.lzfse'),
  read('random-4000.lzfse'),
  read('depth-256x192-f32.lzfse'),
  encodeLzfse(read('conf-256x192-u8.bin')),
];

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'set32'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({
    kind: fc.constant('set32' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 40000, 10000, 772), fc.nat()),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
);

function apply(src: Uint8Array, muts: Mutation[]): Uint8Array {
  let b = src;
  for (const m of muts) {
    if (b.length === 0) break;
    // Bias positions toward block headers (the first 800 bytes) half of the time.
    const at = m.at % (m.at % 2 === 0 ? Math.min(b.length, 800) : b.length);
    if (m.kind === 'flip') {
      b = b.slice();
      b[at]! ^= m.xor;
    } else if (m.kind === 'set32') {
      b = b.slice();
      for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (m.value >>> (8 * i)) & 0xff;
    } else if (m.kind === 'truncate') {
      b = b.subarray(0, at);
    } else if (m.kind === 'delete') {
      b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
    } else {
      b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    }
  }
  return b;
}

describe('decodeLzfse on mutated and truncated vectors (property)', () => {
  it('returns bytes or throws LzfseError, never another error, within a time bound', () => {
    let rejected = 0;
    let slowest_ms = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: SEEDS.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seedIndex, muts) => {
          const input = apply(SEEDS[seedIndex]!, muts);
          const t0 = performance.now();
          try {
            const out = decodeLzfse(input, { maxOutputBytes: 4 * 1024 * 1024 });
            expect(out).toBeInstanceOf(Uint8Array);
          } catch (err) {
            if (!(err instanceof LzfseError)) throw err;
            rejected++;
          }
          slowest_ms = Math.max(slowest_ms, performance.now() - t0);
        },
      ),
      { numRuns: 1500, seed: 0x5eed },
    );
    // Most mutations must be detected, and no single input may take long (no hang, no quadratic path).
    expect(rejected).toBeGreaterThan(500);
    expect(slowest_ms).toBeLessThan(1000);
  });

  it('every truncation of a multi-block stream throws TRUNCATED or NO_END', () => {
    const stream = read('mixed-blocks.lzfse');
    for (let cut = 0; cut < stream.length - 4; cut++) {
      let code = 'none';
      try {
        decodeLzfse(stream.subarray(0, cut));
      } catch (err) {
        code = err instanceof LzfseError ? err.code : 'other';
      }
      expect(['TRUNCATED', 'NO_END'], `cut at ${cut}`).toContain(code);
    }
  });
});
