/**
 * Training throughput benchmark: samples/s of each engine and preset at batch 2048 and the paper batch,
 * with the per-step breakdown (batch assembly, grid gather/scatter, graph, optimizer; for the onnx engine the
 * grid scatter-add is fused with the grid Adam and counted in optim) and the number of grid threads.
 * CLIP_FIELDS_GRID_THREADS=1 measures the single-threaded grid path.
 *
 *   npx tsx main/core/field/bench.ts [--quick] [--repeats N] [--only <case-name substring>]
 */
import * as os from 'node:os';
import type { LabeledPointDataset } from '../dataset/types';
import type { StepTimes } from './backend';
import { type ConfigOverrides, type FieldConfig, type PresetName, makeConfig } from './config';
import { Rng } from './rng';
import { syntheticDataset } from './synthetic';
import { type EngineName, createBackend } from './train';

export interface BenchEntry {
  name: string;
  unit: string;
  samples: number[];
  meta?: Record<string, unknown>;
}

interface Case {
  engine: EngineName;
  preset: PresetName;
  batch: number;
  dataset: 'few-detections' | 'many-detections';
  overrides?: ConfigOverrides;
  steps: number;
}

function datasets(quick: boolean): Record<Case['dataset'], LabeledPointDataset> {
  const points = quick ? 60_000 : 200_000;
  return {
    // 20 labels x 10 detections: U_language = 20, U_vision <= 200 per batch.
    'few-detections': syntheticDataset({ points, classes: 20, detectionsPerClass: 10, seed: 1 }),
    // 20 labels x 250 detections: most samples of a batch come from a different detection.
    'many-detections': syntheticDataset({ points, classes: 20, detectionsPerClass: 250, seed: 2 }),
  };
}

function cases(quick: boolean): Case[] {
  const steps = quick ? 4 : 10;
  const paperGrid: ConfigOverrides = quick ? { grid: { log2TableSize: 17 } } : {};
  const out: Case[] = [
    { engine: 'onnx', preset: 'cpu', batch: 2048, dataset: 'few-detections', steps },
    { engine: 'onnx', preset: 'cpu', batch: 2048, dataset: 'many-detections', steps },
    {
      engine: 'onnx',
      preset: 'cpu',
      batch: 2048,
      dataset: 'few-detections',
      steps,
      overrides: { optimizer: { gridUpdate: 'dense' } },
    },
    { engine: 'onnx', preset: 'cpu', batch: 12544, dataset: 'few-detections', steps: Math.max(2, steps / 2) },
    { engine: 'onnx', preset: 'paper', batch: 2048, dataset: 'few-detections', steps, overrides: paperGrid },
    {
      engine: 'onnx',
      preset: 'paper',
      batch: 12544,
      dataset: 'few-detections',
      steps: Math.max(2, steps / 2),
      overrides: paperGrid,
    },
    { engine: 'tfjs', preset: 'cpu', batch: 2048, dataset: 'few-detections', steps: Math.max(2, steps / 2) },
  ];
  if (!quick) {
    out.push(
      { engine: 'tfjs', preset: 'cpu', batch: 12544, dataset: 'few-detections', steps: 2 },
      { engine: 'tfjs', preset: 'paper', batch: 2048, dataset: 'few-detections', steps: 2 },
    );
  }
  return out;
}

function caseName(c: Case, cfg: FieldConfig): string {
  const extra = cfg.optimizer.gridUpdate === 'dense' ? '/dense-adam' : '';
  const t = c.overrides?.grid?.log2TableSize ? `/T${c.overrides.grid.log2TableSize}` : '';
  return `field.train/${c.engine}/${c.preset}${t}/b${c.batch}/${c.dataset}${extra}`;
}

