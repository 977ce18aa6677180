/**
 * Labeling benchmarks.
 *
 * - ground-truth labeler: frames/s for detections + masks + back-projected points of a 256x192 depth frame;
 * - real-shaped random-weight ONNX graphs, generated at bench time into a temp dir (never committed), run on
 *   onnxruntime-node's CPU provider with 2 intra-op threads:
 *   CLIP ViT-B/32 image tower at 224 (patch conv, 12 pre-LN layers of width 768, 12 heads, MLP 3072, QuickGELU,
 *   LayerNormalization, projection 512: ~88M parameters), the OWL-ViT B/32
 *   image tower at 768 (576 patches) with its class head (dot with precomputed query embeddings; the text tower
 *   runs once per vocabulary) and box head, and MiniLM-L6 (6 layers, width 384, vocab 30522, masked attention).
 *   Reported as ms per item (crop, frame, sentence). The two image towers are also measured int8-quantised the
 *   way onnxruntime's quantize_dynamic writes them (the `*_quantized.onnx` files the `fast` model set installs).
 * `quick` keeps the graph structure but shrinks it (1 layer, width 64) so tests can exercise the bench quickly.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';
import { groundTruthDetections, parseNoiseSpec } from './ground-truth';
import { frameToRaw } from './frame-points';
import { mulberry32 } from './types';

export interface BenchSeries {
  name: string;
  unit: string;
  samples: number[];
}

function randn(n: number, seed: number, std: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12),
      v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

class Weights {
  private seed = 1;
  /**
   * `int8`: linear layers' weights are stored as symmetric per-tensor int8 and applied the way
   * onnxruntime.quantization.quantize_dynamic writes them (DynamicQuantizeLinear of the activations,
   * MatMulInteger, Cast, rescale), the form of the published `*_quantized.onnx` exports; onnxruntime fuses it
   * into DynamicQuantizeMatMul.
   */
  constructor(
    private readonly g: GraphBuilder,
    readonly precision: 'fp32' | 'int8' = 'fp32',
  ) {}
  t(dims: number[], std = 0.02): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.g.initializer(this.g.fresh('w'), { elem: 'float32', dims, data: randn(n, this.seed++, std) });
  }
  /** Random weights quantised to int8 (per-tensor symmetric): [int8 tensor, its float scale]. */
  q(dims: number[], std = 0.02): [string, string] {
    const n = dims.reduce((a, b) => a * b, 1);
    const f = randn(n, this.seed++, std);
    let maxAbs = 0;
    for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(f[i]!));
    const scale = maxAbs / 127 || 1;
    const q = new Int8Array(n);
    for (let i = 0; i < n; i++) q[i] = Math.max(-127, Math.min(127, Math.round(f[i]! / scale)));
    return [
      this.g.initializer(this.g.fresh('wq'), { elem: 'int8', dims, data: q }),
      this.g.constFloat(scale),
    ];
  }
  fill(dims: number[], value: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    return this.g.initializer(this.g.fresh('c'), {
      elem: 'float32',
      dims,
      data: new Float32Array(n).fill(value),
    });
  }
}

/** LayerNormalization (opset 17), which is also what onnxruntime fuses the decomposed form of older exports to. */
function layerNorm(g: GraphBuilder, w: Weights, x: string, width: number): string {
  return g.op('LayerNormalization', [x, w.fill([width], 1), w.fill([width], 0)], { axis: -1, epsilon: 1e-5 });
}

function linear(g: GraphBuilder, w: Weights, x: string, din: number, dout: number): string {
  if (w.precision === 'fp32') return g.op('Add', [g.op('MatMul', [x, w.t([din, dout])]), w.fill([dout], 0)]);
  const [wq, wScale] = w.q([din, dout]);
  const [xq, xScale, xZero] = g.node('DynamicQuantizeLinear', [x], {}, { outputs: 3 }) as [
    string,
    string,
    string,
  ];
  const acc = g.op('MatMulInteger', [xq, wq, xZero]);
  const y = g.op('Mul', [g.op('Cast', [acc], { to: 1 }), g.op('Mul', [xScale, wScale])]);
  return g.op('Add', [y, w.fill([dout], 0)]);
}

