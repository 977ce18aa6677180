/**
 * Little helpers shared by the dataset's binary files: a 32-byte header with magic, version, counts, payload
 * length and CRC-32, and a bounds-checked sequential reader/writer of 4-byte-aligned typed arrays.
 *
 * Header (little-endian):
 *   0  magic        4 ASCII bytes
 *   4  version      u32
 *   8  a, b, c, d   4 x u32 (meaning per file)
 *   24 payloadBytes u32 (= file length - 32)
 *   28 crc32        u32 of the payload
 */
import { crc32 } from 'node:zlib';
import type { ErrorCode } from '../../../preload/contract';

export const HEADER_BYTES = 32;

export class DatasetError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'DatasetError';
  }
}

export interface Header {
  magic: string;
  version: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

export function writeHeader(out: Uint8Array, h: Header, payload: Uint8Array): void {
  const dv = new DataView(out.buffer, out.byteOffset, HEADER_BYTES);
  for (let i = 0; i < 4; i++) out[i] = h.magic.charCodeAt(i);
  dv.setUint32(4, h.version, true);
  dv.setUint32(8, h.a >>> 0, true);
  dv.setUint32(12, h.b >>> 0, true);
  dv.setUint32(16, h.c >>> 0, true);
  dv.setUint32(20, h.d >>> 0, true);
  dv.setUint32(24, payload.byteLength, true);
  dv.setUint32(28, crc32(payload) >>> 0, true);
}

/** Check magic, version, payload length and CRC; returns the header and the payload view. */
export function readHeader(
  bytes: Uint8Array,
  file: string,
  magic: string,
  version: number,
): { header: Header; payload: Uint8Array } {
  if (bytes.byteLength < HEADER_BYTES)
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `file is ${bytes.byteLength} bytes, shorter than its ${HEADER_BYTES}-byte header`,
    );
  const got = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  if (got !== magic)
    throw new DatasetError('INVALID_INPUT', file, `bad magic ${JSON.stringify(got)} (expected ${magic})`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const v = dv.getUint32(4, true);
  if (v !== version)
    throw new DatasetError(
      'UNSUPPORTED',
      file,
      `format version ${v} is not supported (this app reads version ${version})`,
    );
  const payloadBytes = dv.getUint32(24, true);
  if (payloadBytes !== bytes.byteLength - HEADER_BYTES) {
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `header says ${payloadBytes} payload bytes but the file has ${bytes.byteLength - HEADER_BYTES} (truncated or padded)`,
    );
  }
  const payload = bytes.subarray(HEADER_BYTES);
  const crc = dv.getUint32(28, true);
  if (crc32(payload) >>> 0 !== crc)
    throw new DatasetError('INVALID_INPUT', file, 'checksum mismatch (the file is corrupt)');
  return {
    header: {
      magic,
      version: v,
      a: dv.getUint32(8, true),
      b: dv.getUint32(12, true),
      c: dv.getUint32(16, true),
      d: dv.getUint32(20, true),
    },
    payload,
  };
}

const pad4 = (n: number) => (n + 3) & ~3;

/** Accumulates typed arrays (each padded to 4 bytes) into one payload. */
export class PayloadWriter {
  private parts: Uint8Array[] = [];
  private length = 0;
  add(arr: ArrayBufferView): this {
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    this.parts.push(bytes);
    this.length += bytes.byteLength;
    const padded = pad4(bytes.byteLength) - bytes.byteLength;
    if (padded > 0) {
      this.parts.push(new Uint8Array(padded));
      this.length += padded;
    }
    return this;
  }
  /** The whole file: header + payload. */
  finish(h: Header): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.length);
    let o = HEADER_BYTES;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    writeHeader(out, h, out.subarray(HEADER_BYTES));
    return out;
  }
}

/** Reads typed arrays back in the order they were written, refusing to read past the end. */
export class PayloadReader {
  private o = 0;
  constructor(
    private readonly payload: Uint8Array,
    private readonly file: string,
  ) {}
  private take(bytes: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || this.o + bytes > this.payload.byteLength) {
      throw new DatasetError(
        'INVALID_INPUT',
        this.file,
        `truncated: ${what} needs ${bytes} bytes at offset ${this.o}, ${this.payload.byteLength - this.o} left`,
      );
    }
    // Copy into a fresh (aligned) buffer so typed views are valid whatever the source alignment.
    const out = this.payload.slice(this.o, this.o + bytes);
    this.o += pad4(bytes);
    return out;
  }
  u8(n: number, what: string): Uint8Array {
    return this.take(n, what);
  }
  u16(n: number, what: string): Uint16Array {
    const b = this.take(n * 2, what);
    return new Uint16Array(b.buffer, b.byteOffset, n);
  }
  u32(n: number, what: string): Uint32Array {
    const b = this.take(n * 4, what);
    return new Uint32Array(b.buffer, b.byteOffset, n);
  }
  f32(n: number, what: string): Float32Array {
    const b = this.take(n * 4, what);
    return new Float32Array(b.buffer, b.byteOffset, n);
  }
  /** Every payload byte must have been consumed (no trailing garbage). */
  end(): void {
    if (this.o !== this.payload.byteLength) {
      throw new DatasetError(
        'INVALID_INPUT',
        this.file,
        `${this.payload.byteLength - this.o} unexpected trailing bytes`,
      );
    }
  }
}

export function checkFinite(arr: Float32Array, file: string, what: string, min = -Infinity): void {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (!Number.isFinite(v) || v < min)
      throw new DatasetError(
        'INVALID_INPUT',
        file,
        `${what}[${i}] = ${v} is not a finite number${min > -Infinity ? ` >= ${min}` : ''}`,
      );
  }
}

export function checkBelow(
  arr: Uint32Array | Uint16Array,
  limit: number,
  file: string,
  what: string,
  allow?: number,
): void {
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i]!;
    if (v >= limit && v !== allow)
      throw new DatasetError('INVALID_INPUT', file, `${what}[${i}] = ${v} is out of range (< ${limit})`);
  }
}

export const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
