/**
 * The binary point map `map.bin`: layout, encoder and a fast validating parser.
 *
 * This file is browser-safe and dependency-free (no imports at all): the renderer fetches `map.bin`
 * over HTTP and parses it with `parseMap`, through a copy of this file if it likes.
 *
 * Layout (all little-endian; every section starts at a multiple of 8 bytes; gaps are zero):
 *
 * | offset | size | type     | field                                                                  |
 * |-------:|-----:|----------|------------------------------------------------------------------------|
 * |      0 |    8 | ASCII    | magic `CFMAP001`                                                       |
 * |      8 |    4 | u32      | version (1)                                                            |
 * |     12 |    4 | u32      | flags: bit 0 = frame ids are u32 (else u16); bit 1 = floor present     |
 * |     16 |    4 | u32      | header size in bytes (128)                                             |
 * |     20 |    4 | u32      | N, point (voxel) count                                                 |
 * |     24 |    4 | u32      | M, total frame ids in the CSR list                                     |
 * |     28 |    4 | u32      | F, frames in the capture (every frame id is < F)                       |
 * |     32 |    4 | f32      | voxel_m, the fusion voxel size in metres                               |
 * |     36 |   24 | f32 x 6  | bounds_m: min x,y,z then max x,y,z (world metres; all zero when N = 0) |
 * |     60 |   16 | f32 x 4  | floor: up x,y,z (unit) and height (m along up); zero when absent       |
 * |     76 |    4 | u32      | byte offset of `xyz`          (f32 x 3N, world metres, ARKit y-up)     |
 * |     80 |    4 | u32      | byte offset of `rgb`          (u8 x 3N, mean colour)                   |
 * |     84 |    4 | u32      | byte offset of `frame_counts` (u16 x N, frames that saw the voxel,     |
 * |        |      |          |                                saturating at 65535)                    |
 * |     88 |    4 | u32      | byte offset of `frame_offsets`(u32 x N+1, CSR row starts into ids)     |
 * |     92 |    4 | u32      | byte offset of `frame_ids`    (u16 or u32 x M, capture frame indices)  |
 * |     96 |    4 | u32      | total file size in bytes                                               |
 * |    100 |   28 | -        | reserved, zero                                                         |
 *
 * Sections follow the header in the order above. Point i's frames are
 * `frame_ids[frame_offsets[i] .. frame_offsets[i+1])`: a sorted sample of at most `MAX_FRAMES_PER_POINT`
 * distinct frames that saw it (see fuse.ts), while `frame_counts[i]` is how many frames saw it in total.
 *
 * `parseMap` returns zero-copy typed-array views into the given buffer (on little-endian hosts with an
 * 8-byte-aligned buffer; otherwise it copies) after validating every header field and every section,
 * and throws `MapFormatError` (naming the file) on anything else.
 */

export const MAP_MAGIC = 'CFMAP001';
export const MAP_VERSION = 1;
export const MAP_HEADER_BYTES = 128;
export const MAX_FRAMES_PER_POINT = 8;
const FLAG_IDS_U32 = 1;
const FLAG_FLOOR = 2;
const KNOWN_FLAGS = FLAG_IDS_U32 | FLAG_FLOOR;

export type Vec3 = [number, number, number];

export interface MapFloor {
  /** Unit up vector in world coordinates. */
  up: Vec3;
  /** The floor's coordinate along `up`, world metres. */
  height: number;
}

export interface PointMap {
  voxel_m: number;
  /** Number of points (fused voxels). */
  count: number;
  /** Number of frames in the capture; every frame id is below it. */
  frames_total: number;
  bounds_m: { min: Vec3; max: Vec3 };
  floor: MapFloor | null;
  /** xyz per point, world metres (capture world frame). Length 3 * count. */
  positions: Float32Array;
  /** rgb per point. Length 3 * count. */
  colors: Uint8Array;
  /** Frames that saw each point (saturating at 65535). Length count. */
  frameCounts: Uint16Array;
  /** CSR row starts into frameIds. Length count + 1. */
  frameOffsets: Uint32Array;
  /** Capture frame indices; sorted within each point. */
  frameIds: Uint16Array | Uint32Array;
}

