/**
 * The CLIP-Fields contrastive loss in TensorFlow.js (autodiff), in both forms:
 * - `headLossBxB`: the reference B x B form (clip-fields `compute_loss` with its multiplicative label mask);
 * - `headLossDedup`: the same loss on the U distinct targets of the batch (see graph.ts for the algebra).
 * Also `gatherRows` (tf.gather with a scatterND gradient: the wasm backend lacks UnsortedSegmentSum).
 */
import type * as tfT from '@tensorflow/tfjs';
import type { Tf } from './tfjs-runtime';

type Tensor = tfT.Tensor;

/** rows = table[idx] with d rows / d table = scatterND(idx, dy) (duplicates summed). */
export function gatherRows(tf: Tf, table: tfT.Tensor2D, idx: tfT.Tensor1D): tfT.Tensor2D {
  const f = tf.customGrad<tfT.Tensor2D>((...inputs) => {
    const t = inputs[0] as tfT.Tensor2D;
    const value = tf.gather(t, idx);
    const gradFunc = (dy: tfT.Tensor2D) => [tf.scatterND(tf.reshape(idx, [-1, 1]), dy, t.shape)];
    return { value, gradFunc };
  });
  return f(table) as tfT.Tensor2D;
}

function normalizeRows(tf: Tf, P: Tensor): Tensor {
  return tf.div(P, tf.maximum(tf.sqrt(tf.sum(tf.square(P), 1, true)), 1e-12));
}

/**
 * Dedup form. P [B, D] predictions, logTemp scalar, E [U, D] unit targets, M [B, U] one-hot, counts [1, U],
 * w [B, 1] weights. Returns the head's loss (scalar).
 */
export function headLossDedup(
  tf: Tf,
  P: Tensor,
  logTemp: Tensor,
  E: Tensor,
  M: Tensor,
  counts: Tensor,
  w: Tensor,
): tfT.Scalar {
  const B = P.shape[0]!;
  const Pn = normalizeRows(tf, P);
  const Z = tf.mul(tf.matMul(Pn, E, false, true), tf.exp(logTemp));
  const nm1 = tf.sub(counts, 1);
  const logC = tf.log(tf.sub(counts, tf.mul(M, nm1)));
  const K = tf.sum(tf.mul(M, nm1), 1, true);
  const logK = tf.where(tf.greater(K, 0), tf.log(tf.maximum(K, 1)), tf.fill(K.shape, -1e4));
  const Zd = tf.sum(tf.mul(M, Z), 1, true);
  const row = tf.sub(tf.logSumExp(tf.concat([tf.add(Z, logC), logK], 1), 1, true), Zd);
  const logT = tf.logSumExp(tf.sub(Z, tf.mul(M, 1e4)), 0, true);
  const logTl = tf.sum(tf.mul(M, logT), 1, true);
  const col = tf.sub(tf.logSumExp(tf.concat([Zd, logK, logTl], 1), 1, true), Zd);
  return tf.div(tf.sum(tf.mul(w, tf.add(row, col))), 2 * B) as tfT.Scalar;
}

/**
 * Reference B x B form: T [B, D] per-sample targets, ids [B] target ids (label or detection).
 * sim = exp(tau) Pn Tn^T; sim *= (id_i != id_j) + eye; CE(rows) and CE(cols) against the diagonal.
 */
export function headLossBxB(
  tf: Tf,
  P: Tensor,
  logTemp: Tensor,
  T: Tensor,
  ids: Int32Array,
  w: Tensor,
): tfT.Scalar {
  const B = ids.length;
  const mask = new Float32Array(B * B);
  const eye = new Float32Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) mask[i * B + j] = (ids[i] !== ids[j] ? 1 : 0) + (i === j ? 1 : 0);
    eye[i * B + i] = 1;
  }
  const sim = tf.mul(
    tf.mul(tf.matMul(normalizeRows(tf, P), normalizeRows(tf, T), false, true), tf.exp(logTemp)),
    tf.tensor2d(mask, [B, B]),
  );
  const diag = tf.sum(tf.mul(sim, tf.tensor2d(eye, [B, B])), 1, true);
  const row = tf.sub(tf.logSumExp(sim, 1, true), diag);
  const col = tf.sub(tf.reshape(tf.logSumExp(sim, 0), [B, 1]), diag);
  return tf.div(tf.sum(tf.mul(w, tf.add(row, col))), 2 * B) as tfT.Scalar;
}
