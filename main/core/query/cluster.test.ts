import { describe, expect, it } from 'vitest';
import { clusterStats, voxelComponents } from './cluster';

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
