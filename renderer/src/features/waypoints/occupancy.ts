/**
 * The occupancy grid asset `goals/occupancy.bin` (served by the studio):
 *   u32 headerLen, UTF-8 JSON header {width, height, cell_m, origin_m:[x,y], map_from_world:[16 row-major]},
 *   zero padding to a 4-byte boundary, then Int8 cells row-major (row = y index from origin_m y,
 *   column = x index from origin_m x), -1 unknown, 0 free, 100 occupied. Little-endian.
 * Cell (cx, cy) covers map-frame [origin_x + cx·cell, +cell) × [origin_y + cy·cell, +cell) on the floor
 * (map z = 0). Pure functions: no DOM, no THREE.
 */
import { AssetError } from '../../lib/assets';
import type { TopView } from './topview';

export const OCCUPANCY_ASSET = 'goals/occupancy.bin';

export interface OccupancyGrid {
  width: number;
  height: number;
  cell_m: number;
  /** Map-frame corner of cell (0, 0), metres. */
  origin_m: [number, number];
  /** 4x4 row-major, world -> robot map frame. */
  map_from_world: number[];
  cells: Int8Array;
}

/** Largest grid accepted (cells): a 100 m × 100 m floor at 2.5 cm. */
const MAX_CELLS = 16_000_000;

const isFiniteNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function decodeOccupancy(buf: ArrayBuffer, file = OCCUPANCY_ASSET): OccupancyGrid {
  if (buf.byteLength < 4)
    throw new AssetError(file, `is ${buf.byteLength} bytes, shorter than its 4-byte header length`);
  const headerLen = new DataView(buf).getUint32(0, true);
  if (4 + headerLen > buf.byteLength)
    throw new AssetError(
      file,
      `header length ${headerLen} runs past the end of the ${buf.byteLength}-byte file`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(buf, 4, headerLen)));
  } catch (err) {
    throw new AssetError(
      file,
      `header is not UTF-8 JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const h = header as Record<string, unknown> | null;
  if (!h || typeof h !== 'object' || Array.isArray(h))
    throw new AssetError(file, 'header is not a JSON object');
  const { width, height, cell_m, origin_m, map_from_world } = h;
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    (width as number) < 0 ||
    (height as number) < 0
  )
    throw new AssetError(
      file,
      `width and height must be non-negative integers (got ${String(width)} × ${String(height)})`,
    );
  const w = width as number;
  const hh = height as number;
  if (w * hh > MAX_CELLS)
    throw new AssetError(file, `grid of ${w} × ${hh} cells exceeds the ${MAX_CELLS}-cell limit`);
  if (!isFiniteNum(cell_m) || cell_m <= 0)
    throw new AssetError(file, `cell_m must be a positive number (got ${String(cell_m)})`);
  if (!Array.isArray(origin_m) || origin_m.length !== 2 || !origin_m.every(isFiniteNum))
    throw new AssetError(file, 'origin_m must be two finite numbers');
  if (!Array.isArray(map_from_world) || map_from_world.length !== 16 || !map_from_world.every(isFiniteNum))
    throw new AssetError(file, 'map_from_world must be 16 finite numbers (4x4 row-major)');
  const start = Math.ceil((4 + headerLen) / 4) * 4;
  if (start + w * hh !== buf.byteLength)
    throw new AssetError(
      file,
      `expected ${w * hh} cells after the header (${start + w * hh} bytes in all) but the file has ${buf.byteLength} bytes`,
    );
  const cells = new Int8Array(buf.slice(start, start + w * hh));
  for (let i = 0; i < cells.length; i++) {
    const v = cells[i]!;
    if (v !== -1 && v !== 0 && v !== 100)
      throw new AssetError(file, `cell ${i} has value ${v} (expected -1, 0 or 100)`);
  }
  return {
    width: w,
    height: hh,
    cell_m,
    origin_m: [origin_m[0] as number, origin_m[1] as number],
    map_from_world: map_from_world as number[],
    cells,
  };
}

/** Encoder (the inverse of decodeOccupancy), used by tests and fixtures. */
export function encodeOccupancy(g: OccupancyGrid): ArrayBuffer {
  const header = new TextEncoder().encode(
    JSON.stringify({
      width: g.width,
      height: g.height,
      cell_m: g.cell_m,
      origin_m: g.origin_m,
      map_from_world: g.map_from_world,
    }),
  );
  const start = Math.ceil((4 + header.length) / 4) * 4;
  const out = new ArrayBuffer(start + g.cells.length);
  new DataView(out).setUint32(0, header.length, true);
  new Uint8Array(out, 4, header.length).set(header);
  new Int8Array(out, start).set(g.cells);
  return out;
}

/**
 * Inverse of a rigid 4x4 row-major transform [R t; 0 1] -> [Rᵀ −Rᵀt; 0 1]. map_from_world is rigid
 * (a rotation onto the floor plane plus a shift), so this is world_from_map.
 */
export function invertRigid(m: readonly number[]): number[] {
  const r = (i: number, j: number) => m[i * 4 + j]!;
  const t = [r(0, 3), r(1, 3), r(2, 3)];
  const out = new Array<number>(16).fill(0);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) out[i * 4 + j] = r(j, i);
    out[i * 4 + 3] = -(r(0, i) * t[0]! + r(1, i) * t[1]! + r(2, i) * t[2]!);
  }
  out[15] = 1;
  return out;
}

/** Applies a 4x4 row-major transform to a point. */
export function transformPoint(
  m: readonly number[],
  p: readonly [number, number, number],
): [number, number, number] {
  return [
    m[0]! * p[0] + m[1]! * p[1] + m[2]! * p[2] + m[3]!,
    m[4]! * p[0] + m[5]! * p[1] + m[6]! * p[2] + m[7]!,
    m[8]! * p[0] + m[9]! * p[1] + m[10]! * p[2] + m[11]!,
  ];
}

export type Rgba = readonly [number, number, number, number];
export interface OccupancyStyle {
  free: Rgba;
  occupied: Rgba;
  unknown: Rgba;
}

/** Translucent so the map's floor shows through: free floor blue, occupied cells red, unknown clear. */
export const OCCUPANCY_STYLE: Record<'light' | 'dark', OccupancyStyle> = {
  light: { free: [40, 140, 255, 90], occupied: [230, 40, 40, 170], unknown: [0, 0, 0, 0] },
  dark: { free: [60, 160, 255, 100], occupied: [255, 80, 80, 180], unknown: [0, 0, 0, 0] },
};

const styleOf = (v: number, s: OccupancyStyle): Rgba =>
  v === 100 ? s.occupied : v === 0 ? s.free : s.unknown;

/**
 * RGBA texture of the grid, row 0 = the cell row at origin y (a texture's first row sits at v = 0,
 * which a plane's UVs put at its low-y edge, so no flip is needed).
 */
export function occupancyTexture(g: OccupancyGrid, style: OccupancyStyle): Uint8Array {
  const out = new Uint8Array(g.width * g.height * 4);
  for (let i = 0; i < g.cells.length; i++) out.set(styleOf(g.cells[i]!, style), i * 4);
  return out;
}

/** The grid's cell at a map-frame point, or -1 (unknown) outside it. */
export function cellAt(g: OccupancyGrid, x_m: number, y_m: number): number {
  const cx = Math.floor((x_m - g.origin_m[0]) / g.cell_m);
  const cy = Math.floor((y_m - g.origin_m[1]) / g.cell_m);
  if (cx < 0 || cy < 0 || cx >= g.width || cy >= g.height) return -1;
  return g.cells[cy * g.width + cx]!;
}

/** Top-view base colours (sRGB) per cell state; without a grid every pixel is FREE_RGB. */
const TOP_FREE: readonly [number, number, number] = [255, 255, 255];
const TOP_UNKNOWN: readonly [number, number, number] = [214, 217, 222];
const TOP_OCCUPIED: readonly [number, number, number] = [52, 58, 70];

/**
 * Top-view image (RGBA, row 0 at the top = max map y) with the occupancy grid under the point density:
 * occupied cells dark, free cells white, unknown grey; map points darken what they cover (up to 55 %).
 */
export function topViewImage(
  view: TopView,
  grid: OccupancyGrid | null,
  out = new Uint8Array(view.width * view.height * 4),
): Uint8Array {
  for (let r = 0; r < view.height; r++) {
    const y = view.max_m[1] - (r + 0.5) / view.scale;
    for (let c = 0; c < view.width; c++) {
      const k = r * view.width + c;
      const o = k * 4;
      const v = grid ? cellAt(grid, view.min_m[0] + (c + 0.5) / view.scale, y) : 0;
      const base = v === 100 ? TOP_OCCUPIED : v === 0 ? TOP_FREE : TOP_UNKNOWN;
      const f = 1 - (view.density[k]! / 255) * 0.55;
      out[o] = Math.round(base[0] * f);
      out[o + 1] = Math.round(base[1] * f);
      out[o + 2] = Math.round(base[2] * f);
      out[o + 3] = 255;
    }
  }
  return out;
}