/** One pre-LN transformer block on x [B, N, width]; `bias` (optional) is added to the attention scores. */
function block(
  g: GraphBuilder,
  w: Weights,
  x: string,
  width: number,
  heads: number,
  mlp: number,
  gelu: 'quick' | 'erf',
  bias: string | null,
): string {
  const dh = width / heads;
  const h = layerNorm(g, w, x, width);
  const qkv = g.op('Reshape', [linear(g, w, h, width, 3 * width), g.constInt64([0, 0, 3, heads, dh])]);
  const t = g.op('Transpose', [qkv], { perm: [2, 0, 3, 1, 4] });
  const q = g.op('Gather', [t, g.constInt64(0)], { axis: 0 });
  const k = g.op('Gather', [t, g.constInt64(1)], { axis: 0 });
  const v = g.op('Gather', [t, g.constInt64(2)], { axis: 0 });
  let s = g.op('Mul', [
    g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]),
    g.constFloat(1 / Math.sqrt(dh)),
  ]);
  if (bias) s = g.op('Add', [s, bias]);
  const a = g.op('MatMul', [g.op('Softmax', [s], { axis: -1 }), v]);
  const merged = g.op('Reshape', [
    g.op('Transpose', [a], { perm: [0, 2, 1, 3] }),
    g.constInt64([0, 0, width]),
  ]);
  const x1 = g.op('Add', [x, linear(g, w, merged, width, width)]);
  const h2 = layerNorm(g, w, x1, width);
  const u = linear(g, w, h2, width, mlp);
  const act =
    gelu === 'quick'
      ? g.op('Mul', [u, g.op('Sigmoid', [g.op('Mul', [u, g.constFloat(1.702)])])])
      : g.op('Mul', [
          g.op('Mul', [u, g.constFloat(0.5)]),
          g.op('Add', [g.op('Erf', [g.op('Mul', [u, g.constFloat(Math.SQRT1_2)])]), g.constFloat(1)]),
        ]);
  return g.op('Add', [x1, linear(g, w, act, mlp, width)]);
}

interface VitShape {
  image: number;
  patch: number;
  width: number;
  layers: number;
  heads: number;
  mlp: number;
}

function vitTokens(g: GraphBuilder, w: Weights, px: string, s: VitShape): string {
  const grid = s.image / s.patch;
  const conv = g.op('Conv', [px, w.t([s.width, 3, s.patch, s.patch])], {
    kernel_shape: [s.patch, s.patch],
    strides: [s.patch, s.patch],
  });
  let x = g.op('Transpose', [g.op('Reshape', [conv, g.constInt64([0, s.width, grid * grid])])], {
    perm: [0, 2, 1],
  });
  x = g.op('Add', [x, w.t([1, grid * grid, s.width])]);
  x = layerNorm(g, w, x, s.width);
  for (let l = 0; l < s.layers; l++) x = block(g, w, x, s.width, s.heads, s.mlp, 'quick', null);
  return layerNorm(g, w, x, s.width);
}

export type BenchPrecision = 'fp32' | 'int8';

export function clipImageGraph(s: VitShape, outDim: number, precision: BenchPrecision = 'fp32'): Uint8Array {
  const g = new GraphBuilder('bench_clip_image');
  const w = new Weights(g, precision);
  const px = g.input('pixel_values', 'float32', ['batch', 3, s.image, s.image]);
  const pooled = g.op('ReduceMean', [vitTokens(g, w, px, s)], { axes: [1], keepdims: 0 });
  g.output(g.op('MatMul', [pooled, w.t([s.width, outDim])]), 'image_embeds', 'float32', ['batch', outDim]);
  return g.toBytes();
}

