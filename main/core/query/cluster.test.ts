import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clusterStats, denseVoxelComponents, hashedVoxelComponents, voxelComponents } from './cluster';

function blob(cx: number, cy: number, cz: number, n: number, step = 0.02): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    out.push(cx + (i % 5) * step, cy + (Math.floor(i / 5) % 5) * step, cz + Math.floor(i / 25) * step);
  return out;
}

describe('voxelComponents', () => {
  it('splits separated blobs and keeps touching voxels together', () => {
    const pos = Float32Array.from([
      ...blob(0, 0, 0, 50),
      ...blob(1, 0, 0, 30),
      ...blob(0.05, 0.05, 0.05, 10),
    ]);
    const idx = Int32Array.from({ length: pos.length / 3 }, (_, i) => i);
    const c = voxelComponents(pos, idx, 0.05);
    expect(c.members.map((m) => m.length)).toEqual([60, 30]);
    expect(c.label[0]).toBe(0);
    expect(c.label[50]).toBe(1);
  });

  it('drops components below minPoints and reports stats', () => {
    const pos = Float32Array.from([...blob(0, 0, 0, 50), 5, 5, 5]);
    const idx = Int32Array.from({ length: 51 }, (_, i) => i);
    const c = voxelComponents(pos, idx, 0.05, 2);
    expect(c.members).toHaveLength(1);
    expect(c.label[50]).toBe(-1);
    const st = clusterStats(pos, c.members[0]!);
    expect(st.min).toEqual([0, 0, 0]);
    expect(st.extent[0]).toBeCloseTo(0.08, 5);
  });
});

describe('dense and hashed voxel components', () => {
  const canon = (c: { members: Int32Array[] }) =>
    c.members
      .map((m) => Array.from(m).sort((a, b) => a - b))
      .sort((a, b) => b.length - a.length || a[0]! - b[0]!);
  it('give the same components (and the dense path declines huge boxes)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: -40, max: 40 }),
            fc.integer({ min: -5, max: 5 }),
            fc.integer({ min: 0, max: 9 }),
          ),
          {
            maxLength: 200,
          },
        ),
        fc.integer({ min: 1, max: 4 }),
        (pts, minPoints) => {
          const pos = Float32Array.from(pts.flatMap(([x, y, z]) => [x * 0.031, y * 0.047, z * 0.029]));
          const idx = Int32Array.from({ length: pts.length }, (_, i) => i);
          const dense = denseVoxelComponents(pos, idx, 0.05, minPoints)!;
          const hashed = hashedVoxelComponents(pos, idx, 0.05, minPoints);
          expect(canon(dense)).toEqual(canon(hashed));
          for (let i = 0; i < idx.length; i++) expect(dense.label[i]! >= 0).toBe(hashed.label[i]! >= 0);
        },
      ),
      { numRuns: 1000, seed: 5 },
    );
    const far = Float32Array.from([0, 0, 0, 1000, 1000, 1000]);
    expect(denseVoxelComponents(far, [0, 1], 0.05)).toBeNull();
    expect(voxelComponents(far, [0, 1], 0.05).members).toHaveLength(2);
  });
});
