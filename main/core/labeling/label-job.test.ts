import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTinyR3d } from '../capture/testing';
import { openCapture } from '../capture/open';
import type { JobContext } from '../jobs/types';
import { loadDataset, datasetDirOf } from '../dataset/format';
import { runLabelJob, reapplyLabelEdits, type LabelJobDeps, type LabelParams } from './label-job';
import { appendEdit } from './edits';
import { LexicalTextEncoder } from './text/lexical';
import type { Detector } from './types';
import type { LabelingPipeline } from './pipeline';

let root: string;
let annotated: string;
let plain: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'label-job-'));
  annotated = path.join(root, 'a.r3d');
  plain = path.join(root, 'p.r3d');
  await writeTinyR3d(annotated, {
    frames: 4,
    annotations: true,
    rgbWidth: 64,
    rgbHeight: 48,
    depthWidth: 32,
    depthHeight: 24,
  });
  await writeTinyR3d(plain, { frames: 2 });
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

function ctxFor(projectDir: string, params: LabelParams, signal = new AbortController().signal) {
  const progress: [string, number, number][] = [];
  const logs: string[] = [];
  const ctx: JobContext<LabelParams> = {
    jobId: 'j1',
    kind: 'label',
    params,
    projectDir,
    workDir: path.join(projectDir, 'jobs', 'j1'),
    attempt: 1,
    signal,
    progress: (s, d, t) => progress.push([s, d, t]),
    log: (_l, m) => logs.push(m),
    metrics: () => undefined,
    problem: () => undefined,
  };
  return { ctx, progress, logs };
}

function deps(
  capture: string,
  loadModels: LabelJobDeps['loadModels'] = () => Promise.resolve(null),
): LabelJobDeps {
  return {
    openProjectCapture: async () => {
      const source = await openCapture(capture);
      return {
        source,
        frames: source.poses.map((p) => p.index),
        filter: { min_depth_m: 0.1, max_depth_m: 10 },
      };
    },
    loadModels,
  };
}

async function project(): Promise<string> {
  return fs.mkdtemp(path.join(root, 'proj-'));
}

describe('runLabelJob (ground truth, no weights)', () => {
  it('auto falls back to ground truth and writes a dataset with both classes', async () => {
    const dir = await project();
    const { ctx, progress } = ctxFor(dir, {});
    const r = await runLabelJob(ctx, deps(annotated));
    expect(r.labeler).toBe('ground-truth');
    expect(r.frames).toBe(4);
    expect(r.encoders).toEqual({ language: 'lexical-384', vision: null });
    expect(Object.keys(r.classes).sort()).toEqual(['chair', 'table']);
    expect(r.points).toBeGreaterThan(0);
    expect(r.detections).toBe(8);
    const ds = await loadDataset(dir);
    expect(ds.points).toBe(r.points);
    // ~20% of the valid labeled pixels are kept (4 frames x ~23x32 valid pixels).
    expect(r.points).toBeGreaterThan(0.1 * 4 * 22 * 32);
    expect(r.points).toBeLessThan(0.3 * 4 * 23 * 32);
    expect(r.quality!.pointAccuracy).toBe(1);
    expect(progress.at(-1)).toEqual(['write dataset', 1, 1]);
    await expect(fs.stat(path.join(datasetDirOf(dir), 'raw.bin'))).resolves.toBeTruthy();
  });

  it('labels points on the right side of the wall with the right class', async () => {
    const dir = await project();
    await runLabelJob(ctxFor(dir, {}).ctx, deps(annotated));
    const ds = await loadDataset(dir);
    for (let i = 0; i < ds.points; i++) {
      const x = ds.xyz[3 * i]!;
      if (Math.abs(x) < 0.05) continue; // boundary pixels
      expect(ds.labels.texts[ds.labelId[i]!]).toBe(x < 0 ? 'chair' : 'table');
      expect(ds.xyz[3 * i + 2]).toBeCloseTo(-3, 2);
    }
  });

  it('fails with a message saying what to install when there are no models and no annotations', async () => {
    const dir = await project();
    await expect(runLabelJob(ctxFor(dir, {}).ctx, deps(plain))).rejects.toMatchObject({
      name: 'JobError',
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/models pull --set fast/),
    });
  });

  it('rejects bad parameters and noise specs as BAD_ARGS', async () => {
    const dir = await project();
    await expect(runLabelJob(ctxFor(dir, { every: 0 }).ctx, deps(annotated))).rejects.toMatchObject({
      code: 'BAD_ARGS',
    });
    await expect(runLabelJob(ctxFor(dir, { noise: 'drop=3' }).ctx, deps(annotated))).rejects.toMatchObject({
      code: 'BAD_ARGS',
    });
  });

  it('re-uses cached frames and recomputes only what the noise change invalidates', async () => {
    const dir = await project();
    const a = await runLabelJob(ctxFor(dir, { labeler: 'ground-truth', every: 2 }).ctx, deps(annotated));
    expect(a.cached_frames).toBe(0);
    const b = await runLabelJob(ctxFor(dir, { labeler: 'ground-truth' }).ctx, deps(annotated));
    expect(b.cached_frames).toBe(2);
    expect(b.frames).toBe(4);
    const c = await runLabelJob(
      ctxFor(dir, { labeler: 'ground-truth', noise: 'drop=0.5,confuse=0.5,jitter=0.1' }).ctx,
      deps(annotated),
    );
    expect(c.cached_frames).toBe(0);
    expect(c.quality!.pointAccuracy).toBeLessThan(1);
  });

  it('a cancelled run leaves the previous dataset intact', async () => {
    const dir = await project();
    const first = await runLabelJob(ctxFor(dir, { labeler: 'ground-truth' }).ctx, deps(annotated));
    const ac = new AbortController();
    const { ctx } = ctxFor(dir, { labeler: 'ground-truth', noise: 'drop=0.9' }, ac.signal);
    const origProgress = ctx.progress;
    (ctx as { progress: JobContext['progress'] }).progress = (s, d, t) => {
      origProgress(s, d, t);
      if (d === 2) ac.abort('cancel');
    };
    await expect(runLabelJob(ctx, deps(annotated))).rejects.toMatchObject({ name: 'AbortError' });
    expect((await loadDataset(dir)).points).toBe(first.points);
  });

  it('re-applies QA edits without running the labeler', async () => {
    const dir = await project();
    await runLabelJob(ctxFor(dir, {}).ctx, deps(annotated));
    const e = await appendEdit(dir, { op: 'reject-class', label: 'Chair' });
    let { dataset } = await reapplyLabelEdits(dir);
    expect(dataset.labels.texts).toEqual(['table']);
    await appendEdit(dir, { op: 'undo', target: e.id });
    await appendEdit(dir, { op: 'rename-class', from: 'table', to: 'desk' });
    ({ dataset } = await reapplyLabelEdits(dir));
    expect(dataset.labels.texts.sort()).toEqual(['chair', 'desk']);
    expect((await loadDataset(dir)).labels.texts.sort()).toEqual(['chair', 'desk']);
  });
});

