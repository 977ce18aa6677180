/**
 * The evaluation pipeline (issue "Evaluation and benchmarks"), runnable in-process (no job workers):
 *
 *   evaluateProject(projectDir)  an imported project whose capture is annotated: split the selected frames
 *                                (every `heldoutEvery`-th... see below), label the training frames with the
 *                                ground-truth labeler in a scratch folder (the project's own labels, edits and
 *                                field are never touched), train fields and measure
 *                                (1) weak-label quality, (2) held-out semantic segmentation, (3) query
 *                                localisation, (4) denoising, (5) few-shot, (6) baselines;
 *   evaluateSeeds({seeds})       synthetic apartment captures: generate, import, evaluateProject, aggregate.
 *
 * Frame split: of the selected frames in order, positions 0, 2, 4, ... are labeled (training) and 1, 3, 5, ...
 * are held out (`heldoutEvery` = 2); held-out frames never reach labeling or training. Segmentation is scored on
 * a seeded sample of the held-out frames' object pixels (instances with a class; walls/floor/ceiling carry no
 * label in the weak labels and are not scored), back-projected to 3D and classified like CLIP-Fields'
 * classifier (softmax over the label texts on the language head, blended with the vision head when present).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImportParamsSchema } from '../../../preload/contract';
import { openCapture } from '../capture/open';
import { SYNTHETIC_CLASSES } from '../capture/synthetic/scene';
import { writeSyntheticR3d } from '../capture/synthetic/write';
import { runImportJob } from '../capture/import-job';
import { loadDataset } from '../dataset/format';
import type { LabeledPointDataset } from '../dataset/types';
import type { TrainingBackend } from '../field/backend';
import { classifyPredictions } from '../field/classify';
import { type FieldConfig, makeConfig } from '../field/config';
import { type EngineName, trainField } from '../field/train';
import { JobError, isAbortError, type JobContext } from '../jobs/types';
import type { QualityReport } from '../labeling/edits';
import { formatNoiseSpec, parseNoiseSpec } from '../labeling/ground-truth';
import { runLabelJob, type LabelJobResult } from '../labeling/label-job';
import { LexicalTextEncoder } from '../labeling/text/lexical';
import { normalizeLabel } from '../labeling/vocab';
import { DEFAULT_DEPTH_FILTER, type DepthFilter } from '../map/backproject';
import { readMapFile } from '../map/format';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic';
import { PointGridIndex, VoxelFeatureMap, argmaxLabel, nearestLabel } from './baselines';
import { EvalInputError, readEvalGroundTruth, type EvalGroundTruth } from './ground-truth';
import { DEFAULT_NOT_FOUND_THRESHOLD, localise, scoreRows } from './localise';
import { Confusion, localisationHit, meanOf, segmentationMetrics, type InstanceGeometry } from './metrics';
import type {
  ClassLocalisation,
  ClassSeg,
  DenoisingPoint,
  EvalResult,
  FewShotPoint,
  LabelQualityResult,
  LocalisationResult,
  MethodResult,
  SeedEval,
  SegmentationResult,
  TrainingSummary,
} from './types';

export type { EvalResult, SeedEval } from './types';

/** Queries for objects that are not in the synthetic apartment (nor in most homes' annotations). */
export const MADE_UP_QUERIES: readonly string[] = [
  'giraffe',
  'surfboard',
  'grand piano',
  'fire hydrant',
  'motorcycle',
  'snowman',
  'violin',
  'umbrella',
];

/** Nearest-labeled-point baseline: farther than this, no answer. */
export const NN_MAX_DIST_M = 0.25;

export const TARGETS = { segmentation_accuracy: 0.85, localisation: 0.9 } as const;

export interface EvalOptions {
  /** Optimizer steps of the main training run (default 600). */
  steps?: number;
  /** Steps of each denoising / few-shot run (default: `steps`). */
  studySteps?: number;
  /** Field configuration (default: the 'cpu' preset). */
  config?: FieldConfig;
  engine?: EngineName;
  threads?: number;
  /** Noise of the main run's labels (default none). */
  noise?: string;
  /** Noise levels of the denoising study (default [0, 0.1, 0.2, 0.4]; [] skips it). */
  denoising?: number[];
  /** Fractions of the training frames for the few-shot study (default [0.01, 0.05, 0.1, 0.25, 1]; [] skips it). */
  fewShot?: number[];
  /** Every n-th selected frame (offset 1) is held out (default 2). */
  heldoutEvery?: number;
  pointsPerFrame?: number;
  /** Map points scored per query (strided sample of the map; default 50000). */
  mapPoints?: number;
  /** Localisation radius (default 0.3 m). */
  radius_m?: number;
  absentQueries?: string[];
  notFoundThreshold?: number;
  /**
   * Localisation of the field: 'app' (default) queries through the studio's query engine (query cache over the
   * whole map, calibrated threshold, distractors); 'eval' uses this module's own rule (localise.ts) for the field
   * too. Baselines always use the eval rule. Falls back to 'eval' when the engine fails (logged).
   */
  queryEngine?: 'app' | 'eval';
  /** The label job's point probability (default 0.2). */
  pointProbability?: number;
  /** Labeling and training seed (default 0). */
  seed?: number;
  /** Scratch folder (default `<project>/eval/work`); removed afterwards unless keepWork. */
  workDir?: string;
  keepWork?: boolean;
  /** Write `<project>/eval/result.json` and the visuals (default true). */
  write?: boolean;
  signal?: AbortSignal;
  progress?: (stage: string, done: number, total: number) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface OverlayVisual {
  frame: number;
  width: number;
  height: number;
  rgb: Uint8Array;
  gt: Int16Array;
  pred: Int16Array;
}

export interface HeatmapVisual {
  query: string;
  present: boolean;
  found: boolean;
  /** Scored points (xyz) and their scores. */
  xyz: Float32Array;
  score: Float32Array;
  look_at: [number, number, number] | null;
  /** Floor-plane up axis of the capture world (ARKit: y). */
  upAxis: 0 | 1 | 2;
  boxes: { min: [number, number, number]; max: [number, number, number] }[];
}

export interface EvalVisuals {
  classes: string[];
  overlays: OverlayVisual[];
  heatmaps: HeatmapVisual[];
}

export interface ProjectEval {
  seed: SeedEval;
  visuals: EvalVisuals;
}

/** Settings of `quick` mode: one small seed, few steps (CI). */
export const QUICK: Required<
  Pick<EvalOptions, 'steps' | 'studySteps' | 'denoising' | 'fewShot' | 'pointsPerFrame' | 'mapPoints'>
> & { frames: number; rgbWidth: number; rgbHeight: number; seeds: number[] } = {
  seeds: [1],
  frames: 40,
  rgbWidth: 240,
  rgbHeight: 320,
  steps: 400,
  studySteps: 60,
  denoising: [0, 0.2],
  fewShot: [0.1, 1],
  pointsPerFrame: 800,
  mapPoints: 30000,
};

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

function nowMs(): number {
  return performance.now();
}

/** Noise spec used at study level p: a fraction p of detections get a wrong class, boxes jitter by p/2. */
export function noiseSpecForLevel(p: number, seed: number): string {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`noise level ${p} must be in [0, 1]`);
  if (p === 0) return '';
  return formatNoiseSpec({ drop: 0, confuse: p, jitter: Math.min(0.5, p / 2), seed });
}

