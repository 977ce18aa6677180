import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetDirOf, writeDataset } from '../dataset/format';
import { JobError, type JobContext } from '../jobs/types';
import { listCheckpoints, loadLatestCheckpoint, readCheckpoint, readCheckpointMeta } from './checkpoint';
import { makeConfig } from './config';
import { syntheticDataset } from './synthetic';
import { EpochSampler, splitHeldout, trainField } from './train';
import { type TrainParams, runTrainJob } from './train-job';

const ds = syntheticDataset({
  points: 5000,
  classes: 10,
  detectionsPerClass: 4,
  languageDim: 32,
  visionDim: 32,
  seed: 3,
});
const quickCfg = (batchSize = 256) =>
  makeConfig('custom', {
    grid: { levels: 8, featuresPerLevel: 2, log2TableSize: 14, maxResolution: 256 },
    mlp: { width: 64, depth: 1 },
    batchSize,
    optimizer: { lr: 1e-3 },
  });

/** A tiny model for the checkpoint/resume tests (their point is the bookkeeping, not accuracy). */
const tinyCfg = () =>
  makeConfig('custom', {
    grid: { levels: 4, featuresPerLevel: 2, log2TableSize: 10, maxResolution: 64 },
    mlp: { width: 16, depth: 1 },
    batchSize: 64,
    optimizer: { lr: 1e-3 },
  });

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'field-train-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('trainField', () => {
  it('reaches > 90 % held-out accuracy on a clustered synthetic dataset within 200 steps', async () => {
    const metrics: Record<string, number>[] = [];
    const r = await trainField(
      ds,
      { config: quickCfg(), steps: 200, seed: 1, evalEvery: 1000, metricsIntervalMs: 0 },
      { metrics: (m) => metrics.push(m) },
    );
    expect(r.engine).toBe('onnx');
    expect(r.steps).toBe(200);
    expect(r.final.heldout_accuracy).toBeGreaterThan(0.9);
    expect(r.final.loss).toBeLessThan(metrics[0]!.loss!);
    expect(r.samples_per_s).toBeGreaterThan(0);
    const last = metrics[metrics.length - 1]!;
    for (const k of [
      'step',
      'samples_per_s',
      'eta_s',
      'loss',
      'loss_language',
      'loss_vision',
      'temperature',
      'heldout_accuracy',
      'threads',
      'grid_threads',
    ])
      expect(Number.isFinite(last[k])).toBe(true);
    // The engine reports the threads it really used (the hash grid splits across up to 2 on this machine).
    expect(r.grid_threads).toBe(last['grid_threads']);
    expect(r.grid_threads).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('splits held-out points deterministically and samples batches as a pure function of the step', () => {
    const a = splitHeldout(1000, 0.05, 4);
    const b = splitHeldout(1000, 0.05, 4);
    expect(a.heldout.length).toBe(50);
    expect(a.heldout).toEqual(b.heldout);
    const all = new Set([...a.train, ...a.heldout]);
    expect(all.size).toBe(1000);
    const s1 = new EpochSampler(a.train, 64, 9);
    const s2 = new EpochSampler(a.train, 64, 9);
    for (const step of [0, 13, 14, 15]) expect(s2.batchAt(step)).toEqual(s1.batchAt(step));
    // one epoch covers every training point once
    const seen = new Set<number>();
    for (let k = 0; k < a.train.length; k++) seen.add(s1.batchAt(Math.floor(k / 64))[k % 64]!);
    expect(seen.size).toBe(a.train.length);
  });

  it('checkpoints round-trip; a resumed run continues the step counter and ends bit-identical to an uninterrupted one', async () => {
    const dir = path.join(tmp, 'resume', 'checkpoints');
    const opts = { config: tinyCfg(), seed: 2, evalEvery: 1000, heldoutFraction: 0.05, keepBackend: true };
    const straight = await trainField(ds, { ...opts, steps: 12 });
    const first = await trainField(ds, { ...opts, steps: 6, checkpointDir: dir, checkpointEvery: 3 });
    expect(await listCheckpoints(dir)).toEqual([6, 3]);
    expect((await fs.readFile(path.join(dir, 'latest'), 'utf8')).trim()).toBe('6');
    const cp = await readCheckpoint(path.join(dir, '6'));
    const live = first.backend!.getState();
    expect(cp.state.step).toBe(6);
    expect(cp.state.grid).toEqual(live.grid);
    expect(cp.state.adam.grid.m).toEqual(live.adam.grid.m);
    cp.state.weights.forEach((w, k) => expect(w).toEqual(live.weights[k]));
    expect(cp.state.logTemperature).toBe(live.logTemperature);

    const second = await trainField(ds, { ...opts, steps: 12, checkpointDir: dir, checkpointEvery: 100 });
    expect(second.resumed_from).toBe(6);
    expect(second.steps).toBe(12);
    const a = straight.backend!.getState();
    const b = second.backend!.getState();
    expect(b.step).toBe(12);
    expect(b.grid).toEqual(a.grid);
    b.weights.forEach((w, k) => expect(w).toEqual(a.weights[k]));
    expect(await listCheckpoints(dir)).toEqual([12, 6]);
    for (const r of [straight, first, second]) await r.backend!.dispose();
  }, 30_000);

  it('sets aside a checkpoint whose hash fails (renamed .bad) and uses the previous one', async () => {
    const dir = path.join(tmp, 'corrupt', 'checkpoints');
    await trainField(ds, {
      config: tinyCfg(),
      seed: 2,
      steps: 4,
      evalEvery: 1000,
      checkpointDir: dir,
      checkpointEvery: 2,
    });
    expect(await listCheckpoints(dir)).toEqual([4, 2]);
    const f = path.join(dir, '4', 'grid.f32');
    const bytes = await fs.readFile(f);
    bytes[100] = bytes[100]! ^ 0xff;
    await fs.writeFile(f, bytes);
    const bad: string[] = [];
    const got = await loadLatestCheckpoint(dir, (d, err) => bad.push(`${path.basename(d)}: ${err.message}`));
    expect(got?.state.step).toBe(2);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatch(/^4: .*sha256 mismatch/);
    await expect(readCheckpointMeta(path.join(dir, '2'))).resolves.toMatchObject({
      step: 2,
      meta: { engine: 'onnx', seed: 2 },
    });
    expect((await fs.readdir(dir)).sort()).toEqual(['2', '4.bad', 'latest']);
    // training resumes from step 2
    const r = await trainField(ds, {
      config: tinyCfg(),
      seed: 2,
      steps: 5,
      evalEvery: 1000,
      checkpointDir: dir,
    });
    expect(r.resumed_from).toBe(2);
  }, 30_000);

  it('stops on an aborted signal with a checkpoint to resume from', async () => {
    const dir = path.join(tmp, 'abort', 'checkpoints');
    const ac = new AbortController();
    let n = 0;
    const p = trainField(
      ds,
      {
        config: tinyCfg(),
        seed: 2,
        steps: 1000,
        evalEvery: 1000,
        checkpointDir: dir,
        checkpointEvery: 1000,
        metricsIntervalMs: 0,
      },
      {
        signal: ac.signal,
        metrics: () => {
          if (++n === 5) ac.abort('pause');
        },
      },
    );
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    const steps = await listCheckpoints(dir);
    expect(steps).toHaveLength(1);
    expect(steps[0]).toBeGreaterThanOrEqual(5);
    expect(steps[0]).toBeLessThan(1000);
  }, 30_000);
});