describe('runLabelJob (models)', () => {
  function fakePipeline(calls: { n: number }): LabelingPipeline {
    const detector: Detector = {
      name: 'fake-owl',
      modelIds: ['fake-owl'],
      detect: (rgb, _depth, vocab) => {
        calls.n++;
        return Promise.resolve([
          {
            box: [0, 0, rgb.width / 2, rgb.height],
            classScores: [
              { label: vocab[0]!, score: 0.8 },
              { label: vocab[1]!, score: 0.2 },
              { label: 'below floor', score: 0.01 },
            ],
          },
        ]);
      },
      dispose: () => Promise.resolve(),
    };
    return {
      detector,
      textEncoder: new LexicalTextEncoder(),
      clipText: null,
      cropEncoder: null,
      dispose: () => Promise.resolve(),
    };
  }

  it('uses installed models, keeps class scores above the floor, and recomputes on a vocabulary change', async () => {
    const dir = await project();
    const calls = { n: 0 };
    const load = () => Promise.resolve(fakePipeline(calls));
    const r = await runLabelJob(ctxFor(dir, { vocab: ['Lamp', 'plant'] }).ctx, deps(plain, load));
    expect(r.labeler).toBe('models');
    expect(Object.keys(r.classes)).toEqual(['lamp']);
    expect(calls.n).toBe(2);
    const ds = await loadDataset(dir);
    expect(ds.labels.texts).toEqual(['lamp', 'plant']);
    const again = await runLabelJob(ctxFor(dir, { vocab: ['Lamp', 'plant'] }).ctx, deps(plain, load));
    expect(again.cached_frames).toBe(2);
    expect(calls.n).toBe(2);
    await runLabelJob(ctxFor(dir, { vocab: ['plant', 'lamp'] }).ctx, deps(plain, load));
    expect(calls.n).toBe(4);
    // QA: reject the top class; the detection falls back to its second class (0.2 >= threshold 0.1).
    await appendEdit(dir, { op: 'reject-class', label: 'plant' });
    const { dataset } = await reapplyLabelEdits(dir);
    expect(dataset.labels.texts).toEqual(['lamp']);
    expect(dataset.points).toBeGreaterThan(0);
  });
});
