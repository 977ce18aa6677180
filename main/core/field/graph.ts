/**
 * The field's ONNX graphs, built with main/core/onnx.
 *
 * Training graph: inputs are the grid features [B, L*F], every MLP weight (as graph inputs, so TypeScript can
 * update them each step), the log-temperature and, per head, the batch's U distinct unit targets [U, D], the
 * one-hot assignment [B, U], per-target counts [1, U] and per-sample weights [B, 1]. Outputs: the total loss,
 * each head's loss, and the gradient of the total loss with respect to every weight, the log-temperature and
 * the grid features. The backward pass is written out by hand (ONNX has no autodiff); tfjs autodiff checks it.
 *
 * Loss (CLIP-Fields `compute_loss` with its label mask): sim = exp(tau) * normalize(P) normalize(T)^T over the
 * B x B pairs, then sim * mask where mask = (id_i != id_j) + eye (same-target off-diagonal logits are set to 0,
 * not -inf: they stay in the softmax denominators as exp(0) = 1), cross-entropy with the diagonal as the
 * class along rows and columns, weighted per sample, (row + col) / 2, mean. Since targets repeat, the same loss
 * is computed on Z = exp(tau) * Pn E^T [B, U]:
 *   row_i = -Z_i,l(i) + log( sum_u c_iu exp(Z_iu) + (n_l(i) - 1) ),  c_iu = n_u (u != l(i)), 1 (u = l(i))
 *   col_i = -Z_i,l(i) + log( exp(Z_i,l(i)) + (n_l(i) - 1) + sum_{j: l(j) != l(i)} exp(Z_j,l(i)) )
 * with max-shifts for stability. Log-softmax is written with Exp/ReduceSum/Log (no LogSoftmax/EyeLike).
 */
import { GraphBuilder } from '../onnx/builder';

export interface GraphDims {
  inDim: number;
  width: number;
  depth: number;
  language: number;
  /** 0 when the dataset has no CLIP embeddings (no vision head). */
  vision: number;
}

export interface LayerShape {
  inDim: number;
  outDim: number;
}

/** Linear layers of the MLP: `depth` hidden ReLU layers of `width`, then one to language + vision. */
export function mlpLayers(d: GraphDims): LayerShape[] {
  const out = d.language + d.vision;
  if (d.depth === 0) return [{ inDim: d.inDim, outDim: out }];
  const layers: LayerShape[] = [{ inDim: d.inDim, outDim: d.width }];
  for (let k = 1; k < d.depth; k++) layers.push({ inDim: d.width, outDim: d.width });
  layers.push({ inDim: d.width, outDim: out });
  return layers;
}

export const weightName = (k: number) => `W${k}`;
export const biasName = (k: number) => `b${k}`;

class Ops {
  private readonly consts = new Map<number, string>();
  constructor(readonly g: GraphBuilder) {}
  c(v: number): string {
    let n = this.consts.get(v);
    if (!n) {
      n = this.g.constFloat(v, []);
      this.consts.set(v, n);
    }
    return n;
  }
  add = (a: string, b: string) => this.g.op('Add', [a, b]);
  sub = (a: string, b: string) => this.g.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.g.op('Mul', [a, b]);
  div = (a: string, b: string) => this.g.op('Div', [a, b]);
  exp = (a: string) => this.g.op('Exp', [a]);
  log = (a: string) => this.g.op('Log', [a]);
  neg = (a: string) => this.g.op('Neg', [a]);
  max = (a: string, b: string) => this.g.op('Max', [a, b]);
  matmul = (a: string, b: string) => this.g.op('MatMul', [a, b]);
  gemm = (a: string, b: string, transA = 0, transB = 0) => this.g.op('Gemm', [a, b], { transA, transB });
  rsum = (x: string, axes: number[], keepdims = 1) =>
    this.g.op('ReduceSum', [x, this.g.constInt64(axes)], { keepdims });
  rmax = (x: string, axes: number[], keepdims = 1) => this.g.op('ReduceMax', [x], { axes, keepdims });
  slice = (x: string, start: number, end: number, axis: number) =>
    this.g.op('Slice', [x, this.g.constInt64([start]), this.g.constInt64([end]), this.g.constInt64([axis])]);
}

