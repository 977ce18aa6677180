import { describe, expect, it } from 'vitest';
import { estimateFloor, mapFromWorldDefault } from './floor';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Floor at height h (tilted by `tiltDeg` about x), a table top, a wall, boxes and stray points. */
function scene(h: number, tiltDeg = 0): Float32Array {
  const r = rng(7);
  const pts: number[] = [];
  const t = (tiltDeg * Math.PI) / 180;
  for (let k = 0; k < 20_000; k++) {
    const x = -2 + 4 * r(),
      z = -4 + 4 * r();
    pts.push(x, h + Math.tan(t) * (z + 2) + (r() - 0.5) * 0.01, z);
  }
  for (let k = 0; k < 12_000; k++) pts.push(-0.5 + r(), h + 0.75 + (r() - 0.5) * 0.005, -2.5 + 0.8 * r()); // table top
  for (let k = 0; k < 15_000; k++) pts.push(-2 + 4 * r(), h + 2.5 * r(), -4 + (r() - 0.5) * 0.01); // wall
  for (let k = 0; k < 8_000; k++) pts.push(1 + 0.4 * r(), h + 0.5 * r(), -1.5 + 0.4 * r()); // clutter box volume
  for (let k = 0; k < 300; k++) pts.push(-2 + 4 * r(), h - 0.5 * r(), -4 + 4 * r()); // stray points below the floor
  return new Float32Array(pts);
}

const angleDeg = (a: number[], b: number[]): number =>
  (Math.acos(Math.min(1, a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!)) * 180) / Math.PI;

describe('estimateFloor', () => {
  it('finds a level floor below a table, a wall and clutter', () => {
    const p = scene(-1.3);
    const f = estimateFloor(p, p.length / 3);
    expect(f).not.toBeNull();
    expect(f!.height).toBeCloseTo(-1.3, 2);
    expect(angleDeg(f!.up, [0, 1, 0])).toBeLessThan(0.5);
  });

  it('recovers a slightly tilted floor normal', () => {
    const p = scene(0.2, 3);
    const f = estimateFloor(p, p.length / 3)!;
    const expected = [0, Math.cos((3 * Math.PI) / 180), -Math.sin((3 * Math.PI) / 180)];
    expect(angleDeg(f.up, expected)).toBeLessThan(0.3);
  });

  it('returns null when there is no horizontal plane (a single wall)', () => {
    const r = rng(3);
    const pts: number[] = [];
    for (let k = 0; k < 5000; k++) pts.push(r(), r(), -1 + 0.002 * r());
    expect(estimateFloor(new Float32Array(pts), 5000)).toBeNull();
  });
});

describe('mapFromWorldDefault', () => {
  const apply = (m: Float64Array, p: number[]): number[] =>
    [0, 1, 2].map((r) => m[4 * r]! * p[0]! + m[4 * r + 1]! * p[1]! + m[4 * r + 2]! * p[2]! + m[4 * r + 3]!);

  it('is z-up, x forward (world -z), y left (world -x), origin on the floor below the world origin', () => {
    const m = mapFromWorldDefault({ up: [0, 1, 0], height: -1.3 });
    expect(apply(m, [0, 0, 0])).toEqual([0, 0, 1.3].map((v) => expect.closeTo(v, 9)));
    expect(apply(m, [0, -1.3, 0])).toEqual([0, 0, 0].map((v) => expect.closeTo(v, 9)));
    expect(apply(m, [0, -1.3, -1])).toEqual([1, 0, 0].map((v) => expect.closeTo(v, 9)));
    expect(apply(m, [-1, -1.3, 0])).toEqual([0, 1, 0].map((v) => expect.closeTo(v, 9)));
    expect(Array.from(m.subarray(12))).toEqual([0, 0, 0, 1]);
  });

  it('puts every floor point at z = 0 for a tilted floor and stays a rotation', () => {
    const up = [0.1, 0.99, -0.05];
    const n = Math.hypot(...up);
    const u = up.map((v) => v / n) as [number, number, number];
    const m = mapFromWorldDefault({ up: u, height: 0.4 });
    for (const q of [
      [0, 0, 0],
      [1, 0, 0],
      [0, 0, 1],
      [-2, 0, 3],
    ]) {
      // move q onto the floor plane along up
      const s = 0.4 - (u[0] * q[0]! + u[1] * q[1]! + u[2] * q[2]!);
      expect(apply(m, [q[0]! + s * u[0], q[1]! + s * u[1], q[2]! + s * u[2]])[2]).toBeCloseTo(0, 9);
    }
    const R = [0, 1, 2].map((r) => [m[4 * r]!, m[4 * r + 1]!, m[4 * r + 2]!]);
    const det =
      R[0]![0]! * (R[1]![1]! * R[2]![2]! - R[1]![2]! * R[2]![1]!) -
      R[0]![1]! * (R[1]![0]! * R[2]![2]! - R[1]![2]! * R[2]![0]!) +
      R[0]![2]! * (R[1]![0]! * R[2]![1]! - R[1]![1]! * R[2]![0]!);
    expect(det).toBeCloseTo(1, 9);
  });
});
