/**
 * The renderer's entry point for decoding the binary map asset (`MapSummary.asset`).
 *
 * The studio's own map format (`CFMAP001`, preload/contract/map-format.ts) is parsed by the same
 * browser-safe parser main uses to write it. Binary little-endian PLY (float x/y/z, optional uchar
 * red/green/blue) is also accepted, e.g. for heatmap exports. Everything that goes wrong is a
 * `MapFormatError` naming the file and the problem.
 */
import {
  MAP_MAGIC,
  parseMap,
  MapFormatError as StudioMapFormatError,
} from '../../../preload/contract/map-format';

export interface ParsedMap {
  /** Number of points. */
  count: number;
  /** point_in_map, metres, xyz interleaved (length 3 * count). */
  positions: Float32Array;
  /** RGB interleaved 0..255 (length 3 * count), or null when the map has no colour. */
  colors: Uint8Array | null;
}

export type MapFormatErrorCode = 'INVALID_INPUT' | 'UNSUPPORTED' | 'TOO_LARGE';

export class MapFormatError extends Error {
  constructor(
    readonly code: MapFormatErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'MapFormatError';
  }
}

/** More than this many points is refused rather than risking the tab. */
export const MAX_MAP_POINTS = 50_000_000;

/** A parser the lead can register for the studio's native map format (tried first). */
export type MapBinaryParser = (buf: ArrayBuffer, file: string) => ParsedMap | null;
let nativeParser: MapBinaryParser | null = null;

/** Registers the native-format parser; it returns null when the bytes are not its format. */
export function registerMapParser(parser: MapBinaryParser | null): void {
  nativeParser = parser;
}

function isStudioMap(buf: ArrayBuffer): boolean {
  if (buf.byteLength < MAP_MAGIC.length) return false;
  const head = new Uint8Array(buf, 0, MAP_MAGIC.length);
  for (let i = 0; i < MAP_MAGIC.length; i++) if (head[i] !== MAP_MAGIC.charCodeAt(i)) return false;
  return true;
}

export function parseMapBinary(buf: ArrayBuffer, file = 'map'): ParsedMap {
  if (isStudioMap(buf)) {
    try {
      const m = parseMap(buf, file);
      return { count: m.count, positions: m.positions, colors: m.colors };
    } catch (err) {
      if (err instanceof StudioMapFormatError) throw new MapFormatError('INVALID_INPUT', file, err.message);
      throw err;
    }
  }
  if (nativeParser) {
    const parsed = nativeParser(buf, file);
    if (parsed) return parsed;
  }
  const head = new Uint8Array(buf, 0, Math.min(4, buf.byteLength));
  if (head.length >= 3 && head[0] === 0x70 && head[1] === 0x6c && head[2] === 0x79)
    return parsePly(buf, file);
  throw new MapFormatError(
    'UNSUPPORTED',
    file,
    'not a recognised map format (expected the studio map or binary PLY)',
  );
}

const PLY_SIZES: Record<string, number> = {
  char: 1,
  int8: 1,
  uchar: 1,
  uint8: 1,
  short: 2,
  int16: 2,
  ushort: 2,
  uint16: 2,
  int: 4,
  int32: 4,
  uint: 4,
  uint32: 4,
  float: 4,
  float32: 4,
  double: 8,
  float64: 8,
};

interface PlyProp {
  name: string;
  type: string;
  offset: number;
}

