/**
 * The default engine: hash-grid gather/scatter and Adam in TypeScript, split by level between this thread and
 * grid worker threads (grid-threads.ts) while onnxruntime is idle, MLP + contrastive loss forward and backward
 * as one ordinary ONNX graph run by onnxruntime-node on the CPU execution provider.
 */
import * as ort from 'onnxruntime-node';
import type { PreparedBatch, HeadBatch } from './batch';
import { BackendBase, type EngineGrads } from './backend';
import {
  TRAIN_OUTPUTS,
  biasName,
  buildInferGraph,
  buildTrainGraph,
  gradBiasName,
  gradWeightName,
  mlpLayers,
  weightName,
} from './graph';
import { defaultGridThreads } from './grid-threads';

export interface OnnxEngineOptions {
  /** intra-op threads of the CPU EP (default 2). */
  threads?: number;
  /**
   * Let ORT's intra-op threads busy-wait between runs (default false: on a 2-core machine spinning threads
   * steal the core the TypeScript grid/Adam work needs right after each run).
   */
  spinning?: boolean;
  /**
   * Execution provider: 'cpu' (default), 'webgpu' (bundled with onnxruntime-node), 'cuda' (when the user has
   * installed ORT's CUDA libraries), or 'auto' (cuda, then webgpu, then cpu: the first whose sessions build).
   * The environment variable CLIP_FIELDS_ORT_PROVIDER sets the default.
   */
  provider?: OrtProvider;
  /**
   * Threads sharing the hash-grid work, this one included (default CLIP_FIELDS_GRID_THREADS, else
   * min(2, CPUs)); 1 forces the single-threaded path. Results are bit-identical for any value.
   */
  gridThreads?: number;
}

export type OrtProvider = 'cpu' | 'webgpu' | 'cuda' | 'auto';

export function defaultOrtProvider(env: NodeJS.ProcessEnv = process.env): OrtProvider {
  const v = env['CLIP_FIELDS_ORT_PROVIDER'];
  return v === 'webgpu' || v === 'cuda' || v === 'auto' ? v : 'cpu';
}

function scalar(t: ort.Tensor | undefined, name: string): number {
  if (!t) throw new Error(`onnx training graph did not return ${name}`);
  return (t.data as Float32Array)[0]!;
}

export class OnnxBackend extends BackendBase {
  readonly name = 'onnx' as const;
  provider = 'onnxruntime-node/cpu';
  readonly threads: number;
  private readonly spinning: boolean;
  private readonly wanted: OrtProvider;
  private epNote: string | null = null;
  private train: ort.InferenceSession | null = null;
  private infer: ort.InferenceSession | null = null;
  private features = new Float32Array(0);

  constructor(opts: OnnxEngineOptions = {}) {
    super();
    this.threads = opts.threads ?? 2;
    this.spinning = opts.spinning ?? false;
    this.wanted = opts.provider ?? defaultOrtProvider();
    this.gridOptions = { threads: opts.gridThreads ?? defaultGridThreads() };
  }

  /** Why a requested GPU provider or grid thread count was not used (shown with the provider), or null. */
  get providerNote(): string | null {
    const notes = [this.epNote, this.gridNote].filter((v): v is string => v !== null);
    return notes.length ? notes.join('; ') : null;
  }

