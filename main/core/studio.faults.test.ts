import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { JobInfo } from '../../preload/contract';
import type { StudioCore } from './studio';
import { installFsFaults, recordingSpawn, type FsFaultOptions } from './testing/faults/fs-faults';
import { FAULTS_ENABLED, call, newStudio, runJob, tempBase, tinyProject } from './testing/faults/harness';
import { diffSnapshots, snapshotDir, strayTemps } from './testing/faults/snapshot';

// Disk full: injected ENOSPC at the Nth write (job workers and the host), and a real full tmpfs where mounting is allowed.
let base: string;
let core: StudioCore;
let projectDir: string;
let workerFaults: FsFaultOptions | null = null;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('studio');
  const { spawn } = recordingSpawn(() => workerFaults);
  const t = await tinyProject(base, { spawnWorker: spawn });
  core = t.core;
  projectDir = t.projectDir;
}, 240_000);

afterAll(async () => {
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

/** Everything of the project but the job journal/work folders and the label frame cache (kept for resume by design). */
const snapshotProject = () => snapshotDir(projectDir, ['jobs', 'labels/cache']);

async function responsive(): Promise<void> {
  const info = await core.invoke('app.info', {});
  expect(info.ok).toBe(true);
  expect((await core.invoke('map.info', {})).ok).toBe(true);
}

describe.skipIf(!FAULTS_ENABLED)('disk full inside a job worker', () => {
  for (const [what, nth] of [
    ['the first frame-cache write', 1],
    ['writing the dataset', 6],
  ] as const) {
    it(`ENOSPC at ${what}: NEEDS_SPACE with sizes, project byte-identical, temps removed, studio responsive`, async () => {
      const before = await snapshotProject();
      workerFaults = { code: 'ENOSPC', nth, match: `${path.sep}labels${path.sep}` };
      let job: JobInfo;
      try {
        job = await runJob(core, 'label', { labeler: 'ground-truth', point_probability: 1, seed: 100 + nth });
      } finally {
        workerFaults = null;
      }
      expect(job.state).toBe('failed');
      expect(job.error?.code).toBe('NEEDS_SPACE');
      expect(job.error?.message).toMatch(
        /not enough disk space .*(needs [0-9.]+ (B|KiB|MiB), [0-9.]+ (B|KiB|MiB|GiB|TiB) free|[0-9.]+ MiB free on that volume)/,
      );
      expect(job.error?.message).toContain(path.join(projectDir, 'labels'));
      expect(diffSnapshots(before, await snapshotProject())).toEqual([]);
      expect(await strayTemps(projectDir)).toEqual([]);
      await responsive();
      // Space is back: the same job now succeeds.
      expect(
        (await runJob(core, 'label', { labeler: 'ground-truth', point_probability: 1, seed: 100 + nth }))
          .state,
      ).toBe('done');
    }, 120_000);
  }

  it('ENOSPC while an import writes thumbnails: NEEDS_SPACE (not a per-frame problem), project byte-identical', async () => {
    const capture = path.join(base, 'tiny.r3d');
    const before = await snapshotProject();
    workerFaults = { code: 'ENOSPC', nth: 2, match: `${path.sep}thumbs${path.sep}` };
    let job: JobInfo;
    try {
      job = await runJob(core, 'import', { capture });
    } finally {
      workerFaults = null;
    }
    expect(job.state).toBe('failed');
    expect(job.error?.code).toBe('NEEDS_SPACE');
    expect(job.error?.message).toMatch(
      /not enough disk space to write .*thumbs.*\.jpg: needs [0-9.]+ (B|KiB)/,
    );
    expect(diffSnapshots(before, await snapshotProject())).toEqual([]);
    expect(await strayTemps(projectDir)).toEqual([]);
    await responsive();
  }, 120_000);
});

describe.skipIf(!FAULTS_ENABLED)('disk full in the host', () => {
  it('a job start whose journal write hits ENOSPC is NEEDS_SPACE and leaves no phantom job', async () => {
    const jobsBefore = core.jobManager!.list();
    const before = await snapshotDir(projectDir);
    const faults = installFsFaults({ code: 'ENOSPC', match: `${path.sep}jobs${path.sep}` });
    let r;
    try {
      r = await core.invoke('jobs.start', { kind: 'selftest', params: { steps: 2, step_ms: 1 } });
    } finally {
      faults.restore();
    }
    expect(r).toMatchObject({ ok: false, code: 'NEEDS_SPACE' });
    expect(!r.ok && r.message).toMatch(
      /journal\.json: needs [0-9.]+ (B|KiB), [0-9.]+ (B|KiB|MiB|GiB|TiB) free/,
    );
    expect(core.jobManager!.list()).toEqual(jobsBefore);
    expect(diffSnapshots(before, await snapshotDir(projectDir))).toEqual([]);
    // A later start runs only its own job.
    const ok = await runJob(core, 'selftest', { steps: 2, step_ms: 1 });
    expect(ok.state).toBe('done');
    expect(core.jobManager!.list().filter((j) => j.kind === 'selftest')).toHaveLength(1);
    await responsive();
  });

  it('project.create on a full disk: NEEDS_SPACE, no project.json, no temp file', async () => {
    const dir = path.join(base, 'full-create');
    const faults = installFsFaults({ code: 'ENOSPC', match: dir });
    let r;
    try {
      r = await core.invoke('project.create', { dir });
    } finally {
      faults.restore();
    }
    expect(r).toMatchObject({ ok: false, code: 'NEEDS_SPACE' });
    expect(await fs.readdir(dir)).toEqual([]);
    expect(core.currentProjectDir).toBe(projectDir);
    await responsive();
  });
});

describe.skipIf(!FAULTS_ENABLED)('a real full filesystem (tmpfs)', () => {
  let mnt: string | null = null;
  beforeAll(async () => {
    const dir = path.join(base, 'tmpfs');
    await fs.mkdir(dir);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
      mnt = dir;
    } catch {
      mnt = null; // not permitted here: the test skips
    }
  });
  afterAll(async () => {
    if (mnt) execFileSync('umount', [mnt], { stdio: 'ignore' });
  });

  it('NEEDS_SPACE with the free space, nothing half-written, works again once space is freed', async (ctx) => {
    if (!mnt) return ctx.skip();
    const studio = newStudio(base, undefined, 'ud-tmpfs');
    try {
      const proj = path.join(mnt, 'proj');
      await call(studio, 'project.create', { dir: proj });
      // Fill the filesystem.
      const filler = path.join(mnt, 'filler');
      const h = await fs.open(filler, 'w');
      try {
        for (;;) await h.write(new Uint8Array(64 * 1024));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        await h.close();
      }
      const before = await snapshotDir(proj, ['jobs']);
      const r = await studio.invoke('jobs.start', { kind: 'selftest', params: { steps: 1, step_ms: 1 } });
      expect(r).toMatchObject({ ok: false, code: 'NEEDS_SPACE' });
      expect(!r.ok && r.message).toMatch(/needs [0-9.]+ (B|KiB), [0-9.]+ (B|KiB) free/);
      expect(diffSnapshots(before, await snapshotDir(proj, ['jobs']))).toEqual([]);
      await expect(fs.access(path.join(proj, 'jobs', 'journal.json'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      expect(await strayTemps(mnt)).toEqual([]);
      expect((await studio.invoke('jobs.list', {})).ok).toBe(true);
      await fs.rm(filler);
      const job = await runJob(studio, 'selftest', { steps: 1, step_ms: 1 });
      expect(job.state).toBe('done');
    } finally {
      await studio.dispose();
    }
  }, 60_000);
});
