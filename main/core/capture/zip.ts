/**
 * A defensive, on-demand ZIP reader on top of yauzl, for Record3D `.r3d` captures (which can be gigabytes).
 *
 * - One open ZipFile per capture (`lazyEntries`, `autoClose: false`); the central directory is read ONCE
 *   into a Map name -> entry. Entry data is read from disk only when asked for, never the whole file.
 * - Both ZIP methods used by Record3D are supported: 0 (stored) and 8 (deflate). Anything else is
 *   UNSUPPORTED when that entry is read.
 * - Rejected at open (CaptureError naming the archive or the entry):
 *   more than `maxEntries` entries (default 200 000); unsafe names (decoded as yauzl does: UTF-8 flag,
 *   Info-ZIP Unicode path field, else CP437; backslashes kept so that they can be refused) (`../x`, `/x`, `C:\x`, any backslash,
 *   empty, NUL/control characters); duplicate names; symlink entries (S_IFLNK in the external attributes'
 *   high 16 bits); encrypted entries (general purpose bit 0 or 6); a corrupt central directory.
 * - Checked on every read: the declared uncompressed size must not exceed the caller's cap (TOO_LARGE), a
 *   deflated entry may not claim more than 1000:1 (TOO_LARGE), the bytes actually produced are counted while
 *   inflating and the read is aborted past min(cap, declared size) (TOO_LARGE), the produced size must equal
 *   the declared size (lying size headers -> INVALID_INPUT), and the CRC-32 must match (INVALID_INPUT).
 *
 * Errors about one entry name the entry (`rgbd/7.depth`) and say which archive it is in.
 */
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { CaptureError } from './types';

export const DEFAULT_MAX_ENTRIES = 200_000;
/** Deflate cannot legitimately exceed ~1032:1; anything claiming more than this is treated as a bomb. */
export const MAX_DEFLATE_RATIO = 1000;

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

export interface ZipOpenOptions {
  maxEntries?: number;
}

export interface ZipEntryInfo {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
}

/** Our own name check, on top of yauzl's strictFileNames (which rejects `..`, absolute paths and backslashes). */
export function unsafeEntryNameReason(name: string): string | null {
  if (name.length === 0) return 'empty entry name';
  if (name.includes('\\')) return 'backslash in entry name';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'control character in entry name';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'absolute entry name';
  if (name.split('/').some((part) => part === '..')) return "'..' in entry name";
  return null;
}

