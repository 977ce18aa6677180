/**
 * Atomic export writes with clear errors: the destination folder must exist and be writable; the file is
 * written to a temp file beside the target, fsynced and renamed (util/atomic.ts), so a failure leaves nothing
 * partial at the destination (the temp file is removed).
 */
import { promises as fs, constants as fsc } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomic';
import { QueryError } from '../query/errors';

export async function exportFile(
  target: string,
  data: string | Uint8Array,
): Promise<{ file: string; bytes: number }> {
  const file = path.resolve(target);
  const dir = path.dirname(file);
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    throw new QueryError('NOT_FOUND', file, `destination folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new QueryError('INVALID_INPUT', file, `destination ${dir} is not a folder`);
  try {
    await fs.access(dir, fsc.W_OK);
  } catch {
    throw new QueryError('FORBIDDEN', file, `destination folder ${dir} is read-only`);
  }
  try {
    const existing = await fs.stat(file).catch(() => null);
    if (existing?.isDirectory())
      throw new QueryError('INVALID_INPUT', file, 'destination is a folder, not a file');
    await writeFileAtomic(file, data);
  } catch (err) {
    if (err instanceof QueryError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new QueryError('NOT_FOUND', file, `destination folder vanished while writing`);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new QueryError('FORBIDDEN', file, `destination is read-only (${code})`);
    if (code === 'ENOSPC') throw new QueryError('NEEDS_SPACE', file, 'no space left on the destination');
    throw new QueryError('IO', file, `cannot write: ${(err as Error).message}`);
  }
  return { file, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
}
