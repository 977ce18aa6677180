/**
 * The `train` job: loads `<project>/labels/dataset`, trains the CLIP-Fields field and checkpoints it into
 * `<project>/field/checkpoints/<step>/` (resuming from the newest valid checkpoint).
 */
import * as path from 'node:path';
import { type z } from 'zod';
import { loadDataset } from '../dataset/format';
import { DatasetError } from '../dataset/binary';
import { JobError, isAbortError, type JobContext } from '../jobs/types';
import { CheckpointError } from './checkpoint';
import { FieldConfigError, type ConfigOverrides, makeConfig } from './config';
import { FieldDataError } from './batch';
import { FieldStateError } from './backend';
import { FieldTrainError, type TrainHooks, type TrainResult, trainField } from './train';

export { TrainParamsSchema, type TrainParams } from '../../../preload/contract';
import { TrainParamsSchema, type TrainParams } from '../../../preload/contract';

export function fieldDirOf(projectDir: string): string {
  return path.join(projectDir, 'field');
}

export function checkpointDirOf(projectDir: string): string {
  return path.join(fieldDirOf(projectDir), 'checkpoints');
}

export function configFromParams(p: z.output<typeof TrainParamsSchema>) {
  const o: ConfigOverrides = {};
  if (p.batch_size !== undefined) o.batchSize = p.batch_size;
  o.optimizer = {
    ...(p.lr !== undefined ? { lr: p.lr } : {}),
    ...(p.weight_decay !== undefined ? { weightDecay: p.weight_decay } : {}),
    ...(p.grid_update ? { gridUpdate: p.grid_update } : {}),
  };
  if (p.grid) {
    o.grid = {
      ...(p.grid.levels !== undefined ? { levels: p.grid.levels } : {}),
      ...(p.grid.features_per_level !== undefined ? { featuresPerLevel: p.grid.features_per_level } : {}),
      ...(p.grid.log2_table_size !== undefined ? { log2TableSize: p.grid.log2_table_size } : {}),
      ...(p.grid.base_resolution !== undefined ? { baseResolution: p.grid.base_resolution } : {}),
      ...(p.grid.max_resolution !== undefined ? { maxResolution: p.grid.max_resolution } : {}),
    };
  }
  if (p.mlp)
    o.mlp = {
      ...(p.mlp.width !== undefined ? { width: p.mlp.width } : {}),
      ...(p.mlp.depth !== undefined ? { depth: p.mlp.depth } : {}),
    };
  return makeConfig(p.preset, o);
}

export type TrainJobResult = Omit<TrainResult, 'backend'>;

export async function runTrainJob(ctx: JobContext<TrainParams>): Promise<TrainJobResult> {
  const parsed = TrainParamsSchema.safeParse(ctx.params ?? {});
  if (!parsed.success)
    throw new JobError(
      'BAD_ARGS',
      `train parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const p = parsed.data;
  let config;
  try {
    config = configFromParams(p);
  } catch (err) {
    if (err instanceof FieldConfigError) throw new JobError('BAD_ARGS', err.message);
    throw err;
  }
  ctx.progress('load dataset', 0, 1);
  let dataset;
  try {
    dataset = await loadDataset(ctx.projectDir);
  } catch (err) {
    if (err instanceof DatasetError) throw new JobError(err.code, err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new JobError('NOT_FOUND', `no labeled dataset in ${ctx.projectDir} (run labeling first)`);
    throw err;
  }
  ctx.log(
    'info',
    `training field: ${dataset.points} points, ${dataset.labels.texts.length} labels, preset ${p.preset}, engine ${p.engine}, ${p.steps} steps (attempt ${ctx.attempt})`,
  );
  const hooks: TrainHooks = {
    signal: ctx.signal,
    metrics: (v) => ctx.metrics(v),
    log: (level, message) => ctx.log(level, message),
    progress: (stage, done, total) => ctx.progress(stage, done, total),
    problem: (severity, file, message) => ctx.problem(severity, file, message),
  };
  try {
    const result = await trainField(
      dataset,
      {
        config,
        steps: p.steps,
        engine: p.engine,
        threads: p.threads,
        ...(p.provider ? { provider: p.provider } : {}),
        seed: p.seed,
        checkpointDir: checkpointDirOf(ctx.projectDir),
        checkpointEvery: p.checkpoint_every,
        evalEvery: p.eval_every,
        heldoutFraction: p.heldout_fraction,
        resume: true,
      },
      hooks,
    );
    const { backend: _b, ...rest } = result;
    return rest;
  } catch (err) {
    if (isAbortError(err)) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : err;
    if (err instanceof FieldDataError) throw new JobError('INVALID_INPUT', err.message);
    if (err instanceof FieldTrainError || err instanceof FieldStateError)
      throw new JobError('INTERNAL', err.message);
    if (err instanceof CheckpointError) throw new JobError('IO', err.message);
    throw err;
  }
}
