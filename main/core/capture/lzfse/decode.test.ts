import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeLzfse, LzfseError, type LzfseErrorCode } from './decode';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(HERE, '__fixtures__');
const REPO_ROOT = path.resolve(HERE, '..', '..', '..', '..');
const SHARED_LZFSE = path.resolve(REPO_ROOT, '..', 'shared', 'fixtures', 'lzfse');

const read = (dir: string, name: string): Uint8Array => new Uint8Array(readFileSync(path.join(dir, name)));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Valid vectors from the fixture README: stream -> raw file and the sha256 of the raw bytes. */
const VALID: { stream: string; raw: string; sha: string }[] = [
  {
    stream: 'depth-256x192-f32.lzfse',
    raw: 'depth-256x192-f32.bin',
    sha: 'b6032523202cc22fd52c2bf32a2b933bbd4c3fb97af4e673645ffe95c49c7d2a',
  },
  {
    stream: 'depth-256x192-f32.v1.lzfse',
    raw: 'depth-256x192-f32.bin',
    sha: 'b6032523202cc22fd52c2bf32a2b933bbd4c3fb97af4e673645ffe95c49c7d2a',
  },
  {
    stream: 'conf-256x192-u8.lzfse',
    raw: 'conf-256x192-u8.bin',
    sha: 'f6d1e0a195de37fba3234b1868117990953cd3ee10f09a6038700c336d133dbf',
  },
  {
    stream: 'conf-256x192-u8.v1.lzfse',
    raw: 'conf-256x192-u8.bin',
    sha: 'f6d1e0a195de37fba3234b1868117990953cd3ee10f09a6038700c336d133dbf',
  },
  {
    stream: 'empty.lzfse',
    raw: 'empty.bin',
    sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    stream: 'empty.eos-only.lzfse',
    raw: 'empty.bin',
    sha: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  },
  {
    stream: 'one-byte.lzfse',
    raw: 'one-byte.bin',
    sha: '684888c0ebb17f374298b65ee2807526c066094c701bcc7ebbe1c1095f494fc1',
  },
  {
    stream: 'small-text.lzfse',
    raw: 'small-text.bin',
    sha: '5d65c9c874a41e4505e6a1a9cb2442d13af15f1fe0b1b62d887ee449d97a4f87',
  },
  {
    stream: 'small-text.trailing.lzfse',
    raw: 'small-text.bin',
    sha: '5d65c9c874a41e4505e6a1a9cb2442d13af15f1fe0b1b62d887ee449d97a4f87',
  },
  {
    stream: 'conf-head-4095.lzfse',
    raw: 'conf-head-4095.bin',
    sha: '69169f98a261c7b3f80a8a2c938e151d64f37f747f9038cd669f9ba5f4882dea',
  },
  {
    stream: 'depth-head-4096.lzfse',
    raw: 'depth-head-4096.bin',
    sha: '9cb95bcae4c9ae25c5ff1542b92e227763044d1df0e30a1d3755f25c1057ef98',
  },
  {
    stream: 'random-4000.lzfse',
    raw: 'random-4000.bin',
    sha: '7d978e441a9cbca9c5637ce931247b6dbfb8d77f9da322a0a52aec8318d23679',
  },
  {
    stream: 'random-100k.lzfse',
    raw: 'random-100k.bin',
    sha: '3ff78d9145003c53adc45315a02e94650ecf0891ee008a6bce870eea30ad3877',
  },
  {
    stream: 'repetitive-256k.lzfse',
    raw: 'repetitive-256k.bin',
    sha: 'c7d9cdd5445276486bf7028edfc654dff7b4103dd0f7f0a52850689e1f60becb',
  },
  {
    stream: 'mixed-blocks.lzfse',
    raw: 'mixed-blocks.bin',
    sha: '678c8838c04ab428a8fd603d80209c7a02d30d50f5c6191dcbcd6cce14da4649',
  },
];

