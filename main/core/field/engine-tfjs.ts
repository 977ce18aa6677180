/**
 * The oracle engine: the same model with TensorFlow.js autodiff (wasm backend by default; tfjs-node-gpu or
 * tfjs-node when installed). The hash-grid corner rows/weights come from the shared TypeScript code; the
 * gather of the corner rows, the trilinear blend, the MLP and both losses are differentiated by tfjs (the
 * gather through a custom scatterND gradient). To keep tensors small only the rows the batch touches are
 * uploaded (their gradient is the whole table's gradient: every other row's is zero); Adam is shared.
 */
import type * as tfT from '@tensorflow/tfjs';
import type { PreparedBatch, HeadBatch } from './batch';
import { BackendBase, type EngineGrads } from './backend';
import { mlpLayers } from './graph';
import { type GridCorners, GridStore, computeCorners } from './hashgrid';
import { gatherRows, headLossDedup } from './tfjs-loss';
import { type Tf, loadTf } from './tfjs-runtime';

type Tensor = tfT.Tensor;

export class TfjsBackend extends BackendBase {
  readonly name = 'tfjs' as const;
  provider = 'tfjs';
  threads = 1;
  private tf!: Tf;
  private localOf = new Int32Array(0);

  protected async initEngine(): Promise<void> {
    const { tf, provider } = await loadTf();
    this.tf = tf;
    this.provider = provider;
    if (provider === 'tfjs-wasm') this.threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 2 : 1;
    this.localOf = new Int32Array(this.layout.totalRows).fill(-1);
  }

  private mlp(feat: Tensor, params: Tensor[]): { out: Tensor; hidden: Tensor } {
    const tf = this.tf;
    const layers = mlpLayers(this.dims);
    let h = feat;
    for (let k = 0; k < layers.length; k++) {
      const a = tf.add(tf.matMul(h, params[2 * k]!), params[2 * k + 1]!);
      if (k === layers.length - 1) return { out: a, hidden: h };
      h = tf.relu(a);
    }
    throw new Error('unreachable: MLP without layers');
  }

  private weightTensors(): Tensor[] {
    const tf = this.tf;
    const out: Tensor[] = [];
    mlpLayers(this.dims).forEach((s, k) => {
      out.push(tf.tensor2d(this.weights[2 * k]!, [s.inDim, s.outDim]), tf.tensor1d(this.weights[2 * k + 1]!));
    });
    return out;
  }

  private headTensors(h: HeadBatch, B: number): [Tensor, Tensor, Tensor, Tensor] {
    const tf = this.tf;
    return [
      tf.tensor2d(h.targets, [h.U, h.dim]),
      tf.tensor2d(h.onehot, [B, h.U]),
      tf.tensor2d(h.counts, [1, h.U]),
      tf.tensor2d(h.weight, [B, 1]),
    ];
  }

