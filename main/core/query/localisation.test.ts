/**
 * Acceptance: on a synthetic apartment capture labeled with the ground-truth labeler, querying each labeled
 * class name returns a look-at point inside or within 0.3 m of an instance of that class for >= 90 % of the
 * classes, and made-up classes (including words that share letter n-grams with real ones) are not found.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportParamsSchema } from '../../../preload/contract';
import { runImportJob } from '../capture/import-job';
import { openCapture } from '../capture/open';
import { type InstanceBox, generateScene, instancesOf } from '../capture/synthetic/scene';
import { writeSyntheticR3d } from '../capture/synthetic/write';
import { loadDataset } from '../dataset/format';
import type { LabeledPointDataset } from '../dataset/types';
import { makeConfig } from '../field/config';
import { trainField } from '../field/train';
import type { JobContext } from '../jobs/types';
import { runLabelJob } from '../labeling/label-job';
import { readMapFile } from '../map/format';
import { buildQueryCache } from './build-cache';
import { queryCacheDir, writeQueryCache } from './cache';
import { QueryEngine } from './engine';

const SEED = 1;
const RADIUS_M = 0.3;
const MADE_UP = [
  'giraffe',
  'surfboard',
  'grand piano',
  'fire hydrant',
  'motorcycle',
  'snowman',
  'violin',
  'umbrella',
];
/** Absent words that share spelling with the scene's classes (lexical encoder: shared character n-grams). */
const LOOKALIKES = [
  'bedroom',
  'tablet',
  'chairman',
  'doorbell',
  'lampshade',
  'cabin',
  'plantation',
  'windowsill',
];

let dir: string;
let ds: LabeledPointDataset;
let engine: QueryEngine;

function distanceToBox(p: readonly number[], b: InstanceBox): number {
  let s = 0;
  for (let a = 0; a < 3; a++) {
    const d = Math.max(b.bboxMin[a]! - p[a]!, 0, p[a]! - b.bboxMax[a]!);
    s += d * d;
  }
  return Math.sqrt(s);
}

function ctx(projectDir: string, kind: string, params: Record<string, unknown>): JobContext {
  const nop = () => undefined;
  return {
    jobId: kind,
    kind,
    params,
    projectDir,
    workDir: path.join(projectDir, 'jobs', kind),
    attempt: 1,
    signal: new AbortController().signal,
    progress: nop,
    log: nop,
    metrics: nop,
    problem: nop,
  } as JobContext;
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-localise-'));
  const capture = path.join(dir, 'demo.r3d');
  const project = path.join(dir, 'project');
  await writeSyntheticR3d(capture, {
    seed: SEED,
    frames: 24,
    rgbWidth: 120,
    rgbHeight: 160,
    depthWidth: 96,
    depthHeight: 128,
  });
  await fs.mkdir(path.join(project, 'jobs', 'import'), { recursive: true });
  await runImportJob(
    ctx(project, 'import', ImportParamsSchema.parse({ capture })) as Parameters<typeof runImportJob>[0],
  );
  await fs.mkdir(path.join(project, 'jobs', 'label'), { recursive: true });
  await runLabelJob(
    ctx(project, 'label', {
      labeler: 'ground-truth',
      every: 1,
      seed: 0,
      point_probability: 0.5,
    }) as Parameters<typeof runLabelJob>[0],
    {
      openProjectCapture: async () => ({
        source: await openCapture(capture),
        frames: Array.from({ length: 24 }, (_, i) => i),
        filter: { min_depth_m: 0.1, max_depth_m: 3 },
      }),
      loadModels: () => Promise.resolve(null),
    },
  );
  ds = await loadDataset(project);
  const config = makeConfig('custom', {
    grid: { levels: 12, log2TableSize: 16, maxResolution: 512 },
    mlp: { width: 64, depth: 1 },
    batchSize: 1024,
    optimizer: { lr: 1e-2, weightDecay: 0 },
  });
  const trained = await trainField(ds, {
    config,
    steps: 300,
    engine: 'onnx',
    threads: 2,
    seed: 0,
    checkpointDir: null,
    keepBackend: true,
    heldoutFraction: 0.02,
    evalEvery: 0,
    evalPoints: 500,
    metricsIntervalMs: 0,
  });
  try {
    const map = await readMapFile(path.join(project, 'map', 'map.bin'));
    const cache = await buildQueryCache(trained.backend!.getState(), map.positions, {
      labels: ds.labels,
      encoders: ds.encoders,
      mapVoxel_m: map.voxel_m,
    });
    await writeQueryCache(queryCacheDir(project), cache);
  } finally {
    await trained.backend?.dispose();
  }
  engine = await QueryEngine.open(project, { dataset: ds });
}, 240_000);

afterAll(async () => {
  await engine?.dispose();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('query localisation on the synthetic demo capture (ground-truth labels)', () => {
  it('finds >= 90 % of the labeled classes within 0.3 m of an instance of that class', async () => {
    const scene = generateScene(SEED);
    const classes = [...new Set(ds.labels.texts)];
    expect(classes.length).toBeGreaterThanOrEqual(10);
    const misses: string[] = [];
    for (const cls of classes) {
      const boxes = instancesOf(scene, cls);
      expect(boxes.length, cls).toBeGreaterThan(0);
      const r = (await engine.query(cls, { goal: false })).result;
      const look = r.look_at?.world_m;
      const d = look ? Math.min(...boxes.map((b) => distanceToBox(look, b))) : Infinity;
      if (r.not_found || !(d <= RADIUS_M))
        misses.push(`${cls} (${r.not_found ? 'not found' : `${d.toFixed(2)} m off`})`);
    }
    expect(misses.length / classes.length, `missed: ${misses.join(', ')}`).toBeLessThanOrEqual(0.1);
  });

  it('answers "not found" for made-up classes, including look-alike spellings of real ones', async () => {
    const found: string[] = [];
    for (const q of [...MADE_UP, ...LOOKALIKES]) {
      const r = (await engine.query(q, { goal: false })).result;
      if (!r.not_found) found.push(q);
      else expect(r.reason).toMatch(/best competitor/);
    }
    expect(found).toEqual([]);
  });

  it("a query that contains a class's own words is found on that class ('comfortable sofa' -> sofa)", async () => {
    const scene = generateScene(SEED);
    const cls = ds.labels.texts.includes('sofa') ? 'sofa' : ds.labels.texts[0]!;
    const r = (await engine.query(`comfortable ${cls}`, { goal: false })).result;
    expect(r.threshold.own_labels).toContain(cls);
    expect(r.not_found).toBe(false);
    expect(
      Math.min(...instancesOf(scene, cls).map((b) => distanceToBox(r.look_at!.world_m, b))),
    ).toBeLessThanOrEqual(RADIUS_M);
  });
});
