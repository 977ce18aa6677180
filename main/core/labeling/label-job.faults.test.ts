import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { JobInfo, StudioEvent } from '../../../preload/contract';
import type { StudioCore } from '../studio';
import type { LabelJobResult } from './label-job';
import { processAlive } from '../testing/faults/fs-faults';
import {
  FAULTS_ENABLED,
  copyDir,
  newStudio,
  runJob,
  tempBase,
  tinyProject,
  until,
} from '../testing/faults/harness';
import { snapshotDir, strayTemps } from '../testing/faults/snapshot';

// The whole host dies in the middle of a label job; the next host shows the job interrupted and resumes it.
const FRAMES = 10;
const LABEL = { labeler: 'ground-truth', point_probability: 0.5, seed: 3 };

let base: string;
let core: StudioCore;
let imported: string;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('label');
  const t = await tinyProject(base, { label: false, capture: { frames: FRAMES } });
  core = t.core;
  imported = t.projectDir;
}, 240_000);

afterAll(async () => {
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

describe.skipIf(!FAULTS_ENABLED)('host killed during labeling', () => {
  it('the job shows interrupted; resume skips finished frames and equals a clean run', async () => {
    const clean = path.join(base, 'clean');
    const crashed = path.join(base, 'crashed');
    await copyDir(imported, clean);
    await copyDir(imported, crashed);

    // Reference: a clean label run.
    await core.openProjectDir(clean);
    const ref = await runJob(core, 'label', LABEL);
    expect(ref.state).toBe('done');

    // A host in a child process labels `crashed`, its worker slowed to ~150 ms per frame cache write.
    const script = path.resolve(__dirname, '..', 'testing', 'faults', 'host-child.ts');
    const child = fork(
      script,
      [
        crashed,
        path.join(base, 'ud-child'),
        'label',
        JSON.stringify(LABEL),
        JSON.stringify({ delayMs: 150, match: `${path.sep}labels${path.sep}cache${path.sep}` }),
      ],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    const workerPids: number[] = [];
    let framesDone = 0;
    child.on('message', (m: { type: string; pid?: number; entry?: string; event?: StudioEvent }) => {
      if (m.type === 'worker' && m.entry === 'job-worker' && m.pid) workerPids.push(m.pid);
      if (m.type === 'event' && m.event?.type === 'job.progress' && m.event.progress.stage === 'label frames')
        framesDone = Math.max(framesDone, m.event.progress.done);
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
    await until('3 labeled frames', () => framesDone >= 3, 90_000);
    expect(framesDone).toBeLessThan(FRAMES);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The orphaned job worker notices its host is gone and leaves.
    await until('job worker exit', () => workerPids.every((p) => !processAlive(p)), 10_000);

    // The next host: the job is interrupted, nothing of the half-run reached the dataset.
    const core2 = newStudio(base, undefined, 'ud-next');
    try {
      await core2.openProjectDir(crashed);
      const jobs = core2.jobManager!.list().filter((j) => j.kind === 'label');
      expect(jobs.map((j) => j.state)).toEqual(['interrupted']);
      await expect(fs.access(path.join(crashed, 'labels', 'dataset'))).rejects.toMatchObject({
        code: 'ENOENT',
      });
      const r = await core2.invoke('jobs.resume', { id: jobs[0]!.id });
      expect(r.ok).toBe(true);
      const done: JobInfo = await core2.jobManager!.waitFor(jobs[0]!.id, 90_000);
      expect(done.state).toBe('done');
      expect(done.attempt).toBe(2);
      const res = done.result as LabelJobResult;
      const refRes = ref.result as LabelJobResult;
      expect(res.cached_frames).toBeGreaterThanOrEqual(3);
      expect(res.cached_frames).toBeLessThan(FRAMES);
      expect({ ...res, cached_frames: 0 }).toEqual({ ...refRes, cached_frames: 0 });
    } finally {
      await core2.dispose();
    }
    // Byte-identical dataset files and frame caches; the manifests differ only in created_at.
    const a = await snapshotDir(path.join(clean, 'labels'), ['dataset/dataset.json']);
    const b = await snapshotDir(path.join(crashed, 'labels'), ['dataset/dataset.json']);
    expect(b).toEqual(a);
    const manifest = async (dir: string) => ({
      ...(JSON.parse(
        await fs.readFile(path.join(dir, 'labels', 'dataset', 'dataset.json'), 'utf8'),
      ) as object),
      created_at: null,
    });
    expect(await manifest(crashed)).toEqual(await manifest(clean));
    expect(await strayTemps(crashed)).toEqual([]);
  }, 240_000);
});
