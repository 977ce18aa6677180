/** CLIP ViT-B/32 image encoder: batched crop embeddings (`pixel_values` [B,3,224,224] -> `image_embeds` [B,512], L2). */
import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../capture/types';
import type { ModelSpec } from '../../models/manifest';
import { LabelingError, l2NormalizeRows, type Box, type ImageCropEncoder } from '../types';
import { loadModel, type LoadOptions, type LoadedModel } from '../onnx/session';
import { clipPreprocessCrop } from './preprocess';

export class ClipImageEncoder implements ImageCropEncoder {
  readonly name: string;
  readonly dim: number;
  readonly size: number;
  private constructor(
    private readonly model: LoadedModel,
    private readonly batchSize: number,
  ) {
    this.name = model.spec.id;
    this.dim = model.spec.embeddingDim;
    this.size = model.spec.imageSize ?? 224;
  }

  static async load(
    spec: ModelSpec,
    modelDir: string,
    opts: LoadOptions & { batchSize?: number } = {},
  ): Promise<ClipImageEncoder> {
    return new ClipImageEncoder(await loadModel(spec, modelDir, opts), opts.batchSize ?? 16);
  }

  async encodeCrops(rgb: RgbImage, boxes: readonly Box[]): Promise<Float32Array> {
    const out = new Float32Array(boxes.length * this.dim);
    const S = this.size,
      per = 3 * S * S;
    for (let s = 0; s < boxes.length; s += this.batchSize) {
      const chunk = boxes.slice(s, s + this.batchSize);
      const pixels = new Float32Array(chunk.length * per);
      await Promise.all(chunk.map((b, i) => clipPreprocessCrop(rgb, b, S, pixels, i * per)));
      const res = await this.model.session.run({
        pixel_values: new ort.Tensor('float32', pixels, [chunk.length, 3, S, S]),
      });
      const e = res['image_embeds'];
      if (!e || e.dims.length !== 2 || e.dims[0] !== chunk.length || e.dims[1] !== this.dim) {
        throw new LabelingError(
          'INVALID_INPUT',
          this.name,
          `image_embeds has shape [${e?.dims.join(', ') ?? ''}], expected [${chunk.length}, ${this.dim}]`,
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
