/**
 * The `evaluate-field` job: evaluates the newest valid field checkpoint once over every map point and writes
 * the query cache `<project>/field/query-cache/` (cache.ts; atomic folder replace).
 *
 * Params (all optional): `rank` (PCA rank, multiple of 8, default 16), `sample_points` (PCA fit + agreement
 * sample, default 20000), `instance_min_points` (default 20).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { JobError, type JobContext } from '../jobs/types';
import { loadLatestCheckpoint } from '../field/checkpoint';
import { checkpointDirOf } from '../field/train-job';
import { loadDataset } from '../dataset/format';
import { readMapFile } from '../map/format';
import { MAP_FILE } from '../goals/goal';
import { type Agreement, queryCacheDir, writeQueryCache } from './cache';
import { buildQueryCache } from './build-cache';
import { QueryError } from './errors';

export { EvaluateFieldParamsSchema, type EvaluateFieldParams } from '../../../preload/contract';
import { EvaluateFieldParamsSchema, type EvaluateFieldParams } from '../../../preload/contract';

export interface EvaluateFieldResult {
  points: number;
  rank: number;
  explained_variance: number;
  agreement: Agreement | null;
  instances: number;
  cache_bytes: number;
  field_step: number;
  elapsed_s: number;
}

function toJobError(err: unknown): unknown {
  if (err instanceof QueryError) return new JobError(err.code, err.message);
  if (err instanceof Error && 'code' in err && err.name === 'MapFormatError')
    return new JobError('INVALID_INPUT', err.message);
  if (err instanceof Error && (err.name === 'DatasetError' || err.name === 'CheckpointError'))
    return new JobError('INVALID_INPUT', err.message);
  return err;
}

export async function runEvaluateFieldJob(
  ctx: JobContext<EvaluateFieldParams>,
): Promise<EvaluateFieldResult> {
  const parsed = EvaluateFieldParamsSchema.safeParse(ctx.params ?? {});
  if (!parsed.success)
    throw new JobError(
      'BAD_ARGS',
      `evaluate-field parameters: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const p = parsed.data;
  const t0 = performance.now();
  try {
    ctx.progress('load', 0, 3);
    const map = await readMapFile(path.join(ctx.projectDir, MAP_FILE));
    ctx.progress('load', 1, 3);
    const cp = await loadLatestCheckpoint(checkpointDirOf(ctx.projectDir), (dir, err) =>
      ctx.problem('warning', dir, `field checkpoint is damaged and was set aside: ${err.message}`),
    );
    if (!cp)
      throw new JobError(
        'NOT_FOUND',
        `no trained field in ${checkpointDirOf(ctx.projectDir)}: run the train job first`,
      );
    ctx.progress('load', 2, 3);
    const dataset = await loadDataset(ctx.projectDir).catch((err: Error) => {
      ctx.log(
        'warn',
        `labeled dataset unavailable (${err.message}); instances and rank agreement are skipped`,
      );
      return null;
    });
    ctx.progress('load', 3, 3);
    ctx.log('info', `evaluating field step ${cp.state.step} over ${map.count} map points`);
    const cache = await buildQueryCache(cp.state, map.positions, {
      rank: p.rank,
      samplePoints: p.sample_points,
      instanceMinPoints: p.instance_min_points,
      labels: dataset?.labels ?? null,
      encoders: dataset?.encoders ?? { language: 'unknown', vision: null },
      fieldId: path.basename(cp.dir),
      mapVoxel_m: map.voxel_m,
      signal: ctx.signal,
      progress: (stage, done, total) => ctx.progress(stage, done, total),
    });
    ctx.progress('write', 0, 1);
    const dir = queryCacheDir(ctx.projectDir);
    await writeQueryCache(dir, cache);
    let bytes = 0;
    for (const f of await fs.readdir(dir)) bytes += (await fs.stat(path.join(dir, f))).size;
    ctx.progress('write', 1, 1);
    const a = cache.manifest.agreement;
    if (a)
      ctx.log(
        'info',
        `rank agreement vs exact scores: fast tier Spearman ${a.fast.spearman_mean.toFixed(4)}, top-1% overlap ${a.fast.top1pct_overlap_mean.toFixed(3)}; re-ranked top-1% overlap ${a.reranked.top1pct_overlap_mean.toFixed(3)}; exact tier Spearman ${a.exact.spearman_mean.toFixed(5)}`,
      );
    return {
      points: cache.manifest.points,
      rank: cache.manifest.pca.rank,
      explained_variance: cache.manifest.pca.explained_variance,
      agreement: a,
      instances: cache.manifest.instances.length,
      cache_bytes: bytes,
      field_step: cp.state.step,
      elapsed_s: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    throw toJobError(err);
  }
}
