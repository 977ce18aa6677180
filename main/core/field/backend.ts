/**
 * The training-engine interface and the state every engine shares: hash-grid table, MLP weights,
 * log-temperature, Adam moments and the step counter, all as Float32Arrays owned by TypeScript.
 * Engines differ only in how they compute the gradients of one batch (`computeGrads`).
 */
import type { LabeledPointDataset } from '../dataset/types';
import { adamDense, adamGridDense, adamGridRows } from './adam';
import {
  BatchPreparer,
  type Bounds,
  type PreparedBatch,
  checkDataset,
  datasetBounds,
  normalizePoints,
} from './batch';
import { type FieldConfig, validateConfig } from './config';
import { type GraphDims, mlpLayers } from './graph';
import {
  type GridCorners,
  type GridLayout,
  GridStore,
  type TouchedRows,
  allocCorners,
  clearTouched,
  computeCorners,
  gatherFeatures,
  gridLayout,
  makeTouched,
} from './hashgrid';
import { GridPool, type GridPoolOptions } from './grid-threads';
import { Rng } from './rng';

export interface StepTimes {
  /** Batch assembly (positions, distinct targets). */
  batch_ms: number;
  /**
   * Hash-grid corner computation and gather, plus the scatter-add when the engine does it itself (tfjs). With
   * the grid thread pool (onnx) the scatter-add is fused with the grid Adam, level by level, and counted in
   * optim_ms.
   */
  grid_ms: number;
  /** MLP + loss forward/backward (the ONNX session or the tfjs graph). */
  graph_ms: number;
  /** Adam over the MLP, temperature and grid rows (and the fused grid scatter-add, see grid_ms). */
  optim_ms: number;
}

export interface StepStats {
  loss: number;
  loss_language: number;
  loss_vision: number;
  temperature: number;
  times: StepTimes;
}

export interface Prediction {
  /** `n * languageDim`, raw (not normalised) language-head outputs. */
  language: Float32Array;
  /** `n * visionDim`, or null without a vision head. */
  vision: Float32Array | null;
}

export interface AdamMoments {
  m: Float32Array;
  v: Float32Array;
}

/** Everything needed to continue training or to query the field. */
export interface FieldState {
  config: FieldConfig;
  dims: GraphDims;
  bounds: Bounds;
  grid: Float32Array;
  /** W0, b0, W1, b1, ... (W_k row-major [in, out]). */
  weights: Float32Array[];
  logTemperature: number;
  step: number;
  adam: { grid: AdamMoments; weights: AdamMoments[]; logTemperature: AdamMoments };
}

export interface Gradients {
  loss: number;
  loss_language: number;
  loss_vision: number;
  /** Dense gradient of the whole grid table (`totalRows * F`). */
  grid: Float32Array;
  weights: Float32Array[];
  logTemperature: number;
}

export interface TrainingBackend {
  readonly name: 'onnx' | 'tfjs';
  /** Execution provider / tfjs backend actually used (e.g. 'onnxruntime-cpu', 'tfjs-wasm'). */
  readonly provider: string;
  readonly threads: number;
  /** Threads sharing the hash-grid work (1 = the calling thread only); see grid-threads.ts. */
  readonly gridThreads: number;
  init(config: FieldConfig, dataset: LabeledPointDataset, seed: number): Promise<void>;
  step(batchIndices: ArrayLike<number>): Promise<StepStats>;
  /** Gradients of one batch without updating anything (for checks). */
  gradients(batchIndices: ArrayLike<number>): Promise<Gradients>;
  predict(xyz: Float32Array): Promise<Prediction>;
  /** Last hidden activations `n * hiddenDim` (for the query cache). */
  hidden(xyz: Float32Array): Promise<Float32Array>;
  getState(): FieldState;
  setState(state: FieldState): void;
  dispose(): Promise<void>;
}

export class FieldStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldStateError';
  }
}

/** Gradients an engine computed for one prepared batch; the grid part is accumulated into the store's G slot (rows listed in `touched`). */
export interface EngineGrads {
  loss: number;
  loss_language: number;
  loss_vision: number;
  weights: Float32Array[];
  logTemperature: number;
  grid_ms: number;
  graph_ms: number;
  /**
   * Point-major feature gradients `B * L*F` of a batch whose features came from `gridForward`: the base then
   * scatters them into the grid itself (fused with the grid Adam in `step`). Engines that scatter into the
   * store's G slot themselves (listing rows in `touched`) leave it out.
   */
  dFeatures?: Float32Array;
}

