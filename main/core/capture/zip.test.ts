import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ZipReader, unsafeEntryNameReason } from './zip';
import { buildZip, buildTinyR3d } from './testing';
import { openR3dFromZip } from './r3d';
import { CaptureError } from './types';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function expectCaptureError(
  p: Promise<unknown>,
  code: string,
  file: string | RegExp,
  reason?: RegExp,
): Promise<CaptureError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CaptureError);
  const ce = err as CaptureError;
  expect(ce.code).toBe(code);
  if (typeof file === 'string') expect(ce.file).toBe(file);
  else expect(ce.file).toMatch(file);
  if (reason) expect(ce.reason).toMatch(reason);
  return ce;
}

describe('ZipReader basics', () => {
  it('reads stored and deflated entries and lists names', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([
        { name: 'a.txt', data: enc('hello') },
        { name: 'dir/b.txt', data: enc('x'.repeat(5000)), method: 8 },
      ]),
      'test.zip',
    );
    expect(z.names().sort()).toEqual(['a.txt', 'dir/b.txt']);
    expect(new TextDecoder().decode(await z.read('a.txt', 100))).toBe('hello');
    expect((await z.read('dir/b.txt', 10000)).length).toBe(5000);
    await z.close();
  });

  it('reads from disk on demand and reports a missing entry by name', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'zip-'));
    const file = path.join(dir, 'x.zip');
    await fs.writeFile(file, buildZip([{ name: 'm', data: enc('{}') }]));
    const z = await ZipReader.open(file);
    expect(new TextDecoder().decode(await z.read('m', 10))).toBe('{}');
    await expectCaptureError(z.read('rgbd/7.depth', 10), 'NOT_FOUND', 'rgbd/7.depth', /missing in x\.zip/);
    await z.close();
    await expectCaptureError(z.read('m', 10), 'IO', 'm', /closed/);
    await fs.rm(dir, { recursive: true });
  });

  it('names a missing archive and a non-ZIP file', async () => {
    await expectCaptureError(ZipReader.open('/nonexistent/x.r3d'), 'NOT_FOUND', '/nonexistent/x.r3d');
    await expectCaptureError(
      ZipReader.fromBuffer(enc('not a zip at all, really'), 'junk.r3d'),
      'INVALID_INPUT',
      'junk.r3d',
      /not a readable ZIP/,
    );
  });
});

