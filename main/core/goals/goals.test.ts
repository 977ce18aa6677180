import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  invertRigid,
  mapFromWorld,
  transformPoint,
  worldDirectionOfYaw,
  yawOfWorldDirection,
  yawQuaternion,
} from './frame';
import { CELL_FREE, CELL_OCCUPIED, CELL_UNKNOWN, buildOccupancy, cellOf, standOffPose } from './occupancy';
import {
  addWaypoint,
  deleteWaypoint,
  listWaypoints,
  loadWaypoints,
  moveWaypoint,
  parseWaypointsFile,
  renameWaypoint,
  reorderWaypoints,
  setMapFrame,
} from './waypoints';
import { QueryError } from '../query/errors';

/** Map-frame points: a floor of size w x h (5 cm lattice) and optional boxes [x0, y0, x1, y1, height]. */
function room(w: number, h: number, boxes: number[][] = []): Float32Array {
  const pts: number[] = [];
  for (let x = 0.025; x < w; x += 0.05) for (let y = 0.025; y < h; y += 0.05) pts.push(x, y, 0);
  for (const [x0, y0, x1, y1, hz] of boxes) {
    for (let x = x0!; x <= x1!; x += 0.04)
      for (let y = y0!; y <= y1!; y += 0.04) for (let z = 0.12; z <= hz!; z += 0.1) pts.push(x, y, z);
  }
  return Float32Array.from(pts);
}

describe('map frame', () => {
  it('is floor-aligned z-up and honours origin and yaw', () => {
    const M = mapFromWorld({ up: [0, 1, 0], height: -1 }, { origin_m: [1, 2], yaw_rad: Math.PI / 2 });
    // A world point on the floor (y = -1) lands at map z = 0.
    expect(transformPoint(M, [0, -1, 0])[2]).toBeCloseTo(0, 9);
    expect(transformPoint(M, [0, 0.5, 0])[2]).toBeCloseTo(1.5, 9);
    const back = transformPoint(invertRigid(M), transformPoint(M, [0.3, 0.2, -0.7]));
    back.forEach((v, i) => expect(v).toBeCloseTo([0.3, 0.2, -0.7][i]!, 9));
    const yaw = 0.7;
    expect(yawOfWorldDirection(M, worldDirectionOfYaw(M, yaw))).toBeCloseTo(yaw, 9);
    const q = yawQuaternion(Math.PI);
    expect(q.z).toBeCloseTo(1, 9);
    expect(q.w).toBeCloseTo(0, 9);
  });
});

describe('occupancy grid and stand-off pose', () => {
  it('classifies obstacle, free and unknown cells', () => {
    const pts = room(2, 2, [[1, 1, 1.2, 1.2, 0.8]]);
    const g = buildOccupancy(pts, pts.length / 3);
    const [ox, oy] = cellOf(g, 1.1, 1.1);
    expect(g.cells[oy * g.width + ox]).toBe(CELL_OCCUPIED);
    const [fx, fy] = cellOf(g, 0.3, 0.3);
    expect(g.cells[fy * g.width + fx]).toBe(CELL_FREE);
    expect(g.cells[0]).toBe(CELL_UNKNOWN); // the margin around the room was never observed
    // Inflation: a free cell 0.1 m from the box is not traversable with a 0.25 m radius.
    const [ix, iy] = cellOf(g, 0.9, 1.1);
    expect(g.traversable[iy * g.width + ix]).toBe(0);
  });

  it('puts the robot in free space at the requested distance, facing the target', () => {
    const pts = room(4, 4, [[2, 2, 2.2, 2.2, 0.9]]);
    const g = buildOccupancy(pts, pts.length / 3);
    const target: [number, number] = [2.1, 2.1];
    const r = standOffPose(g, target, [0.5, 0.5], { distance_m: 0.7 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(Math.abs(Math.hypot(r.x_m - target[0], r.y_m - target[1]) - 0.7)).toBeLessThanOrEqual(
      g.cell_m + 1e-9,
    );
    const [cx, cy] = cellOf(g, r.x_m, r.y_m);
    expect(g.traversable[cy * g.width + cx]).toBe(1);
    expect(Math.abs(Math.atan2(target[1] - r.y_m, target[0] - r.x_m) - r.yaw_rad)).toBeLessThan(1e-9);
    // The shortest approach comes from the start's side (lower-left).
    expect(r.x_m + r.y_m).toBeLessThan(target[0] + target[1]);
  });

  it('reports when no reachable free cell exists and when the target is outside the map', () => {
    // The target is enclosed by a ring of walls: no cell at 0.7 m is reachable from the start.
    const walls = [
      [1.2, 1.2, 3, 1.3, 1],
      [1.2, 2.9, 3, 3, 1],
      [1.2, 1.2, 1.3, 3, 1],
      [2.9, 1.2, 3, 3, 1],
    ];
    const pts = room(4, 4, walls);
    const g = buildOccupancy(pts, pts.length / 3);
    const r = standOffPose(g, [2.1, 2.1], [0.3, 0.3], { distance_m: 0.7 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/reachable|free floor/);
    const out = standOffPose(g, [40, 40], [0.3, 0.3]);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.reason).toMatch(/outside/);
  });
});

describe('waypoints store', () => {
  it('adds, renames, moves, reorders and deletes, persisting a valid versioned file', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-wp-'));
    try {
      const a = await addWaypoint(dir, {
        name: 'door',
        position_world_m: [1, 0, 2],
        heading_world: [2, 0, 0],
      });
      const b = await addWaypoint(dir, {
        name: 'table',
        position_world_m: [0, 0, 0],
        heading_world: [0, 0, -1],
        query: 'table',
      });
      await expect(
        addWaypoint(dir, { name: 'door', position_world_m: [0, 0, 0], heading_world: [1, 0, 0] }),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(a.heading_world).toEqual([1, 0, 0]);
      await renameWaypoint(dir, 'door', 'front door');
      await moveWaypoint(dir, a.id, { position_world_m: [3, 0, 3] });
      await reorderWaypoints(dir, [b.id, a.id]);
      let list = await listWaypoints(dir);
      expect(list.map((w) => w.name)).toEqual(['table', 'front door']);
      expect(list[1]!.position_world_m).toEqual([3, 0, 3]);
      await setMapFrame(dir, { origin_m: [1, 1], yaw_rad: 0.5 });
      await deleteWaypoint(dir, 'table');
      list = await listWaypoints(dir);
      expect(list.map((w) => w.name)).toEqual(['front door']);
      const file = await loadWaypoints(dir);
      expect(file.map_frame.yaw_rad).toBe(0.5);
      expect(
        parseWaypointsFile(await fs.readFile(path.join(dir, 'waypoints.json'), 'utf8'), 'x').version,
      ).toBe(1);
      await expect(deleteWaypoint(dir, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('parser never throws anything but a QueryError on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) =>
            JSON.stringify({
              format: 'clip-fields-waypoints',
              version: 1,
              map_frame: { origin_m: [0, 0], yaw_rad: 0 },
              waypoints: [v],
            }),
          ),
        ),
        (text) => {
          try {
            parseWaypointsFile(text, 'w.json');
          } catch (err) {
            expect(err).toBeInstanceOf(QueryError);
          }
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });
});