export function owlImageGraph(s: VitShape, queryDim: number, precision: BenchPrecision = 'fp32'): Uint8Array {
  const g = new GraphBuilder('bench_owlvit');
  const w = new Weights(g, precision);
  const px = g.input('pixel_values', 'float32', [1, 3, s.image, s.image]);
  const qe = g.input('query_embeds', 'float32', ['queries', queryDim]);
  const tokens = vitTokens(g, w, px, s);
  const cls = linear(g, w, tokens, s.width, queryDim);
  g.output(g.op('MatMul', [cls, g.op('Transpose', [qe], { perm: [1, 0] })]), 'logits', 'float32', [
    1,
    'patches',
    'queries',
  ]);
  const b1 = g.op('Mul', [
    linear(g, w, tokens, s.width, s.width),
    g.op('Sigmoid', [g.op('Mul', [linear(g, w, tokens, s.width, s.width), g.constFloat(1.702)])]),
  ]);
  g.output(g.op('Sigmoid', [linear(g, w, b1, s.width, 4)]), 'pred_boxes', 'float32', [1, 'patches', 4]);
  return g.toBytes();
}

export function miniLmGraph(
  vocab: number,
  width: number,
  layers: number,
  heads: number,
  mlp: number,
  precision: BenchPrecision = 'fp32',
): Uint8Array {
  const g = new GraphBuilder('bench_minilm');
  const w = new Weights(g, precision);
  const ids = g.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = g.input('attention_mask', 'int64', ['batch', 'sequence']);
  const types = g.input('token_type_ids', 'int64', ['batch', 'sequence']);
  const seqLen = g.op('Gather', [g.op('Shape', [ids]), g.constInt64([1])], { axis: 0 });
  const pos = g.op('Slice', [w.t([512, width]), g.constInt64([0]), seqLen, g.constInt64([0])]);
  let x = g.op('Add', [
    g.op('Add', [g.op('Gather', [w.t([vocab, width]), ids]), g.op('Gather', [w.t([2, width]), types])]),
    pos,
  ]);
  x = layerNorm(g, w, x, width);
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.constInt64([1, 2])]);
  const bias = g.op('Mul', [g.op('Sub', [g.constFloat(1), m]), g.constFloat(-10000)]);
  for (let l = 0; l < layers; l++) x = block(g, w, x, width, heads, mlp, 'erf', bias);
  g.output(x, 'last_hidden_state', 'float32', ['batch', 'sequence', width]);
  return g.toBytes();
}

async function timeRuns(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  items: number,
  repeats: number,
): Promise<number[]> {
  await session.run(feeds); // warm-up
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    const res = await session.run(feeds);
    out.push((performance.now() - t0) / items);
    for (const v of Object.values(res)) v.dispose();
  }
  return out;
}

async function session(dir: string, name: string, bytes: Uint8Array): Promise<ort.InferenceSession> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
}

function benchGroundTruth(repeats: number): BenchSeries {
  const w = 256,
    h = 192;
  const labels = new Uint16Array(w * h),
    depth = new Float32Array(w * h).fill(2.5);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const id = 1 + Math.floor(x / 32) + 8 * Math.floor(y / 48);
      labels[y * w + x] = id;
      depth[y * w + x] = 1 + (id % 5) * 0.3;
    }
  const instances = new Map(
    Array.from(
      { length: 40 },
      (_, i) => [i + 1, { class: ['chair', 'sofa', 'table', 'lamp', 'mug'][i % 5]! }] as const,
    ),
  );
  const intr = { width: w, height: h, fx: 200, fy: 200, cx: 128, cy: 96 };
  const rgb = { width: 1920, height: 1440, data: new Uint8Array(1920 * 1440 * 3) };
  const T = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
  const noise = parseNoiseSpec('drop=0.2,confuse=0.15,jitter=0.1');
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const frames = 10;
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      const dets = groundTruthDetections(
        {
          labels,
          depth_m: depth,
          depthIntrinsics: intr,
          rgbWidth: rgb.width,
          rgbHeight: rgb.height,
          instances,
        },
        noise,
        mulberry32(f),
        ['chair', 'sofa'],
      );
      frameToRaw({
        frame: f,
        detections: dets,
        depth_m: depth,
        confidence: null,
        depthIntrinsics: intr,
        world_from_camera: T,
        rgb,
        gtLabels: labels,
        instances,
        pointProbability: 0.2,
        rng: mulberry32(f + 99),
        labeler: 'ground-truth',
        encoders: { language: 'lexical-384', vision: null },
      });
    }
    samples.push(frames / ((performance.now() - t0) / 1000));
  }
  return { name: 'labeling.ground_truth.frames_per_s', unit: 'frames/s', samples };
}

