import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  computeBounds,
  encodeMap,
  MapFormatError,
  parseMap,
  readMapFile,
  writeMap,
  type PointMap,
} from './format';

function sampleMap(n: number, idsU32 = false, withFloor = true): PointMap {
  const positions = new Float32Array(3 * n);
  const colors = new Uint8Array(3 * n);
  const frameCounts = new Uint16Array(n);
  const frameOffsets = new Uint32Array(n + 1);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    positions.set([i * 0.1 - 1, Math.sin(i), -i * 0.02], 3 * i);
    colors.set([i % 256, (3 * i) % 256, 255 - (i % 256)], 3 * i);
    const k = i % 4;
    for (let j = 0; j < k; j++) ids.push(j * 3 + (i % 3) + (idsU32 ? 70_000 : 0));
    frameCounts[i] = k + (i % 5);
    frameOffsets[i + 1] = ids.length;
  }
  return {
    voxel_m: 0.02,
    count: n,
    frames_total: idsU32 ? 80_000 : 50,
    bounds_m: computeBounds(positions, n),
    floor: withFloor ? { up: [0, 1, 0], height: -1.25 } : null,
    positions,
    colors,
    frameCounts,
    frameOffsets,
    frameIds: idsU32 ? new Uint32Array(ids) : new Uint16Array(ids),
  };
}

const tmp = fs.mkdtemp(path.join(os.tmpdir(), 'cfmap-'));
afterAll(async () => fs.rm(await tmp, { recursive: true, force: true }));

function expectSameMap(a: PointMap, b: PointMap): void {
  expect(b.count).toBe(a.count);
  expect(b.voxel_m).toBeCloseTo(a.voxel_m, 6);
  expect(b.frames_total).toBe(a.frames_total);
  expect(b.bounds_m).toEqual(a.bounds_m);
  expect(b.floor).toEqual(a.floor);
  expect(Array.from(b.positions)).toEqual(Array.from(a.positions));
  expect(Array.from(b.colors)).toEqual(Array.from(a.colors));
  expect(Array.from(b.frameCounts)).toEqual(Array.from(a.frameCounts));
  expect(Array.from(b.frameOffsets)).toEqual(Array.from(a.frameOffsets));
  expect(Array.from(b.frameIds)).toEqual(Array.from(a.frameIds));
  expect(b.frameIds.constructor).toBe(a.frameIds.constructor);
}

describe('map.bin format', () => {
  it('round-trips through encode/parse with zero-copy views', () => {
    const m = sampleMap(101);
    const bytes = encodeMap(m);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('CFMAP001');
    expect(bytes.byteLength % 8).toBe(0);
    const back = parseMap(bytes.buffer);
    expectSameMap(m, back);
    expect(back.positions.buffer).toBe(bytes.buffer); // a view, not a copy
    expect(back.positions.byteOffset % 8).toBe(0);
  });

  it('round-trips u32 frame ids, an empty map and a map without floor', () => {
    for (const m of [sampleMap(33, true), sampleMap(0), sampleMap(5, false, false)])
      expectSameMap(m, parseMap(encodeMap(m).buffer));
  });

  it('parses from an unaligned view by copying', () => {
    const bytes = encodeMap(sampleMap(20));
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expectSameMap(sampleMap(20), parseMap(big.subarray(3)));
  });

  it('writes atomically and reads the file back; a missing file is a typed error naming it', async () => {
    const dir = await tmp;
    const file = path.join(dir, 'map.bin');
    await writeMap(file, sampleMap(64, true));
    expectSameMap(sampleMap(64, true), await readMapFile(file));
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    await expect(readMapFile(path.join(dir, 'nope.bin'))).rejects.toThrow(MapFormatError);
  });

  it('rejects bad magic and every truncation with MapFormatError naming the file', () => {
    const bytes = encodeMap(sampleMap(12));
    const bad = bytes.slice();
    bad[3] = 0x58;
    expect(() => parseMap(bad.buffer, 'proj/map/map.bin')).toThrow(/proj\/map\/map\.bin: bad magic/);
    for (let len = 0; len < bytes.length; len++) {
      const cut = bytes.slice(0, len);
      expect(() => parseMap(cut.buffer, 'cut.bin')).toThrow(MapFormatError);
    }
  });

  it('rejects NaN points, bad CSR rows and out-of-range frame ids', () => {
    const nan = sampleMap(4);
    nan.positions[5] = NaN;
    expect(() => encodeMap(nan)).toThrow(/not finite/);
    const csr = sampleMap(4);
    csr.frameOffsets[3] = 0; // 1 -> 0: decreasing
    expect(() => encodeMap(csr)).toThrow(MapFormatError);
    const ids = sampleMap(8);
    ids.frames_total = 2;
    expect(() => encodeMap(ids)).toThrow(/frame id/);
  });

  it('turns 2000 mutated files into a valid map or a MapFormatError, never anything else', () => {
    const base = encodeMap(sampleMap(40, false));
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant('flip' as const),
        at: fc.nat(base.length - 1),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(base.length), value: fc.constant(0) }),
      fc.record({
        kind: fc.constant('header' as const),
        at: fc.nat(127),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant('append' as const),
        at: fc.nat(64),
        value: fc.integer({ min: 0, max: 255 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (muts) => {
        let b = base.slice();
        for (const m of muts) {
          if (m.kind === 'flip' || m.kind === 'header') {
            if (m.at < b.length) b[m.at] = m.value;
          } else if (m.kind === 'cut') b = b.slice(0, Math.min(m.at, b.length));
          else {
            const c = new Uint8Array(b.length + m.at + 1).fill(m.value);
            c.set(b);
            b = c;
          }
        }
        try {
          const parsed = parseMap(b.buffer, 'fuzz.bin');
          // Whatever parses is self-consistent and re-encodes to the same bytes.
          expect(parsed.frameOffsets[parsed.count]).toBe(parsed.frameIds.length);
          expect(Array.from(encodeMap(parsed))).toEqual(Array.from(b));
        } catch (err) {
          if (!(err instanceof MapFormatError)) throw err;
          expect(err.file).toBe('fuzz.bin');
        }
      }),
      { numRuns: 2000, seed: 20240611 },
    );
  });

  it('rejects arbitrary random buffers with MapFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), fc.boolean(), (bytes, magic) => {
        const b = bytes.slice();
        if (magic && b.length >= 8) b.set(new TextEncoder().encode('CFMAP001'));
        expect(() => parseMap(b.buffer, 'r.bin')).toThrow(MapFormatError);
      }),
      { numRuns: 1000, seed: 7 },
    );
  });
});
