import type { EvalResult, MethodResult } from '../eval/types';

function method(name: MethodResult['method'], acc: number): MethodResult {
  return {
    method: name,
    accuracy: acc,
    miou: acc - 0.1,
    present_success: acc,
    absent_success: 1,
    memory_bytes: 1 << 20,
    build_ms: 10,
    query_ms: 2,
    classify_ms_per_1k: 1,
    coverage: 1,
  };
}

/** A small, complete evaluation result (every chart has data) for tests and report previews. */
export function sampleEvalResult(): EvalResult {
  const seed = {
    seed: 1,
    capture: '/x.r3d',
    frames: { total: 10, train: 5, heldout: 5 },
    labels: {
      point_accuracy: 1,
      mean_precision: 1,
      mean_recall: 0.9,
      points: 100,
      frames: 5,
      per_class: {
        mug: { precision: 1, recall: 0.8, labeled_points: 10, gt_points: 12 },
        'trash can': { precision: 0.9, recall: 1, labeled_points: 9, gt_points: 9 },
      },
    },
    segmentation: {
      accuracy: 0.9,
      miou: 0.8,
      points: 1000,
      frames: 5,
      per_class: {
        mug: { accuracy: 0.7, precision: 0.8, iou: 0.6, support: 100 },
        'trash can': { accuracy: 0.95, precision: 0.9, iou: 0.86, support: 900 },
      },
    },
    localisation: {
      present_success: 1,
      absent_success: 0.5,
      false_found_rate: 0.5,
      radius_m: 0.3,
      not_found_rule: 'test <rule>',
      per_class: {
        mug: {
          present: true,
          found: true,
          success: true,
          distance_m: 0.1,
          score: 0.9,
          look_at: [0, 0, 0] as [number, number, number],
        },
        giraffe: { present: false, found: true, success: false, distance_m: null, score: 0.7, look_at: null },
      },
    },
    baselines: {
      field: method('field', 0.9),
      'nearest-labeled-point': method('nearest-labeled-point', 0.85),
      'voxel-map': method('voxel-map', 0.8),
    },
    denoising: [
      { noise: 0, spec: 'none', label_accuracy: 1, field_accuracy: 0.9, field_miou: 0.8 },
      { noise: 0.4, spec: 'confuse=0.4', label_accuracy: 0.6, field_accuracy: 0.8, field_miou: 0.7 },
    ],
    few_shot: [
      { fraction: 0.1, frames: 1, label_points: 10, field_accuracy: 0.5, field_miou: 0.3 },
      { fraction: 1, frames: 5, label_points: 100, field_accuracy: 0.9, field_miou: 0.8 },
    ],
    training: {
      steps: 3,
      engine: 'onnx',
      preset: 'cpu',
      samples_per_s: 1000,
      train_ms: 50,
      final_loss: 0.5,
      curve: [
        { step: 1, loss: 2 },
        { step: 2, loss: 1, heldout_accuracy: 0.5 },
        { step: 3, loss: 0.5 },
      ],
    },
    timings_ms: { total: 1000 },
  };
  return {
    version: 1,
    created_at: '2026-01-01T00:00:00Z',
    settings: { steps: 3 },
    ...seed,
    seeds: [seed, { ...seed, seed: 2 }],
    targets: { segmentation_accuracy: 0.85, localisation: 0.9, met: true },
  };
}
