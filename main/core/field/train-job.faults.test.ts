import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { JobInfo, Problem, StudioEvent } from '../../../preload/contract';
import type { StudioCore } from '../studio';
import { mulberry32 } from '../labeling/types';
import { listCheckpoints, readCheckpoint } from './checkpoint';
import { checkpointDirOf, type TrainJobResult } from './train-job';
import { recordingSpawn, type FsFaultOptions } from '../testing/faults/fs-faults';
import {
  FAULTS_ENABLED,
  call,
  copyDir,
  newStudio,
  recordEvents,
  runJob,
  startJob,
  tempBase,
  tinyProject,
  until,
} from '../testing/faults/harness';
import { strayTemps } from '../testing/faults/snapshot';

// Training survives its worker being killed: through the real studio core and its job worker processes.
// A small grid and MLP: the point is the bookkeeping across crashes, not accuracy (and checkpoints stay small).
const PARAMS = {
  steps: 120,
  batch_size: 128,
  checkpoint_every: 10,
  eval_every: 1_000_000,
  seed: 7,
  grid: { levels: 4, features_per_level: 2, log2_table_size: 12, max_resolution: 64 },
  mlp: { width: 32, depth: 1 },
};

let base: string;
let labeled: string; // a labeled, untrained project to copy from
let first: StudioCore;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('train');
  const t = await tinyProject(base);
  labeled = t.projectDir;
  first = t.core;
}, 240_000);

