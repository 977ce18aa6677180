import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { StudioCore } from '../studio';
import { exportOccupancy } from './index';
import { exportFile } from './write';
import { installFsFaults } from '../testing/faults/fs-faults';
import { FAULTS_ENABLED, tempBase, tinyProject } from '../testing/faults/harness';

// Export destinations that cannot be written: a clear error and nothing partial at the destination.
let base: string;
let core: StudioCore;
let projectDir: string;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('export');
  const t = await tinyProject(base, { label: false });
  core = t.core;
  projectDir = t.projectDir;
}, 240_000);

afterAll(async () => {
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

async function exportVia(out: string) {
  return core.invoke('waypoints.export', { format: 'occupancy', out });
}

describe.skipIf(!FAULTS_ENABLED)('unwritable export destinations', () => {
  it('a destination whose parent is a regular file: INVALID_INPUT naming it, nothing written', async () => {
    const file = path.join(base, 'not-a-folder');
    await fs.writeFile(file, 'x');
    const r = await exportVia(path.join(file, 'map.yaml'));
    expect(r).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(!r.ok && r.message).toContain('is not a folder');
    expect(await fs.readFile(file, 'utf8')).toBe('x');
  });

  it('a vanished destination folder: NOT_FOUND, nothing created', async () => {
    const gone = path.join(base, 'gone');
    await fs.mkdir(gone);
    await fs.rmdir(gone);
    const r = await exportVia(path.join(gone, 'map.yaml'));
    expect(r).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(!r.ok && r.message).toContain('does not exist');
    await expect(fs.access(gone)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a folder that vanishes between the two files of an occupancy map leaves neither file', async () => {
    const dest = path.join(base, 'vanishing');
    await fs.mkdir(dest);
    // The 2nd write (the YAML) finds its folder gone.
    const faults = installFsFaults({ code: 'ENOENT', nth: 2, times: 1, match: dest });
    let err: unknown = null;
    try {
      await exportOccupancy(projectDir, path.join(dest, 'map.yaml'));
    } catch (e) {
      err = e;
    } finally {
      faults.restore();
    }
    expect((err as Error | null)?.message).toMatch(/map\.yaml: destination folder vanished while writing/);
    expect(await fs.readdir(dest)).toEqual([]);
  });

  it('disk full at the destination: NEEDS_SPACE, the previous file kept byte-identical', async () => {
    const dest = path.join(base, 'full');
    await fs.mkdir(dest);
    const target = path.join(dest, 'goals.bin');
    await fs.writeFile(target, 'previous export');
    const faults = installFsFaults({ code: 'ENOSPC', match: dest });
    let err: (Error & { code?: string }) | null = null;
    try {
      await exportFile(target, new Uint8Array(10_000));
    } catch (e) {
      err = e as Error & { code?: string };
    } finally {
      faults.restore();
    }
    expect(err?.code).toBe('NEEDS_SPACE');
    expect(await fs.readFile(target, 'utf8')).toBe('previous export');
    expect(await fs.readdir(dest)).toEqual(['goals.bin']);
  });

  it('a read-only mount: a clear read-only error, nothing written (skips where mounting is not permitted)', async (ctx) => {
    const ro = path.join(base, 'ro');
    await fs.mkdir(ro);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro], { stdio: 'ignore' });
    } catch {
      return ctx.skip();
    }
    try {
      const r = await exportVia(path.join(ro, 'map.yaml'));
      expect(r).toMatchObject({ ok: false });
      expect(!r.ok && `${r.code} ${r.message}`).toMatch(/FORBIDDEN .*read-only/);
      expect(await fs.readdir(ro)).toEqual([]);
    } finally {
      execFileSync('umount', [ro], { stdio: 'ignore' });
    }
  });
});
