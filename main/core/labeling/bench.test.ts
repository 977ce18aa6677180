import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { benchLabeling, clipImageGraph } from './bench';

describe('benchLabeling (quick shapes)', () => {
  it('returns positive samples for the labeler and each model graph, fp32 and int8', async () => {
    const r = await benchLabeling({ repeats: 1, quick: true });
    expect(r.map((s) => s.name)).toEqual([
      'labeling.ground_truth.frames_per_s',
      'labeling.clip_vit_b32_image.ms_per_crop.quick_shapes',
      'labeling.clip_vit_b32_image_q8.ms_per_crop.quick_shapes',
      'labeling.owlvit_b32_768.ms_per_frame.quick_shapes',
      'labeling.owlvit_b32_768_q8.ms_per_frame.quick_shapes',
      'labeling.minilm_l6.ms_per_sentence.quick_shapes',
    ]);
    for (const s of r) {
      expect(s.samples).toHaveLength(1);
      expect(s.samples[0]).toBeGreaterThan(0);
    }
  });

  it('the int8 (dynamically quantised) graph computes what the fp32 graph with the same weights does', async () => {
    const shape = { image: 64, patch: 32, width: 64, layers: 2, heads: 4, mlp: 256 };
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-q8-'));
    try {
      const embed = async (precision: 'fp32' | 'int8'): Promise<Float32Array> => {
        const file = path.join(dir, `${precision}.onnx`);
        await fs.writeFile(file, clipImageGraph(shape, 32, precision));
        const s = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
        const px = new Float32Array(3 * 64 * 64).map((_, i) => Math.sin(i * 0.37));
        const r = await s.run({ pixel_values: new ort.Tensor('float32', px, [1, 3, 64, 64]) });
        await s.release();
        return r.image_embeds!.data as Float32Array;
      };
      const a = await embed('fp32');
      const b = await embed('int8');
      let dot = 0,
        na = 0,
        nb = 0;
      for (let i = 0; i < a.length; i++) {
        dot += a[i]! * b[i]!;
        na += a[i]! ** 2;
        nb += b[i]! ** 2;
      }
      const cosine = dot / Math.sqrt(na * nb);
      expect(cosine).toBeGreaterThan(0.98);
      expect(cosine).toBeLessThan(1); // it really is quantised
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