export function graphDimsFor(config: FieldConfig, ds: LabeledPointDataset): GraphDims {
  return {
    inDim: config.grid.levels * config.grid.featuresPerLevel,
    width: config.mlp.width,
    depth: config.mlp.depth,
    language: ds.labels.dim,
    vision: ds.detections.clipEmbeddings ? ds.detections.clipDim : 0,
  };
}

export const PREDICT_CHUNK = 8192;

export abstract class BackendBase implements TrainingBackend {
  abstract readonly name: 'onnx' | 'tfjs';
  abstract readonly provider: string;
  abstract readonly threads: number;

  protected config!: FieldConfig;
  protected dims!: GraphDims;
  protected layout!: GridLayout;
  protected bounds!: Bounds;
  protected store!: GridStore;
  protected weights: Float32Array[] = [];
  protected weightAdam: AdamMoments[] = [];
  protected logTemp = new Float32Array(1);
  protected tempAdam: AdamMoments = { m: new Float32Array(1), v: new Float32Array(1) };
  protected stepCount = 0;
  protected preparer!: BatchPreparer;
  protected touched!: TouchedRows;
  private corners: GridCorners | null = null;
  /** Grid threads to ask for (subclasses set it; the pool may fall back to fewer, see gridNote). */
  protected gridOptions: GridPoolOptions = { threads: 1 };
  protected pool: GridPool | null = null;
  /** True between a pool forward of a batch and its scatter (the pool holds that batch's corners). */
  private batchInPool = false;

  protected abstract initEngine(): Promise<void>;
  protected abstract computeGrads(batch: PreparedBatch, corners: GridCorners): Promise<EngineGrads>;
  /** MLP forward for `n` rows of features; returns language, vision, hidden. */
  protected abstract forward(
    features: Float32Array,
    n: number,
  ): Promise<{ language: Float32Array; vision: Float32Array | null; hidden: Float32Array }>;
  abstract dispose(): Promise<void>;

  async init(config: FieldConfig, dataset: LabeledPointDataset, seed: number): Promise<void> {
    validateConfig(config);
    const targets = checkDataset(dataset);
    this.config = config;
    this.dims = graphDimsFor(config, dataset);
    this.layout = gridLayout(config.grid);
    this.bounds = datasetBounds(dataset);
    this.preparer = new BatchPreparer(dataset, this.bounds, targets, config);
    const rng = new Rng(seed);
    const F = config.grid.featuresPerLevel;
    this.store = new GridStore(this.layout.totalRows, F, true);
    const s = config.grid.initScale;
    const data = this.store.data;
    for (let r = 0; r < this.layout.totalRows; r++)
      for (let f = 0; f < F; f++) data[r * 4 * F + f] = rng.uniform(-s, s);
    this.weights = [];
    for (const layer of mlpLayers(this.dims)) {
      // torch.nn.Linear default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
      const bound = 1 / Math.sqrt(layer.inDim);
      const W = new Float32Array(layer.inDim * layer.outDim);
      for (let i = 0; i < W.length; i++) W[i] = rng.uniform(-bound, bound);
      const b = new Float32Array(layer.outDim);
      for (let i = 0; i < b.length; i++) b[i] = rng.uniform(-bound, bound);
      this.weights.push(W, b);
    }
    this.weightAdam = this.weights.map((w) => ({
      m: new Float32Array(w.length),
      v: new Float32Array(w.length),
    }));
    this.logTemp[0] = config.loss.initLogTemperature;
    this.tempAdam = { m: new Float32Array(1), v: new Float32Array(1) };
    this.stepCount = 0;
    this.touched = makeTouched(this.layout, config.batchSize * this.layout.levels * 8);
    await this.disposeGrid();
    this.pool = await GridPool.create(
      this.layout,
      this.store,
      Math.max(config.batchSize, PREDICT_CHUNK),
      this.gridOptions,
    );
    await this.initEngine();
  }

  /** Threads sharing the grid work (after init; 1 before). */
  get gridThreads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Why the grid runs on fewer threads than asked for, or null. */
  get gridNote(): string | null {
    return this.pool?.note ?? null;
  }

  /** Stop the grid worker threads (engines call it from dispose). */
  protected async disposeGrid(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    this.batchInPool = false;
    if (pool) await pool.dispose();
  }

  /**
   * Grid features (point-major `n * L*F`, into `out`) of a training batch on the thread pool; the engine returns
   * the batch's feature gradients as `dFeatures` and the base scatters them.
   */
  protected gridForward(xyzUnit: Float32Array, n: number, out: Float32Array): void {
    if (!this.pool) throw new FieldStateError('field engine used before init');
    this.pool.forward(xyzUnit, n, out);
    this.batchInPool = true;
  }

