/**
 * Field training loop, independent of the job runtime: held-out split, seeded batch sampling, metrics,
 * periodic evaluation, checkpoints and resume. `runTrainJob` (train-job.ts) wraps it for the job runtime.
 */
import type { OrtProvider } from './engine-onnx';
import { createHash } from 'node:crypto';
import type { LabeledPointDataset } from '../dataset/types';
import type { TrainingBackend } from './backend';
import { type CheckpointMeta, loadLatestCheckpoint, saveCheckpoint } from './checkpoint';
import { classifyPredictions } from './classify';
import type { FieldConfig } from './config';
import { OnnxBackend } from './engine-onnx';
import { TfjsBackend } from './engine-tfjs';
import { Rng } from './rng';

export type EngineName = 'onnx' | 'tfjs';

export function createBackend(
  engine: EngineName,
  opts: { threads?: number; provider?: OrtProvider } = {},
): TrainingBackend {
  return engine === 'tfjs'
    ? new TfjsBackend()
    : new OnnxBackend({ threads: opts.threads ?? 2, ...(opts.provider ? { provider: opts.provider } : {}) });
}

export class FieldTrainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldTrainError';
  }
}

export interface TrainHooks {
  signal?: AbortSignal;
  metrics?(values: Record<string, number>): void;
  log?(level: 'info' | 'warn' | 'error', message: string): void;
  progress?(stage: string, done: number, total: number): void;
  problem?(severity: 'error' | 'warning' | 'info', file: string | null, message: string): void;
}

export interface TrainOptions {
  config: FieldConfig;
  /** Total optimizer steps (the step counter continues across resumes). */
  steps: number;
  engine?: EngineName;
  threads?: number;
  /** onnxruntime execution provider (onnx engine only; default cpu or CLIP_FIELDS_ORT_PROVIDER). */
  provider?: OrtProvider;
  seed?: number;
  /** Folder of checkpoints (`<project>/field/checkpoints`); null = none. */
  checkpointDir?: string | null;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  /** Continue from the newest valid checkpoint in checkpointDir (default true). */
  resume?: boolean;
  heldoutFraction?: number;
  /** Evaluate held-out accuracy every N steps on up to `evalPoints` points (the final evaluation uses all). */
  evalEvery?: number;
  evalPoints?: number;
  metricsIntervalMs?: number;
  /** Keep the engine alive and return it (tests, query cache); otherwise it is disposed. */
  keepBackend?: boolean;
}

export interface TrainResult {
  engine: EngineName;
  provider: string;
  threads: number;
  /** Threads sharing the hash-grid gather/scatter and grid Adam (see grid-threads.ts). */
  grid_threads: number;
  steps: number;
  samples_per_s: number;
  final: { loss: number; loss_language: number; loss_vision: number; heldout_accuracy: number };
  checkpoint: string | null;
  resumed_from: number | null;
  backend?: TrainingBackend;
}

/** sha256 over what determines training (positions, labels, detections, embeddings). */
export function datasetFingerprint(ds: LabeledPointDataset): string {
  const h = createHash('sha256');
  const add = (a: ArrayBufferView) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  add(ds.xyz);
  add(ds.labelId);
  add(ds.detectionId);
  add(ds.weight);
  add(ds.distance_m);
  add(ds.labels.embeddings);
  if (ds.detections.clipEmbeddings) add(ds.detections.clipEmbeddings);
  return h.digest('hex');
}

