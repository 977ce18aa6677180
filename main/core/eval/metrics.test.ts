import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JobError } from '../jobs/types';
import { PointGridIndex, VoxelFeatureMap, argmaxLabel, nearestLabel } from './baselines';
import { localise, scoreRows } from './localise';
import {
  Confusion,
  distanceToInstance,
  localisationHit,
  meanOf,
  precisionRecall,
  segmentationMetrics,
  type InstanceGeometry,
} from './metrics';
import { noiseSpecForLevel, parseEvalParams, spreadFrames } from './pipeline';

describe('segmentation metrics', () => {
  it('computes accuracy, per-class precision/recall/IoU and mIoU from a hand-made confusion', () => {
    // gt: a a a b b c ; pred: a a b b b a
    const c = new Confusion(['a', 'b', 'c']);
    c.addAll([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 1, 0]);
    const m = segmentationMetrics(c);
    expect(m.accuracy).toBeCloseTo(4 / 6);
    expect(m.per_class.a).toMatchObject({ support: 3, predicted: 3, correct: 2 });
    expect(m.per_class.a!.precision).toBeCloseTo(2 / 3);
    expect(m.per_class.a!.recall).toBeCloseTo(2 / 3);
    expect(m.per_class.a!.iou).toBeCloseTo(2 / 4);
    expect(m.per_class.b!.iou).toBeCloseTo(2 / 3);
    expect(m.per_class.c!.iou).toBe(0);
    expect(m.miou).toBeCloseTo((0.5 + 2 / 3 + 0) / 3);
  });

  it('counts unanswered points against recall but not against any class precision', () => {
    const c = new Confusion(['a', 'b']);
    c.addAll([0, 0, 1], [0, -1, 1]);
    const m = segmentationMetrics(c);
    expect(m.accuracy).toBeCloseTo(2 / 3);
    expect(m.per_class.a!.recall).toBeCloseTo(0.5);
    expect(m.per_class.a!.precision).toBe(1);
    expect(m.per_class.a!.iou).toBeCloseTo(0.5);
  });

  it('leaves classes without ground truth out of mIoU', () => {
    const c = new Confusion(['a', 'b']);
    c.addAll([0, 0], [0, 1]);
    const m = segmentationMetrics(c);
    expect(m.per_class.b!.iou).toBeNull();
    expect(m.miou).toBeCloseTo(0.5);
  });

  it('rejects a ground-truth class outside the table', () => {
    expect(() => new Confusion(['a']).add(3, 0)).toThrow(RangeError);
  });

  it('precision/recall from counts and means skip nulls', () => {
    expect(precisionRecall(3, 4, 6)).toEqual({ precision: 0.75, recall: 0.5 });
    expect(precisionRecall(0, 0, 0)).toEqual({ precision: null, recall: null });
    expect(meanOf([0.5, null, 1])).toBeCloseTo(0.75);
    expect(meanOf([null])).toBeNull();
  });
});

function inst(cls: string, min: [number, number, number], max: [number, number, number]): InstanceGeometry {
  return { id: 1, className: cls, points: Float32Array.from([...min, ...max]), min, max };
}

describe('localisation rule', () => {
  const mug = inst('mug', [1, 0, 1], [1.1, 0.1, 1.1]);
  const sofa = inst('sofa', [3, 0, 3], [5, 1, 4]);
  it('succeeds inside the box of an instance of the class', () => {
    expect(localisationHit([4, 0.5, 3.5], 'sofa', [mug, sofa], 0.3)).toEqual({
      success: true,
      distance_m: 0,
    });
  });
  it('succeeds within the radius of the surface and fails beyond it', () => {
    expect(localisationHit([1.3, 0.1, 1.1], 'mug', [mug, sofa], 0.3).success).toBe(true);
    const far = localisationHit([1.5, 0.1, 1.1], 'mug', [mug, sofa], 0.3);
    expect(far.success).toBe(false);
    expect(far.distance_m).toBeCloseTo(0.4, 5);
  });
  it('fails for the wrong class, no look-at point, or a class without instances', () => {
    expect(localisationHit([4, 0.5, 3.5], 'mug', [mug, sofa], 0.3).success).toBe(false);
    expect(localisationHit(null, 'mug', [mug], 0.3).success).toBe(false);
    expect(localisationHit([1, 0, 1], 'tv', [mug], 0.3)).toEqual({ success: false, distance_m: null });
  });
  it('distance is to the nearest surface sample outside the box', () => {
    expect(distanceToInstance([1, 0, 0], mug)).toBeCloseTo(1, 5);
  });
});