function declareWeights(g: GraphBuilder, d: GraphDims): { W: string[]; b: string[] } {
  const W: string[] = [];
  const b: string[] = [];
  mlpLayers(d).forEach((s, k) => {
    W.push(g.input(weightName(k), 'float32', [s.inDim, s.outDim]));
    b.push(g.input(biasName(k), 'float32', [s.outDim]));
  });
  return { W, b };
}

function forwardMlp(o: Ops, feat: string, W: string[], b: string[]): { acts: string[]; out: string } {
  const acts = [feat];
  let h = feat;
  for (let k = 0; k < W.length; k++) {
    const a = o.add(o.matmul(h, W[k]!), b[k]!);
    if (k === W.length - 1) return { acts, out: a };
    h = o.g.op('Relu', [a]);
    acts.push(h);
  }
  throw new Error('unreachable: MLP without layers');
}

interface HeadOut {
  loss: string;
  dP: string;
  dTau: string;
}

function headLoss(
  o: Ops,
  P: string,
  s: string,
  prefix: string,
  ratio: number,
  uDim: string,
  dim: number,
): HeadOut {
  const g = o.g;
  const E = g.input(`${prefix}_targets`, 'float32', [uDim, dim]);
  const M = g.input(`${prefix}_onehot`, 'float32', ['B', uDim]);
  const n = g.input(`${prefix}_counts`, 'float32', [1, uDim]);
  const w = g.input(`${prefix}_weight`, 'float32', ['B', 1]);
  const one = o.c(1);
  const zero = o.c(0);
  // forward
  const norm = o.max(g.op('Sqrt', [o.rsum(o.mul(P, P), [1])]), o.c(1e-12));
  const Pn = o.div(P, norm);
  const Z = o.mul(o.gemm(Pn, E, 0, 1), s);
  const Mnm1 = o.mul(M, o.sub(n, one));
  const C = o.sub(n, Mnm1);
  const K = o.rsum(Mnm1, [1]);
  const Zd = o.rsum(o.mul(M, Z), [1]);
  const mrow = o.max(o.rmax(Z, [1]), zero);
  const CE1 = o.mul(C, o.exp(o.sub(Z, mrow)));
  const Rs = o.add(o.rsum(CE1, [1]), o.mul(K, o.exp(o.neg(mrow))));
  const row = o.add(o.sub(mrow, Zd), o.log(Rs));
  const mcol = o.max(o.rmax(Z, [0]), zero);
  const nE2 = o.mul(o.sub(one, M), o.exp(o.sub(Z, mcol)));
  const T = o.rsum(nE2, [0]);
  const mcolI = o.rsum(o.mul(M, mcol), [1]);
  const TI = o.rsum(o.mul(M, T), [1]);
  const ed = o.exp(o.sub(Zd, mcolI));
  const Qs = o.add(o.add(ed, o.mul(K, o.exp(o.neg(mcolI)))), TI);
  const col = o.add(o.sub(mcolI, Zd), o.log(Qs));
  const Bf = o.rsum(o.add(o.mul(w, zero), one), [0, 1]);
  const loss = o.div(o.rsum(o.mul(w, o.add(row, col)), [0, 1], 0), o.mul(Bf, o.c(2)));
  // backward (d total / d Z), cw = ratio * w / (2B)
  const cw = o.mul(w, o.div(o.c(0.5 * ratio), Bf));
  const dZrow = o.mul(cw, o.sub(o.div(CE1, Rs), M));
  const t2 = o.mul(M, o.mul(cw, o.sub(o.div(ed, Qs), one)));
  const G = o.rsum(o.mul(M, o.div(cw, Qs)), [0]);
  const dZ = o.add(o.add(dZrow, t2), o.mul(nE2, G));
  const dTau = o.rsum(o.mul(dZ, Z), [0, 1]);
  const dPn = o.mul(o.matmul(dZ, E), s);
  const dot = o.rsum(o.mul(dPn, Pn), [1]);
  const dP = o.div(o.sub(dPn, o.mul(Pn, dot)), norm);
  return { loss: g.op('Reshape', [loss, g.constInt64([1])]), dP, dTau };
}