  /** Adam over the MLP weights and the log-temperature (with its clamp). */
  private denseAdam(g: EngineGrads, t: number): void {
    const h = this.config.optimizer;
    this.weights.forEach((w, k) =>
      adamDense(w, g.weights[k]!, this.weightAdam[k]!.m, this.weightAdam[k]!.v, t, h),
    );
    adamDense(this.logTemp, new Float32Array([g.logTemperature]), this.tempAdam.m, this.tempAdam.v, t, h);
    if (this.logTemp[0]! > this.config.loss.maxLogTemperature)
      this.logTemp[0] = this.config.loss.maxLogTemperature;
  }

  private ensureTouchedCapacity(n: number): void {
    const need = Math.min(this.layout.totalRows, n * this.layout.levels * 8);
    clearTouched(this.touched);
    if (this.touched.list.length < need) this.touched.list = new Int32Array(need);
  }

  private async gradsOf(
    batchIndices: ArrayLike<number>,
  ): Promise<{ g: EngineGrads; batch_ms: number; B: number }> {
    const t0 = performance.now();
    const batch = this.preparer.prepare(batchIndices);
    const batch_ms = performance.now() - t0;
    if (!this.corners || this.corners.rows.length < batch.B * this.layout.levels * 8)
      this.corners = allocCorners(this.layout, batch.B);
    const corners = this.corners;
    this.ensureTouchedCapacity(batch.B);
    this.pool?.clearGrad(); // (a no-op unless an earlier step failed between its scatter and its Adam)
    this.batchInPool = false;
    const g = await this.computeGrads(batch, corners);
    return { g, batch_ms, B: batch.B };
  }

  async step(batchIndices: ArrayLike<number>): Promise<StepStats> {
    const { g, batch_ms, B } = await this.gradsOf(batchIndices);
    const t0 = performance.now();
    const t = ++this.stepCount;
    const h = this.config.optimizer;
    if (g.dFeatures) {
      // Scatter-add and grid Adam level by level on the pool; the MLP Adam runs on this thread meanwhile.
      this.batchInPool = false;
      this.pool!.scatterAdam(g.dFeatures, B, t, h, h.gridUpdate, () => this.denseAdam(g, t));
    } else {
      this.denseAdam(g, t);
      const F = this.layout.features;
      if (h.gridUpdate === 'lazy')
        adamGridRows(this.store.data, F, this.touched.list, this.touched.count, t, h);
      else adamGridDense(this.store.data, F, this.layout.totalRows, t, h);
      clearTouched(this.touched);
    }
    const optim_ms = performance.now() - t0;
    return {
      loss: g.loss,
      loss_language: g.loss_language,
      loss_vision: g.loss_vision,
      temperature: Math.exp(this.logTemp[0]!),
      times: { batch_ms, grid_ms: g.grid_ms, graph_ms: g.graph_ms, optim_ms },
    };
  }

  private clearGridGrad(): void {
    const F = this.layout.features;
    const { data, stride } = this.store;
    for (let k = 0; k < this.touched.count; k++)
      data.fill(0, this.touched.list[k]! * stride + F, this.touched.list[k]! * stride + 2 * F);
    clearTouched(this.touched);
  }

  async gradients(batchIndices: ArrayLike<number>): Promise<Gradients> {
    const { g, B } = await this.gradsOf(batchIndices);
    let grid: Float32Array;
    if (g.dFeatures) {
      this.batchInPool = false;
      this.pool!.scatter(g.dFeatures, B);
      grid = this.store.extract(GridStore.G);
      this.pool!.clearGrad();
    } else {
      grid = this.store.extract(GridStore.G);
      this.clearGridGrad();
    }
    return {
      loss: g.loss,
      loss_language: g.loss_language,
      loss_vision: g.loss_vision,
      grid,
      weights: g.weights,
      logTemperature: g.logTemperature,
    };
  }

  /** Grid features of world points, in chunks; calls `sink(features, start, n)` per chunk. */
  protected async forEachChunk(
    xyz: Float32Array,
    sink: (out: Awaited<ReturnType<BackendBase['forward']>>, start: number, n: number) => void,
  ): Promise<void> {
    if (xyz.length % 3 !== 0)
      throw new FieldStateError(`predict: xyz length ${xyz.length} is not a multiple of 3`);
    const total = xyz.length / 3;
    const D = this.layout.outDim;
    for (let start = 0; start < total; start += PREDICT_CHUNK) {
      const n = Math.min(PREDICT_CHUNK, total - start);
      const unit = new Float32Array(n * 3);
      normalizePoints(xyz.subarray(start * 3, (start + n) * 3), n, this.bounds, unit);
      const feat = new Float32Array(n * D);
      if (this.pool && !this.batchInPool) {
        this.pool.forward(unit, n, feat);
      } else {
        // A training batch's corners are in the pool (a predict between its forward and its scatter).
        const corners = allocCorners(this.layout, n);
        computeCorners(this.layout, unit, n, corners);
        gatherFeatures(this.layout, this.store.data, corners, feat, this.store.stride, 0);
      }
      sink(await this.forward(feat, n), start, n);
    }
  }