/** `k` of `frames` spread evenly (at least one). */
export function spreadFrames(frames: readonly number[], fraction: number): number[] {
  if (frames.length === 0) return [];
  const k = Math.max(1, Math.min(frames.length, Math.round(frames.length * fraction)));
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(frames[Math.floor(((i + 0.5) * frames.length) / k)]!);
  return [...new Set(out)];
}

interface ProjectCaptureRef {
  capturePath: string;
  selected: number[];
  filter: DepthFilter;
}

/** The project's capture, selected frames and depth filter, from `frames/index.json` (written by import). */
export async function readProjectCaptureRef(projectDir: string): Promise<ProjectCaptureRef> {
  const file = path.join(projectDir, 'frames', 'index.json');
  let idx: {
    capture?: { source?: unknown; params?: { min_depth_m?: unknown; max_depth_m?: unknown } };
    frames?: { index?: unknown; selected?: unknown }[];
  };
  try {
    idx = JSON.parse(await fs.readFile(file, 'utf8')) as typeof idx;
  } catch (err) {
    throw new EvalInputError(
      file,
      `cannot read the frame index (${(err as Error).message}); import a capture first`,
    );
  }
  if (typeof idx.capture?.source !== 'string')
    throw new EvalInputError(file, 'has no capture.source; re-import the capture');
  if (!Array.isArray(idx.frames)) throw new EvalInputError(file, 'has no frames list');
  const selected = idx.frames
    .filter((f) => f.selected === true && typeof f.index === 'number')
    .map((f) => f.index as number);
  const lo = idx.capture.params?.min_depth_m,
    hi = idx.capture.params?.max_depth_m;
  const filter =
    typeof lo === 'number' && typeof hi === 'number' && hi > lo
      ? { min_depth_m: lo, max_depth_m: hi }
      : DEFAULT_DEPTH_FILTER;
  return { capturePath: path.resolve(projectDir, idx.capture.source), selected, filter };
}

function labelQualityOf(q: QualityReport | null, r: LabelJobResult): LabelQualityResult {
  const per_class: LabelQualityResult['per_class'] = {};
  for (const c of q?.classes ?? []) {
    per_class[c.label] = {
      precision: c.precision,
      recall: c.recall,
      labeled_points: c.labeledPoints,
      gt_points: c.gtPoints,
    };
  }
  return {
    point_accuracy: q?.pointAccuracy ?? null,
    mean_precision: q?.meanPrecision ?? null,
    mean_recall: q?.meanRecall ?? null,
    points: r.points,
    frames: r.frames,
    per_class,
  };
}

/** Unit rows (zero rows stay zero). */
function unitRows(v: Float32Array, dim: number): Float32Array {
  for (let o = 0; o + dim <= v.length; o += dim) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[o + d]! ** 2;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let d = 0; d < dim; d++) v[o + d]! *= inv;
    }
  }
  return v;
}

function segmentationFrom(conf: Confusion, frames: number): SegmentationResult {
  const m = segmentationMetrics(conf);
  const per_class: Record<string, ClassSeg> = {};
  for (const [k, s] of Object.entries(m.per_class)) {
    if (s.support === 0) continue;
    per_class[k] = { accuracy: s.recall, precision: s.precision, iou: s.iou, support: s.support };
  }
  return { accuracy: m.accuracy, miou: m.miou, points: m.points, frames, per_class };
}

/** Confusion over the ground-truth classes plus any label text that is not one (noise can invent classes). */
function confusionFor(gt: EvalGroundTruth, labelTexts: readonly string[], predLabel: Int32Array): Confusion {
  const classes = [...gt.classes];
  const idx = new Map(classes.map((c, i) => [c, i]));
  const map = labelTexts.map((t) => {
    const n = normalizeLabel(t);
    let i = idx.get(n);
    if (i === undefined) {
      i = classes.length;
      classes.push(n);
      idx.set(n, i);
    }
    return i;
  });
  const conf = new Confusion(classes);
  for (let i = 0; i < gt.count; i++) {
    const p = predLabel[i]!;
    conf.add(gt.gtClass[i]!, p >= 0 ? map[p]! : -1);
  }
  return conf;
}

interface Trained {
  backend: TrainingBackend;
  summary: TrainingSummary;
}

function subsampleMap(positions: Float32Array, count: number, max: number): Float32Array {
  if (count <= max) return positions.slice(0, count * 3);
  const out = new Float32Array(max * 3);
  for (let i = 0; i < max; i++) {
    const j = Math.floor((i * count) / max);
    out[3 * i] = positions[3 * j]!;
    out[3 * i + 1] = positions[3 * j + 1]!;
    out[3 * i + 2] = positions[3 * j + 2]!;
  }
  return out;
}

