import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseWaypointsFile, WAYPOINTS_FORMAT, WAYPOINTS_VERSION } from './waypoints';
import { QueryError } from '../query/errors';
import { FAULTS_ENABLED } from '../testing/faults/harness';
import { checkParser, damagedBytes, mutatedJson } from '../testing/faults/properties';

// Waypoint import: every generated file is a waypoints file or a QueryError naming the file.
const valid = {
  format: WAYPOINTS_FORMAT,
  version: WAYPOINTS_VERSION,
  map_frame: { origin_m: [0.5, -1], yaw_rad: 0.25 },
  waypoints: [
    {
      id: 'a1',
      name: 'dock',
      position_world_m: [1, 0, -2],
      heading_world: [0, 0, -1],
      look_at_world_m: null,
      query: null,
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
    },
    {
      id: 'b2',
      name: 'sofa',
      position_world_m: [0, 0, 1],
      heading_world: [1, 0, 0],
      look_at_world_m: [0.5, 0.4, 1],
      query: 'sofa',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-02T00:00:00Z',
    },
  ],
};
const typed = (e: unknown) => e instanceof QueryError && e.file === 'waypoints.json';

describe.skipIf(!FAULTS_ENABLED)('waypoint import under generated input', () => {
  it('mutated documents', async () => {
    const stats = await checkParser(mutatedJson(valid), {
      seed: 0x3a9,
      numRuns: 2000,
      typed,
      parse: (d) => parseWaypointsFile(JSON.stringify(d), 'waypoints.json'),
    });
    expect(stats.ok).toBeGreaterThan(0);
    expect(stats.typed).toBeGreaterThan(0);
  });

  it('damaged bytes and arbitrary strings', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(valid));
    await checkParser(damagedBytes(bytes), {
      seed: 0x3aa,
      numRuns: 1000,
      typed,
      parse: (b) => parseWaypointsFile(new TextDecoder().decode(b), 'waypoints.json'),
    });
    await checkParser(fc.string({ maxLength: 500 }), {
      seed: 0x3ab,
      numRuns: 1000,
      typed,
      parse: (s) => parseWaypointsFile(s, 'waypoints.json'),
    });
  });

  it('a 10k-waypoint file with duplicate ids is refused quickly', () => {
    const many = {
      ...valid,
      waypoints: Array.from({ length: 10_000 }, (_, i) => ({ ...valid.waypoints[0]!, id: `w${i % 9999}` })),
    };
    const t0 = performance.now();
    expect(() => parseWaypointsFile(JSON.stringify(many), 'waypoints.json')).toThrow(
      /duplicate waypoint id w0/,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
