import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../field/checkpoint';
import { checkpointDirOf } from '../field/train-job';
import type { JobContext } from '../jobs/types';
import { queryCacheDir, readQueryCache } from './cache';
import { type EvaluateFieldParams, runEvaluateFieldJob } from './evaluate-job';
import { QueryError } from './errors';
import { parseQuerySet } from './query-set';
import { makeQueryProject, trainSyntheticField } from './testing';

function ctxFor(
  projectDir: string,
  params: EvaluateFieldParams = {},
): JobContext<EvaluateFieldParams> & { stages: Set<string> } {
  const stages = new Set<string>();
  return {
    jobId: 'j1',
    kind: 'evaluate-field',
    params,
    projectDir,
    workDir: path.join(projectDir, 'jobs', 'j1'),
    attempt: 1,
    signal: new AbortController().signal,
    progress: (stage) => stages.add(stage),
    log: () => undefined,
    metrics: () => undefined,
    problem: () => undefined,
    stages,
  };
}

describe('evaluate-field job', () => {
  it('evaluates the newest checkpoint over the map and atomically replaces the query cache', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-eval-'));
    try {
      const tf = await trainSyntheticField({ steps: 60, points: 6000, classes: 4 });
      await makeQueryProject(dir, tf);
      const before = (await readQueryCache(queryCacheDir(dir))).manifest.created_at;
      await saveCheckpoint(checkpointDirOf(dir), tf.state, {
        engine: 'onnx',
        seed: 1,
        datasetFingerprint: 'x',
        heldoutAccuracy: null,
        samplesSeen: 0,
      });
      const ctx = ctxFor(dir, { rank: 8, sample_points: 2000 });
      const r = await runEvaluateFieldJob(ctx);
      expect(r.rank).toBe(8);
      expect(r.field_step).toBe(60);
      expect(r.agreement!.exact.spearman_min).toBeGreaterThan(0.999);
      expect(ctx.stages.has('evaluate')).toBe(true);
      const after = await readQueryCache(queryCacheDir(dir));
      expect(after.manifest.created_at).not.toBe(before);
      expect(after.manifest.pca.rank).toBe(8);
      expect(
        (await fs.readdir(path.join(dir, 'field'))).filter((n) => n.includes('stage') || n.includes('.old-')),
      ).toEqual([]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('fails with NOT_FOUND without a trained field and BAD_ARGS on bad params', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-eval-'));
    try {
      await expect(runEvaluateFieldJob(ctxFor(dir, { rank: 12 }))).rejects.toMatchObject({
        code: 'BAD_ARGS',
      });
      await expect(runEvaluateFieldJob(ctxFor(dir))).rejects.toMatchObject({ code: 'INVALID_INPUT' }); // no map yet
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('query set parser', () => {
  it('throws only QueryErrors on arbitrary input', () => {
    const q = fc.record(
      {
        text: fc.string(),
        expected_world_m: fc.array(fc.double(), { maxLength: 4 }),
        expect_absent: fc.boolean(),
        tolerance_m: fc.double(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc
            .array(q)
            .map((queries) =>
              JSON.stringify({ format: 'clip-fields-query-set', version: 1, name: 'x', queries }),
            ),
        ),
        (text) => {
          try {
            const s = parseQuerySet(text, 'set.json');
            for (const item of s.queries)
              expect((item.expected_world_m !== undefined) !== (item.expect_absent === true)).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(QueryError);
          }
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });
});