afterAll(async () => {
  await first?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

async function freshCopy(name: string): Promise<string> {
  const dir = path.join(base, name);
  await copyDir(labeled, dir);
  await fs.rm(path.join(dir, 'jobs'), { recursive: true, force: true });
  return dir;
}

function trainSteps(events: StudioEvent[], id: string): number[] {
  return events.flatMap((e) =>
    e.type === 'job.metrics' && e.id === id && typeof e.metrics['step'] === 'number'
      ? [e.metrics['step']]
      : [],
  );
}

/**
 * The checkpoint a restart must resume from: the one `latest` names when it verifies (a crash between a folder's
 * rename and the pointer update leaves a newer complete folder that is not yet "latest"), else the newest that verifies.
 */
async function expectedResumeStep(cpDir: string): Promise<number | null> {
  const latest = Number((await fs.readFile(path.join(cpDir, 'latest'), 'utf8').catch(() => '')).trim());
  const steps = await listCheckpoints(cpDir);
  const order =
    Number.isInteger(latest) && steps.includes(latest)
      ? [latest, ...steps.filter((s) => s !== latest)]
      : steps;
  for (const step of order) {
    const ok = await readCheckpoint(path.join(cpDir, String(step))).then(
      () => true,
      () => false,
    );
    if (ok) return step;
  }
  return null;
}

let recordedWorkers: ReturnType<typeof recordingSpawn>['workers'] = [];

async function withStudio<T>(
  name: string,
  fn: (core: StudioCore, events: StudioEvent[]) => Promise<T>,
  faults: () => FsFaultOptions | null = () => null,
): Promise<{ value: T }> {
  const { spawn, workers } = recordingSpawn(faults);
  recordedWorkers = workers;
  const core = newStudio(base, spawn, name);
  const events = recordEvents(core);
  try {
    return { value: await fn(core, events) };
  } finally {
    await core.dispose();
  }
}

describe.skipIf(!FAULTS_ENABLED)('training worker killed at a random step', () => {
  it('resumes from the last checkpoint after a restart, steps monotonic, same loss as an uninterrupted run, no stray temps', async () => {
    const straightDir = await freshCopy('straight');
    const killedDir = await freshCopy('killed');
    const cpDir = checkpointDirOf(killedDir);

    // The uninterrupted reference run.
    const straight = await withStudio('ud-straight', async (core) => {
      await core.openProjectDir(straightDir);
      const job = await runJob(core, 'train', PARAMS);
      expect(job.state).toBe('done');
      return job.result as TrainJobResult;
    });
    expect(straight.value.steps).toBe(PARAMS.steps);

    // Run 1: SIGKILL the job worker once training has passed a seeded random step.
    const killAt = 20 + Math.floor(mulberry32(0xdead)() * 80);
    const run1 = await withStudio('ud-run1', async (core, events) => {
      await core.openProjectDir(killedDir);
      const job = await startJob(core, 'train', PARAMS);
      await until(
        `step ${killAt}`,
        async () =>
          (trainSteps(events, job.id).at(-1) ?? 0) >= killAt ||
          ((await listCheckpoints(cpDir))[0] ?? 0) >= killAt,
        120_000,
        5,
      );
      const worker = recordedWorkers.filter((w) => w.entry === 'job-worker').at(-1)!;
      process.kill(worker.pid!, 'SIGKILL');
      const ended = await core.jobManager!.waitFor(job.id, 30_000);
      // The host survives and says what happened.
      expect(ended.state).toBe('failed');
      expect(ended.error?.message).toMatch(/exited unexpectedly \(signal SIGKILL\)/);
      expect((await core.invoke('app.info', {})).ok).toBe(true);
      return { steps: trainSteps(events, job.id) };
    });
    const stepsBefore = run1.value.steps;
    expect(stepsBefore.length).toBeGreaterThan(0);
    const resumeFrom = await expectedResumeStep(cpDir);
    expect(resumeFrom).not.toBeNull();
    expect(resumeFrom!).toBeLessThan(PARAMS.steps);

    // What a crash in the middle of a save leaves behind (staged folder, temp pointer, half-replaced folder).
    await fs.mkdir(path.join(cpDir, '.staging-990-deadbeef'), { recursive: true });
    await fs.writeFile(path.join(cpDir, '.staging-990-deadbeef', 'grid.f32'), new Uint8Array(64));
    await fs.writeFile(path.join(cpDir, '.latest.12345.0badc0de.tmp'), '990\n');
    await fs.mkdir(path.join(cpDir, '990.old-0123abcd'));

    // Restart (a new host) and train again with the same parameters.
    const run2 = await withStudio('ud-run2', async (core, events) => {
      await core.openProjectDir(killedDir);
      const old = core.jobManager!.list().find((j) => j.kind === 'train');
      expect(old?.state).toBe('failed');
      const job = await runJob(core, 'train', PARAMS);
      expect(job.state).toBe('done');
      return { result: job.result as TrainJobResult, steps: trainSteps(events, job.id) };
    });
    const r2 = run2.value.result;
    expect(r2.resumed_from).toBe(resumeFrom);
    expect(r2.steps).toBe(PARAMS.steps);
    // Step counter monotonic across the crash: run 2 continues from the checkpoint, never repeats backwards.
    const steps2 = run2.value.steps;
    expect(steps2.length).toBeGreaterThan(0);
    expect(steps2[0]!).toBeGreaterThan(resumeFrom!);
    for (let i = 1; i < steps2.length; i++) expect(steps2[i]!).toBeGreaterThanOrEqual(steps2[i - 1]!);
    expect(steps2.at(-1)).toBe(PARAMS.steps);
    // Same seed, same data: the resumed run lands where the uninterrupted one did.
    expect(Math.abs(r2.final.loss - straight.value.final.loss)).toBeLessThanOrEqual(
      1e-4 * Math.max(1, Math.abs(straight.value.final.loss)),
    );
    expect(r2.final.heldout_accuracy).toBeCloseTo(straight.value.final.heldout_accuracy, 4);
    expect(await strayTemps(path.join(killedDir, 'field'))).toEqual([]);
  }, 300_000);
});

describe.skipIf(!FAULTS_ENABLED)('checkpoint crash and corruption', () => {
  it('a crash between the staged write and its rename loads the previous checkpoint; a truncated one is set aside with a visible problem', async () => {
    const dir = await freshCopy('crash');
    const cpDir = checkpointDirOf(dir);
    const params = { ...PARAMS, steps: 40 };

    // The worker SIGKILLs itself inside saveCheckpoint, right before renaming the 2nd staged checkpoint.
    const crashed = await withStudio(
      'ud-crash',
      async (core) => {
        await core.openProjectDir(dir);
        return runJob(core, 'train', params);
      },
      () => ({ killOnRename: '.staging-', killSkip: 1 }),
    );
    expect(crashed.value.state).toBe('failed');
    expect(crashed.value.error?.message).toMatch(/SIGKILL/);
    expect(await listCheckpoints(cpDir)).toEqual([10]);
    expect((await fs.readdir(cpDir)).some((n) => n.startsWith('.staging-20-'))).toBe(true);

    const resumed = await withStudio('ud-crash2', async (core) => {
      await core.openProjectDir(dir);
      return runJob(core, 'train', params);
    });
    expect(resumed.value.state).toBe('done');
    expect((resumed.value.result as TrainJobResult).resumed_from).toBe(10);
    expect(await strayTemps(cpDir)).toEqual([]);
    expect(await listCheckpoints(cpDir)).toEqual([40, 30]);

    // Truncate the newest checkpoint's weights: detected by its hash, renamed 40.bad, reported, 30 used.
    const victim = path.join(cpDir, '40', 'weights.f32');
    const st = await fs.stat(victim);
    await fs.truncate(victim, Math.floor(st.size / 2));
    const after = await withStudio('ud-crash3', async (core) => {
      await core.openProjectDir(dir);
      const job = await runJob(core, 'train', { ...params, steps: 50 });
      const problems = await call<{ problems: Problem[] }>(core, 'problems.list');
      return { job, problems: problems.problems };
    });
    const job: JobInfo = after.value.job;
    expect(job.state).toBe('done');
    expect((job.result as TrainJobResult).resumed_from).toBe(30);
    const problem = after.value.problems.find((p) => p.file?.endsWith(`${path.sep}40.bad`));
    expect(problem?.message).toMatch(/weights\.f32: sha256 mismatch/);
    expect(problem?.severity).toBe('warning');
    expect((await fs.readdir(cpDir)).sort()).toEqual(['40', '40.bad', '50', 'latest']);
  }, 300_000);
});
