import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePly, MapFormatError, parseMapBinary, parsePly, registerMapParser } from './map-format';

const toBuf = (u8: Uint8Array): ArrayBuffer =>
  u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;

describe('parsePly', () => {
  it('round-trips positions and colours through binary PLY', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.float({ noNaN: true, noDefaultInfinity: true }),
            fc.float({ noNaN: true, noDefaultInfinity: true }),
            fc.float({ noNaN: true, noDefaultInfinity: true }),
            fc.integer({ min: 0, max: 255 }),
          ),
          { maxLength: 50 },
        ),
        fc.boolean(),
        (pts, withColor) => {
          const pos = new Float32Array(pts.flatMap(([x, y, z]) => [x, y, z]));
          const col = withColor ? new Uint8Array(pts.flatMap(([, , , c]) => [c, 255 - c, c >> 1])) : null;
          const m = parseMapBinary(toBuf(encodePly(pos, col)), 'map.ply');
          expect(m.count).toBe(pts.length);
          expect(Array.from(m.positions)).toEqual(Array.from(pos));
          expect(m.colors ? Array.from(m.colors) : null).toEqual(col ? Array.from(col) : null);
        },
      ),
      { numRuns: 1000, seed: 1234 },
    );
  });

  it('never throws anything but MapFormatError on arbitrary or corrupted bytes', () => {
    const good = encodePly(new Float32Array([1, 2, 3, 4, 5, 6]), new Uint8Array([1, 2, 3, 4, 5, 6]));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array([0x70, 0x6c, 0x79, 0x0a, ...b])),
          fc
            .tuple(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }))
            .map(([i, v]) => {
              const c = good.slice();
              c[i] = v;
              return c;
            }),
          fc.integer({ min: 0, max: good.length }).map((n) => good.slice(0, n)),
        ),
        (bytes) => {
          try {
            const m = parseMapBinary(toBuf(bytes), 'x.ply');
            expect(m.positions.length).toBe(m.count * 3);
          } catch (err) {
            expect(err).toBeInstanceOf(MapFormatError);
            expect((err as MapFormatError).file).toBe('x.ply');
          }
        },
      ),
      { numRuns: 1000, seed: 99 },
    );
  });

  it('names the problem: truncation, ascii format, missing coordinates', () => {
    const good = encodePly(new Float32Array([1, 2, 3, 4, 5, 6]), null);
    expect(() => parsePly(toBuf(good.slice(0, good.length - 1)), 'a.ply')).toThrow(/a\.ply: truncated/);
    const ascii = new TextEncoder().encode(
      'ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nend_header\n1 2 3\n',
    );
    expect(() => parsePly(toBuf(ascii), 'b.ply')).toThrow(/binary_little_endian only/);
    const noZ = new TextEncoder().encode(
      'ply\nformat binary_little_endian 1.0\nelement vertex 0\nproperty float x\nproperty float y\nend_header\n',
    );
    expect(() => parsePly(toBuf(noZ), 'c.ply')).toThrow(/lack x, y or z/);
  });

  it('skips extra vertex properties and elements that precede the vertices', () => {
    const header =
      'ply\nformat binary_little_endian 1.0\nelement camera 1\nproperty float fx\nelement vertex 1\nproperty double x\nproperty float y\nproperty float z\nproperty float nx\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n';
    const h = new TextEncoder().encode(header);
    const out = new Uint8Array(h.length + 4 + 8 + 4 + 4 + 4 + 3);
    out.set(h);
    const v = new DataView(out.buffer);
    let o = h.length;
    v.setFloat32(o, 500, true);
    o += 4;
    v.setFloat64(o, 1.5, true);
    v.setFloat32(o + 8, 2.5, true);
    v.setFloat32(o + 12, 3.5, true);
    v.setFloat32(o + 16, 0, true);
    out.set([10, 20, 30], o + 20);
    const m = parsePly(toBuf(out));
    expect(Array.from(m.positions)).toEqual([1.5, 2.5, 3.5]);
    expect(Array.from(m.colors ?? [])).toEqual([10, 20, 30]);
  });
});

describe('parseMapBinary', () => {
  it('rejects unknown formats with UNSUPPORTED', () => {
    try {
      parseMapBinary(new Uint8Array([1, 2, 3, 4]).buffer, 'map.bin');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(MapFormatError);
      expect((err as MapFormatError).code).toBe('UNSUPPORTED');
    }
  });

  it('tries a registered native parser first', () => {
    registerMapParser((buf) =>
      new Uint8Array(buf)[0] === 0xcf
        ? { count: 1, positions: new Float32Array([7, 8, 9]), colors: null }
        : null,
    );
    try {
      expect(parseMapBinary(new Uint8Array([0xcf]).buffer).positions[0]).toBe(7);
    } finally {
      registerMapParser(null);
    }
  });
});