function fakeCtx(
  projectDir: string,
  params: TrainParams,
  attempt = 1,
): JobContext<TrainParams> & { metricsSeen: Record<string, number>[] } {
  const metricsSeen: Record<string, number>[] = [];
  return {
    jobId: 'j1',
    kind: 'train',
    params,
    projectDir,
    workDir: path.join(projectDir, 'jobs', 'j1'),
    attempt,
    signal: new AbortController().signal,
    progress: () => undefined,
    log: () => undefined,
    metrics: (m) => metricsSeen.push(m),
    problem: () => undefined,
    metricsSeen,
  };
}

describe('runTrainJob', () => {
  it('trains from the project dataset and writes <project>/field/checkpoints/<step>', async () => {
    const project = path.join(tmp, 'project');
    await writeDataset(datasetDirOf(project), ds);
    const ctx = fakeCtx(project, {
      preset: 'custom',
      steps: 30,
      batch_size: 128,
      lr: 1e-3,
      grid: { levels: 6, log2_table_size: 12, max_resolution: 128 },
      mlp: { width: 32 },
      eval_every: 10,
    });
    const r = await runTrainJob(ctx);
    expect(r.steps).toBe(30);
    expect(r.checkpoint).toBe(path.join(project, 'field', 'checkpoints', '30'));
    expect(r.final.heldout_accuracy).toBeGreaterThan(0);
    expect(ctx.metricsSeen.length).toBeGreaterThan(0);
    expect(r).not.toHaveProperty('backend');
  }, 30_000);

  it('rejects bad parameters with BAD_ARGS and a missing dataset with a typed JobError', async () => {
    await expect(runTrainJob(fakeCtx(tmp, { steps: -1 } as TrainParams))).rejects.toMatchObject({
      code: 'BAD_ARGS',
    });
    await expect(runTrainJob(fakeCtx(tmp, { bogus: 1 } as unknown as TrainParams))).rejects.toMatchObject({
      code: 'BAD_ARGS',
    });
    await expect(runTrainJob(fakeCtx(tmp, { mlp: { width: 0 } }))).rejects.toBeInstanceOf(JobError);
    const err = await runTrainJob(fakeCtx(path.join(tmp, 'empty-project'), {})).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
  });
});
