/**
 * CLIP ViT-B/32 text encoder: CLIP's byte-level BPE from tokenizer.json (@huggingface/tokenizers), sequences
 * padded to 77 tokens, `text_embeds` (the export's EOT pooling + projection, 512-d) -> L2.
 */
import * as ort from 'onnxruntime-node';
import { LabelingError, l2NormalizeRows, type TextEncoder } from '../types';
import type { ModelSpec } from '../../models/manifest';
import { loadModel, type LoadOptions, type LoadedModel } from '../onnx/session';
import { TextTokenizer } from '../onnx/tokenize';

export class ClipTextEncoder implements TextEncoder {
  readonly name: string;
  readonly dim: number;
  private constructor(
    private readonly model: LoadedModel,
    private readonly tok: TextTokenizer,
    private readonly seq: number,
  ) {
    this.name = model.spec.id;
    this.dim = model.spec.embeddingDim;
  }

  static async load(spec: ModelSpec, modelDir: string, opts: LoadOptions = {}): Promise<ClipTextEncoder> {
    const model = await loadModel(spec, modelDir, opts);
    const tj = model.file('tokenizer');
    if (!tj) throw new LabelingError('INVALID_INPUT', spec.id, 'needs tokenizer.json');
    const seq = spec.maxTokens ?? 77;
    return new ClipTextEncoder(model, await TextTokenizer.load(tj, model.file('tokenizer_config'), seq), seq);
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < texts.length; s += 64) {
      const b = this.tok.encodeBatch(texts.slice(s, s + 64), this.seq);
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', b.inputIds, [b.batch, b.seq]),
      };
      if (this.model.session.inputNames.includes('attention_mask'))
        feeds['attention_mask'] = new ort.Tensor('int64', b.attentionMask, [b.batch, b.seq]);
      const res = await this.model.session.run(feeds);
      const e = res['text_embeds'];
      if (!e || e.dims.length !== 2 || e.dims[0] !== b.batch || e.dims[1] !== this.dim) {
        throw new LabelingError(
          'INVALID_INPUT',
          this.name,
          `text_embeds has shape [${e?.dims.join(', ') ?? ''}], expected [${b.batch}, ${this.dim}]`,
        );
      }
      out.set(e.data as Float32Array, s * this.dim);
      for (const t of Object.values(res)) t.dispose();
    }
    return l2NormalizeRows(out, this.dim);
  }

  async dispose(): Promise<void> {
    await this.model.session.release();
  }
}
