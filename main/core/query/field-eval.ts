/**
 * Evaluates a trained field (FieldState) over arbitrary world points without a training backend: the hash-grid
 * features are gathered in TypeScript (field/hashgrid.ts, the trainer's own code), the MLP runs as one small
 * ONNX graph on onnxruntime's CPU EP with the weights baked in as initializers.
 *
 * Per point the graph gives: the last hidden activations h (what the query cache stores), the norms of the raw
 * language and vision outputs, the unit-length outputs y = [o_l/||o_l||, o_v/||o_v||] (what queries are
 * scored against), and optionally the PCA coordinates z = (y - mu) V and the best-matching label (argmax of
 * y_l . label_embedding) with its cosine.
 */
import * as ort from 'onnxruntime-node';
import type { FieldState } from '../field/backend';
import { normalizePoints } from '../field/batch';
import { mlpLayers } from '../field/graph';
import { type GridLayout, allocCorners, computeCorners, gatherFeatures, gridLayout } from '../field/hashgrid';
import { GraphBuilder } from '../onnx/builder';
import { QueryError } from './errors';

export interface FieldHeads {
  language: number;
  vision: number;
  /** Width of the last hidden layer (the input of the final linear layer). */
  hidden: number;
}

export function fieldHeads(state: FieldState): FieldHeads {
  const d = state.dims;
  return { language: d.language, vision: d.vision, hidden: d.depth === 0 ? d.inDim : d.width };
}

/** The final linear layer, split per head: W is row-major [hidden, out]. */
export function lastLayer(state: FieldState): { W: Float32Array; b: Float32Array } {
  const L = mlpLayers(state.dims).length;
  const W = state.weights[2 * (L - 1)];
  const b = state.weights[2 * (L - 1) + 1];
  if (!W || !b) throw new QueryError('INVALID_INPUT', null, 'field state has no final layer weights');
  return { W, b };
}

export interface EvalOptions {
  /** PCA of y: mean (D) and basis (D x r row-major). */
  pca?: { mean: Float32Array; basis: Float32Array; rank: number } | null;
  /** Label embeddings (count x language, unit rows) for the top-label segmentation. */
  labels?: { embeddings: Float32Array; count: number } | null;
  threads?: number;
  /** Points per ONNX run. */
  chunk?: number;
}

export interface EvalChunk {
  start: number;
  n: number;
  hidden: Float32Array;
  normLanguage: Float32Array;
  normVision: Float32Array | null;
  /** n x (language + vision), unit per head. */
  y: Float32Array;
  z: Float32Array | null;
  topLabel: Int32Array | null;
  topScore: Float32Array | null;
}

function buildEvalGraph(state: FieldState, opts: EvalOptions): Uint8Array {
  const g = new GraphBuilder('clip_field_query_eval');
  const d = state.dims;
  const layers = mlpLayers(d);
  let h = g.input('features', 'float32', ['B', d.inDim]);
  let out = '';
  layers.forEach((s, k) => {
    const W = g.initializer(`W${k}`, {
      elem: 'float32',
      dims: [s.inDim, s.outDim],
      data: state.weights[2 * k]!,
    });
    const b = g.initializer(`b${k}`, { elem: 'float32', dims: [s.outDim], data: state.weights[2 * k + 1]! });
    const a = g.op('Add', [g.op('MatMul', [h, W]), b]);
    if (k === layers.length - 1) out = a;
    else h = g.op('Relu', [a]);
  });
  const heads = fieldHeads(state);
  g.output(h, 'hidden', 'float32', ['B', heads.hidden]);
  const eps = g.constFloat(1e-12);
  const axes = g.constInt64([1]);
  const unit = (x: string, name: string): string => {
    const n = g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [x, x]), axes], { keepdims: 1 })]);
    g.output(n, name, 'float32', ['B', 1]);
    return g.op('Div', [x, g.op('Max', [n, eps])]);
  };
  const slice = (x: string, a: number, b: number) =>
    g.op('Slice', [x, g.constInt64([a]), g.constInt64([b]), g.constInt64([1])]);
  const lang = d.vision > 0 ? slice(out, 0, d.language) : out;
  const yl = unit(lang, 'norm_language');
  let y = yl;
  if (d.vision > 0) {
    const yv = unit(slice(out, d.language, d.language + d.vision), 'norm_vision');
    y = g.op('Concat', [yl, yv], { axis: 1 });
  }
  const D = d.language + d.vision;
  g.output(y, 'y', 'float32', ['B', D]);
  if (opts.pca) {
    const mu = g.initializer('pca_mean', { elem: 'float32', dims: [D], data: opts.pca.mean });
    const V = g.initializer('pca_basis', { elem: 'float32', dims: [D, opts.pca.rank], data: opts.pca.basis });
    g.output(g.op('MatMul', [g.op('Sub', [y, mu]), V]), 'z', 'float32', ['B', opts.pca.rank]);
  }
  if (opts.labels && opts.labels.count > 0) {
    const T = g.initializer('label_embeddings', {
      elem: 'float32',
      dims: [opts.labels.count, d.language],
      data: opts.labels.embeddings,
    });
    const s = g.op('Gemm', [yl, T], { transB: 1 });
    g.output(g.op('ArgMax', [s], { axis: 1, keepdims: 0 }), 'top_label', 'int64', ['B']);
    g.output(g.op('ReduceMax', [s], { axes: [1], keepdims: 0 }), 'top_score', 'float32', ['B']);
  }
  return g.toBytes({ doc: 'CLIP-Fields query evaluation: hidden, head norms, unit outputs, PCA, top label' });
}

