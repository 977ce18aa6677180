import { describe, expect, it } from 'vitest';
import {
  FLOOR_Y,
  classesOf,
  describeInstance,
  distanceToPrimitiveSurface,
  generateScene,
  instancesOf,
  type Primitive,
  type Scene,
} from './scene';

const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function primBox(p: Primitive): { min: number[]; max: number[] } {
  return { min: p.center.map((c, a) => c - p.half[a]!), max: p.center.map((c, a) => c + p.half[a]!) };
}

/** Pairs of primitives of different instances whose boxes overlap by more than `tol` on every axis. */
function overlappingInstances(scene: Scene, tol: number): [string, string][] {
  const objs = scene.primitives.map((p, i) => ({ p, i, b: primBox(p) })).filter((o) => o.p.instanceId > 0);
  const out: [string, string][] = [];
  for (let a = 0; a < objs.length; a++) {
    for (let b = a + 1; b < objs.length; b++) {
      const A = objs[a]!,
        B = objs[b]!;
      if (A.p.instanceId === B.p.instanceId) continue;
      let overlap = true;
      for (let k = 0; k < 3; k++)
        if (Math.min(A.b.max[k]!, B.b.max[k]!) - Math.max(A.b.min[k]!, B.b.min[k]!) <= tol) overlap = false;
      if (overlap) {
        const ca = scene.instances[A.p.instanceId - 1]!.className,
          cb = scene.instances[B.p.instanceId - 1]!.className;
        // a rug lies on the floor under furniture by design
        if (ca !== 'rug' && cb !== 'rug') out.push([`${ca}#${A.p.instanceId}`, `${cb}#${B.p.instanceId}`]);
      }
    }
  }
  return out;
}

