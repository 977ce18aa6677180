/**
 * `openCapture(path)`: open a Record3D `.r3d` file (a ZIP; detected by its `PK` signature, whatever the
 * extension) or a plain capture folder (a directory holding `intrinsics.json` + `poses.json`).
 * See r3d.ts and folder.ts for the exact formats. Every failure is a CaptureError naming the file.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openFolder } from './folder';
import { openR3d } from './r3d';
import { type CaptureOpenOptions } from './common';
import { CaptureError, type CaptureSource } from './types';

export type { CaptureOpenOptions } from './common';

/** Open a capture: `.r3d` (ZIP) file or plain folder. */
export async function openCapture(
  capturePath: string,
  opts: CaptureOpenOptions = {},
): Promise<CaptureSource> {
  const abs = path.resolve(capturePath);
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new CaptureError('NOT_FOUND', abs, 'no such file or folder');
    throw new CaptureError('IO', abs, `cannot access (${code ?? (err as Error).message})`);
  }
  if (st.isDirectory()) {
    const hasIntrinsics = await fs.stat(path.join(abs, 'intrinsics.json')).then(
      () => true,
      () => false,
    );
    if (!hasIntrinsics) {
      const r3d = (await fs.readdir(abs).catch(() => [] as string[])).filter((n) =>
        n.toLowerCase().endsWith('.r3d'),
      );
      const hint = r3d.length > 0 ? `; did you mean ${path.join(abs, r3d[0]!)}?` : '';
      throw new CaptureError(
        'NOT_FOUND',
        path.join(abs, 'intrinsics.json'),
        `missing: not a capture folder (needs intrinsics.json, poses.json, color/, depth/)${hint}`,
      );
    }
    return openFolder(abs, opts);
  }
  if (!st.isFile()) throw new CaptureError('UNSUPPORTED', abs, 'is neither a file nor a folder');
  const head = new Uint8Array(4);
  let handle: fs.FileHandle | null = null;
  try {
    handle = await fs.open(abs, 'r');
    await handle.read(head, 0, 4, 0);
  } catch (err) {
    throw new CaptureError(
      'IO',
      abs,
      `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  } finally {
    await handle?.close().catch(() => undefined);
  }
  const isZip =
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    (head[2] === 3 || head[2] === 5) &&
    (head[3] === 4 || head[3] === 6);
  if (!isZip) {
    throw new CaptureError(
      'UNSUPPORTED',
      abs,
      'not a Record3D .r3d (ZIP) file; expected an .r3d file or a capture folder',
    );
  }
  return openR3d(abs, opts);
}