/** Evaluate an imported project (its capture must carry ground-truth annotations). */
export async function evaluateProjectRun(projectDir: string, opts: EvalOptions = {}): Promise<ProjectEval> {
  const t0 = nowMs();
  const timings: Record<string, number> = {};
  const lap = (name: string, since: number) => (timings[name] = Math.round(nowMs() - since));
  const progress = opts.progress ?? (() => undefined);
  const log = opts.log ?? (() => undefined);
  const signal = opts.signal;
  const check = () => {
    if (signal?.aborted) throw abortError();
  };
  const seed = opts.seed ?? 0;
  const steps = opts.steps ?? 600;
  const studySteps = opts.studySteps ?? steps;
  const config = opts.config ?? makeConfig('cpu');
  const heldoutEvery = opts.heldoutEvery ?? 2;
  if (!Number.isInteger(heldoutEvery) || heldoutEvery < 2)
    throw new EvalInputError('heldoutEvery', `must be an integer >= 2, got ${heldoutEvery}`);
  const radius = opts.radius_m ?? 0.3;
  const threshold = opts.notFoundThreshold ?? DEFAULT_NOT_FOUND_THRESHOLD;
  const workDir = path.resolve(opts.workDir ?? path.join(projectDir, 'eval', 'work'));
  const scratch = path.join(workDir, `labels-${randomBytes(4).toString('hex')}`);

  const ref = await readProjectCaptureRef(projectDir);
  const train = ref.selected.filter((_, k) => k % heldoutEvery !== 1);
  const heldout = ref.selected.filter((_, k) => k % heldoutEvery === 1);
  if (train.length === 0 || heldout.length === 0)
    throw new EvalInputError(
      ref.capturePath,
      `needs at least 2 selected frames to hold some out (has ${ref.selected.length})`,
    );

  // Ground truth of the held-out frames and instance geometry.
  let t = nowMs();
  const src = await openCapture(ref.capturePath);
  let gt: EvalGroundTruth;
  try {
    gt = await readEvalGroundTruth(src, {
      heldout,
      all: ref.selected,
      filter: ref.filter,
      pointsPerFrame: opts.pointsPerFrame ?? 1500,
      seed,
      ...(signal ? { signal } : {}),
      progress: (d, n) => progress('ground truth', d, n),
    });
  } finally {
    await src.close().catch(() => undefined);
  }
  lap('ground_truth', t);
  if (gt.count === 0)
    throw new EvalInputError(ref.capturePath, 'the held-out frames contain no annotated object pixels');
  log(
    'info',
    `evaluation: ${ref.selected.length} frames (${train.length} labeled, ${heldout.length} held out), ${gt.count} held-out points, ${gt.classes.length} classes`,
  );

  // Map points scored by queries.
  const mapFile = path.join(projectDir, 'map', 'map.bin');
  const map = await readMapFile(mapFile);
  const mapXyz = subsampleMap(map.positions, map.count, opts.mapPoints ?? 50_000);
  const mapN = mapXyz.length / 3;

  await fs.mkdir(scratch, { recursive: true });
  let labelRuns = 0;
  const label = async (
    frames: number[],
    noise: string,
  ): Promise<{ ds: LabeledPointDataset; result: LabelJobResult }> => {
    check();
    parseNoiseSpec(noise); // validates
    const jobDir = path.join(scratch, 'jobs', `label-${labelRuns++}`);
    await fs.mkdir(jobDir, { recursive: true });
    const ctx: JobContext = {
      jobId: `eval-label-${labelRuns}`,
      kind: 'label',
      params: {
        labeler: 'ground-truth',
        every: 1,
        seed,
        point_probability: opts.pointProbability ?? 0.2,
        ...(noise ? { noise } : {}),
      },
      projectDir: scratch,
      workDir: jobDir,
      attempt: 1,
      signal: signal ?? new AbortController().signal,
      progress: (_s, d, n) => progress('label', d, n),
      log: () => undefined,
      metrics: () => undefined,
      problem: (sev, file, message) => log(sev === 'error' ? 'error' : 'warn', `${file ?? ''} ${message}`),
    };
    const result = await runLabelJob(ctx, {
      openProjectCapture: async () => ({
        source: await openCapture(ref.capturePath),
        frames,
        filter: ref.filter,
      }),
      // Deterministic lexical label embeddings, whatever models are installed.
      loadModels: () => Promise.resolve(null),
    });
    return { ds: await loadDataset(scratch), result };
  };

  const trainOn = async (ds: LabeledPointDataset, nSteps: number, stage: string): Promise<Trained> => {
    check();
    const curve: TrainingSummary['curve'] = [];
    const start = nowMs();
    const r = await trainField(
      ds,
      {
        config,
        steps: nSteps,
        engine: opts.engine ?? 'onnx',
        threads: opts.threads ?? 2,
        seed,
        checkpointDir: null,
        keepBackend: true,
        heldoutFraction: 0.02,
        evalEvery: Math.max(1, Math.floor(nSteps / 5)),
        evalPoints: 2000,
        metricsIntervalMs: 0,
      },
      {
        ...(signal ? { signal } : {}),
        metrics: (v) => {
          if (typeof v.step === 'number' && Number.isFinite(v.loss))
            curve.push({
              step: v.step,
              loss: v.loss!,
              ...(typeof v.heldout_accuracy === 'number' ? { heldout_accuracy: v.heldout_accuracy } : {}),
            });
        },
        progress: (_s, d, n) => progress(stage, d, n),
        log,
      },
    );
    const stride = Math.max(1, Math.ceil(curve.length / 200));
    const thinned = curve.filter((_, i) => i % stride === 0 || i === curve.length - 1);
    return {
      backend: r.backend!,
      summary: {
        steps: r.steps,
        engine: r.engine,
        preset: config.preset,
        samples_per_s: r.samples_per_s,
        train_ms: Math.round(nowMs() - start),
        final_loss: r.final.loss,
        curve: thinned,
      },
    };
  };

  const classifyField = async (
    backend: TrainingBackend,
    ds: LabeledPointDataset,
    xyz: Float32Array,
  ): Promise<Int32Array> => {
    const pred = await backend.predict(xyz);
    return classifyPredictions(pred, xyz.length / 3, ds.labels);
  };

  // ---- Main run: labels, field, segmentation, localisation, baselines.
  t = nowMs();
  const mainNoise = opts.noise ?? '';
  const main = await label(train, mainNoise);
  lap('label', t);
  const labels = labelQualityOf(main.result.quality, main.result);
  t = nowMs();
  const trained = await trainOn(main.ds, steps, 'train');
  lap('train', t);
  const ds = main.ds;
  const textEncoder = new LexicalTextEncoder();
  if (ds.labels.dim !== textEncoder.dim)
    throw new EvalInputError(
      scratch,
      `dataset label embeddings have ${ds.labels.dim} dimensions, the evaluation's text encoder ${textEncoder.dim}`,
    );
  // Present: classes with an instance observed in the selected frames. Classes annotated but never observed are
  // neither present nor absent. Absent: made-up queries and generator classes this scene does not have.
  const present = [...new Set(gt.instances.map((i) => i.className))].sort();
  const absent = [
    ...new Set(
      (opts.absentQueries ?? ([...MADE_UP_QUERIES, ...SYNTHETIC_CLASSES] as readonly string[])).map(
        normalizeLabel,
      ),
    ),
  ].filter((q) => q.length > 0 && !gt.classes.includes(q));
  const queries = [...present, ...absent];
  const queryEmb = await textEncoder.encode(queries);
  const D = ds.labels.dim;
  const labelEmb = unitRows(ds.labels.embeddings.slice(), D);
  const L = ds.labels.texts.length;

  const baselines: Record<string, MethodResult> = {};
  let segmentation: SegmentationResult | null = null;
  let localisation: LocalisationResult | null = null;
  const heatmaps: EvalVisuals['heatmaps'] = [];
  const overlays: OverlayVisual[] = [];
  const instancesByClass = new Map<string, InstanceGeometry[]>();
  for (const inst of gt.instances)
    instancesByClass.set(inst.className, [...(instancesByClass.get(inst.className) ?? []), inst]);

  type Method = {
    name: MethodResult['method'];
    classify: (xyz: Float32Array) => Promise<Int32Array>;
    features: (xyz: Float32Array) => Promise<Float32Array>;
    memory: number;
  };
  const backend = trained.backend;
  let appRule: string | null = null;
  try {
    t = nowMs();
    const nnIndex = new PointGridIndex(ds.xyz, ds.points, 0.1);
    const voxelMap = new VoxelFeatureMap(ds.xyz, ds.labelId, ds.points, labelEmb, D, 0.05);
    lap('baseline_build', t);
    const fieldState = backend.getState();
    const fieldBytes = (fieldState.grid.length + fieldState.weights.reduce((s, w) => s + w.length, 0)) * 4;
    const methods: Method[] = [
      {
        name: 'field',
        classify: (xyz) => classifyField(backend, ds, xyz),
        features: async (xyz) => unitRows((await backend.predict(xyz)).language, D),
        memory: fieldBytes,
      },
      {
        name: 'nearest-labeled-point',
        classify: (xyz) => Promise.resolve(nearestLabel(nnIndex, ds.labelId, xyz, NN_MAX_DIST_M)),
        features: (xyz) => {
          const lab = nearestLabel(nnIndex, ds.labelId, xyz, NN_MAX_DIST_M);
          const f = new Float32Array(lab.length * D);
          lab.forEach((l, i) => l >= 0 && f.set(labelEmb.subarray(l * D, (l + 1) * D), i * D));
          return Promise.resolve(f);
        },
        memory: nnIndex.memoryBytes() + L * D * 4,
      },
      {
        name: 'voxel-map',
        classify: (xyz) =>
          Promise.resolve(argmaxLabel(voxelMap.lookup(xyz).features, xyz.length / 3, labelEmb, L, D)),
        features: (xyz) => Promise.resolve(voxelMap.lookup(xyz).features),
        memory: voxelMap.memoryBytes(),
      },
    ];
    for (const m of methods) {
      check();
      progress(`evaluate ${m.name}`, 0, 1);
      let tm = nowMs();
      const pred = await m.classify(gt.xyz);
      const classifyMs = nowMs() - tm;
      const conf = confusionFor(gt, ds.labels.texts, pred);
      const seg = segmentationFrom(conf, heldout.length);
      let answered = 0;
      for (const p of pred) if (p >= 0) answered++;
      tm = nowMs();
      const feats = await m.features(mapXyz);
      const buildMs = nowMs() - tm;
      const per_class: Record<string, ClassLocalisation> = {};
      let queryMs = 0;
      const app =
        m.name === 'field' && opts.queryEngine !== 'eval'
          ? await appQueries(projectDir, scratch, backend, ds, queries, log)
          : null;
      if (app) appRule = app.rule;
      for (let q = 0; q < queries.length; q++) {
        const text = queries[q]!;
        tm = nowMs();
        const qv = queryEmb.subarray(q * D, (q + 1) * D);
        const scores = scoreRows(feats, mapN, D, qv);
        const loc = app ? app.results[q]! : localise(mapXyz, scores, { threshold });
        queryMs += app ? app.results[q]!.ms : nowMs() - tm;
        const isPresent = q < present.length;
        const hit = isPresent
          ? localisationHit(loc.look_at, text, gt.instances, radius)
          : { success: !loc.found, distance_m: null };
        per_class[text] = {
          present: isPresent,
          found: loc.found,
          success: isPresent ? loc.found && hit.success : !loc.found,
          distance_m: hit.distance_m,
          score: loc.best,
          look_at: loc.look_at,
        };
        if (
          m.name === 'field' &&
          (isPresent
            ? heatmaps.filter((h) => h.present).length < 4
            : heatmaps.filter((h) => !h.present).length < 1)
        ) {
          heatmaps.push({
            query: text,
            present: isPresent,
            found: loc.found,
            xyz: mapXyz,
            score: scores,
            look_at: loc.look_at,
            upAxis: 1,
            boxes: (instancesByClass.get(text) ?? []).map((i) => ({ min: i.min, max: i.max })),
          });
        }
      }
      const presentRows = Object.values(per_class).filter((c) => c.present);
      const absentRows = Object.values(per_class).filter((c) => !c.present);
      const presentSuccess =
        presentRows.length > 0 ? presentRows.filter((c) => c.success).length / presentRows.length : 0;
      const absentSuccess =
        absentRows.length > 0 ? absentRows.filter((c) => c.success).length / absentRows.length : 1;
      baselines[m.name] = {
        method: m.name,
        accuracy: seg.accuracy,
        miou: seg.miou,
        present_success: presentSuccess,
        absent_success: absentSuccess,
        memory_bytes: m.memory,
        build_ms: Math.round(buildMs),
        query_ms: queries.length > 0 ? queryMs / queries.length : 0,
        classify_ms_per_1k: gt.count > 0 ? (classifyMs / gt.count) * 1000 : 0,
        coverage: gt.count > 0 ? answered / gt.count : 0,
      };
      if (m.name === 'field') {
        segmentation = seg;
        localisation = {
          present_success: presentSuccess,
          absent_success: absentSuccess,
          false_found_rate: 1 - absentSuccess,
          radius_m: radius,
          not_found_rule:
            appRule ?? `best cosine(language feature, query) over ${mapN} map points < ${threshold}`,
          per_class,
        };
        // Label overlays of a few held-out frames.
        for (const o of gt.overlays) {
          const lab = await m.classify(o.xyz);
          const conf2 = confusionFor(gt, ds.labels.texts, new Int32Array(0));
          const cls = conf2.classes;
          const predImg = new Int16Array(o.width * o.height).fill(-1);
          o.pixel.forEach((p, i) => {
            const l = lab[i]!;
            if (l >= 0) {
              const ci = cls.indexOf(normalizeLabel(ds.labels.texts[l]!));
              predImg[p] = ci;
            }
          });
          overlays.push({
            frame: o.frame,
            width: o.width,
            height: o.height,
            rgb: o.rgb,
            gt: o.gt,
            pred: predImg,
          });
        }
      }
    }
  } finally {
    await backend.dispose().catch(() => undefined);
  }
  lap('evaluate', t);
  if (!segmentation || !localisation) throw new Error('internal: field evaluation did not run');
  const seg0 = segmentation as SegmentationResult;

  // ---- Denoising study.
  t = nowMs();
  const denoising: DenoisingPoint[] = [];
  for (const p of opts.denoising ?? [0, 0.1, 0.2, 0.4]) {
    check();
    const spec = noiseSpecForLevel(p, seed);
    if (p === 0 && !mainNoise) {
      denoising.push({
        noise: 0,
        spec: 'none',
        label_accuracy: labels.point_accuracy,
        field_accuracy: seg0.accuracy,
        field_miou: seg0.miou,
      });
      continue;
    }
    const run = await label(train, spec);
    const tr = await trainOn(run.ds, studySteps, `train (noise ${Math.round(p * 100)}%)`);
    try {
      const pred = await classifyField(tr.backend, run.ds, gt.xyz);
      const seg = segmentationFrom(confusionFor(gt, run.ds.labels.texts, pred), heldout.length);
      denoising.push({
        noise: p,
        spec: spec || 'none',
        label_accuracy: run.result.quality?.pointAccuracy ?? null,
        field_accuracy: seg.accuracy,
        field_miou: seg.miou,
      });
    } finally {
      await tr.backend.dispose().catch(() => undefined);
    }
  }
  lap('denoising', t);

  // ---- Few-shot study.
  t = nowMs();
  const few_shot: FewShotPoint[] = [];
  for (const f of opts.fewShot ?? [0.01, 0.05, 0.1, 0.25, 1]) {
    check();
    if (!(f > 0 && f <= 1)) throw new EvalInputError('fewShot', `fraction ${f} must be in (0, 1]`);
    const frames = spreadFrames(train, f);
    if (f === 1) {
      few_shot.push({
        fraction: 1,
        frames: train.length,
        label_points: ds.points,
        field_accuracy: seg0.accuracy,
        field_miou: seg0.miou,
      });
      continue;
    }
    const run = await label(frames, mainNoise);
    if (run.ds.points < 2 || run.ds.labels.texts.length === 0) {
      few_shot.push({
        fraction: f,
        frames: frames.length,
        label_points: run.ds.points,
        field_accuracy: 0,
        field_miou: 0,
      });
      continue;
    }
    const tr = await trainOn(run.ds, studySteps, `train (${Math.round(f * 100)}% of frames)`);
    try {
      const pred = await classifyField(tr.backend, run.ds, gt.xyz);
      const seg = segmentationFrom(confusionFor(gt, run.ds.labels.texts, pred), heldout.length);
      few_shot.push({
        fraction: f,
        frames: frames.length,
        label_points: run.ds.points,
        field_accuracy: seg.accuracy,
        field_miou: seg.miou,
      });
    } finally {
      await tr.backend.dispose().catch(() => undefined);
    }
  }
  lap('few_shot', t);
  if (!opts.keepWork) await fs.rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  timings.total = Math.round(nowMs() - t0);

  const seedEval: SeedEval = {
    seed: null,
    capture: ref.capturePath,
    frames: { total: ref.selected.length, train: train.length, heldout: heldout.length },
    labels,
    segmentation: seg0,
    localisation: localisation as LocalisationResult,
    baselines,
    denoising,
    few_shot,
    training: trained.summary,
    timings_ms: timings,
  };
  const classes = [...confusionFor(gt, ds.labels.texts, new Int32Array(0)).classes];
  return { seed: seedEval, visuals: { classes, overlays, heatmaps } };
}