function describeYauzlError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ZipReader {
  private closed = false;
  private readonly archiveName: string;

  private constructor(
    private readonly zip: yauzl.ZipFile,
    /** The archive's path (for archive-level errors). */
    readonly file: string,
    private readonly entries: Map<string, yauzl.Entry>,
  ) {
    this.archiveName = path.basename(file);
  }

  /** Open a ZIP on disk and read its central directory. */
  static async open(file: string, opts: ZipOpenOptions = {}): Promise<ZipReader> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false, // names are decoded and validated by us (checkEntry), so bad names get our error
        validateEntrySizes: false, // sizes are checked by us in read(), so errors name the entry
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new CaptureError('NOT_FOUND', file, 'file does not exist');
      if (code === 'EISDIR') throw new CaptureError('INVALID_INPUT', file, 'is a folder, not a ZIP file');
      if (code === 'EACCES' || code === 'EPERM') throw new CaptureError('IO', file, 'permission denied');
      throw new CaptureError('INVALID_INPUT', file, `not a readable ZIP file (${describeYauzlError(err)})`);
    }
    return ZipReader.fromZipFile(zip, file, opts);
  }

  /** Open a ZIP held in memory (tests; tiny files). `file` names it in errors. */
  static async fromBuffer(bytes: Uint8Array, file: string, opts: ZipOpenOptions = {}): Promise<ZipReader> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false, // names are decoded and validated by us (checkEntry), so bad names get our error
        validateEntrySizes: false, // sizes are checked by us in read(), so errors name the entry
      });
    } catch (err) {
      throw new CaptureError('INVALID_INPUT', file, `not a readable ZIP file (${describeYauzlError(err)})`);
    }
    return ZipReader.fromZipFile(zip, file, opts);
  }

  private static async fromZipFile(
    zip: yauzl.ZipFile,
    file: string,
    opts: ZipOpenOptions,
  ): Promise<ZipReader> {
    const maxEntries = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    // Swallow late 'error' events (e.g. after close) so they can never crash the process.
    const sink = (): void => undefined;
    zip.on('error', sink);
    if (zip.entryCount > maxEntries) {
      zip.close();
      throw new CaptureError(
        'TOO_LARGE',
        file,
        `ZIP declares ${zip.entryCount} entries; the limit is ${maxEntries}`,
      );
    }
    const entries = new Map<string, yauzl.Entry>();
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: unknown): void => {
          cleanup();
          reject(
            err instanceof CaptureError
              ? err
              : new CaptureError('INVALID_INPUT', file, `corrupt ZIP: ${describeYauzlError(err)}`),
          );
        };
        const onEnd = (): void => {
          cleanup();
          resolve();
        };
        const onEntry = (entry: yauzl.Entry): void => {
          let name: string;
          try {
            name = yauzl.getFileNameLowLevel(
              entry.generalPurposeBitFlag,
              entry.fileNameRaw,
              entry.extraFields,
              true,
            );
          } catch (err) {
            onError(err);
            return;
          }
          const problem = ZipReader.checkEntry(entry, name, entries);
          if (problem) {
            onError(new CaptureError(problem.code, name, `${problem.reason} (in ${path.basename(file)})`));
            return;
          }
          if (!name.endsWith('/')) entries.set(name, entry);
          zip.readEntry();
        };
        const cleanup = (): void => {
          zip.off('error', onError);
          zip.off('end', onEnd);
          zip.off('entry', onEntry);
        };
        zip.on('error', onError);
        zip.on('end', onEnd);
        zip.on('entry', onEntry);
        zip.readEntry();
      });
    } catch (err) {
      zip.close();
      throw err;
    }
    return new ZipReader(zip, file, entries);
  }

  private static checkEntry(
    entry: yauzl.Entry,
    name: string,
    seen: Map<string, yauzl.Entry>,
  ): { code: 'INVALID_INPUT' | 'UNSUPPORTED'; reason: string } | null {
    const unsafe = unsafeEntryNameReason(name);
    if (unsafe) return { code: 'INVALID_INPUT', reason: `unsafe ZIP entry: ${unsafe}` };
    if ((entry.generalPurposeBitFlag & 0x41) !== 0)
      return { code: 'UNSUPPORTED', reason: 'encrypted ZIP entries are not supported' };
    const mode = (entry.externalFileAttributes >>> 16) & S_IFMT;
    if (mode === S_IFLNK)
      return { code: 'INVALID_INPUT', reason: 'symbolic-link ZIP entries are not allowed' };
    if (seen.has(name)) return { code: 'INVALID_INPUT', reason: 'duplicate ZIP entry name' };
    return null;
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  info(name: string): ZipEntryInfo | null {
    const e = this.entries.get(name);
    if (!e) return null;
    return {
      name,
      method: e.compressionMethod,
      compressedSize: e.compressedSize,
      uncompressedSize: e.uncompressedSize,
      crc32: e.crc32,
    };
  }

  /**
   * Read one entry fully, refusing to produce more than `maxBytes`.
   * Throws CaptureError: NOT_FOUND (missing), TOO_LARGE (cap or ratio), UNSUPPORTED (method), INVALID_INPUT (corrupt), IO.
   */
  async read(name: string, maxBytes: number): Promise<Uint8Array> {
    const where = `in ${this.archiveName}`;
    if (this.closed) throw new CaptureError('IO', name, `capture ${this.archiveName} is closed`);
    const entry = this.entries.get(name);
    if (!entry) throw new CaptureError('NOT_FOUND', name, `missing ${where}`);
    const method = entry.compressionMethod;
    if (method !== 0 && method !== 8)
      throw new CaptureError(
        'UNSUPPORTED',
        name,
        `ZIP compression method ${method} is not supported (stored or deflate only) ${where}`,
      );
    const declared = entry.uncompressedSize;
    if (declared > maxBytes) {
      throw new CaptureError(
        'TOO_LARGE',
        name,
        `declares ${declared} bytes uncompressed; at most ${maxBytes} expected ${where}`,
      );
    }
    if (method === 8 && declared > MAX_DEFLATE_RATIO * Math.max(1, entry.compressedSize)) {
      throw new CaptureError(
        'TOO_LARGE',
        name,
        `compression ratio above ${MAX_DEFLATE_RATIO}:1 (zip bomb?) ${where}`,
      );
    }
    if (method === 0 && entry.compressedSize !== declared) {
      throw new CaptureError(
        'INVALID_INPUT',
        name,
        `stored entry has compressed size ${entry.compressedSize} != size ${declared} ${where}`,
      );
    }
    const cap = Math.min(maxBytes, declared);
    let stream: NodeJS.ReadableStream & { destroy(err?: Error): void };
    try {
      stream = await this.zip.openReadStreamPromise(entry);
    } catch (err) {
      if (this.closed) throw new CaptureError('IO', name, `capture ${this.archiveName} is closed`);
      throw new CaptureError('INVALID_INPUT', name, `corrupt ZIP entry: ${describeYauzlError(err)} ${where}`);
    }
    const out = new Uint8Array(cap);
    const produced = await new Promise<number>((resolve, reject) => {
      let n = 0;
      let done = false;
      const finish = (err: CaptureError | null): void => {
        if (done) return;
        done = true;
        if (err) {
          stream.destroy();
          reject(err);
        } else resolve(n);
      };
      stream.on('data', (chunk: Buffer) => {
        if (done) return;
        if (n + chunk.length > cap) {
          finish(
            new CaptureError(
              'TOO_LARGE',
              name,
              `produces more than ${cap} bytes (declared ${declared}) ${where}`,
            ),
          );
          return;
        }
        out.set(chunk, n);
        n += chunk.length;
      });
      stream.on('error', (err: unknown) =>
        finish(
          new CaptureError('INVALID_INPUT', name, `corrupt ZIP entry: ${describeYauzlError(err)} ${where}`),
        ),
      );
      stream.on('end', () => finish(null));
    });
    if (produced !== declared) {
      throw new CaptureError(
        'INVALID_INPUT',
        name,
        `holds ${produced} bytes but its header declares ${declared} ${where}`,
      );
    }
    if (crc32(out) >>> 0 !== entry.crc32 >>> 0) {
      throw new CaptureError('INVALID_INPUT', name, `CRC-32 mismatch (corrupt data) ${where}`);
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zip.close();
    await Promise.resolve();
  }
}