/** A reusable evaluator of one field state (call `dispose` when done). */
export class FieldEvaluator {
  private session: ort.InferenceSession | null = null;
  readonly layout: GridLayout;
  readonly heads: FieldHeads;

  private constructor(
    readonly state: FieldState,
    private readonly opts: EvalOptions,
  ) {
    this.layout = gridLayout(state.config.grid);
    this.heads = fieldHeads(state);
    const F = state.config.grid.featuresPerLevel;
    if (state.grid.length !== this.layout.totalRows * F) {
      throw new QueryError(
        'INVALID_INPUT',
        null,
        `field grid has ${state.grid.length} values, its config needs ${this.layout.totalRows * F}`,
      );
    }
  }

  static async create(state: FieldState, opts: EvalOptions = {}): Promise<FieldEvaluator> {
    const ev = new FieldEvaluator(state, opts);
    ev.session = await ort.InferenceSession.create(buildEvalGraph(state, opts), {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.threads ?? 2,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return ev;
  }

  /** Grid features of `n` world points (n x inDim). */
  features(xyz: Float32Array, n: number): Float32Array {
    const unit = new Float32Array(n * 3);
    normalizePoints(xyz, n, this.state.bounds, unit);
    const corners = allocCorners(this.layout, n);
    computeCorners(this.layout, unit, n, corners);
    const feat = new Float32Array(n * this.layout.outDim);
    gatherFeatures(this.layout, this.state.grid, corners, feat, this.layout.features, 0);
    return feat;
  }

  /** Evaluate all points of `xyz` chunk by chunk; `sink` receives each chunk (its arrays are fresh). */
  async run(
    xyz: Float32Array,
    sink: (c: EvalChunk) => void | Promise<void>,
    signal?: AbortSignal,
  ): Promise<void> {
    if (!this.session) throw new QueryError('INTERNAL', null, 'evaluator disposed');
    const total = Math.floor(xyz.length / 3);
    const chunk = this.opts.chunk ?? 8192;
    for (let start = 0; start < total; start += chunk) {
      signal?.throwIfAborted();
      const n = Math.min(chunk, total - start);
      const feat = this.features(xyz.subarray(start * 3, (start + n) * 3), n);
      const r = await this.session.run({
        features: new ort.Tensor('float32', feat, [n, this.layout.outDim]),
      });
      const topLabel = r.top_label
        ? Int32Array.from(r.top_label.data as BigInt64Array, (v) => Number(v))
        : null;
      await sink({
        start,
        n,
        hidden: r.hidden!.data as Float32Array,
        normLanguage: r.norm_language!.data as Float32Array,
        normVision: r.norm_vision ? (r.norm_vision.data as Float32Array) : null,
        y: r.y!.data as Float32Array,
        z: r.z ? (r.z.data as Float32Array) : null,
        topLabel,
        topScore: r.top_score ? (r.top_score.data as Float32Array) : null,
      });
    }
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    if (s) await s.release();
  }
}

/** Unit outputs y (n x D) of every point: the reference for exact scores (tests, rank agreement). */
export async function evaluateUnitOutputs(state: FieldState, xyz: Float32Array): Promise<Float32Array> {
  const ev = await FieldEvaluator.create(state);
  const heads = ev.heads;
  const D = heads.language + heads.vision;
  const out = new Float32Array((xyz.length / 3) * D);
  try {
    await ev.run(xyz, (c) => out.set(c.y, c.start * D));
  } finally {
    await ev.dispose();
  }
  return out;
}