/** Deterministic held-out split: a seeded shuffle, the first `fraction` (at least 1 point) held out. */
export function splitHeldout(
  n: number,
  fraction: number,
  seed: number,
): { train: Int32Array; heldout: Int32Array } {
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng((seed ^ 0x5eed1234) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  const h = fraction > 0 ? Math.min(n - 1, Math.max(1, Math.round(n * fraction))) : 0;
  return { heldout: perm.slice(0, h).sort(), train: perm.slice(h) };
}

/** Batches as a pure function of the step: epoch e is a seeded permutation of the training points. */
export class EpochSampler {
  private cache = new Map<number, Int32Array>();
  constructor(
    private readonly train: Int32Array,
    private readonly batchSize: number,
    private readonly seed: number,
  ) {
    if (train.length === 0) throw new FieldTrainError('no training points left after the held-out split');
  }

  private epoch(e: number): Int32Array {
    let p = this.cache.get(e);
    if (!p) {
      p = this.train.slice();
      const rng = new Rng((Math.imul(this.seed, 0x9e3779b1) + e + 1) >>> 0);
      for (let i = p.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = p[i]!;
        p[i] = p[j]!;
        p[j] = t;
      }
      if (this.cache.size > 2) this.cache.delete(Math.min(...this.cache.keys()));
      this.cache.set(e, p);
    }
    return p;
  }

  batchAt(step: number): Int32Array {
    const N = this.train.length;
    const out = new Int32Array(this.batchSize);
    let off = step * this.batchSize;
    for (let k = 0; k < this.batchSize; k++, off++) out[k] = this.epoch(Math.floor(off / N))[off % N]!;
    return out;
  }
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

export async function heldoutAccuracy(
  backend: TrainingBackend,
  ds: LabeledPointDataset,
  idx: Int32Array,
): Promise<number> {
  if (idx.length === 0) return Number.NaN;
  const xyz = new Float32Array(idx.length * 3);
  idx.forEach((p, i) => xyz.set(ds.xyz.subarray(p * 3, p * 3 + 3), i * 3));
  const pred = await backend.predict(xyz);
  const cls = classifyPredictions(pred, idx.length, ds.labels);
  let ok = 0;
  idx.forEach((p, i) => {
    if (cls[i] === ds.labelId[p]) ok++;
  });
  return ok / idx.length;
}

export async function trainField(
  ds: LabeledPointDataset,
  opts: TrainOptions,
  hooks: TrainHooks = {},
): Promise<TrainResult> {
  const engine = opts.engine ?? 'onnx';
  const seed = opts.seed ?? 0;
  const cfg = opts.config;
  const log = hooks.log ?? (() => undefined);
  if (!Number.isInteger(opts.steps) || opts.steps < 0)
    throw new FieldTrainError(`steps must be a non-negative integer, got ${opts.steps}`);
  const { train, heldout } = splitHeldout(ds.points, opts.heldoutFraction ?? 0.05, seed);
  const evalIdx = heldout.slice(0, opts.evalPoints ?? 4096);
  const sampler = new EpochSampler(train, cfg.batchSize, seed);
  const fingerprint = datasetFingerprint(ds);
  const backend = createBackend(engine, {
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.provider ? { provider: opts.provider } : {}),
  });
  let keep = false;
  try {
    await backend.init(cfg, ds, seed);
    log(
      'info',
      `engine ${engine} on ${backend.provider}: ${backend.threads} compute threads, hash grid on ${backend.gridThreads}`,
    );
    let step = 0;
    let resumedFrom: number | null = null;
    let lastAcc = Number.NaN;
    const cpDir = opts.checkpointDir ?? null;
    if (cpDir && opts.resume !== false) {
      const loaded = await loadLatestCheckpoint(cpDir, (dir, err) => {
        log('warn', `checkpoint ${dir} set aside: ${err.message}`);
        hooks.problem?.(
          'warning',
          `${dir}.bad`,
          `field checkpoint failed verification and was set aside: ${err.message}`,
        );
      });
      if (loaded) {
        if (loaded.meta.datasetFingerprint !== fingerprint) {
          log('warn', `checkpoint ${loaded.dir} was trained on a different dataset; starting fresh`);
        } else {
          try {
            backend.setState(loaded.state);
            step = loaded.state.step;
            resumedFrom = step;
            lastAcc = loaded.meta.heldoutAccuracy ?? Number.NaN;
            log('info', `resumed from checkpoint at step ${step}`);
          } catch (err) {
            log(
              'warn',
              `checkpoint ${loaded.dir} does not fit this configuration (${(err as Error).message}); starting fresh`,
            );
            await backend.init(cfg, ds, seed);
          }
        }
      }
    }
    let lastSaved = step;
    let checkpoint: string | null = null;
    const save = async () => {
      if (!cpDir) return;
      const meta: CheckpointMeta = {
        engine,
        seed,
        datasetFingerprint: fingerprint,
        heldoutAccuracy: Number.isFinite(lastAcc) ? lastAcc : null,
        samplesSeen: step * cfg.batchSize,
      };
      checkpoint = await saveCheckpoint(cpDir, backend.getState(), meta, opts.keepCheckpoints ?? 2);
      lastSaved = step;
    };
    const every = opts.checkpointEvery ?? 500;
    const evalEvery = opts.evalEvery ?? 200;
    const interval = opts.metricsIntervalMs ?? 500;
    let last = {
      loss: Number.NaN,
      loss_language: Number.NaN,
      loss_vision: Number.NaN,
      temperature: Math.exp(cfg.loss.initLogTemperature),
    };
    let stepTime = 0;
    let stepsRun = 0;
    let lastEmit = 0;
    const emit = () => {
      const sps = stepTime > 0 ? (stepsRun * cfg.batchSize) / (stepTime / 1000) : 0;
      const values: Record<string, number> = {
        step,
        samples_per_s: sps,
        eta_s: sps > 0 ? ((opts.steps - step) * cfg.batchSize) / sps : 0,
        loss: last.loss,
        loss_language: last.loss_language,
        loss_vision: last.loss_vision,
        temperature: last.temperature,
        threads: backend.threads,
        grid_threads: backend.gridThreads,
      };
      if (Number.isFinite(lastAcc)) values.heldout_accuracy = lastAcc;
      hooks.metrics?.(values);
      hooks.progress?.('train', step, opts.steps);
      lastEmit = performance.now();
    };
    while (step < opts.steps) {
      if (hooks.signal?.aborted) {
        if (step > lastSaved) await save();
        throw abortError();
      }
      const t0 = performance.now();
      const s = await backend.step(sampler.batchAt(step));
      stepTime += performance.now() - t0;
      stepsRun++;
      step++;
      if (!Number.isFinite(s.loss))
        throw new FieldTrainError(`loss became ${s.loss} at step ${step}; try a lower learning rate`);
      last = s;
      if (step % evalEvery === 0) lastAcc = await heldoutAccuracy(backend, ds, evalIdx);
      if (every > 0 && step % every === 0 && step < opts.steps) await save();
      if (performance.now() - lastEmit >= interval) emit();
    }
    if (heldout.length > 0) lastAcc = await heldoutAccuracy(backend, ds, heldout);
    if (step > lastSaved || !checkpoint) await save();
    emit();
    keep = opts.keepBackend === true;
    return {
      engine,
      provider: (backend as { providerNote?: string | null }).providerNote
        ? `${backend.provider} (${(backend as { providerNote?: string | null }).providerNote})`
        : backend.provider,
      threads: backend.threads,
      grid_threads: backend.gridThreads,
      steps: step,
      samples_per_s: stepTime > 0 ? (stepsRun * cfg.batchSize) / (stepTime / 1000) : 0,
      final: {
        loss: last.loss,
        loss_language: last.loss_language,
        loss_vision: last.loss_vision,
        heldout_accuracy: lastAcc,
      },
      checkpoint,
      resumed_from: resumedFrom,
      ...(keep ? { backend } : {}),
    };
  } finally {
    if (!keep) await backend.dispose();
  }
}