describe('generateScene', () => {
  it('is deterministic per seed', () => {
    expect(JSON.stringify(generateScene(3))).toBe(JSON.stringify(generateScene(3)));
  });

  it('gives different layouts for different seeds', () => {
    const sigs = SEEDS.map((s) => {
      const sc = generateScene(s);
      return JSON.stringify([
        sc.rooms.map((r) => r.minX.toFixed(2)),
        instancesOf(sc, 'sofa').map((i) => i.centroid.map((v) => v.toFixed(2))),
        instancesOf(sc, 'table').map((i) => i.centroid.map((v) => v.toFixed(2))),
      ]);
    });
    expect(new Set(sigs).size).toBe(SEEDS.length);
  });

  it('furnishes two rooms with 15+ classes, ids 1..N, and several chairs', () => {
    for (const seed of SEEDS) {
      const sc = generateScene(seed);
      expect(sc.rooms).toHaveLength(2);
      expect(sc.classes.length).toBeGreaterThanOrEqual(18);
      for (const core of [
        'fridge',
        'microwave',
        'sink',
        'oven',
        'cabinet',
        'table',
        'chair',
        'sofa',
        'tv',
        'bed',
        'plant',
        'trash can',
        'bookshelf',
        'lamp',
        'mug',
        'laptop',
        'door',
        'monitor',
        'desk',
      ]) {
        expect(sc.classes, `seed ${seed} lacks ${core}`).toContain(core);
      }
      expect(sc.instances.map((i) => i.id)).toEqual(sc.instances.map((_, k) => k + 1));
      expect(instancesOf(sc, 'chair').length).toBeGreaterThanOrEqual(3);
      expect(classesOf(sc)).toEqual([...sc.classes]);
    }
  });

  it('places objects without interpenetration', () => {
    for (const seed of SEEDS) {
      expect(overlappingInstances(generateScene(seed), 0.003), `seed ${seed}`).toEqual([]);
    }
  });

  it('keeps objects inside the apartment and on the floor or on furniture', () => {
    for (const seed of SEEDS) {
      const sc = generateScene(seed);
      const minX = Math.min(...sc.rooms.map((r) => r.minX)),
        maxX = Math.max(...sc.rooms.map((r) => r.maxX));
      for (const inst of sc.instances) {
        const d = describeInstance(sc, inst);
        expect(d.bboxMin[0]).toBeGreaterThanOrEqual(minX - 1e-6);
        expect(d.bboxMax[0]).toBeLessThanOrEqual(maxX + 1e-6);
        expect(d.bboxMin[2]).toBeGreaterThanOrEqual(sc.rooms[0]!.minZ - 1e-6);
        expect(d.bboxMax[2]).toBeLessThanOrEqual(sc.rooms[0]!.maxZ + 1e-6);
        expect(d.bboxMin[1]).toBeGreaterThanOrEqual(FLOOR_Y - 1e-6);
        expect(d.bboxMax[1]).toBeLessThanOrEqual(sc.ceilingY);
      }
      // small objects stand on a support surface, not in the air
      for (const cls of ['mug', 'laptop', 'microwave', 'monitor', 'keyboard', 'tv']) {
        for (const inst of instancesOf(sc, cls)) {
          expect(inst.bboxMin[1], `${cls} seed ${seed}`).toBeGreaterThan(FLOOR_Y + 0.3);
          const below: [number, number, number] = [
            inst.bboxCenter[0],
            inst.bboxMin[1] - 0.003,
            inst.bboxCenter[2],
          ];
          const support = sc.instances
            .filter((o) => o.id !== inst.id)
            .some((o) =>
              o.primitives.some((pi) => {
                const b = primBox(sc.primitives[pi]!);
                return (
                  below[1] >= b.min[1]! - 0.01 &&
                  below[1] <= b.max[1]! + 0.01 &&
                  Math.abs(b.max[1]! - inst.bboxMin[1]) < 0.01
                );
              }),
            );
          expect(support, `${cls} seed ${seed} has nothing under it`).toBe(true);
        }
      }
    }
  });

  it('instancesOf returns boxes that contain their centroids, empty for absent classes', () => {
    const sc = generateScene(0);
    const chairs = instancesOf(sc, 'chair');
    expect(chairs.length).toBeGreaterThan(1);
    for (const c of chairs) {
      for (let a = 0; a < 3; a++) {
        expect(c.centroid[a]).toBeGreaterThanOrEqual(c.bboxMin[a]!);
        expect(c.centroid[a]).toBeLessThanOrEqual(c.bboxMax[a]!);
      }
      expect(c.className).toBe('chair');
    }
    expect(instancesOf(sc, 'giraffe')).toEqual([]);
  });

  it('measures distance to primitive surfaces exactly for boxes and cylinders', () => {
    const mat = {
      color: [1, 1, 1],
      color2: [1, 1, 1],
      pattern: 'solid',
      patternAxis: 0,
      scale: 1,
      gloss: 0,
      emissive: 0,
    } as const;
    const box: Primitive = {
      kind: 'box',
      center: [0, 0, 0],
      half: [1, 2, 3],
      axis: 0,
      instanceId: 1,
      material: { ...mat, color: [1, 1, 1], color2: [1, 1, 1] },
    };
    expect(distanceToPrimitiveSurface(box, [1.5, 0, 0])).toBeCloseTo(0.5, 12);
    expect(distanceToPrimitiveSurface(box, [0.25, 0, 0])).toBeCloseTo(0.75, 12);
    const cyl: Primitive = { ...box, kind: 'cylinder', half: [0.5, 1, 0.5], axis: 1 };
    expect(distanceToPrimitiveSurface(cyl, [0.8, 0, 0])).toBeCloseTo(0.3, 12);
    expect(distanceToPrimitiveSurface(cyl, [0, 1.2, 0])).toBeCloseTo(0.2, 12);
    const sph: Primitive = { ...box, kind: 'ellipsoid', half: [0.5, 0.5, 0.5] };
    expect(distanceToPrimitiveSurface(sph, [0, 0, 0.9])).toBeCloseTo(0.4, 9);
  });

  it('rejects a non-finite seed with a RangeError', () => {
    expect(() => generateScene(Number.NaN)).toThrow(RangeError);
  });
});