describe('hostile ZIPs', () => {
  for (const name of ['../x', 'a/../../x', '/x', 'C:\\x', 'C:/x', 'rgbd\\0.depth', 'a\u0000b']) {
    it(`refuses the unsafe entry name ${JSON.stringify(name)}`, async () => {
      const zip = buildZip([
        { name: 'metadata', data: enc('{}') },
        { name, data: enc('evil') },
      ]);
      await expectCaptureError(
        ZipReader.fromBuffer(zip, 'evil.r3d'),
        'INVALID_INPUT',
        name,
        /unsafe ZIP entry/,
      );
    });
  }

  it('unsafeEntryNameReason accepts ordinary names', () => {
    for (const n of ['metadata', 'rgbd/0.jpg', 'labels/instances.json', 'a..b/c'])
      expect(unsafeEntryNameReason(n)).toBeNull();
  });

  it('refuses symlink entries (S_IFLNK in external attributes)', async () => {
    const zip = buildZip([
      { name: 'rgbd/0.jpg', data: enc('/etc/passwd'), externalAttrs: (0o120777 << 16) >>> 0 },
    ]);
    await expectCaptureError(
      ZipReader.fromBuffer(zip, 's.r3d'),
      'INVALID_INPUT',
      'rgbd/0.jpg',
      /symbolic-link/,
    );
  });

  it('refuses encrypted entries (general purpose bit 0)', async () => {
    const zip = buildZip([{ name: 'metadata', data: enc('{}'), flags: 1 }]);
    await expectCaptureError(ZipReader.fromBuffer(zip, 'e.r3d'), 'UNSUPPORTED', 'metadata', /encrypted/);
  });

  it('refuses duplicate entry names', async () => {
    const zip = buildZip([
      { name: 'metadata', data: enc('{}') },
      { name: 'metadata', data: enc('{"w":1}') },
    ]);
    await expectCaptureError(ZipReader.fromBuffer(zip, 'd.r3d'), 'INVALID_INPUT', 'metadata', /duplicate/);
  });

  it('refuses more entries than maxEntries before reading them', async () => {
    const zip = buildZip(Array.from({ length: 6 }, (_, i) => ({ name: `f${i}`, data: enc('x') })));
    await expectCaptureError(
      ZipReader.fromBuffer(zip, 'many.r3d', { maxEntries: 5 }),
      'TOO_LARGE',
      'many.r3d',
      /6 entries; the limit is 5/,
    );
    // The declared count alone trips the cap (the central directory is never walked).
    const lying = buildZip([{ name: 'a', data: enc('x') }], { declaredEntryCount: 65535 });
    await expectCaptureError(
      ZipReader.fromBuffer(lying, 'lie.r3d', { maxEntries: 1000 }),
      'TOO_LARGE',
      'lie.r3d',
    );
  });

  it('refuses an entry that declares more than the caller cap (zip bomb by declared size)', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 'rgbd/0.depth', data: new Uint8Array(1_000_000), method: 8 }]),
      'b.r3d',
    );
    await expectCaptureError(
      z.read('rgbd/0.depth', 200_000),
      'TOO_LARGE',
      'rgbd/0.depth',
      /declares 1000000 bytes/,
    );
  });

  it('refuses a deflated entry whose declared ratio is above 1000:1', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 'big', data: new Uint8Array(100), method: 8, declaredSize: 50_000_000 }]),
      'b.r3d',
    );
    await expectCaptureError(z.read('big', 100_000_000), 'TOO_LARGE', 'big', /ratio above 1000:1/);
  });

  it('aborts while inflating when the data produces more than the declared size (lying header)', async () => {
    // 4 MB of zeros deflates to ~4 KB; the header claims 4000 bytes (ratio ok), the cap is generous.
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 'bomb', data: new Uint8Array(4_000_000), method: 8, declaredSize: 4000 }]),
      'b.r3d',
    );
    await expectCaptureError(z.read('bomb', 10_000_000), 'TOO_LARGE', 'bomb', /more than 4000 bytes/);
  });

  it('refuses an entry that produces fewer bytes than declared', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 'short', data: enc('x'.repeat(500)), method: 8, declaredSize: 900 }]),
      'b.r3d',
    );
    await expectCaptureError(z.read('short', 10_000), 'INVALID_INPUT', 'short');
  });

  it('refuses a stored entry whose compressed and uncompressed sizes differ', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 's', data: enc('abcdef'), declaredSize: 3 }]),
      'b.r3d',
    );
    await expectCaptureError(z.read('s', 100), 'INVALID_INPUT', 's', /compressed size 6 != size 3/);
  });

  it('refuses a compressed size that runs past the end of the file', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([
        { name: 's', data: enc('abcdef'), declaredSize: 6_000_000, declaredCompressedSize: 6_000_000 },
      ]),
      'b.r3d',
    );
    await expectCaptureError(z.read('s', 10_000_000), 'INVALID_INPUT', 's', /corrupt ZIP entry/);
  });

  it('detects corrupt data through the CRC-32', async () => {
    const z = await ZipReader.fromBuffer(
      buildZip([{ name: 'c', data: enc('hello world'), declaredCrc: 0x12345678 }]),
      'b.r3d',
    );
    await expectCaptureError(z.read('c', 100), 'INVALID_INPUT', 'c', /CRC-32 mismatch/);
  });

  it('refuses unsupported compression methods when the entry is read', async () => {
    const z = await ZipReader.fromBuffer(buildZip([{ name: 'm', data: enc('abc'), method: 12 }]), 'b.r3d');
    await expectCaptureError(z.read('m', 100), 'UNSUPPORTED', 'm', /method 12/);
  });

  it('names a truncated archive', async () => {
    const full = buildZip([{ name: 'metadata', data: enc('{"a":1}') }]);
    await expectCaptureError(
      ZipReader.fromBuffer(full.subarray(0, full.length - 10), 'cut.r3d'),
      'INVALID_INPUT',
      'cut.r3d',
    );
  });
});

describe('mutated ZIP bytes (property)', () => {
  it('opening and reading every entry of a mutated .r3d only ever fails with CaptureError', async () => {
    const { bytes } = await buildTinyR3d({
      frames: 2,
      rgbWidth: 16,
      rgbHeight: 12,
      depthWidth: 8,
      depthHeight: 6,
      annotations: true,
    });
    const base = bytes;
    const cdStart = base.length - 400; // bias half of the mutations towards the central directory + end record
    const flip = fc.oneof(
      fc.record({ pos: fc.nat({ max: base.length - 1 }), val: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        pos: fc.integer({ min: Math.max(0, cdStart), max: base.length - 1 }),
        val: fc.integer({ min: 0, max: 255 }),
      }),
    );
    // Mostly byte flips (which keep the end record findable); about 1 run in 8 also truncates.
    const mutations = fc.record({
      flips: fc.array(flip, { minLength: 1, maxLength: 6 }),
      truncateAt: fc.option(fc.nat({ max: base.length - 1 }), { freq: 8, nil: null }),
    });
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(mutations, async ({ flips, truncateAt }) => {
        let buf = Uint8Array.from(base);
        for (const m of flips) buf[m.pos] = m.val;
        if (truncateAt !== null) buf = buf.slice(0, truncateAt);
        try {
          const zip = await ZipReader.fromBuffer(buf, 'mutated.r3d');
          const src = await openR3dFromZip(zip);
          try {
            for (let i = 0; i < src.info.frameCount; i++) {
              for (const read of [
                () => src.readDepth(i),
                () => src.readConfidence(i),
                () => src.readLabels(i),
                () => src.readRgb(i),
              ]) {
                try {
                  await read();
                } catch (e) {
                  if (!(e instanceof CaptureError)) throw e;
                }
              }
            }
          } finally {
            await src.close();
          }
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
        }
      }),
      { numRuns: 1000, seed: 20240611, interruptAfterTimeLimit: 15_000 },
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