const CORRUPT: { stream: string; code: LzfseErrorCode }[] = [
  { stream: 'corrupt-bad-magic.lzfse', code: 'BAD_MAGIC' },
  { stream: 'corrupt-header-flip.lzfse', code: 'CORRUPT' },
  { stream: 'corrupt-freq-table.lzfse', code: 'CORRUPT' },
  { stream: 'corrupt-truncated.lzfse', code: 'TRUNCATED' },
  { stream: 'corrupt-no-eos.lzfse', code: 'NO_END' },
  { stream: 'corrupt-raw-overrun.lzfse', code: 'TRUNCATED' },
];

function decodeError(input: Uint8Array, opts?: Parameters<typeof decodeLzfse>[1]): LzfseError {
  try {
    decodeLzfse(input, opts);
  } catch (err) {
    if (err instanceof LzfseError) return err;
    throw err;
  }
  throw new Error('expected an LzfseError, but decoding succeeded');
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const u32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const EOS = ascii('bvx$');

describe('decodeLzfse on reference-encoder vectors', () => {
  for (const v of VALID) {
    it(`decodes ${v.stream} byte-exactly (sha256 from the README)`, () => {
      const out = decodeLzfse(read(FIXTURES, v.stream));
      expect(sha256(out)).toBe(v.sha);
      expect(Buffer.from(out).equals(Buffer.from(read(FIXTURES, v.raw)))).toBe(true);
    });
  }

  it('decodes into an exactly preallocated buffer when expectedBytes is given', () => {
    const raw = read(FIXTURES, 'depth-256x192-f32.bin');
    const out = decodeLzfse(read(FIXTURES, 'depth-256x192-f32.lzfse'), { expectedBytes: raw.length });
    expect(out.length).toBe(raw.length);
    expect(out.buffer.byteLength).toBe(raw.length);
    expect(sha256(out)).toBe(sha256(raw));
  });

  it.skipIf(!existsSync(path.join(SHARED_LZFSE, 'depth-960x720-f32.lzfse')))(
    'decodes the 69-block 960x720 depth stream from shared fixtures',
    () => {
      const out = decodeLzfse(read(SHARED_LZFSE, 'depth-960x720-f32.lzfse'));
      expect(out.length).toBe(2764800);
      expect(sha256(out)).toBe('a910ca8b5eac7c93c422864e955c74fff09079d38a44a967c8b382d576861600');
    },
  );

  it('ignores bytes after bvx$ (reference behaviour)', () => {
    const plain = decodeLzfse(read(FIXTURES, 'small-text.lzfse'));
    const withTail = decodeLzfse(
      Uint8Array.from([...read(FIXTURES, 'small-text.lzfse'), 0xde, 0xad, ...ascii('bvx3')]),
    );
    expect(Buffer.from(withTail).equals(Buffer.from(plain))).toBe(true);
  });
});

describe('decodeLzfse rejects corrupt streams with a typed error', () => {
  for (const c of CORRUPT) {
    it(`rejects ${c.stream} with ${c.code}`, () => {
      const err = decodeError(read(FIXTURES, c.stream));
      expect(err.code).toBe(c.code);
      expect(err.offset).toBeGreaterThanOrEqual(0);
      expect(err.message).toContain(c.code);
    });
  }

  it('reports NO_END for empty input and TRUNCATED for a partial magic', () => {
    expect(decodeError(new Uint8Array(0)).code).toBe('NO_END');
    expect(decodeError(Uint8Array.from(ascii('bvx'))).code).toBe('TRUNCATED');
  });

  it('reports TRUNCATED for a raw block claiming 4 GiB without allocating it', () => {
    const err = decodeError(Uint8Array.from([...ascii('bvx-'), ...u32(0xffffffff), 1, 2, 3, ...EOS]));
    expect(err.code).toBe('TRUNCATED');
    expect(err.offset).toBe(0);
  });

  it('names the offset of the bad block', () => {
    const stream = Uint8Array.from([...ascii('bvx-'), ...u32(2), 7, 8, ...ascii('bvxQ'), ...EOS]);
    const err = decodeError(stream);
    expect(err.code).toBe('BAD_MAGIC');
    expect(err.offset).toBe(10);
  });
});

describe('decodeLzfse output limits', () => {
  const depth = read(FIXTURES, 'depth-256x192-f32.lzfse');

  it('throws OUTPUT_LIMIT when the stream decodes to more than maxOutputBytes', () => {
    expect(decodeError(depth, { maxOutputBytes: 100_000 }).code).toBe('OUTPUT_LIMIT');
    expect(decodeLzfse(depth, { maxOutputBytes: 196_608 }).length).toBe(196_608);
  });

  it('enforces the cap for highly compressible streams (repetitive 256 KiB from 336 bytes)', () => {
    expect(decodeError(read(FIXTURES, 'repetitive-256k.lzfse'), { maxOutputBytes: 65_536 }).code).toBe(
      'OUTPUT_LIMIT',
    );
  });

  it('enforces the 64 MiB default cap on a raw block header before reading its payload', () => {
    const big = 64 * 1024 * 1024 + 1;
    const stream = new Uint8Array(8 + big + 4);
    stream.set([...ascii('bvx-'), ...u32(big)], 0);
    stream.set(EOS, 8 + big);
    expect(decodeError(stream).code).toBe('OUTPUT_LIMIT');
  });

  it('throws SIZE_MISMATCH when expectedBytes differs from the decoded size', () => {
    expect(decodeError(depth, { expectedBytes: 196_607 }).code).toBe('SIZE_MISMATCH');
    expect(decodeError(depth, { expectedBytes: 196_609 }).code).toBe('SIZE_MISMATCH');
  });

  it('throws OUTPUT_LIMIT when expectedBytes itself exceeds the cap', () => {
    expect(decodeError(depth, { expectedBytes: 1000, maxOutputBytes: 999 }).code).toBe('OUTPUT_LIMIT');
  });
});

describe('decodeLzfse LZVN blocks (hand-built)', () => {
  const lzvn = (nRaw: number, payload: number[]): number[] => [
    ...ascii('bvxn'),
    ...u32(nRaw),
    ...u32(payload.length),
    ...payload,
  ];
  const LZVN_EOS = [0x06, 0, 0, 0, 0, 0, 0, 0];

  it('lets an LZVN match reach back into an earlier raw block', () => {
    // raw "abcd", then LZVN: sml_d L=0 M=4 D=4 copies "abcd" from the previous block.
    const stream = Uint8Array.from([
      ...ascii('bvx-'),
      ...u32(4),
      ...ascii('abcd'),
      ...lzvn(4, [(1 << 3) | 0, 4, ...LZVN_EOS]),
      ...EOS,
    ]);
    expect(Buffer.from(decodeLzfse(stream)).toString('latin1')).toBe('abcdabcd');
  });

  it('decodes overlapping matches (distance 1 run)', () => {
    // sml_d with L=1 literal 'z', M=8, D=1 -> "z" + 8 x "z"
    const stream = Uint8Array.from([
      ...lzvn(9, [(1 << 6) | (5 << 3), 1, ...ascii('z'), ...LZVN_EOS]),
      ...EOS,
    ]);
    expect(Buffer.from(decodeLzfse(stream)).toString('latin1')).toBe('z'.repeat(9));
  });

  it('rejects a match distance beyond the output so far', () => {
    const stream = Uint8Array.from([...lzvn(5, [0xe1, ...ascii('q'), (1 << 3) | 0, 2, ...LZVN_EOS]), ...EOS]);
    expect(decodeError(stream).code).toBe('CORRUPT');
  });

  it('rejects undefined opcodes and a missing LZVN end-of-stream', () => {
    expect(decodeError(Uint8Array.from([...lzvn(0, [0x70, ...LZVN_EOS]), ...EOS])).code).toBe('CORRUPT');
    expect(decodeError(Uint8Array.from([...lzvn(1, [0xe1, 0x41]), ...EOS])).code).toBe('CORRUPT');
  });

  it('rejects an LZVN block whose output differs from n_raw_bytes', () => {
    expect(decodeError(Uint8Array.from([...lzvn(2, [0xe1, 0x41, ...LZVN_EOS]), ...EOS])).code).toBe(
      'CORRUPT',
    );
  });
});