interface AppQueryResult {
  found: boolean;
  best: number;
  look_at: [number, number, number] | null;
  ms: number;
}

/**
 * Run every query through the studio's query engine: the scratch project gets the map and frame index, a
 * query cache of the trained field over the whole map, then `QueryEngine.query` per text (look-at point,
 * not-found). Null (and a warning) when any part fails, so the caller falls back to the eval rule.
 */
async function appQueries(
  projectDir: string,
  scratch: string,
  backend: TrainingBackend,
  ds: LabeledPointDataset,
  queries: string[],
  log: (l: 'info' | 'warn' | 'error', m: string) => void,
): Promise<{ results: AppQueryResult[]; rule: string } | null> {
  try {
    const { buildQueryCache } = await import('../query/build-cache');
    const { writeQueryCache, queryCacheDir } = await import('../query/cache');
    const { QueryEngine } = await import('../query/engine');
    await fs.mkdir(path.join(scratch, 'map'), { recursive: true });
    await fs.mkdir(path.join(scratch, 'frames'), { recursive: true });
    await fs.copyFile(path.join(projectDir, 'map', 'map.bin'), path.join(scratch, 'map', 'map.bin'));
    await fs.copyFile(
      path.join(projectDir, 'frames', 'index.json'),
      path.join(scratch, 'frames', 'index.json'),
    );
    const map = await readMapFile(path.join(scratch, 'map', 'map.bin'));
    const cache = await buildQueryCache(backend.getState(), map.positions, {
      labels: ds.labels,
      encoders: ds.encoders,
      fieldId: 'eval',
      mapVoxel_m: map.voxel_m,
    });
    await writeQueryCache(queryCacheDir(scratch), cache);
    const engine = await QueryEngine.open(scratch, { dataset: ds });
    try {
      const results: AppQueryResult[] = [];
      let rule = 'studio query engine (QueryEngine.query)';
      for (const q of queries) {
        const t = nowMs();
        const r = (await engine.query(q, { goal: false })).result;
        rule = `studio query engine (QueryEngine.query, calibrated threshold rule "${String((r.threshold as { rule?: unknown }).rule ?? 'engine default')}"): not found = no hit cluster`;
        const w = r.look_at?.world_m ?? null;
        results.push({
          found: !r.not_found,
          best: r.hits[0]?.score ?? 0,
          look_at: w ? [w[0], w[1], w[2]] : null,
          ms: nowMs() - t,
        });
      }
      return { results, rule };
    } finally {
      await engine.dispose();
    }
  } catch (err) {
    log(
      'warn',
      `studio query engine unavailable for the evaluation (${(err as Error).message}); using the evaluation's own look-at rule`,
    );
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Aggregation over seeds

function avg(xs: number[]): number {
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

function avgRecord<T extends Record<string, number | null>>(rows: T[]): T {
  const keys = new Set(rows.flatMap((r) => Object.keys(r)));
  const out: Record<string, number | null> = {};
  for (const k of keys) out[k] = meanOf(rows.map((r) => r[k]));
  return out as T;
}

/** Mean over seeds of every metric (per-class entries averaged over the seeds where the class occurs). */
export function aggregateSeeds(seeds: SeedEval[], settings: Record<string, unknown>): EvalResult {
  if (seeds.length === 0) throw new RangeError('no seed results to aggregate');
  const labelsPer: LabelQualityResult['per_class'] = {};
  for (const name of new Set(seeds.flatMap((s) => Object.keys(s.labels.per_class)))) {
    const rows = seeds.map((s) => s.labels.per_class[name]).filter((r) => r !== undefined);
    labelsPer[name] = {
      precision: meanOf(rows.map((r) => r.precision)),
      recall: meanOf(rows.map((r) => r.recall)),
      labeled_points: avg(rows.map((r) => r.labeled_points)),
      gt_points: avg(rows.map((r) => r.gt_points)),
    };
  }
  const segPer: SegmentationResult['per_class'] = {};
  for (const name of new Set(seeds.flatMap((s) => Object.keys(s.segmentation.per_class)))) {
    const rows = seeds.map((s) => s.segmentation.per_class[name]).filter((r) => r !== undefined);
    segPer[name] = {
      accuracy: meanOf(rows.map((r) => r.accuracy)),
      precision: meanOf(rows.map((r) => r.precision)),
      iou: meanOf(rows.map((r) => r.iou)),
      support: avg(rows.map((r) => r.support)),
    };
  }
  const locPer: LocalisationResult['per_class'] = {};
  for (const name of new Set(seeds.flatMap((s) => Object.keys(s.localisation.per_class)))) {
    const rows = seeds.map((s) => s.localisation.per_class[name]).filter((r) => r !== undefined);
    const first = rows[0]!;
    locPer[name] = {
      present: first.present,
      found: rows.filter((r) => r.found).length / rows.length >= 0.5,
      success: rows.filter((r) => r.success).length / rows.length >= 0.5,
      distance_m: meanOf(rows.map((r) => r.distance_m)),
      score: avg(rows.map((r) => r.score)),
      look_at: rows.length === 1 ? first.look_at : null,
    };
  }
  const methods = [...new Set(seeds.flatMap((s) => Object.keys(s.baselines)))];
  const baselines: Record<string, MethodResult> = {};
  for (const m of methods) {
    const rows = seeds.map((s) => s.baselines[m]).filter((r) => r !== undefined);
    const mean = avgRecord(rows.map(({ method: _m, ...rest }) => rest)) as unknown as Omit<
      MethodResult,
      'method'
    >;
    baselines[m] = { method: rows[0]!.method, ...mean };
  }
  const levels = [...new Set(seeds.flatMap((s) => s.denoising.map((d) => d.noise)))].sort((a, b) => a - b);
  const denoising: DenoisingPoint[] = levels.map((noise) => {
    const rows = seeds.flatMap((s) => s.denoising.filter((d) => d.noise === noise));
    return {
      noise,
      spec: rows[0]!.spec.replace(/,seed=\d+/, ''),
      label_accuracy: meanOf(rows.map((r) => r.label_accuracy)),
      field_accuracy: avg(rows.map((r) => r.field_accuracy)),
      field_miou: avg(rows.map((r) => r.field_miou)),
    };
  });
  const fractions = [...new Set(seeds.flatMap((s) => s.few_shot.map((d) => d.fraction)))].sort(
    (a, b) => a - b,
  );
  const few_shot: FewShotPoint[] = fractions.map((fraction) => {
    const rows = seeds.flatMap((s) => s.few_shot.filter((d) => d.fraction === fraction));
    return {
      fraction,
      frames: avg(rows.map((r) => r.frames)),
      label_points: avg(rows.map((r) => r.label_points)),
      field_accuracy: avg(rows.map((r) => r.field_accuracy)),
      field_miou: avg(rows.map((r) => r.field_miou)),
    };
  });
  const segAcc = avg(seeds.map((s) => s.segmentation.accuracy));
  const present = avg(seeds.map((s) => s.localisation.present_success));
  const absent = avg(seeds.map((s) => s.localisation.absent_success));
  const first = seeds[0]!;
  return {
    version: 1,
    created_at: new Date().toISOString(),
    settings,
    labels: {
      point_accuracy: meanOf(seeds.map((s) => s.labels.point_accuracy)),
      mean_precision: meanOf(seeds.map((s) => s.labels.mean_precision)),
      mean_recall: meanOf(seeds.map((s) => s.labels.mean_recall)),
      points: avg(seeds.map((s) => s.labels.points)),
      frames: avg(seeds.map((s) => s.labels.frames)),
      per_class: labelsPer,
    },
    segmentation: {
      accuracy: segAcc,
      miou: avg(seeds.map((s) => s.segmentation.miou)),
      points: avg(seeds.map((s) => s.segmentation.points)),
      frames: avg(seeds.map((s) => s.segmentation.frames)),
      per_class: segPer,
    },
    localisation: {
      present_success: present,
      absent_success: absent,
      false_found_rate: 1 - absent,
      radius_m: first.localisation.radius_m,
      not_found_rule: first.localisation.not_found_rule,
      per_class: locPer,
    },
    baselines,
    denoising,
    few_shot,
    training: first.training,
    seeds,
    targets: {
      segmentation_accuracy: TARGETS.segmentation_accuracy,
      localisation: TARGETS.localisation,
      met: segAcc >= TARGETS.segmentation_accuracy && present >= TARGETS.localisation,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Public entry points

export interface WriteOutputs {
  /** Folder for result.json and visuals/ (default `<project>/eval`). */
  outDir?: string;
}

/** Write result.json and the visuals (PNG) into `outDir`; returns the result with `visual_files` filled in. */
export async function writeEvalOutputs(
  outDir: string,
  result: EvalResult,
  visuals: EvalVisuals[],
): Promise<EvalResult> {
  const { renderHeatmapPng, renderOverlayPng } = await import('../report/images');
  await fs.mkdir(path.join(outDir, 'visuals'), { recursive: true });
  const files: NonNullable<EvalResult['visual_files']> = [];
  for (let s = 0; s < visuals.length; s++) {
    const v = visuals[s]!;
    const tag = visuals.length > 1 ? `s${s}-` : '';
    for (const h of v.heatmaps) {
      const name = `visuals/${tag}heatmap-${h.query.replace(/[^a-z0-9]+/g, '_')}.png`;
      await writeFileAtomic(path.join(outDir, name), await renderHeatmapPng(h));
      files.push({
        kind: 'heatmap',
        title: `${visuals.length > 1 ? `seed ${String(result.seeds[s]?.seed ?? s)}: ` : ''}"${h.query}" (${h.present ? 'present' : 'absent'}, ${h.found ? 'found' : 'not found'})`,
        file: name,
      });
    }
    for (const o of v.overlays) {
      const name = `visuals/${tag}overlay-${o.frame}.png`;
      await writeFileAtomic(path.join(outDir, name), await renderOverlayPng(o, v.classes));
      files.push({
        kind: 'overlay',
        title: `${visuals.length > 1 ? `seed ${String(result.seeds[s]?.seed ?? s)}: ` : ''}held-out frame ${o.frame}: colour | ground truth | field`,
        file: name,
      });
    }
  }
  const out = { ...result, visual_files: files };
  await writeJsonAtomic(path.join(outDir, 'result.json'), out);
  return out;
}

function settingsOf(opts: EvalOptions, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const cfg = opts.config ?? makeConfig('cpu');
  return {
    steps: opts.steps ?? 600,
    study_steps: opts.studySteps ?? opts.steps ?? 600,
    preset: cfg.preset,
    batch_size: cfg.batchSize,
    engine: opts.engine ?? 'onnx',
    noise: opts.noise ?? 'none',
    heldout_every: opts.heldoutEvery ?? 2,
    points_per_frame: opts.pointsPerFrame ?? 1500,
    map_points: opts.mapPoints ?? 50_000,
    radius_m: opts.radius_m ?? 0.3,
    not_found_threshold: opts.notFoundThreshold ?? DEFAULT_NOT_FOUND_THRESHOLD,
    text_encoder: 'lexical-384',
    ...extra,
  };
}

/** Evaluate an imported, annotated project; writes `<project>/eval/result.json` + visuals unless `write: false`. */
export async function evaluateProject(
  projectDir: string,
  opts: EvalOptions & WriteOutputs = {},
): Promise<EvalResult> {
  const run = await evaluateProjectRun(projectDir, opts);
  const result = aggregateSeeds([run.seed], settingsOf(opts, { project: path.resolve(projectDir) }));
  if (opts.write === false) return result;
  return writeEvalOutputs(opts.outDir ?? path.join(projectDir, 'eval'), result, [run.visuals]);
}

export interface SeedsOptions extends EvalOptions, WriteOutputs {
  seeds?: number[];
  frames?: number;
  rgbWidth?: number;
  rgbHeight?: number;
  depthWidth?: number;
  depthHeight?: number;
  /** Use QUICK's settings for everything not given explicitly. */
  quick?: boolean;
}

/** Resolve `quick` into explicit options. */
export function resolveSeedsOptions(o: SeedsOptions): SeedsOptions {
  if (!o.quick) return o;
  return {
    seeds: QUICK.seeds,
    frames: QUICK.frames,
    rgbWidth: QUICK.rgbWidth,
    rgbHeight: QUICK.rgbHeight,
    steps: QUICK.steps,
    studySteps: QUICK.studySteps,
    denoising: QUICK.denoising,
    fewShot: QUICK.fewShot,
    pointsPerFrame: QUICK.pointsPerFrame,
    mapPoints: QUICK.mapPoints,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  };
}

/**
 * For each seed: write a synthetic annotated capture, import it into a project under the work folder and run
 * `evaluateProjectRun`; the result averages the seeds (each seed's numbers are kept in `seeds`).
 */
export async function evaluateSeeds(input: SeedsOptions = {}): Promise<EvalResult> {
  const opts = resolveSeedsOptions(input);
  const seeds = opts.seeds ?? [1, 2, 3];
  const frames = opts.frames ?? 100;
  const rgbWidth = opts.rgbWidth ?? 240,
    rgbHeight = opts.rgbHeight ?? 320;
  const ownWork = !opts.workDir;
  const workRoot = path.resolve(
    opts.workDir ?? path.join(os.tmpdir(), `clip-fields-eval-${randomBytes(4).toString('hex')}`),
  );
  const progress = opts.progress ?? (() => undefined);
  const runs: ProjectEval[] = [];
  try {
    for (let k = 0; k < seeds.length; k++) {
      const seed = seeds[k]!;
      const tag = seeds.length > 1 ? `seed ${seed}: ` : '';
      const projectDir = path.join(workRoot, `seed-${seed}`);
      const capture = path.join(workRoot, `seed-${seed}-${frames}f-${rgbWidth}x${rgbHeight}.r3d`);
      await fs.mkdir(path.join(projectDir, 'jobs', 'import'), { recursive: true });
      const t0 = nowMs();
      const exists = await fs.stat(capture).then(
        () => true,
        () => false,
      );
      if (!exists) {
        await writeSyntheticR3d(capture, {
          seed,
          frames,
          rgbWidth,
          rgbHeight,
          ...(opts.depthWidth ? { depthWidth: opts.depthWidth } : {}),
          ...(opts.depthHeight ? { depthHeight: opts.depthHeight } : {}),
          onProgress: (d, n) => progress(`${tag}generate capture`, d, n),
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
      }
      const generateMs = nowMs() - t0;
      const t1 = nowMs();
      await runImportJob({
        jobId: `eval-import-${seed}`,
        kind: 'import',
        params: ImportParamsSchema.parse({ capture }),
        projectDir,
        workDir: path.join(projectDir, 'jobs', 'import'),
        attempt: 1,
        signal: opts.signal ?? new AbortController().signal,
        progress: (_s, d, n) => progress(`${tag}import`, d, n),
        log: () => undefined,
        metrics: () => undefined,
        problem: () => undefined,
      });
      const importMs = nowMs() - t1;
      const run = await evaluateProjectRun(projectDir, {
        ...opts,
        seed: opts.seed ?? 0,
        workDir: path.join(projectDir, 'eval', 'work'),
        progress: (s, d, n) => progress(`${tag}${s}`, d, n),
      });
      run.seed.seed = seed;
      run.seed.timings_ms = {
        generate: Math.round(generateMs),
        import: Math.round(importMs),
        ...run.seed.timings_ms,
      };
      runs.push(run);
    }
    const result = aggregateSeeds(
      runs.map((r) => r.seed),
      settingsOf(opts, {
        seeds,
        frames,
        rgb: [rgbWidth, rgbHeight],
        depth: [opts.depthWidth ?? 192, opts.depthHeight ?? 256],
        quick: opts.quick === true,
      }),
    );
    if (!opts.outDir || opts.write === false) return result;
    return await writeEvalOutputs(
      opts.outDir,
      result,
      runs.map((r) => r.visuals),
    );
  } finally {
    if (ownWork && !opts.keepWork)
      await fs.rm(workRoot, { recursive: true, force: true }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The `eval` job

export interface EvalJobParams {
  steps?: number;
  study_steps?: number;
  denoising?: number[];
  few_shot?: number[];
  points_per_frame?: number;
  map_points?: number;
  noise?: string;
  seed?: number;
  quick?: boolean;
}

function num(v: unknown, name: string, lo: number, hi: number, int = true): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (int && !Number.isInteger(v)))
    throw new JobError(
      'BAD_ARGS',
      `eval parameter ${name} must be ${int ? 'an integer' : 'a number'} in ${lo}..${hi}`,
    );
  return v;
}

function numList(v: unknown, name: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length > 16 || v.some((x) => typeof x !== 'number' || !(x >= 0 && x <= 1)))
    throw new JobError('BAD_ARGS', `eval parameter ${name} must be a list of at most 16 fractions in 0..1`);
  return v as number[];
}

export function parseEvalParams(p: Record<string, unknown>): EvalOptions {
  const known = new Set([
    'steps',
    'study_steps',
    'denoising',
    'few_shot',
    'points_per_frame',
    'map_points',
    'noise',
    'seed',
    'quick',
  ]);
  for (const k of Object.keys(p))
    if (!known.has(k))
      throw new JobError('BAD_ARGS', `unknown eval parameter "${k}" (known: ${[...known].join(', ')})`);
  const quick = p.quick === true;
  if (p.quick !== undefined && typeof p.quick !== 'boolean')
    throw new JobError('BAD_ARGS', 'eval parameter quick must be a boolean');
  if (p.noise !== undefined && typeof p.noise !== 'string')
    throw new JobError('BAD_ARGS', 'eval parameter noise must be a noise spec string');
  const o: EvalOptions = {
    steps: num(p.steps, 'steps', 1, 1_000_000) ?? (quick ? QUICK.steps : undefined),
    studySteps: num(p.study_steps, 'study_steps', 1, 1_000_000) ?? (quick ? QUICK.studySteps : undefined),
    denoising: numList(p.denoising, 'denoising') ?? (quick ? QUICK.denoising : undefined),
    fewShot: numList(p.few_shot, 'few_shot')?.filter((f) => f > 0) ?? (quick ? QUICK.fewShot : undefined),
    pointsPerFrame:
      num(p.points_per_frame, 'points_per_frame', 10, 100_000) ?? (quick ? QUICK.pointsPerFrame : undefined),
    mapPoints: num(p.map_points, 'map_points', 100, 5_000_000) ?? (quick ? QUICK.mapPoints : undefined),
    noise: p.noise as string | undefined,
    seed: num(p.seed, 'seed', 0, 0xffffffff),
  };
  if (o.noise) {
    try {
      parseNoiseSpec(o.noise);
    } catch (err) {
      throw new JobError('BAD_ARGS', (err as Error).message);
    }
  }
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as EvalOptions;
}

/** Job handler of kind `eval`: evaluates the open project, writes `<project>/eval/result.json` and visuals. */
export async function runEvalJob(ctx: JobContext): Promise<EvalResult> {
  const opts = parseEvalParams(ctx.params ?? {});
  try {
    return await evaluateProject(ctx.projectDir, {
      ...opts,
      workDir: path.join(ctx.workDir, 'work'),
      signal: ctx.signal,
      progress: (s, d, n) => ctx.progress(s, d, n),
      log: (l, m) => ctx.log(l, m),
    });
  } catch (err) {
    if (isAbortError(err)) throw err;
    if (err instanceof JobError) throw err;
    if (err instanceof EvalInputError) throw new JobError('INVALID_INPUT', err.message);
    if (err instanceof RangeError) throw new JobError('BAD_ARGS', err.message);
    throw err;
  }
}