  protected async initEngine(): Promise<void> {
    await this.releaseSessions();
    const loss = this.config.loss;
    const trainGraph = buildTrainGraph(this.dims, {
      labelToImageRatio: loss.labelToImageRatio,
      imageToLabelRatio: loss.imageToLabelRatio,
    });
    const inferGraph = buildInferGraph(this.dims);
    const candidates: ('cpu' | 'webgpu' | 'cuda')[] =
      this.wanted === 'auto'
        ? ['cuda', 'webgpu', 'cpu']
        : this.wanted === 'cpu'
          ? ['cpu']
          : [this.wanted, 'cpu'];
    const failures: string[] = [];
    for (const ep of candidates) {
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        executionProviders: [ep],
        intraOpNumThreads: this.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        extra: { session: { intra_op: { allow_spinning: this.spinning ? '1' : '0' } } },
      };
      try {
        this.train = await ort.InferenceSession.create(trainGraph, sessionOptions);
        this.infer = await ort.InferenceSession.create(inferGraph, sessionOptions);
        this.provider = `onnxruntime-node/${ep}`;
        this.epNote = failures.length ? failures.join('; ') : null;
        return;
      } catch (err) {
        await this.releaseSessions();
        failures.push(`${ep} unavailable (${(err as Error).message.split('\n')[0]})`);
        if (ep === 'cpu') throw err;
      }
    }
  }

  private weightFeeds(feeds: Record<string, ort.Tensor>): void {
    mlpLayers(this.dims).forEach((s, k) => {
      feeds[weightName(k)] = new ort.Tensor('float32', this.weights[2 * k]!, [s.inDim, s.outDim]);
      feeds[biasName(k)] = new ort.Tensor('float32', this.weights[2 * k + 1]!, [s.outDim]);
    });
  }

  private headFeeds(feeds: Record<string, ort.Tensor>, prefix: string, h: HeadBatch, B: number): void {
    feeds[`${prefix}_targets`] = new ort.Tensor('float32', h.targets, [h.U, h.dim]);
    feeds[`${prefix}_onehot`] = new ort.Tensor('float32', h.onehot, [B, h.U]);
    feeds[`${prefix}_counts`] = new ort.Tensor('float32', h.counts, [1, h.U]);
    feeds[`${prefix}_weight`] = new ort.Tensor('float32', h.weight, [B, 1]);
  }

  protected async computeGrads(batch: PreparedBatch): Promise<EngineGrads> {
    if (!this.train) throw new Error('onnx engine used before init');
    const B = batch.B;
    const D = this.layout.outDim;
    const t0 = performance.now();
    // onnxruntime-node rejects tensors on a SharedArrayBuffer: the pool writes into this plain buffer.
    if (this.features.length !== B * D) this.features = new Float32Array(B * D);
    this.gridForward(batch.xyzUnit, B, this.features);
    const t1 = performance.now();
    const feeds: Record<string, ort.Tensor> = {
      features: new ort.Tensor('float32', this.features, [B, D]),
      log_temperature: new ort.Tensor('float32', this.logTemp, [1]),
    };
    this.weightFeeds(feeds);
    this.headFeeds(feeds, 'language', batch.language, B);
    if (batch.vision) this.headFeeds(feeds, 'vision', batch.vision, B);
    const out = await this.train.run(feeds);
    const t2 = performance.now();
    const dFeat = out[TRAIN_OUTPUTS.dFeat]?.data as Float32Array | undefined;
    if (!dFeat) throw new Error('onnx training graph did not return the feature gradient');
    const weights: Float32Array[] = [];
    mlpLayers(this.dims).forEach((_s, k) => {
      weights.push(out[gradWeightName(k)]!.data as Float32Array, out[gradBiasName(k)]!.data as Float32Array);
    });
    return {
      loss: scalar(out[TRAIN_OUTPUTS.loss], 'loss'),
      loss_language: scalar(out[TRAIN_OUTPUTS.language], 'loss_language'),
      loss_vision: scalar(out[TRAIN_OUTPUTS.vision], 'loss_vision'),
      weights,
      logTemperature: scalar(out[TRAIN_OUTPUTS.dTau], 'grad_log_temperature'),
      grid_ms: t1 - t0,
      graph_ms: t2 - t1,
      dFeatures: dFeat,
    };
  }

  protected async forward(
    features: Float32Array,
    n: number,
  ): Promise<{ language: Float32Array; vision: Float32Array | null; hidden: Float32Array }> {
    if (!this.infer) throw new Error('onnx engine used before init');
    const feeds: Record<string, ort.Tensor> = {
      features: new ort.Tensor('float32', features, [n, this.layout.outDim]),
    };
    this.weightFeeds(feeds);
    const out = await this.infer.run(feeds);
    return {
      language: out.language!.data as Float32Array,
      vision: this.dims.vision > 0 ? (out.vision!.data as Float32Array) : null,
      hidden: out.hidden!.data as Float32Array,
    };
  }

  async dispose(): Promise<void> {
    await this.releaseSessions();
    await this.disposeGrid();
  }

  private async releaseSessions(): Promise<void> {
    const sessions = [this.train, this.infer];
    this.train = null;
    this.infer = null;
    for (const s of sessions) if (s) await s.release();
  }
}
