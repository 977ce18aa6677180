import { describe, expect, it } from 'vitest';
import { generatePath } from './path';
import { compileScene, renderTruth } from './render';
import { generateScene } from './scene';
import { syntheticIntrinsics } from './write';

function rot(m: Float64Array): number[] {
  return [m[0]!, m[1]!, m[2]!, m[4]!, m[5]!, m[6]!, m[8]!, m[9]!, m[10]!];
}

describe('generatePath', () => {
  it('gives valid rigid ARKit camera-to-world poses, deterministically', () => {
    const sc = generateScene(2);
    const p = generatePath(sc, { frames: 200 });
    expect(p.poses).toHaveLength(200);
    expect(JSON.stringify(p.poses.map((m) => Array.from(m)))).toBe(
      JSON.stringify(generatePath(sc, { frames: 200 }).poses.map((m) => Array.from(m))),
    );
    for (const m of p.poses) {
      const r = rot(m);
      for (let a = 0; a < 3; a++) {
        for (let b = 0; b < 3; b++) {
          const dot = r[a]! * r[b]! + r[3 + a]! * r[3 + b]! + r[6 + a]! * r[6 + b]!;
          expect(dot).toBeCloseTo(a === b ? 1 : 0, 9);
        }
      }
      const det =
        r[0]! * (r[4]! * r[8]! - r[5]! * r[7]!) -
        r[1]! * (r[3]! * r[8]! - r[5]! * r[6]!) +
        r[2]! * (r[3]! * r[7]! - r[4]! * r[6]!);
      expect(det).toBeCloseTo(1, 9);
      expect([m[12], m[13], m[14], m[15]]).toEqual([0, 0, 0, 1]);
      // handheld: camera up (+y column) mostly up, viewing direction (-z column) not looking at the sky
      expect(r[4]!).toBeGreaterThan(0.5);
      expect(-r[5]!).toBeLessThan(0.3);
      // eye height above the floor
      expect(m[7]! - sc.floorY).toBeGreaterThan(1.25);
      expect(m[7]! - sc.floorY).toBeLessThan(1.6);
    }
    for (let k = 1; k < p.timestamps_s.length; k++)
      expect(p.timestamps_s[k]! - p.timestamps_s[k - 1]!).toBeCloseTo(1 / p.fps, 12);
  });

  it('walks smoothly through free space', () => {
    for (const seed of [0, 3, 7]) {
      const sc = generateScene(seed);
      const p = generatePath(sc, { frames: 200 });
      for (let k = 0; k < p.poses.length; k++) {
        const m = p.poses[k]!;
        const [x, y, z] = [m[3]!, m[7]!, m[11]!];
        const inRoom = sc.rooms.some((r) => x > r.minX && x < r.maxX && z > r.minZ && z < r.maxZ);
        const inDoor =
          x > sc.doorway.minX - 0.1 &&
          x < sc.doorway.maxX + 0.1 &&
          z > sc.doorway.minZ &&
          z < sc.doorway.maxZ;
        expect(inRoom || inDoor, `seed ${seed} frame ${k} at ${x},${z}`).toBe(true);
        // at least 5 cm from walls and 10 cm from objects
        for (const q of sc.primitives) {
          const pad = q.instanceId === 0 ? 0.05 : 0.1;
          const inside =
            Math.abs(x - q.center[0]) < q.half[0] + pad &&
            Math.abs(y - q.center[1]) < q.half[1] + pad &&
            Math.abs(z - q.center[2]) < q.half[2] + pad;
          expect(
            inside,
            `seed ${seed} frame ${k} inside ${q.instanceId ? sc.instances[q.instanceId - 1]!.className : 'structure'}`,
          ).toBe(false);
        }
        if (k > 0) {
          const o = p.poses[k - 1]!;
          expect(Math.hypot(x - o[3]!, y - o[7]!, z - o[11]!)).toBeLessThan(0.4);
          const a = rot(m),
            b = rot(o);
          let tr = 0;
          for (let c = 0; c < 3; c++) tr += a[c]! * b[c]! + a[3 + c]! * b[3 + c]! + a[6 + c]! * b[6 + c]!;
          const angle = Math.acos(Math.min(1, Math.max(-1, (tr - 1) / 2)));
          expect(angle * (180 / Math.PI)).toBeLessThan(25);
        }
      }
    }
  });

  it('sees every class and most objects, from several views', () => {
    const K = syntheticIntrinsics(480, 640, 48, 64).depth;
    for (const seed of [0, 1, 2]) {
      const sc = generateScene(seed);
      const cs = compileScene(sc);
      const p = generatePath(sc, { frames: 200 });
      const framesSeen = new Map<number, number>();
      for (const m of p.poses) {
        const ids = renderTruth(cs, m, K).ids;
        const count = new Map<number, number>();
        for (const id of ids) if (id > 0) count.set(id, (count.get(id) ?? 0) + 1);
        for (const [id, c] of count) if (c >= 3) framesSeen.set(id, (framesSeen.get(id) ?? 0) + 1);
      }
      const classesSeen = new Set([...framesSeen.keys()].map((id) => sc.instances[id - 1]!.className));
      expect([...classesSeen].sort(), `seed ${seed}`).toEqual(sc.classes);
      const multi = sc.instances.filter((i) => (framesSeen.get(i.id) ?? 0) >= 3).length;
      expect(multi / sc.instances.length, `seed ${seed}`).toBeGreaterThan(0.8);
    }
  });

  it('rejects a bad frame count', () => {
    expect(() => generatePath(generateScene(0), { frames: 0 })).toThrow(RangeError);
  });
});
