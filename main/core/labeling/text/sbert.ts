/**
 * Sentence-BERT encoders (all-MiniLM-L6-v2: 384-d, all-mpnet-base-v2: 768-d) on onnxruntime-node:
 * tokenizer.json via @huggingface/tokenizers -> last_hidden_state -> mean over the attention mask -> L2.
 */
import * as ort from 'onnxruntime-node';
import { LabelingError, l2NormalizeRows, type TextEncoder } from '../types';
import type { ModelSpec } from '../../models/manifest';
import { loadModel, type LoadOptions, type LoadedModel } from '../onnx/session';
import { TextTokenizer } from '../onnx/tokenize';

export class SentenceEncoder implements TextEncoder {
  readonly name: string;
  readonly dim: number;
  private constructor(
    private readonly model: LoadedModel,
    private readonly tok: TextTokenizer,
    private readonly batchSize: number,
  ) {
    this.name = model.spec.id;
    this.dim = model.spec.embeddingDim;
  }

  static async load(
    spec: ModelSpec,
    modelDir: string,
    opts: LoadOptions & { batchSize?: number } = {},
  ): Promise<SentenceEncoder> {
    const model = await loadModel(spec, modelDir, opts);
    const tj = model.file('tokenizer');
    if (!tj) throw new LabelingError('INVALID_INPUT', spec.id, 'needs tokenizer.json');
    const tok = await TextTokenizer.load(tj, model.file('tokenizer_config'), spec.maxTokens ?? 256);
    return new SentenceEncoder(model, tok, opts.batchSize ?? 64);
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < texts.length; s += this.batchSize) {
      const chunk = texts.slice(s, s + this.batchSize);
      const b = this.tok.encodeBatch(chunk);
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, b.seq]),
        attention_mask: new ort.Tensor('int64', b.attentionMask, [b.batch, b.seq]),
      };
      if (this.model.session.inputNames.includes('token_type_ids'))
        feeds['token_type_ids'] = new ort.Tensor('int64', b.tokenTypeIds, [b.batch, b.seq]);
      const res = await this.model.session.run(feeds);
      const h = res['last_hidden_state'];
      if (
        !h ||
        h.dims.length !== 3 ||
        h.dims[0] !== b.batch ||
        h.dims[1] !== b.seq ||
        h.dims[2] !== this.dim
      ) {
        throw new LabelingError(
          'INVALID_INPUT',
          this.name,
          `last_hidden_state has shape [${h?.dims.join(', ') ?? ''}], expected [${b.batch}, ${b.seq}, ${this.dim}]`,
        );
      }
      meanPoolInto(h.data as Float32Array, b.attentionMask, b.batch, b.seq, this.dim, out, s * this.dim);
      for (const t of Object.values(res)) t.dispose();
    }
    return l2NormalizeRows(out, this.dim);
  }

  async dispose(): Promise<void> {
    await this.model.session.release();
  }
}

/** Mean of the hidden states over tokens with attention mask 1 (sentence-transformers' pooling). */
export function meanPoolInto(
  h: Float32Array,
  mask: BigInt64Array,
  batch: number,
  seq: number,
  dim: number,
  out: Float32Array,
  offset: number,
): void {
  for (let b = 0; b < batch; b++) {
    let count = 0;
    const o = offset + b * dim;
    for (let t = 0; t < seq; t++) {
      if (mask[b * seq + t] === 0n) continue;
      count++;
      const hb = (b * seq + t) * dim;
      for (let k = 0; k < dim; k++) out[o + k] = out[o + k]! + h[hb + k]!;
    }
    const inv = 1 / Math.max(count, 1e-9);
    for (let k = 0; k < dim; k++) out[o + k] = out[o + k]! * inv;
  }
}
