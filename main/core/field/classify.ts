/**
 * Semantic classification of field predictions, like CLIP-Fields' ClassificationExtractor: cosine similarity
 * of the normalised language-head output with each label's sentence embedding, softmax over labels; when the
 * field has a vision head and the labels have CLIP text embeddings, the softmax of the vision-head cosine
 * with those is blended in (text_weight * p_text + image_weight * p_image), then argmax.
 */
import type { LabelTable } from '../dataset/types';
import type { Prediction } from './backend';

export interface ClassifyOptions {
  textWeight?: number;
  imageWeight?: number;
}

function unit(src: Float32Array, rows: number, dim: number): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += src[r * dim + d]! ** 2;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let d = 0; d < dim; d++) out[r * dim + d] = src[r * dim + d]! * inv;
  }
  return out;
}

/** Adds w * softmax(cos(pred_i, table_c)) into probs[i * C + c]. */
function addSoftmaxCos(
  pred: Float32Array,
  n: number,
  table: Float32Array,
  C: number,
  dim: number,
  w: number,
  probs: Float32Array,
): void {
  const p = unit(pred, n, dim);
  const logits = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += p[i * dim + d]! * table[c * dim + d]!;
      logits[c] = s;
      if (s > mx) mx = s;
    }
    let z = 0;
    for (let c = 0; c < C; c++) z += Math.exp(logits[c]! - mx);
    for (let c = 0; c < C; c++) probs[i * C + c]! += (w * Math.exp(logits[c]! - mx)) / z;
  }
}

/** Label id per point (argmax of the blended probabilities). */
export function classifyPredictions(
  pred: Prediction,
  n: number,
  labels: LabelTable,
  opts: ClassifyOptions = {},
): Int32Array {
  const C = labels.texts.length;
  const probs = new Float32Array(n * C);
  addSoftmaxCos(
    pred.language,
    n,
    unit(labels.embeddings, C, labels.dim),
    C,
    labels.dim,
    opts.textWeight ?? 1,
    probs,
  );
  if (
    pred.vision &&
    labels.clipEmbeddings &&
    labels.clipDim > 0 &&
    pred.vision.length === n * labels.clipDim
  ) {
    addSoftmaxCos(
      pred.vision,
      n,
      unit(labels.clipEmbeddings, C, labels.clipDim),
      C,
      labels.clipDim,
      opts.imageWeight ?? 1,
      probs,
    );
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c]! > probs[i * C + best]!) best = c;
    out[i] = best;
  }
  return out;
}