export function parsePly(buf: ArrayBuffer, file = 'map.ply'): ParsedMap {
  const bytes = new Uint8Array(buf);
  // The header is ASCII and ends with "end_header\n"; look for it within the first 64 KiB.
  const limit = Math.min(bytes.length, 65536);
  let headerText = '';
  let bodyStart = -1;
  for (let i = 0; i < limit; i++) {
    const c = bytes[i] ?? 0;
    if (c > 127) break;
    headerText += String.fromCharCode(c);
    if (c === 10 && headerText.endsWith('end_header\n')) {
      bodyStart = i + 1;
      break;
    }
  }
  if (bodyStart < 0) throw new MapFormatError('INVALID_INPUT', file, 'PLY header has no end_header line');
  const lines = headerText.split('\n').map((l) => l.replace(/\r$/, '').trim());
  if (lines[0] !== 'ply')
    throw new MapFormatError('INVALID_INPUT', file, 'PLY header does not start with "ply"');

  let format: string | null = null;
  let vertexCount = -1;
  let inVertex = false;
  let seenVertex = false;
  let beforeVertexBytes = 0;
  let currentElementCount = 0;
  let currentElementStride = 0;
  const props: PlyProp[] = [];
  let stride = 0;
  for (const line of lines.slice(1)) {
    if (line === '' || line.startsWith('comment') || line.startsWith('obj_info') || line === 'end_header')
      continue;
    const parts = line.split(/\s+/);
    if (parts[0] === 'format') {
      format = parts[1] ?? null;
    } else if (parts[0] === 'element') {
      if (!seenVertex) beforeVertexBytes += currentElementCount * currentElementStride;
      const count = Number(parts[2]);
      if (!Number.isInteger(count) || count < 0)
        throw new MapFormatError('INVALID_INPUT', file, `bad element count in "${line}"`);
      inVertex = parts[1] === 'vertex';
      if (inVertex) {
        if (seenVertex) throw new MapFormatError('INVALID_INPUT', file, 'PLY has two vertex elements');
        seenVertex = true;
        vertexCount = count;
      }
      currentElementCount = count;
      currentElementStride = 0;
    } else if (parts[0] === 'property') {
      if (parts[1] === 'list') {
        if (inVertex)
          throw new MapFormatError('UNSUPPORTED', file, 'list properties on vertices are not supported');
        if (!seenVertex)
          throw new MapFormatError(
            'UNSUPPORTED',
            file,
            'list elements before the vertices are not supported',
          );
        continue;
      }
      const type = parts[1] ?? '';
      const size = PLY_SIZES[type];
      if (size === undefined)
        throw new MapFormatError('INVALID_INPUT', file, `unknown PLY property type "${type}"`);
      if (inVertex) {
        props.push({ name: parts[2] ?? '', type, offset: stride });
        stride += size;
      } else {
        currentElementStride += size;
      }
    } else {
      throw new MapFormatError('INVALID_INPUT', file, `unexpected PLY header line "${line}"`);
    }
  }
  if (format !== 'binary_little_endian') {
    throw new MapFormatError(
      'UNSUPPORTED',
      file,
      `PLY format "${format ?? 'missing'}" is not supported (binary_little_endian only)`,
    );
  }
  if (!seenVertex) throw new MapFormatError('INVALID_INPUT', file, 'PLY has no vertex element');
  if (vertexCount > MAX_MAP_POINTS)
    throw new MapFormatError(
      'TOO_LARGE',
      file,
      `${vertexCount} points exceed the limit of ${MAX_MAP_POINTS}`,
    );
  const find = (name: string) => props.find((p) => p.name === name);
  const px = find('x');
  const py = find('y');
  const pz = find('z');
  if (!px || !py || !pz) throw new MapFormatError('INVALID_INPUT', file, 'PLY vertices lack x, y or z');
  for (const p of [px, py, pz]) {
    if (p.type !== 'float' && p.type !== 'float32' && p.type !== 'double' && p.type !== 'float64') {
      throw new MapFormatError(
        'UNSUPPORTED',
        file,
        `vertex ${p.name} has type ${p.type}; float or double expected`,
      );
    }
  }
  const pr = find('red') ?? find('r');
  const pg = find('green') ?? find('g');
  const pb = find('blue') ?? find('b');
  const hasColor = !!(pr && pg && pb && [pr, pg, pb].every((p) => p.type === 'uchar' || p.type === 'uint8'));

  const start = bodyStart + beforeVertexBytes;
  const needed = start + vertexCount * stride;
  if (needed > bytes.length) {
    throw new MapFormatError(
      'INVALID_INPUT',
      file,
      `truncated: ${vertexCount} vertices need ${needed} bytes, file has ${bytes.length}`,
    );
  }
  const view = new DataView(buf);
  const positions = new Float32Array(vertexCount * 3);
  const colors = hasColor ? new Uint8Array(vertexCount * 3) : null;
  const readF = (p: PlyProp, o: number) =>
    p.type === 'double' || p.type === 'float64'
      ? view.getFloat64(o + p.offset, true)
      : view.getFloat32(o + p.offset, true);
  for (let i = 0; i < vertexCount; i++) {
    const o = start + i * stride;
    positions[i * 3] = readF(px, o);
    positions[i * 3 + 1] = readF(py, o);
    positions[i * 3 + 2] = readF(pz, o);
    if (colors && pr && pg && pb) {
      colors[i * 3] = bytes[o + pr.offset] ?? 0;
      colors[i * 3 + 1] = bytes[o + pg.offset] ?? 0;
      colors[i * 3 + 2] = bytes[o + pb.offset] ?? 0;
    }
  }
  return { count: vertexCount, positions, colors };
}

/** Encodes points as binary PLY (used by tests and for exporting a view). */
export function encodePly(positions: Float32Array, colors: Uint8Array | null): Uint8Array {
  const count = Math.floor(positions.length / 3);
  const header =
    `ply\nformat binary_little_endian 1.0\nelement vertex ${count}\n` +
    'property float x\nproperty float y\nproperty float z\n' +
    (colors ? 'property uchar red\nproperty uchar green\nproperty uchar blue\n' : '') +
    'end_header\n';
  const stride = 12 + (colors ? 3 : 0);
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(headerBytes.length + count * stride);
  out.set(headerBytes, 0);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) {
    const o = headerBytes.length + i * stride;
    view.setFloat32(o, positions[i * 3] ?? 0, true);
    view.setFloat32(o + 4, positions[i * 3 + 1] ?? 0, true);
    view.setFloat32(o + 8, positions[i * 3 + 2] ?? 0, true);
    if (colors) {
      out[o + 12] = colors[i * 3] ?? 0;
      out[o + 13] = colors[i * 3 + 1] ?? 0;
      out[o + 14] = colors[i * 3 + 2] ?? 0;
    }
  }
  return out;
}
