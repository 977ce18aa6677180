import { describe, expect, it } from 'vitest';
import { benchImport } from './bench';

describe('benchImport', () => {
  it('imports its synthetic iPhone-sized capture and reports throughput and peak memory', async () => {
    const r = await benchImport({ repeats: 1, frames: 4 });
    expect(r.map((m) => m.name)).toEqual([
      'import_throughput',
      'import_wall',
      'import_peak_rss',
      'import_max_rss_lifetime',
    ]);
    const [fps, wall, rss] = r;
    expect(fps!.samples).toHaveLength(1);
    expect(fps!.samples[0]).toBeCloseTo(4 / wall!.samples[0]!, 6);
    expect(rss!.samples[0]).toBeGreaterThan(10);
  });
});