describe('look-at and not-found', () => {
  it('picks the densest high-scoring cluster and answers not found below the threshold', () => {
    const pts: number[] = [];
    const scores: number[] = [];
    // a cluster of 20 good points near (2, 0, 2), one isolated high point far away, and background
    for (let i = 0; i < 20; i++) {
      pts.push(2 + 0.01 * i, 0, 2);
      scores.push(0.9);
    }
    pts.push(-5, 0, -5);
    scores.push(0.92);
    for (let i = 0; i < 200; i++) {
      pts.push(i * 0.05, 1, 0);
      scores.push(0.1);
    }
    const xyz = Float32Array.from(pts);
    const r = localise(xyz, Float32Array.from(scores), { threshold: 0.6, topFraction: 0.5 });
    expect(r.found).toBe(true);
    expect(r.look_at![0]).toBeGreaterThan(2);
    expect(r.look_at![0]).toBeLessThan(2.2);
    expect(localise(xyz, Float32Array.from(scores), { threshold: 0.95 }).found).toBe(false);
  });
  it('scores rows by dot product with the query', () => {
    expect(
      Array.from(scoreRows(Float32Array.from([1, 0, 0, 1, 0, 0]), 3, 2, Float32Array.from([0.6, 0.8]))),
    ).toEqual([expect.closeTo(0.6), expect.closeTo(0.8), 0]);
  });
});

describe('baselines', () => {
  it('the grid index finds the same nearest point as brute force', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.float({ min: -2, max: 2, noNaN: true }),
            fc.float({ min: -2, max: 2, noNaN: true }),
            fc.float({ min: -2, max: 2, noNaN: true }),
          ),
          { minLength: 1, maxLength: 60 },
        ),
        fc.tuple(
          fc.float({ min: -2, max: 2, noNaN: true }),
          fc.float({ min: -2, max: 2, noNaN: true }),
          fc.float({ min: -2, max: 2, noNaN: true }),
        ),
        (points, q) => {
          const xyz = Float32Array.from(points.flat());
          const idx = new PointGridIndex(xyz, points.length, 0.1);
          const got = idx.nearest(q[0], q[1], q[2], 0.5);
          let best = -1;
          let bestD = 0.25;
          for (let i = 0; i < points.length; i++) {
            const d =
              (xyz[3 * i]! - q[0]) ** 2 + (xyz[3 * i + 1]! - q[1]) ** 2 + (xyz[3 * i + 2]! - q[2]) ** 2;
            if (d <= bestD) {
              bestD = d;
              best = i;
            }
          }
          if (best < 0) return got === -1;
          const dGot =
            got < 0
              ? Infinity
              : (xyz[3 * got]! - q[0]) ** 2 +
                (xyz[3 * got + 1]! - q[1]) ** 2 +
                (xyz[3 * got + 2]! - q[2]) ** 2;
          return Math.abs(dGot - bestD) < 1e-9;
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });

  it('nearest labeled point and the voxel map classify points next to labeled ones', () => {
    const xyz = Float32Array.from([0, 0, 0, 0.01, 0, 0, 1, 0, 0, 1.01, 0, 0]);
    const labelId = [0, 0, 1, 1];
    const emb = Float32Array.from([1, 0, 0, 1]);
    const idx = new PointGridIndex(xyz, 4, 0.1);
    const q = Float32Array.from([0.02, 0.01, 0, 0.98, 0, 0, 5, 5, 5]);
    expect(Array.from(nearestLabel(idx, labelId, q, 0.25))).toEqual([0, 1, -1]);
    const vm = new VoxelFeatureMap(xyz, labelId, 4, emb, 2, 0.05);
    expect(vm.voxels).toBe(2);
    const { features } = vm.lookup(q);
    expect(Array.from(argmaxLabel(features, 3, emb, 2, 2))).toEqual([0, 1, -1]);
  });
});

describe('study helpers and job parameters', () => {
  it('noise levels map to confusion + jitter specs', () => {
    expect(noiseSpecForLevel(0, 3)).toBe('');
    expect(noiseSpecForLevel(0.2, 3)).toBe('drop=0,confuse=0.2,jitter=0.1,seed=3');
    expect(() => noiseSpecForLevel(1.5, 0)).toThrow(RangeError);
  });
  it('few-shot frames are spread evenly, at least one', () => {
    const frames = Array.from({ length: 50 }, (_, i) => i * 2);
    expect(spreadFrames(frames, 0.01)).toHaveLength(1);
    expect(spreadFrames(frames, 0.1)).toEqual([10, 30, 50, 70, 90]);
    expect(spreadFrames(frames, 1)).toEqual(frames);
  });
  it('eval job parameters are validated with BAD_ARGS', () => {
    expect(parseEvalParams({ steps: 10, denoising: [0, 0.2] })).toEqual({ steps: 10, denoising: [0, 0.2] });
    expect(parseEvalParams({ quick: true }).steps).toBeGreaterThan(0);
    for (const bad of [
      { steps: -1 },
      { stepz: 1 },
      { denoising: [2] },
      { noise: 'drop=7' },
      { quick: 'yes' },
    ]) {
      expect(() => parseEvalParams(bad)).toThrow(JobError);
    }
  });
});