  protected async computeGrads(batch: PreparedBatch, corners: GridCorners): Promise<EngineGrads> {
    const tf = this.tf;
    const B = batch.B;
    const L = this.layout.levels;
    const F = this.layout.features;
    const t0 = performance.now();
    computeCorners(this.layout, batch.xyzUnit, B, corners);
    const nc = B * L * 8;
    const local = new Int32Array(nc);
    const tr = this.touched;
    let R = 0;
    for (let k = 0; k < nc; k++) {
      const row = corners.rows[k]!;
      let u = this.localOf[row]!;
      if (u < 0) {
        u = R++;
        this.localOf[row] = u;
        tr.list[u] = row;
        tr.mark[row] = 1;
      }
      local[k] = u;
    }
    tr.count = R;
    const { data, stride } = this.store;
    const sub = new Float32Array(R * F);
    for (let u = 0; u < R; u++) for (let f = 0; f < F; f++) sub[u * F + f] = data[tr.list[u]! * stride + f]!;
    const t1 = performance.now();

    const cfgLoss = this.config.loss;
    const hasVision = batch.vision !== null;
    const result: Tensor[] = tf.tidy(() => {
      const subT = tf.tensor2d(sub, [R, F]);
      const idxT = tf.tensor1d(local, 'int32');
      const wT = tf.tensor4d(corners.weights.subarray(0, nc), [L, B, 8, 1]);
      const lang = this.headTensors(batch.language, B);
      const vis = batch.vision ? this.headTensors(batch.vision, B) : null;
      const params = [subT, ...this.weightTensors(), tf.scalar(this.logTemp[0]!)];
      const heads: Tensor[] = [];
      const f = (...ps: Tensor[]): tfT.Scalar => {
        const rows = gatherRows(tf, ps[0] as tfT.Tensor2D, idxT);
        const blended = tf.sum(tf.mul(tf.reshape(rows, [L, B, 8, F]), wT), 2);
        const feat = tf.reshape(tf.transpose(blended, [1, 0, 2]), [B, L * F]);
        const { out } = this.mlp(feat, ps.slice(1, -1));
        const tau = ps[ps.length - 1]!;
        const Pl = hasVision ? tf.slice(out, [0, 0], [B, this.dims.language]) : out;
        const ll = headLossDedup(tf, Pl, tau, ...lang);
        heads.push(tf.keep(ll));
        let total = tf.mul(ll, cfgLoss.labelToImageRatio);
        if (vis) {
          const Pv = tf.slice(out, [0, this.dims.language], [B, this.dims.vision]);
          const lv = headLossDedup(tf, Pv, tau, ...vis);
          heads.push(tf.keep(lv));
          total = tf.add(total, tf.mul(lv, cfgLoss.imageToLabelRatio));
        }
        return total as tfT.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f)(params);
      return [value, ...heads, ...grads] as Tensor[];
    });
    const nLoss = hasVision ? 3 : 2;
    const arrays = (await Promise.all(result.map((t) => t.data()))) as Float32Array[];
    tf.dispose(result);
    const value = arrays[0]![0]!;
    const lossL = arrays[1]![0]!;
    const lossV = hasVision ? arrays[2]![0]! : 0;
    const grads = arrays.slice(nLoss);
    const t2 = performance.now();

    const dSub = grads[0]!;
    for (let u = 0; u < R; u++) {
      const row = tr.list[u]!;
      this.localOf[row] = -1;
      for (let f = 0; f < F; f++) data[row * stride + GridStore.G * F + f]! += dSub[u * F + f]!;
    }
    const t3 = performance.now();
    return {
      loss: value,
      loss_language: lossL,
      loss_vision: lossV,
      weights: grads.slice(1, -1).map((g) => Float32Array.from(g)),
      logTemperature: grads[grads.length - 1]![0]!,
      grid_ms: t1 - t0 + (t3 - t2),
      graph_ms: t2 - t1,
    };
  }

  protected async forward(
    features: Float32Array,
    n: number,
  ): Promise<{ language: Float32Array; vision: Float32Array | null; hidden: Float32Array }> {
    const tf = this.tf;
    const outs: Tensor[] = tf.tidy(() => {
      const { out, hidden } = this.mlp(tf.tensor2d(features, [n, this.layout.outDim]), this.weightTensors());
      if (this.dims.vision > 0) {
        return [
          hidden,
          tf.slice(out, [0, 0], [n, this.dims.language]),
          tf.slice(out, [0, this.dims.language], [n, this.dims.vision]),
        ];
      }
      return [hidden, out];
    });
    const arrays = (await Promise.all(outs.map((t) => t.data()))) as Float32Array[];
    tf.dispose(outs);
    return {
      hidden: Float32Array.from(arrays[0]!),
      language: Float32Array.from(arrays[1]!),
      vision: arrays[2] ? Float32Array.from(arrays[2]) : null,
    };
  }

  async dispose(): Promise<void> {
    // Tensors are freed per call; the tfjs runtime itself is shared by the process.
  }
}
