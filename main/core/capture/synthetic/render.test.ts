import { describe, expect, it } from 'vitest';
import { generatePath } from './path';
import { compileScene, makeTracer, renderRgb, renderTruth, simulateLidar } from './render';
import { Rng } from './rng';
import { distanceToInstanceSurface, distanceToPrimitiveSurface, generateScene, type Vec3 } from './scene';
import { syntheticIntrinsics } from './write';

const scene = generateScene(1);
const cs = compileScene(scene);
const path = generatePath(scene, { frames: 60 });
const K = syntheticIntrinsics(120, 160, 96, 128);

/** Back-project depth pixel (i, j) with depth z through K and world_from_camera (ARKit axes). */
function backProject(m: Float64Array, i: number, j: number, z: number): Vec3 {
  const k = K.depth;
  const xc = ((i - k.cx) / k.fx) * z,
    yc = (-(j - k.cy) / k.fy) * z,
    zc = -z;
  return [
    m[0]! * xc + m[1]! * yc + m[2]! * zc + m[3]!,
    m[4]! * xc + m[5]! * yc + m[6]! * zc + m[7]!,
    m[8]! * xc + m[9]! * yc + m[10]! * zc + m[11]!,
  ];
}

describe('ray caster', () => {
  it('tile-binned camera rays and BVH rays find the same surfaces', () => {
    const tr = makeTracer(cs);
    let mismatches = 0;
    let hits = 0;
    for (const f of [3, 25, 47]) {
      const m = path.poses[f]!;
      tr.beginView(m, K.depth);
      for (let j = 0; j < K.depth.height; j += 3) {
        for (let i = 0; i < K.depth.width; i += 3) {
          const p1 = tr.castPixel(i, j);
          const t1 = tr.hitT();
          const d = tr.rayDir;
          const p2 = tr.trace(m[3]!, m[7]!, m[11]!, d[0]!, d[1]!, d[2]!, 1e9);
          const t2 = tr.hitT();
          if (p1 >= 0) hits++;
          if (Math.abs(t1 - t2) > 1e-9 || (p1 !== p2 && cs.instance[p1] !== cs.instance[p2])) mismatches++;
        }
      }
    }
    expect(hits).toBeGreaterThan(3000);
    expect(mismatches).toBe(0);
  });

  it('simulated depth lies on the surface of the labelled object (within noise)', () => {
    let checked = 0;
    let structure = 0;
    const structPrims = scene.primitives.filter((p) => p.instanceId === 0);
    for (const f of [5, 20, 35, 50]) {
      const m = path.poses[f]!;
      const truth = renderTruth(cs, m, K.depth);
      const lidar = simulateLidar(truth, K.depth.width, K.depth.height, new Rng(f));
      for (let j = 0; j < K.depth.height; j++) {
        for (let i = 0; i < K.depth.width; i++) {
          const idx = j * K.depth.width + i;
          const z = lidar.depth_m[idx]!;
          if (lidar.confidence[idx] !== 2 || z <= 0) continue;
          const p = backProject(m, i, j, z);
          const tol = 0.035 * z + 0.004;
          const id = truth.ids[idx]!;
          if (id > 0) {
            expect(distanceToInstanceSurface(scene, id, p)).toBeLessThan(tol);
            checked++;
          } else {
            expect(Math.min(...structPrims.map((q) => distanceToPrimitiveSurface(q, p)))).toBeLessThan(tol);
            structure++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
    expect(structure).toBeGreaterThan(1000);
  });

  it('simulates LiDAR noise, quantisation, dropout, range limit and confidence', () => {
    let n = 0,
      dropped = 0,
      sumSq = 0,
      conf2 = 0;
    const confSeen = new Set<number>();
    for (const f of [8, 30, 52]) {
      const truth = renderTruth(cs, path.poses[f]!, K.depth);
      const lidar = simulateLidar(truth, K.depth.width, K.depth.height, new Rng(100 + f));
      for (let k = 0; k < truth.depth_m.length; k++) {
        const t = truth.depth_m[k]!,
          d = lidar.depth_m[k]!,
          c = lidar.confidence[k]!;
        confSeen.add(c);
        expect(d).toBeLessThanOrEqual(5.2);
        if (d > 0) expect(Math.abs(d * 1000 - Math.round(d * 1000))).toBeLessThan(1e-3);
        if (d === 0) expect(c).toBe(0);
        if (t > 5) expect(d).toBe(0);
        if (t <= 0 || t > 5) continue;
        n++;
        if (d === 0) dropped++;
        if (c === 2) {
          conf2++;
          sumSq += ((d - t) / t) ** 2;
        }
      }
    }
    const rel = Math.sqrt(sumSq / conf2);
    expect(rel).toBeGreaterThan(0.003);
    expect(rel).toBeLessThan(0.012);
    expect(dropped / n).toBeGreaterThan(0.01);
    expect(dropped / n).toBeLessThan(0.12);
    expect(conf2 / n).toBeGreaterThan(0.6);
    expect([...confSeen].sort()).toEqual([0, 1, 2]);
  });

  it('renders deterministic, non-flat colour images that change with the pose', () => {
    const a = renderRgb(cs, path.poses[10]!, K.rgb, { noiseSeed: 1 });
    const b = renderRgb(cs, path.poses[10]!, K.rgb, { noiseSeed: 1 });
    const c = renderRgb(cs, path.poses[40]!, K.rgb, { noiseSeed: 1 });
    expect(a.length).toBe(120 * 160 * 3);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    let sum = 0,
      sumSq = 0;
    for (const v of a) {
      sum += v;
      sumSq += v * v;
    }
    const mean = sum / a.length;
    const sd = Math.sqrt(sumSq / a.length - mean * mean);
    expect(mean).toBeGreaterThan(40);
    expect(mean).toBeLessThan(220);
    expect(sd).toBeGreaterThan(15);
  });
});
