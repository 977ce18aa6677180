import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** A temp name beside `target` (same directory, so rename is atomic on the same filesystem). */
export function tempPathFor(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

/** Write a file atomically: temp file in the same folder, fsync, rename over the target, fsync the folder. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fs.FileHandle | null = null;
  try {
    handle = await fs.open(tmp, 'wx', 0o644);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = null;
    await fs.rename(tmp, target);
    await fsyncDir(path.dirname(target));
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' && !(err instanceof DiskSpaceError)) {
      throw await diskSpaceError(
        target,
        typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength,
      );
    }
    throw err;
  }
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A write ran out of disk space; `code` stays 'ENOSPC' so callers that map errno codes keep working. */
export class DiskSpaceError extends Error {
  readonly code = 'ENOSPC';
  constructor(
    readonly file: string,
    readonly neededBytes: number,
    readonly freeBytes: number | null,
  ) {
    super(
      `not enough disk space to write ${file}: needs ${formatBytes(neededBytes)}, ${freeBytes === null ? 'unknown' : formatBytes(freeBytes)} free`,
    );
    this.name = 'DiskSpaceError';
  }
}

/** A DiskSpaceError for `file` with the free space of its volume (null where statfs is unavailable). */
export async function diskSpaceError(file: string, neededBytes: number): Promise<DiskSpaceError> {
  let free: number | null = null;
  // The file's folder may be a staging folder that is already gone: ask the nearest existing ancestor.
  for (let dir = path.dirname(file), i = 0; free === null && i < 64; dir = path.dirname(dir), i++) {
    try {
      const st = await fs.statfs(dir);
      free = Number(st.bavail) * Number(st.bsize);
    } catch {
      if (path.dirname(dir) === dir) break;
    }
  }
  return new DiskSpaceError(file, neededBytes, free);
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** fsync a directory so a rename inside it is durable (a no-op where the platform refuses). */
export async function fsyncDir(dir: string): Promise<void> {
  let h: fs.FileHandle | null = null;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch {
    // Windows and some filesystems cannot fsync directories; the rename is still atomic there.
  } finally {
    await h?.close().catch(() => undefined);
  }
}

/**
 * Replace directory `target` with the fully written directory `staged` (same parent) in a way that a crash
 * leaves either the old or the new content: old -> `<target>.old-<rand>`, staged -> target, then delete old.
 */
export async function replaceDirAtomic(staged: string, target: string): Promise<void> {
  const old = `${target}.old-${randomBytes(4).toString('hex')}`;
  let hadOld = false;
  try {
    await fs.rename(target, old);
    hadOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await fs.rename(staged, target);
  } catch (err) {
    if (hadOld) await fs.rename(old, target).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
  if (hadOld) await fs.rm(old, { recursive: true, force: true });
}

/**
 * Remove leftovers of an interrupted write in `dir` (not recursive): temp files (`.*.tmp`), `*.old-<hex>` folders
 * (replaceDirAtomic) and `.staging-*` folders (staged field checkpoints that were never renamed into place).
 */
export async function cleanStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (
      (name.startsWith('.') && name.endsWith('.tmp')) ||
      name.startsWith('.staging-') ||
      /\.old-[0-9a-f]{8}$/.test(name)
    ) {
      await fs.rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