export async function benchLabeling(opts: { repeats: number; quick?: boolean }): Promise<BenchSeries[]> {
  const repeats = Math.max(1, Math.floor(opts.repeats));
  const quick = opts.quick ?? false;
  const out: BenchSeries[] = [benchGroundTruth(repeats)];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'clip-fields-bench-models-'));
  const tag = quick ? '.quick_shapes' : '';
  try {
    // CLIP ViT-B/32 image tower, 16 crops per run; fp32 (`paper` set) and int8 (`fast` set, the published
    // vision_model_quantized.onnx form).
    const clipShape: VitShape = quick
      ? { image: 224, patch: 32, width: 64, layers: 1, heads: 4, mlp: 256 }
      : { image: 224, patch: 32, width: 768, layers: 12, heads: 12, mlp: 3072 };
    for (const precision of ['fp32', 'int8'] as const) {
      const s = await session(dir, `clip-${precision}.onnx`, clipImageGraph(clipShape, 512, precision));
      const B = quick ? 2 : 16;
      const px = new ort.Tensor('float32', randn(B * 3 * 224 * 224, 5, 1), [B, 3, 224, 224]);
      out.push({
        name: `labeling.clip_vit_b32_image${precision === 'int8' ? '_q8' : ''}.ms_per_crop${tag}`,
        unit: 'ms',
        samples: await timeRuns(s, { pixel_values: px }, B, repeats),
      });
      await s.release();
    }
    // OWL-ViT B/32 image tower at 768 + heads, 80 query embeddings; fp32 and int8 (model_quantized.onnx).
    const owlShape: VitShape = quick
      ? { image: 768, patch: 32, width: 64, layers: 1, heads: 4, mlp: 256 }
      : { image: 768, patch: 32, width: 768, layers: 12, heads: 12, mlp: 3072 };
    for (const precision of ['fp32', 'int8'] as const) {
      const s = await session(dir, `owl-${precision}.onnx`, owlImageGraph(owlShape, 512, precision));
      const feeds = {
        pixel_values: new ort.Tensor('float32', randn(3 * 768 * 768, 6, 1), [1, 3, 768, 768]),
        query_embeds: new ort.Tensor('float32', randn(80 * 512, 7, 0.05), [80, 512]),
      };
      out.push({
        name: `labeling.owlvit_b32_768${precision === 'int8' ? '_q8' : ''}.ms_per_frame${tag}`,
        unit: 'ms',
        samples: await timeRuns(s, feeds, 1, repeats),
      });
      await s.release();
    }
    // MiniLM-L6: 64 sentences of 12 tokens.
    {
      const s = await session(
        dir,
        'minilm.onnx',
        quick ? miniLmGraph(1000, 64, 1, 4, 256) : miniLmGraph(30522, 384, 6, 12, 1536),
      );
      const B = 64,
        S = 12;
      const ids = BigInt64Array.from({ length: B * S }, (_, i) =>
        BigInt((i * 7919) % (quick ? 1000 : 30522)),
      );
      const feeds = {
        input_ids: new ort.Tensor('int64', ids, [B, S]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]),
      };
      out.push({
        name: `labeling.minilm_l6.ms_per_sentence${tag}`,
        unit: 'ms',
        samples: await timeRuns(s, feeds, B, repeats),
      });
      await s.release();
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return out;
}
