import { describe, expect, it } from 'vitest';
import { VoxelFusion } from './fuse';

function frame(
  points: number[][],
  colour: number[] = [10, 20, 30],
): { xyz: Float32Array; rgb: Uint8Array; n: number } {
  const xyz = new Float32Array(points.flat());
  const rgb = new Uint8Array(points.flatMap(() => colour));
  return { xyz, rgb, n: points.length };
}

function randomPoints(n: number, seed: number): number[][] {
  let s = seed;
  const r = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 4 - 2;
  return Array.from({ length: n }, () => [r(), r(), r()]);
}

describe('VoxelFusion', () => {
  it('merges two identical frames into the same voxels, each seen by both frames', () => {
    const pts = randomPoints(5000, 1);
    const f = frame(pts);
    const one = new VoxelFusion(0.02);
    one.addFrame(0, f.xyz, f.rgb, f.n);
    const two = new VoxelFusion(0.02);
    two.addFrame(3, f.xyz, f.rgb, f.n);
    two.addFrame(7, f.xyz, f.rgb, f.n);
    const a = one.finish();
    const b = two.finish();
    expect(b.count).toBe(a.count);
    expect(Array.from(b.positions)).toEqual(Array.from(a.positions));
    for (let i = 0; i < b.count; i++) {
      expect(b.frameCounts[i]).toBe(2);
      expect(Array.from(b.frameIds.subarray(b.frameOffsets[i]!, b.frameOffsets[i + 1]!))).toEqual([3, 7]);
      expect(b.pointCounts[i]).toBe(2 * a.pointCounts[i]!);
    }
  });

  it('averages position and colour within a voxel and separates neighbouring voxels', () => {
    const fu = new VoxelFusion(0.1);
    fu.addFrame(
      0,
      new Float32Array([0.01, 0.01, 0.01, 0.03, 0.05, 0.07, 0.15, 0.01, 0.01]),
      new Uint8Array([0, 100, 200, 10, 110, 210, 5, 5, 5]),
      3,
    );
    const r = fu.finish();
    expect(r.count).toBe(2);
    expect(r.positions[0]).toBeCloseTo(0.02, 6);
    expect(r.positions[1]).toBeCloseTo(0.03, 6);
    expect(r.positions[2]).toBeCloseTo(0.04, 6);
    expect(Array.from(r.colors.subarray(0, 3))).toEqual([5, 105, 205]);
    expect(r.positions[3]).toBeCloseTo(0.15, 6);
  });

  it('grows its hash table and finds every voxel again (100k distinct voxels)', () => {
    const fu = new VoxelFusion(0.01, 16);
    const pts: number[][] = [];
    for (let x = 0; x < 50; x++)
      for (let y = 0; y < 50; y++)
        for (let z = 0; z < 40; z++) pts.push([x * 0.01 + 0.005, -y * 0.01 - 0.005, z * 0.01 + 0.005]);
    const f = frame(pts);
    fu.addFrame(0, f.xyz, f.rgb, f.n);
    fu.addFrame(1, f.xyz, f.rgb, f.n);
    expect(fu.size).toBe(100_000);
    const r = fu.finish();
    expect(r.count).toBe(100_000);
    expect(Array.from(r.pointCounts).every((c) => c === 2)).toBe(true);
  });

  it('keeps a sorted sample of at most 8 distinct frames spread over all frames that saw a voxel', () => {
    const fu = new VoxelFusion(0.05);
    const f = frame([[0.01, 0.01, 0.01]]);
    for (let k = 0; k < 40; k++) fu.addFrame(100 + k, f.xyz, f.rgb, f.n);
    const r = fu.finish();
    const ids = Array.from(r.frameIds.subarray(r.frameOffsets[0]!, r.frameOffsets[1]!));
    expect(r.frameCounts[0]).toBe(40);
    expect(ids.length).toBe(8);
    expect(new Set(ids).size).toBe(8);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(ids.every((id) => id >= 100 && id < 140)).toBe(true);
    expect(Math.max(...ids)).toBeGreaterThan(107); // not just the first 8
  });

  it('drops non-finite points and stores large frame ids as Uint32', () => {
    const fu = new VoxelFusion(0.02);
    const f = frame([
      [NaN, 0, 0],
      [0, Infinity, 0],
      [1e12, 0, 0],
      [0.5, 0.5, 0.5],
    ]);
    fu.addFrame(70_000, f.xyz, f.rgb, f.n);
    expect(fu.droppedPoints).toBe(3);
    const r = fu.finish();
    expect(r.count).toBe(1);
    expect(r.frameIds).toBeInstanceOf(Uint32Array);
    expect(r.frameIds[0]).toBe(70_000);
  });

  it('leaves out voxels below minPoints', () => {
    const fu = new VoxelFusion(0.1);
    const f = frame([
      [0.01, 0.01, 0.01],
      [0.02, 0.02, 0.02],
      [0.51, 0.51, 0.51],
    ]);
    fu.addFrame(0, f.xyz, f.rgb, f.n);
    expect(fu.finish(2).count).toBe(1);
  });
});