export class MapFormatError extends Error {
  readonly code = 'INVALID_INPUT' as const;
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'MapFormatError';
  }
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface SectionLayout {
  xyz: number;
  rgb: number;
  counts: number;
  offsets: number;
  ids: number;
  total: number;
}

function layoutFor(n: number, m: number, idBytes: number): SectionLayout {
  const xyz = MAP_HEADER_BYTES;
  const rgb = align8(xyz + 12 * n);
  const counts = align8(rgb + 3 * n);
  const offsets = align8(counts + 2 * n);
  const ids = align8(offsets + 4 * (n + 1));
  const total = align8(ids + idBytes * m);
  return { xyz, rgb, counts, offsets, ids, total };
}

/** Bounds of `positions` (zeros when empty). */
export function computeBounds(positions: Float32Array, count: number): { min: Vec3; max: Vec3 } {
  if (count === 0) return { min: [0, 0, 0], max: [0, 0, 0] };
  let x0 = Infinity,
    y0 = Infinity,
    z0 = Infinity,
    x1 = -Infinity,
    y1 = -Infinity,
    z1 = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = positions[3 * i]!,
      y = positions[3 * i + 1]!,
      z = positions[3 * i + 2]!;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    if (z < z0) z0 = z;
    if (z > z1) z1 = z;
  }
  return { min: [x0, y0, z0], max: [x1, y1, z1] };
}

