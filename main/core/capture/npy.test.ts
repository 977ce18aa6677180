import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeNpy, parseNpy, type NpyData } from './npy';
import { CaptureError } from './types';

function header(dict: string, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  let h = dict;
  h += ' '.repeat((64 - ((pre + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + h.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, h.length, true);
  else dv.setUint32(8, h.length, true);
  for (let i = 0; i < h.length; i++) out[pre + i] = h.charCodeAt(i);
  return out;
}
const cat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};
function err(f: () => unknown): CaptureError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return e as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

describe('parseNpy', () => {
  it('reads a float32 (256, 192) array as numpy writes it', () => {
    const data = Float32Array.from({ length: 256 * 192 }, (_, i) => i / 7);
    const a = parseNpy(encodeNpy(data, [256, 192]), 'd.npy');
    expect(a.dtype).toBe('<f4');
    expect(a.shape).toEqual([256, 192]);
    expect(a.data).toEqual(data);
  });

  it('reads version 2.0 headers, double quotes, key order and no trailing comma', () => {
    const body = new Float64Array([1.5, -2]);
    const a = parseNpy(
      cat(header('{"shape": (2,), "fortran_order": False, "descr": "<f8"}', 2), new Uint8Array(body.buffer)),
      'x.npy',
    );
    expect(Array.from(a.data)).toEqual([1.5, -2]);
  });

  it('handles an unaligned data offset (copies into an aligned buffer)', () => {
    const h = new TextEncoder().encode("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n");
    const pre = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length, 0]);
    const a = parseNpy(cat(cat(pre, h), new Uint8Array(new Float32Array([3.25]).buffer)), 'u.npy');
    expect(Array.from(a.data)).toEqual([3.25]);
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ['bad magic', new Uint8Array(20), /magic/],
    [
      'big-endian dtype',
      cat(header("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }"), new Uint8Array(4)),
      /unsupported dtype/,
    ],
    [
      'object dtype',
      cat(header("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"), new Uint8Array(8)),
      /unsupported dtype/,
    ],
    [
      'fortran order',
      cat(header("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }"), new Uint8Array(4)),
      /Fortran/,
    ],
    [
      'short data',
      cat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }"), new Uint8Array(12)),
      /12 bytes/,
    ],
    [
      'trailing data',
      cat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), new Uint8Array(8)),
      /8 bytes/,
    ],
    [
      'extra key',
      cat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}"), new Uint8Array(4)),
      /./,
    ],
    ['missing shape', cat(header("{'descr': '<f4', 'fortran_order': False}"), new Uint8Array(4)), /shape/],
    [
      'negative dim',
      cat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), new Uint8Array(4)),
      /integer/,
    ],
    [
      'one-tuple without comma',
      cat(header("{'descr': '<f4', 'fortran_order': False, 'shape': (1), }"), new Uint8Array(4)),
      /trailing comma/,
    ],
    [
      'version 9',
      (() => {
        const b = encodeNpy(new Uint8Array(1), [1]);
        b[6] = 9;
        return b;
      })(),
      /version/,
    ],
  ];
  for (const [what, bytes, reason] of bad) {
    it(`refuses ${what}`, () => {
      const e = err(() => parseNpy(bytes, 'bad.npy'));
      expect(e.file).toBe('bad.npy');
      expect(e.reason).toMatch(reason);
    });
  }

  it('refuses arrays over maxElements without allocating', () => {
    const bytes = cat(
      header("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }"),
      new Uint8Array(4),
    );
    expect(err(() => parseNpy(bytes, 'big.npy', { maxElements: 1000 })).code).toBe('TOO_LARGE');
  });

  it('property: encodeNpy -> parseNpy round-trips every dtype and shape', () => {
    const ctors = [Float32Array, Float64Array, Uint8Array, Uint16Array, Int16Array, Int32Array] as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
        fc.integer(),
        (k, shape, seed) => {
          const count = shape.reduce((a, b) => a * b, 1);
          const C = ctors[k]!;
          const data = new C(count) as NpyData;
          for (let i = 0; i < count; i++)
            data[i] = ((seed + i * 2654435761) % 200) - (C === Uint8Array || C === Uint16Array ? 0 : 100);
          const a = parseNpy(encodeNpy(data, shape), 'p.npy');
          expect(a.shape).toEqual(shape);
          expect(a.data).toEqual(data);
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });

  it('property: mutated or random bytes only ever throw CaptureError', () => {
    const base = encodeNpy(new Float32Array(12), [3, 4]);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })), {
              minLength: 1,
              maxLength: 5,
            })
            .map((m) => {
              const b = Uint8Array.from(base);
              for (const [p, v] of m) b[p] = v;
              return b;
            }),
        ),
        (bytes) => {
          try {
            const a = parseNpy(bytes, 'm.npy', { maxElements: 1 << 20 });
            expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
          } catch (e) {
            if (!(e instanceof CaptureError)) throw e;
          }
        },
      ),
      { numRuns: 2000, seed: 9 },
    );
  });
});
