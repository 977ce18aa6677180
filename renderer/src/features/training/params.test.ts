import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_FORM, trainParamsFrom } from './params';

describe('trainParamsFrom', () => {
  it('sends the basic fields for a preset and ignores custom-only ones', () => {
    expect(trainParamsFrom({ ...DEFAULT_TRAIN_FORM, lr: '0.5' })).toEqual({
      params: {
        preset: 'cpu',
        engine: 'onnx',
        steps: 3000,
        seed: 0,
        threads: 2,
        checkpoint_every: 500,
        eval_every: 200,
        heldout_fraction: 0.05,
      },
    });
  });

  it('nests grid and mlp overrides for custom, skipping empty fields', () => {
    const r = trainParamsFrom({
      ...DEFAULT_TRAIN_FORM,
      preset: 'custom',
      engine: 'tfjs',
      lr: '0.001',
      levels: '8',
      mlp_width: '64',
    });
    expect(r).toEqual({
      params: {
        preset: 'custom',
        engine: 'tfjs',
        steps: 3000,
        seed: 0,
        threads: 2,
        checkpoint_every: 500,
        eval_every: 200,
        heldout_fraction: 0.05,
        lr: 0.001,
        grid: { levels: 8 },
        mlp: { width: 64 },
      },
    });
  });

  it('names the field that is out of range', () => {
    expect(trainParamsFrom({ ...DEFAULT_TRAIN_FORM, heldout_fraction: '0.9' })).toEqual({
      error: 'Held-out fraction must be a number from 0 to 0.5.',
    });
    expect(trainParamsFrom({ ...DEFAULT_TRAIN_FORM, steps: '1.5' })).toHaveProperty('error');
  });

  it('refuses a max resolution below the base resolution', () => {
    expect(
      trainParamsFrom({
        ...DEFAULT_TRAIN_FORM,
        preset: 'custom',
        base_resolution: '64',
        max_resolution: '32',
      }),
    ).toHaveProperty('error');
  });
});