/** Serialise a map (validated the same way `parseMap` validates). */
export function encodeMap(map: PointMap, file = 'map.bin'): Uint8Array<ArrayBuffer> {
  const n = map.count;
  const m = map.frameIds.length;
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new MapFormatError(file, `bad point count ${n}`);
  if (
    map.positions.length !== 3 * n ||
    map.colors.length !== 3 * n ||
    map.frameCounts.length !== n ||
    map.frameOffsets.length !== n + 1
  ) {
    throw new MapFormatError(file, 'array lengths do not match the point count');
  }
  const idsU32 = map.frameIds instanceof Uint32Array;
  const idBytes = idsU32 ? 4 : 2;
  const lay = layoutFor(n, m, idBytes);
  if (lay.total > 0xffffffff) throw new MapFormatError(file, `map too large (${lay.total} bytes)`);
  const buf = new ArrayBuffer(lay.total);
  const u8 = new Uint8Array(buf);
  const dv = new DataView(buf);
  for (let i = 0; i < 8; i++) u8[i] = MAP_MAGIC.charCodeAt(i);
  dv.setUint32(8, MAP_VERSION, true);
  dv.setUint32(12, (idsU32 ? FLAG_IDS_U32 : 0) | (map.floor ? FLAG_FLOOR : 0), true);
  dv.setUint32(16, MAP_HEADER_BYTES, true);
  dv.setUint32(20, n, true);
  dv.setUint32(24, m, true);
  dv.setUint32(28, map.frames_total, true);
  dv.setFloat32(32, map.voxel_m, true);
  const b = n > 0 ? map.bounds_m : { min: [0, 0, 0], max: [0, 0, 0] };
  for (let k = 0; k < 3; k++) {
    dv.setFloat32(36 + 4 * k, b.min[k]!, true);
    dv.setFloat32(48 + 4 * k, b.max[k]!, true);
  }
  if (map.floor) {
    for (let k = 0; k < 3; k++) dv.setFloat32(60 + 4 * k, map.floor.up[k]!, true);
    dv.setFloat32(72, map.floor.height, true);
  }
  dv.setUint32(76, lay.xyz, true);
  dv.setUint32(80, lay.rgb, true);
  dv.setUint32(84, lay.counts, true);
  dv.setUint32(88, lay.offsets, true);
  dv.setUint32(92, lay.ids, true);
  dv.setUint32(96, lay.total, true);
  const put = (off: number, arr: ArrayBufferView): void => {
    const src = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    if (LITTLE_ENDIAN) {
      u8.set(src, off);
    } else {
      // Big-endian hosts: write element by element in little-endian.
      const bpe = (arr as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      for (let i = 0; i < src.length; i += bpe)
        for (let k = 0; k < bpe; k++) u8[off + i + k] = src[i + bpe - 1 - k]!;
    }
  };
  put(lay.xyz, map.positions);
  put(lay.rgb, map.colors);
  put(lay.counts, map.frameCounts);
  put(lay.offsets, map.frameOffsets);
  put(lay.ids, map.frameIds);
  // Validate what we wrote so a writer bug never produces a file the reader rejects.
  parseMap(buf, file);
  return u8;
}

function readView<T extends Float32Array | Uint16Array | Uint32Array>(
  Ctor: { new (b: ArrayBuffer, o: number, l: number): T; new (l: number): T; BYTES_PER_ELEMENT: number },
  buffer: ArrayBuffer,
  base: number,
  offset: number,
  length: number,
  dv: DataView,
): T {
  const abs = base + offset;
  if (LITTLE_ENDIAN && abs % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(buffer, abs, length);
  const out = new Ctor(length);
  const bpe = Ctor.BYTES_PER_ELEMENT;
  for (let i = 0; i < length; i++) {
    const p = offset + i * bpe;
    out[i] =
      bpe === 2
        ? dv.getUint16(p, true)
        : out instanceof Float32Array
          ? dv.getFloat32(p, true)
          : dv.getUint32(p, true);
  }
  return out;
}

/**
 * Parse and validate `map.bin`. Accepts an ArrayBuffer or a view (e.g. a Node Buffer). Returns views into
 * the same memory where alignment and endianness allow. Throws `MapFormatError` naming `file`.
 */
export function parseMap(input: ArrayBuffer | ArrayBufferView, file = 'map.bin'): PointMap {
  let buffer: ArrayBuffer;
  let base: number;
  let length: number;
  if (input instanceof ArrayBuffer) {
    buffer = input;
    base = 0;
    length = input.byteLength;
  } else if (ArrayBuffer.isView(input) && input.buffer instanceof ArrayBuffer) {
    buffer = input.buffer;
    base = input.byteOffset;
    length = input.byteLength;
  } else {
    throw new MapFormatError(file, 'input is not an ArrayBuffer or a view of one');
  }
  const fail = (reason: string): never => {
    throw new MapFormatError(file, reason);
  };
  if (length < MAP_HEADER_BYTES) fail(`truncated: ${length} bytes, the header alone is ${MAP_HEADER_BYTES}`);
  const dv = new DataView(buffer, base, length);
  for (let i = 0; i < 8; i++) {
    if (dv.getUint8(i) !== MAP_MAGIC.charCodeAt(i)) fail(`bad magic (expected ${MAP_MAGIC})`);
  }
  const version = dv.getUint32(8, true);
  if (version !== MAP_VERSION) fail(`unsupported version ${version} (this reader knows ${MAP_VERSION})`);
  const flags = dv.getUint32(12, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) fail(`unknown flags 0x${flags.toString(16)}`);
  const headerBytes = dv.getUint32(16, true);
  if (headerBytes !== MAP_HEADER_BYTES) fail(`bad header size ${headerBytes}`);
  const n = dv.getUint32(20, true);
  const m = dv.getUint32(24, true);
  const framesTotal = dv.getUint32(28, true);
  const voxel_m = dv.getFloat32(32, true);
  if (!(Number.isFinite(voxel_m) && voxel_m > 0)) fail(`bad voxel size ${voxel_m}`);
  const f32 = (o: number): number => dv.getFloat32(o, true);
  const min: Vec3 = [f32(36), f32(40), f32(44)];
  const max: Vec3 = [f32(48), f32(52), f32(56)];
  for (let k = 0; k < 3; k++) {
    if (!Number.isFinite(min[k]!) || !Number.isFinite(max[k]!) || min[k]! > max[k]!) fail('bad bounds');
  }
  let floor: MapFloor | null = null;
  if (flags & FLAG_FLOOR) {
    const up: Vec3 = [f32(60), f32(64), f32(68)];
    const height = f32(72);
    const norm = Math.hypot(up[0], up[1], up[2]);
    if (!Number.isFinite(height) || !(Math.abs(norm - 1) < 1e-3))
      fail('bad floor (up must be a unit vector, height finite)');
    floor = { up, height };
  }
  const idBytes = flags & FLAG_IDS_U32 ? 4 : 2;
  // Sizes in float64 arithmetic: n, m < 2^32 so no overflow before the comparisons.
  const lay = layoutFor(n, m, idBytes);
  const offs = [76, 80, 84, 88, 92].map((o) => dv.getUint32(o, true));
  const expected = [lay.xyz, lay.rgb, lay.counts, lay.offsets, lay.ids];
  for (let k = 0; k < 5; k++) {
    if (offs[k] !== expected[k]) fail(`bad section offset ${offs[k]} (expected ${expected[k]})`);
  }
  const total = dv.getUint32(96, true);
  if (total !== lay.total) fail(`header says ${total} bytes but the counts need ${lay.total}`);
  if (length < lay.total) fail(`truncated: ${length} bytes, expected ${lay.total}`);
  if (length > lay.total) fail(`${length - lay.total} unexpected trailing bytes`);
  for (let o = 100; o < MAP_HEADER_BYTES; o++)
    if (dv.getUint8(o) !== 0) fail('reserved header bytes are not zero');

  const positions = readView(Float32Array, buffer, base, lay.xyz, 3 * n, dv);
  const colors = new Uint8Array(buffer, base + lay.rgb, 3 * n);
  const frameCounts = readView(Uint16Array, buffer, base, lay.counts, n, dv);
  const frameOffsets = readView(Uint32Array, buffer, base, lay.offsets, n + 1, dv);
  const frameIds =
    idBytes === 4
      ? readView(Uint32Array, buffer, base, lay.ids, m, dv)
      : readView(Uint16Array, buffer, base, lay.ids, m, dv);

  // Points: finite and inside the bounds (with float slack).
  if (n === 0) {
    for (let k = 0; k < 3; k++) if (min[k] !== 0 || max[k] !== 0) fail('bounds of an empty map must be zero');
  }
  const slack = [0, 1, 2].map((k) => 1e-5 * Math.max(1, Math.abs(min[k]!), Math.abs(max[k]!)));
  const [lx, ly, lz] = [min[0] - slack[0]!, min[1] - slack[1]!, min[2] - slack[2]!];
  const [hx, hy, hz] = [max[0] + slack[0]!, max[1] + slack[1]!, max[2] + slack[2]!];
  for (let i = 0; i < n; i++) {
    const x = positions[3 * i]!,
      y = positions[3 * i + 1]!,
      z = positions[3 * i + 2]!;
    // NaN fails every comparison, so `!(a <= b)` rejects it too.
    if (!(x >= lx && x <= hx && y >= ly && y <= hy && z >= lz && z <= hz))
      fail(`point ${i} is not finite or lies outside the bounds`);
  }
  // CSR: starts at 0, ends at M, non-decreasing, at most MAX_FRAMES_PER_POINT per point and no more than
  // the frame count; ids strictly increasing within a point and below F.
  if (frameOffsets[0] !== 0) fail('frame_offsets[0] must be 0');
  if (frameOffsets[n] !== m) fail(`frame_offsets[N] = ${frameOffsets[n]} but M = ${m}`);
  for (let i = 0; i < n; i++) {
    const a = frameOffsets[i]!,
      b = frameOffsets[i + 1]!;
    if (b < a) fail(`frame_offsets decrease at point ${i}`);
    const len = b - a;
    if (len > MAX_FRAMES_PER_POINT) fail(`point ${i} lists ${len} frames (max ${MAX_FRAMES_PER_POINT})`);
    if (len > frameCounts[i]!) fail(`point ${i} lists ${len} frames but was seen by ${frameCounts[i]}`);
    let prev = -1;
    for (let j = a; j < b; j++) {
      const id = frameIds[j]!;
      if (id <= prev) fail(`frame ids of point ${i} are not strictly increasing`);
      if (id >= framesTotal) fail(`frame id ${id} of point ${i} is not below the frame total ${framesTotal}`);
      prev = id;
    }
  }
  return {
    voxel_m,
    count: n,
    frames_total: framesTotal,
    bounds_m: { min, max },
    floor,
    positions,
    colors,
    frameCounts,
    frameOffsets,
    frameIds,
  };
}

/** Same as `parseMap` (the name the node side uses). */
export const readMap = parseMap;
