import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssetError } from '../../lib/assets';
import {
  cellAt,
  decodeOccupancy,
  encodeOccupancy,
  invertRigid,
  occupancyTexture,
  OCCUPANCY_STYLE,
  topViewImage,
  transformPoint,
  type OccupancyGrid,
} from './occupancy';

// JSON has no -0: generate +0 instead.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e4, max: 1e4 }).map((v) => v + 0);
const cellValue = fc.constantFrom(-1, 0, 100);

const grid = fc
  .record({
    width: fc.integer({ min: 0, max: 12 }),
    height: fc.integer({ min: 0, max: 12 }),
    cell_m: fc.double({ min: 0.001, max: 5, noNaN: true }),
    origin_m: fc.tuple(finite, finite),
    map_from_world: fc.array(finite, { minLength: 16, maxLength: 16 }),
  })
  .chain((h) =>
    fc
      .array(cellValue, { minLength: h.width * h.height, maxLength: h.width * h.height })
      .map((c) => ({ ...h, cells: new Int8Array(c) })),
  );

/** Rotation about z by `yaw` then a shift, as a rigid 4x4 row-major. */
function rigid(yaw: number, t: [number, number, number]): number[] {
  const c = Math.cos(yaw);
  const s = Math.sin(yaw);
  return [c, -s, 0, t[0], s, c, 0, t[1], 0, 0, 1, t[2], 0, 0, 0, 1];
}

describe('decodeOccupancy', () => {
  it('round-trips any grid through encode/decode (property)', () => {
    fc.assert(
      fc.property(grid, (g: OccupancyGrid) => {
        const d = decodeOccupancy(encodeOccupancy(g));
        expect(d.width).toBe(g.width);
        expect(d.height).toBe(g.height);
        expect(d.cell_m).toBe(g.cell_m);
        expect(d.origin_m).toEqual(g.origin_m);
        expect(d.map_from_world).toEqual(g.map_from_world);
        expect(Array.from(d.cells)).toEqual(Array.from(g.cells));
      }),
      { numRuns: 1000, seed: 21 },
    );
  });

  it('never throws anything but AssetError on arbitrary bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeOccupancy(bytes.slice().buffer);
        } catch (err) {
          expect(err).toBeInstanceOf(AssetError);
        }
      }),
      { numRuns: 1000, seed: 22 },
    );
  });

  it('pads the header to 4 bytes before the cells', () => {
    const g: OccupancyGrid = {
      width: 2,
      height: 1,
      cell_m: 0.05,
      origin_m: [1, 2],
      map_from_world: rigid(0, [0, 0, 0]),
      cells: new Int8Array([100, -1]),
    };
    const buf = encodeOccupancy(g);
    const headerLen = new DataView(buf).getUint32(0, true);
    expect((buf.byteLength - 2) % 4).toBe(0);
    expect(buf.byteLength).toBe(Math.ceil((4 + headerLen) / 4) * 4 + 2);
  });

  it('rejects a cell value other than -1, 0 or 100', () => {
    const g: OccupancyGrid = {
      width: 2,
      height: 1,
      cell_m: 0.05,
      origin_m: [0, 0],
      map_from_world: rigid(0, [0, 0, 0]),
      cells: new Int8Array([0, 50]),
    };
    expect(() => decodeOccupancy(encodeOccupancy(g))).toThrow(/cell 1 has value 50/);
  });

  it('rejects a truncated cell block, naming the file', () => {
    const g: OccupancyGrid = {
      width: 3,
      height: 3,
      cell_m: 0.05,
      origin_m: [0, 0],
      map_from_world: rigid(0, [0, 0, 0]),
      cells: new Int8Array(9),
    };
    const buf = encodeOccupancy(g).slice(0, -1);
    expect(() => decodeOccupancy(buf, 'goals/occupancy.bin')).toThrow(
      /goals\/occupancy\.bin: expected 9 cells/,
    );
  });
});

describe('invertRigid', () => {
  it('undoes any rigid transform (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -Math.PI, max: Math.PI, noNaN: true }),
        fc.tuple(finite, finite, finite),
        fc.tuple(finite, finite, finite),
        (yaw, t, p) => {
          const m = rigid(yaw, t);
          const back = transformPoint(invertRigid(m), transformPoint(m, p));
          for (let i = 0; i < 3; i++) expect(back[i]).toBeCloseTo(p[i]!, 6);
        },
      ),
      { numRuns: 1000, seed: 23 },
    );
  });
});

describe('grid lookups and images', () => {
  const g: OccupancyGrid = {
    width: 2,
    height: 2,
    cell_m: 0.5,
    origin_m: [-1, 0],
    map_from_world: rigid(0, [0, 0, 0]),
    cells: new Int8Array([0, 100, -1, 0]),
  };

  it('finds the cell under a map point, rows counted up from origin y', () => {
    expect(cellAt(g, -0.9, 0.1)).toBe(0);
    expect(cellAt(g, -0.1, 0.1)).toBe(100);
    expect(cellAt(g, -0.9, 0.6)).toBe(-1);
    expect(cellAt(g, 5, 5)).toBe(-1);
  });

  it('makes unknown cells transparent in the 3D texture', () => {
    const tex = occupancyTexture(g, OCCUPANCY_STYLE.light);
    expect(tex[2 * 4 + 3]).toBe(0);
    expect(tex[1 * 4 + 3]).toBeGreaterThan(100);
    expect(tex[0 * 4 + 3]).toBeGreaterThan(0);
  });

  it('paints occupied cells darker than free ones in the top view (top row = max y)', () => {
    const view = {
      width: 2,
      height: 2,
      density: new Uint8Array(4),
      min_m: [-1, 0] as [number, number],
      max_m: [0, 1] as [number, number],
      scale: 2,
    };
    const img = topViewImage(view, g);
    // Bottom row (r = 1) is the grid's row 0: free then occupied.
    expect(img[(1 * 2 + 0) * 4]).toBe(255);
    expect(img[(1 * 2 + 1) * 4]!).toBeLessThan(100);
  });
});
