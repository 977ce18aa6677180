/**
 * OWL-ViT B/32 (768 px, stretched) and OWLv2 B/16 (960 px, padded to a square) open-vocabulary detector
 * adapters. Text-conditioned: the vocabulary becomes prompts "a photo of a <label>" tokenised with the model's
 * CLIP BPE tokenizer (16 tokens), the image is preprocessed like the HF processors, and
 * `logits` [1, patches, queries] / `pred_boxes` [1, patches, 4] (cx, cy, w, h relative to the model's square
 * input) become detections: patches whose best sigmoid score reaches `detectThreshold`, class-agnostic NMS,
 * every class score >= CLASS_SCORE_FLOOR kept. `class_embeds` rows are attached as embeddings when exported.
 */
import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../capture/types';
import type { ModelSpec } from '../../models/manifest';
import {
  CLASS_SCORE_FLOOR,
  LabelingError,
  l2NormalizeRows,
  type Box,
  type DepthImage,
  type Detection,
  type Detector,
} from '../types';
import { loadModel, type LoadOptions, type LoadedModel } from '../onnx/session';
import { TextTokenizer } from '../onnx/tokenize';
import { owlPreprocess } from './preprocess';

export interface OwlOptions extends LoadOptions {
  detectThreshold?: number;
  nmsIou?: number;
  maxDetections?: number;
  prompt?: (label: string) => string;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

export class OwlDetector implements Detector {
  readonly name: string;
  readonly modelIds: readonly string[];
  private cachedVocab: string | null = null;
  private cachedTokens: { ids: BigInt64Array; mask: BigInt64Array; q: number; seq: number } | null = null;
  private constructor(
    private readonly model: LoadedModel,
    private readonly tok: TextTokenizer,
    private readonly opts: OwlOptions,
  ) {
    this.name = model.spec.id;
    this.modelIds = [model.spec.id];
  }

  static async load(spec: ModelSpec, modelDir: string, opts: OwlOptions = {}): Promise<OwlDetector> {
    const model = await loadModel(spec, modelDir, opts);
    const tj = model.file('tokenizer');
    if (!tj) throw new LabelingError('INVALID_INPUT', spec.id, 'needs tokenizer.json');
    return new OwlDetector(
      model,
      await TextTokenizer.load(tj, model.file('tokenizer_config'), spec.maxTokens ?? 16),
      opts,
    );
  }

  private tokens(vocab: readonly string[]) {
    const key = JSON.stringify(vocab);
    if (this.cachedVocab !== key || !this.cachedTokens) {
      const prompt = this.opts.prompt ?? ((l: string) => `a photo of a ${l}`);
      const seq = this.model.spec.maxTokens ?? 16;
      const b = this.tok.encodeBatch(vocab.map(prompt), seq);
      this.cachedTokens = { ids: b.inputIds, mask: b.attentionMask, q: b.batch, seq: b.seq };
      this.cachedVocab = key;
    }
    return this.cachedTokens;
  }

  async detect(rgb: RgbImage, _depth: DepthImage | null, vocab: readonly string[]): Promise<Detection[]> {
    if (vocab.length === 0)
      throw new LabelingError('BAD_ARGS', 'vocab', 'the detector needs at least one label');
    const S = this.model.spec.imageSize ?? 768;
    const { pixels, scaleX, scaleY } = await owlPreprocess(rgb, S, this.model.spec.resize ?? 'stretch');
    const t = this.tokens(vocab);
    const res = await this.model.session.run({
      input_ids: new ort.Tensor('int64', t.ids, [t.q, t.seq]),
      attention_mask: new ort.Tensor('int64', t.mask, [t.q, t.seq]),
      pixel_values: new ort.Tensor('float32', pixels, [1, 3, S, S]),
    });
    try {
      const logits = res['logits'],
        boxes = res['pred_boxes'];
      if (
        !logits ||
        !boxes ||
        logits.dims.length !== 3 ||
        logits.dims[2] !== t.q ||
        boxes.dims[1] !== logits.dims[1] ||
        boxes.dims[2] !== 4
      ) {
        throw new LabelingError(
          'INVALID_INPUT',
          this.name,
          `unexpected outputs logits [${logits?.dims.join(', ') ?? ''}], pred_boxes [${boxes?.dims.join(', ') ?? ''}]`,
        );
      }
      const P = Number(logits.dims[1]);
      const L = logits.data as Float32Array,
        B = boxes.data as Float32Array;
      const ce = res['class_embeds'];
      const ceDim = ce && ce.dims.length === 3 && Number(ce.dims[1]) === P ? Number(ce.dims[2]) : 0;
      const thr = this.opts.detectThreshold ?? 0.1;
      const cands: { p: number; best: number; box: Box }[] = [];
      for (let p = 0; p < P; p++) {
        let best = 0;
        for (let q = 0; q < t.q; q++) best = Math.max(best, sigmoid(L[p * t.q + q]!));
        if (best < thr) continue;
        const cx = B[4 * p]!,
          cy = B[4 * p + 1]!,
          w = B[4 * p + 2]!,
          h = B[4 * p + 3]!;
        const box: Box = [
          Math.max(0, (cx - w / 2) * scaleX),
          Math.max(0, (cy - h / 2) * scaleY),
          Math.min(rgb.width, (cx + w / 2) * scaleX),
          Math.min(rgb.height, (cy + h / 2) * scaleY),
        ];
        if (!(box[2] > box[0] && box[3] > box[1])) continue;
        cands.push({ p, best, box });
      }
      cands.sort((a, b) => b.best - a.best);
      const kept: typeof cands = [];
      const nms = this.opts.nmsIou ?? 0.3;
      for (const c of cands) {
        if (kept.length >= (this.opts.maxDetections ?? 50)) break;
        if (kept.every((k) => iou(k.box, c.box) < nms)) kept.push(c);
      }
      return kept.map((c) => {
        const classScores = vocab
          .map((label, q) => ({ label, score: sigmoid(L[c.p * t.q + q]!) }))
          .filter((s) => s.score >= CLASS_SCORE_FLOOR)
          .sort((a, b) => b.score - a.score);
        const d: Detection = { box: c.box, classScores };
        if (ceDim > 0)
          d.embedding = l2NormalizeRows(
            (ce!.data as Float32Array).slice(c.p * ceDim, (c.p + 1) * ceDim),
            ceDim,
          );
        return d;
      });
    } finally {
      for (const v of Object.values(res)) v.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.model.session.release();
  }
}
