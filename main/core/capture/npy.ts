/**
 * A small, strict reader (and writer, for tests) of NumPy `.npy` files, as used for `depth/N.npy` in
 * plain-folder captures.
 *
 * Accepted (everything else is a CaptureError):
 * - magic `\x93NUMPY`, format version 1.0, 2.0 or 3.0; header length u16 LE (1.0) or u32 LE (2.0/3.0);
 * - header: a Python dict literal with exactly the keys `descr`, `fortran_order`, `shape` (any order,
 *   optional trailing comma), terminated by `\n` and padded with spaces; at most 64 KiB;
 * - `descr` one of `<f4`, `<f8`, `|u1`, `<u2`, `<i2`, `<i4` (little-endian only);
 * - `fortran_order` must be `False` (C order);
 * - `shape` a tuple of non-negative integers; the data after the header must be exactly
 *   prod(shape) * itemsize bytes (no trailing bytes) and prod(shape) <= maxElements.
 */
import { CaptureError } from './types';

export type NpyDtype = '<f4' | '<f8' | '|u1' | '<u2' | '<i2' | '<i4';
export type NpyData = Float32Array | Float64Array | Uint8Array | Uint16Array | Int16Array | Int32Array;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: NpyData;
}

const ITEM_SIZE: Record<NpyDtype, number> = { '<f4': 4, '<f8': 8, '|u1': 1, '<u2': 2, '<i2': 2, '<i4': 4 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER = 65536;

type PyValue = string | boolean | number[];

/** Parse the header dict. Throws a plain message string on error (wrapped by the caller). */
function parseHeaderDict(text: string): Map<string, PyValue> {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`bad header at offset ${i}: ${what}`);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const parseString = (): string => {
    const q = text[i];
    if (q !== "'" && q !== '"') fail('expected a quoted string');
    const end = text.indexOf(q!, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\') || s.includes('\n')) fail('escapes are not supported');
    i = end + 1;
    return s;
  };
  const parseInt_ = (): number => {
    const m = /^[0-9]{1,15}/.exec(text.slice(i, i + 16));
    if (!m) fail('expected a non-negative integer');
    i += m![0].length;
    if (text[i] === 'L') i++; // Python 2 long suffix
    return Number(m![0]);
  };
  const parseValue = (): PyValue => {
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return parseString();
    if (text.startsWith('True', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('False', i)) {
      i += 5;
      return false;
    }
    if (c === '(') {
      i++;
      const dims: number[] = [];
      ws();
      if (text[i] === ')') {
        i++;
        return dims;
      }
      while (true) {
        ws();
        dims.push(parseInt_());
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          if (text[i] === ')') {
            i++;
            return dims;
          }
          continue;
        }
        if (text[i] === ')') {
          if (dims.length === 1) fail('a one-element tuple needs a trailing comma');
          i++;
          return dims;
        }
        fail('expected , or ) in shape');
      }
    }
    return fail('unsupported value');
  };

  const out = new Map<string, PyValue>();
  ws();
  if (text[i] !== '{') fail('expected {');
  i++;
  while (true) {
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = parseString();
    ws();
    if (text[i] !== ':') fail('expected :');
    i++;
    if (out.has(key)) fail(`duplicate key ${key}`);
    out.set(key, parseValue());
    ws();
    if (text[i] === ',') {
      i++;
      continue;
    }
    ws();
    if (text[i] === '}') {
      i++;
      break;
    }
    fail('expected , or }');
  }
  ws();
  if (text[i] !== '\n') fail('header must end with a newline');
  i++;
  if (i !== text.length) fail('junk after the header newline');
  return out;
}

export interface ParseNpyOptions {
  /** Refuse arrays with more elements than this (default 2^28). */
  maxElements?: number;
}

/** Parse a `.npy` file. `file` names it in errors. */
export function parseNpy(bytes: Uint8Array, file: string, opts: ParseNpyOptions = {}): NpyArray {
  const bad = (reason: string): CaptureError =>
    new CaptureError('INVALID_INPUT', file, `invalid .npy: ${reason}`);
  if (bytes.length < 10 || !MAGIC.every((b, k) => bytes[k] === b)) throw bad('missing \\x93NUMPY magic');
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (!(major === 1 || major === 2 || major === 3) || minor !== 0)
    throw bad(`unsupported format version ${major}.${minor}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = dv.getUint16(8, true);
  } else {
    if (bytes.length < 12) throw bad('truncated preamble');
    headerStart = 12;
    headerLen = dv.getUint32(8, true);
  }
  if (headerLen > MAX_HEADER) throw bad(`header length ${headerLen} exceeds ${MAX_HEADER}`);
  if (headerStart + headerLen > bytes.length) throw bad('truncated header');
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLen);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('header is not valid text');
  }
  let dict: Map<string, PyValue>;
  try {
    dict = parseHeaderDict(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
  for (const k of dict.keys())
    if (k !== 'descr' && k !== 'fortran_order' && k !== 'shape') throw bad(`unexpected header key '${k}'`);
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw bad("missing or non-string 'descr'");
  if (!(descr in ITEM_SIZE))
    throw bad(`unsupported dtype '${descr}' (expected <f4, <f8, |u1, <u2, <i2 or <i4)`);
  if (typeof fortran !== 'boolean') throw bad("missing or non-boolean 'fortran_order'");
  if (fortran) throw bad('Fortran-order arrays are not supported');
  if (!Array.isArray(shape)) throw bad("missing or non-tuple 'shape'");
  const dtype = descr as NpyDtype;
  const maxElements = opts.maxElements ?? 2 ** 28;
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (count > maxElements)
      throw new CaptureError('TOO_LARGE', file, `invalid .npy: array has more than ${maxElements} elements`);
  }
  const itemSize = ITEM_SIZE[dtype];
  const dataStart = headerStart + headerLen;
  const dataBytes = bytes.length - dataStart;
  if (dataBytes !== count * itemSize) {
    throw bad(
      `data is ${dataBytes} bytes, shape (${shape.join(', ')}) of ${dtype} needs ${count * itemSize}`,
    );
  }
  // Copy into a fresh, aligned buffer (the data offset need not be a multiple of the item size).
  const raw = bytes.slice(dataStart);
  let data: NpyData;
  switch (dtype) {
    case '<f4':
      data = new Float32Array(raw.buffer, 0, count);
      break;
    case '<f8':
      data = new Float64Array(raw.buffer, 0, count);
      break;
    case '|u1':
      data = raw;
      break;
    case '<u2':
      data = new Uint16Array(raw.buffer, 0, count);
      break;
    case '<i2':
      data = new Int16Array(raw.buffer, 0, count);
      break;
    case '<i4':
      data = new Int32Array(raw.buffer, 0, count);
      break;
  }
  return { dtype, shape: [...shape], data };
}

function dtypeOf(data: NpyData): NpyDtype {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Int32Array) return '<i4';
  return '|u1';
}

/** Write a version-1.0 `.npy` (C order, little-endian) — for tests and tools. */
export function encodeNpy(data: NpyData, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`shape (${shape.join(', ')}) does not match ${data.length} elements`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${dtypeOf(data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let k = 0; k < header.length; k++) out[10 + k] = header.charCodeAt(k);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