export async function benchTraining(opts: {
  repeats: number;
  quick?: boolean;
  /** Run only the cases whose name contains this string. */
  only?: string;
  log?: (line: string) => void;
}): Promise<BenchEntry[]> {
  const quick = opts.quick ?? false;
  const log = opts.log ?? (() => undefined);
  const data = datasets(quick);
  const out: BenchEntry[] = [];
  for (const c of cases(quick)) {
    const cfg = makeConfig(c.preset, { ...c.overrides, batchSize: c.batch });
    const name = caseName(c, cfg);
    if (opts.only && !name.includes(opts.only)) continue;
    const ds = data[c.dataset];
    const backend = createBackend(c.engine);
    const samples: number[] = [];
    const times: StepTimes = { batch_ms: 0, grid_ms: 0, graph_ms: 0, optim_ms: 0 };
    let measured = 0;
    let bestStep = Infinity;
    let error: string | null = null;
    let gridThreads = backend.gridThreads;
    let providerNote: string | null = null;
    try {
      await backend.init(cfg, ds, 1);
      // (read before dispose, which stops the grid workers)
      gridThreads = backend.gridThreads;
      providerNote = (backend as { providerNote?: string | null }).providerNote ?? null;
      const rng = new Rng(7);
      const batch = () => Int32Array.from({ length: c.batch }, () => rng.int(ds.points));
      await backend.step(batch()); // warm-up (first-touch page faults, session warm-up)
      for (let r = 0; r < opts.repeats; r++) {
        let ms = 0;
        for (let s = 0; s < c.steps; s++) {
          const idx = batch();
          const t0 = performance.now();
          const st = await backend.step(idx);
          const dt = performance.now() - t0;
          ms += dt;
          bestStep = Math.min(bestStep, dt);
          for (const k of Object.keys(times) as (keyof StepTimes)[]) times[k] += st.times[k];
          measured++;
        }
        samples.push((c.steps * c.batch) / (ms / 1000));
      }
    } catch (err) {
      error = (err as Error).message;
    } finally {
      await backend.dispose();
    }
    const mean = (v: number) => (measured > 0 ? +(v / measured).toFixed(2) : null);
    const meta = {
      engine: c.engine,
      provider: backend.provider,
      threads: backend.threads,
      // Threads sharing the hash-grid work (corners, gather, scatter, grid Adam), this one included.
      grid_threads: gridThreads,
      ...(providerNote ? { provider_note: providerNote } : {}),
      preset: c.preset,
      batch: c.batch,
      dataset: {
        name: c.dataset,
        points: ds.points,
        labels: ds.labels.texts.length,
        detections: ds.detections.count,
      },
      grid: cfg.grid,
      mlp: cfg.mlp,
      grid_update: cfg.optimizer.gridUpdate,
      steps_per_repeat: c.steps,
      // The fastest single step: the least disturbed by other processes on a shared machine.
      best_step_ms: Number.isFinite(bestStep) ? +bestStep.toFixed(2) : null,
      best_samples_per_s: Number.isFinite(bestStep) ? Math.round(c.batch / (bestStep / 1000)) : null,
      load_avg_1m: +os.loadavg()[0]!.toFixed(2),
      step_ms: {
        batch: mean(times.batch_ms),
        grid: mean(times.grid_ms),
        graph: mean(times.graph_ms),
        optim: mean(times.optim_ms),
      },
      ...(error ? { error } : {}),
    };
    out.push({ name, unit: 'samples/s', samples, meta });
    log(
      `${name}: ${samples.map((v) => v.toFixed(0)).join(', ')} samples/s (best step ${meta.best_samples_per_s}/s, grid threads ${meta.grid_threads}, load ${meta.load_avg_1m}); step ms ${JSON.stringify(meta.step_ms)}${error ? ` ERROR ${error}` : ''}`,
    );
  }
  return out;
}

if (process.argv[1]?.replace(/\\/g, '/').endsWith('field/bench.ts')) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const ri = args.indexOf('--repeats');
  const repeats = ri >= 0 ? Math.max(1, Number(args[ri + 1]) || 1) : 3;
  const oi = args.indexOf('--only');
  const only = oi >= 0 ? args[oi + 1] : undefined;
  benchTraining({ repeats, quick, ...(only ? { only } : {}), log: (l) => console.log(l) })
    .then((entries) => console.log(JSON.stringify(entries, null, 1)))
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
