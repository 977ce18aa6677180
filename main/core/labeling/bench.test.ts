import { describe, expect, it } from 'vitest';
import { benchLabeling } from './bench';

describe('benchLabeling (quick shapes)', () => {
  it('returns positive samples for the labeler and each model graph', async () => {
    const r = await benchLabeling({ repeats: 1, quick: true });
    expect(r.map((s) => s.name)).toEqual([
      'labeling.ground_truth.frames_per_s',
      'labeling.clip_vit_b32_image.ms_per_crop.quick_shapes',
      'labeling.owlvit_b32_768.ms_per_frame.quick_shapes',
      'labeling.minilm_l6.ms_per_sentence.quick_shapes',
    ]);
    for (const s of r) {
      expect(s.samples).toHaveLength(1);
      expect(s.samples[0]).toBeGreaterThan(0);
    }
  });
});