  async predict(xyz: Float32Array): Promise<Prediction> {
    const total = xyz.length / 3;
    const language = new Float32Array(total * this.dims.language);
    const vision = this.dims.vision > 0 ? new Float32Array(total * this.dims.vision) : null;
    await this.forEachChunk(xyz, (out, start) => {
      language.set(out.language, start * this.dims.language);
      if (vision && out.vision) vision.set(out.vision, start * this.dims.vision);
    });
    return { language, vision };
  }

  async hidden(xyz: Float32Array): Promise<Float32Array> {
    const total = xyz.length / 3;
    const width = this.dims.depth === 0 ? this.dims.inDim : this.dims.width;
    const hidden = new Float32Array(total * width);
    await this.forEachChunk(xyz, (out, start) => hidden.set(out.hidden, start * width));
    return hidden;
  }

  getState(): FieldState {
    return {
      config: structuredClone(this.config),
      dims: { ...this.dims },
      bounds: { min: [...this.bounds.min], max: [...this.bounds.max] },
      grid: this.store.extract(GridStore.P),
      weights: this.weights.map((w) => w.slice()),
      logTemperature: this.logTemp[0]!,
      step: this.stepCount,
      adam: {
        grid: { m: this.store.extract(GridStore.M), v: this.store.extract(GridStore.V) },
        weights: this.weightAdam.map((a) => ({ m: a.m.slice(), v: a.v.slice() })),
        logTemperature: { m: this.tempAdam.m.slice(), v: this.tempAdam.v.slice() },
      },
    };
  }

  setState(state: FieldState): void {
    const d = this.dims;
    const sd = state.dims;
    if (
      sd.inDim !== d.inDim ||
      sd.width !== d.width ||
      sd.depth !== d.depth ||
      sd.language !== d.language ||
      sd.vision !== d.vision
    ) {
      throw new FieldStateError(
        `state dims ${JSON.stringify(sd)} do not match the model ${JSON.stringify(d)}`,
      );
    }
    const nGrid = this.layout.totalRows * this.layout.features;
    if (
      state.grid.length !== nGrid ||
      state.adam.grid.m.length !== nGrid ||
      state.adam.grid.v.length !== nGrid
    ) {
      throw new FieldStateError(`state grid has ${state.grid.length} values, the model needs ${nGrid}`);
    }
    if (
      state.weights.length !== this.weights.length ||
      state.weights.some((w, k) => w.length !== this.weights[k]!.length)
    ) {
      throw new FieldStateError('state MLP weights do not match the model');
    }
    if (
      state.adam.weights.length !== this.weights.length ||
      state.adam.weights.some(
        (a, k) => a.m.length !== this.weights[k]!.length || a.v.length !== this.weights[k]!.length,
      )
    ) {
      throw new FieldStateError('state Adam moments do not match the model');
    }
    if (!Number.isInteger(state.step) || state.step < 0 || !Number.isFinite(state.logTemperature))
      throw new FieldStateError('state step/temperature invalid');
    this.store.insert(GridStore.P, state.grid);
    this.store.insert(GridStore.M, state.adam.grid.m);
    this.store.insert(GridStore.V, state.adam.grid.v);
    clearTouched(this.touched);
    this.pool?.clearGrad();
    state.weights.forEach((w, k) => this.weights[k]!.set(w));
    state.adam.weights.forEach((a, k) => {
      this.weightAdam[k]!.m.set(a.m);
      this.weightAdam[k]!.v.set(a.v);
    });
    this.logTemp[0] = state.logTemperature;
    this.tempAdam.m.set(state.adam.logTemperature.m);
    this.tempAdam.v.set(state.adam.logTemperature.v);
    this.stepCount = state.step;
    // In place: the batch preparer holds this object.
    for (let a = 0; a < 3; a++) {
      this.bounds.min[a] = state.bounds.min[a]!;
      this.bounds.max[a] = state.bounds.max[a]!;
    }
  }

  get layoutInfo(): GridLayout {
    return this.layout;
  }
}

export { computeCorners, gatherFeatures };