export interface TrainGraphOptions {
  labelToImageRatio: number;
  imageToLabelRatio: number;
}

/** Names of the training graph's outputs. */
export const TRAIN_OUTPUTS = {
  loss: 'loss',
  language: 'loss_language',
  vision: 'loss_vision',
  dTau: 'grad_log_temperature',
  dFeat: 'grad_features',
} as const;
export const gradWeightName = (k: number) => `grad_W${k}`;
export const gradBiasName = (k: number) => `grad_b${k}`;

export function buildTrainGraph(d: GraphDims, opts: TrainGraphOptions): Uint8Array {
  const g = new GraphBuilder('clip_field_train');
  const o = new Ops(g);
  const feat = g.input('features', 'float32', ['B', d.inDim]);
  const { W, b } = declareWeights(g, d);
  const tau = g.input('log_temperature', 'float32', [1]);
  const s = o.exp(tau);
  const { acts, out } = forwardMlp(o, feat, W, b);
  const Pl = d.vision > 0 ? o.slice(out, 0, d.language, 1) : out;
  const lang = headLoss(o, Pl, s, 'language', opts.labelToImageRatio, 'U_language', d.language);
  let total = o.mul(lang.loss, o.c(opts.labelToImageRatio));
  let dOut = lang.dP;
  let dTau = lang.dTau;
  let visLoss = o.c(0);
  if (d.vision > 0) {
    const Pv = o.slice(out, d.language, d.language + d.vision, 1);
    const vis = headLoss(o, Pv, s, 'vision', opts.imageToLabelRatio, 'U_vision', d.vision);
    total = o.add(total, o.mul(vis.loss, o.c(opts.imageToLabelRatio)));
    dOut = g.op('Concat', [lang.dP, vis.dP], { axis: 1 });
    dTau = o.add(dTau, vis.dTau);
    visLoss = vis.loss;
  } else {
    visLoss = g.op('Reshape', [visLoss, g.constInt64([1])]);
  }
  // MLP backward
  let dA = dOut;
  for (let k = W.length - 1; k >= 0; k--) {
    const shape = mlpLayers(d)[k]!;
    g.output(o.gemm(acts[k]!, dA, 1, 0), gradWeightName(k), 'float32', [shape.inDim, shape.outDim]);
    g.output(o.rsum(dA, [0], 0), gradBiasName(k), 'float32', [shape.outDim]);
    const dh = o.gemm(dA, W[k]!, 0, 1);
    if (k === 0) g.output(dh, TRAIN_OUTPUTS.dFeat, 'float32', ['B', d.inDim]);
    else dA = o.mul(dh, g.op('Sign', [acts[k]!]));
  }
  g.output(total, TRAIN_OUTPUTS.loss, 'float32', [1]);
  g.output(lang.loss, TRAIN_OUTPUTS.language, 'float32', [1]);
  g.output(visLoss, TRAIN_OUTPUTS.vision, 'float32', [1]);
  g.output(g.op('Reshape', [dTau, g.constInt64([1])]), TRAIN_OUTPUTS.dTau, 'float32', [1]);
  return g.toBytes({ doc: 'CLIP-Fields MLP + contrastive loss, forward and hand-written backward' });
}

/** Inference graph: features -> language [B, Dl], vision [B, Dv] (when present), hidden (last hidden layer). */
export function buildInferGraph(d: GraphDims): Uint8Array {
  const g = new GraphBuilder('clip_field_infer');
  const o = new Ops(g);
  const feat = g.input('features', 'float32', ['B', d.inDim]);
  const { W, b } = declareWeights(g, d);
  const { acts, out } = forwardMlp(o, feat, W, b);
  const last = acts[acts.length - 1]!;
  g.output(d.vision > 0 ? o.slice(out, 0, d.language, 1) : out, 'language', 'float32', ['B', d.language]);
  if (d.vision > 0)
    g.output(o.slice(out, d.language, d.language + d.vision, 1), 'vision', 'float32', ['B', d.vision]);
  g.output(last, 'hidden', 'float32', ['B', d.depth === 0 ? d.inDim : d.width]);
  return g.toBytes({ doc: 'CLIP-Fields MLP inference' });
}
