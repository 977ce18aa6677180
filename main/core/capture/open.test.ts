import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCapture } from './open';
import { writeTinyFolder, writeTinyR3d } from './testing';
import { CaptureError } from './types';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'open-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function caught(p: Promise<unknown>): Promise<CaptureError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CaptureError);
  return e as CaptureError;
}

describe('openCapture', () => {
  it('detects a .r3d file and a plain folder', async () => {
    const file = path.join(tmp, 'a.r3d');
    const dir = path.join(tmp, 'folder');
    await writeTinyR3d(file);
    await writeTinyFolder(dir);
    const a = await openCapture(file);
    const b = await openCapture(dir);
    expect([a.info.format, b.info.format]).toEqual(['r3d', 'folder']);
    expect(a.info.frameCount).toBe(b.info.frameCount);
    await a.close();
    await b.close();
  });

  it('detects a ZIP by its signature whatever the extension', async () => {
    const file = path.join(tmp, 'capture.zip');
    await writeTinyR3d(file, { frames: 2 });
    const s = await openCapture(file);
    expect(s.info.frameCount).toBe(2);
    await s.close();
  });

  it('names a missing path, a non-ZIP file and a folder that is not a capture', async () => {
    const missing = path.join(tmp, 'nope.r3d');
    expect(await caught(openCapture(missing))).toMatchObject({ code: 'NOT_FOUND', file: missing });
    const txt = path.join(tmp, 'notes.r3d');
    await fs.writeFile(txt, 'hello');
    expect(await caught(openCapture(txt))).toMatchObject({ code: 'UNSUPPORTED', file: txt });
    const empty = path.join(tmp, 'empty');
    await fs.mkdir(empty);
    expect(await caught(openCapture(empty))).toMatchObject({
      code: 'NOT_FOUND',
      file: path.join(empty, 'intrinsics.json'),
    });
  });

  it('passes maxEntries through to the ZIP reader', async () => {
    const file = path.join(tmp, 'b.r3d');
    await writeTinyR3d(file, { frames: 4 });
    expect((await caught(openCapture(file, { maxEntries: 5 }))).code).toBe('TOO_LARGE');
  });

  it('applies maxBytes to every entry read', async () => {
    const file = path.join(tmp, 'c.r3d');
    await writeTinyR3d(file, { frames: 1 });
    const s = await openCapture(file, { maxBytes: 600 });
    const e = await caught(s.readRgbEncoded(0));
    expect([e.code, e.file]).toEqual(['TOO_LARGE', 'rgbd/0.jpg']);
    await s.close();
  });
});
