/**
 * Named goals persisted in `<project>/waypoints.json` (versioned, written atomically, one writer at a time).
 *
 * Schema (version 1):
 * {
 *   "format": "clip-fields-waypoints", "version": 1,
 *   "map_frame": { "origin_m": [x, y], "yaw_rad": yaw },      // operator's map frame (see frame.ts)
 *   "waypoints": [ { "id", "name", "position_world_m": [x,y,z], "heading_world": [dx,dy,dz] (unit, horizontal),
 *                    "look_at_world_m": [x,y,z] | null, "query": string | null, "created_at", "updated_at" } ]
 * }
 * Waypoints are stored in the capture's world frame so that moving the map frame does not move them in the
 * room; every export converts them to the map frame and says so.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { writeJsonAtomic } from '../util/atomic';
import { Mutex } from '../util/mutex';
import { QueryError } from '../query/errors';

export const WAYPOINTS_FILE = 'waypoints.json';
export const WAYPOINTS_FORMAT = 'clip-fields-waypoints';
export const WAYPOINTS_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'must be finite');
const vec3 = z.tuple([finite, finite, finite]);

export const WaypointSchema = z.object({
  id: z.string().min(1).max(128),
  name: z.string().min(1).max(200),
  position_world_m: vec3,
  heading_world: vec3,
  look_at_world_m: vec3.nullable(),
  query: z.string().max(1000).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Waypoint = z.infer<typeof WaypointSchema>;

export const WaypointsFileSchema = z.object({
  format: z.literal(WAYPOINTS_FORMAT),
  version: z.literal(WAYPOINTS_VERSION),
  map_frame: z.object({ origin_m: z.tuple([finite, finite]), yaw_rad: finite }),
  waypoints: z.array(WaypointSchema),
});
export type WaypointsFile = z.infer<typeof WaypointsFileSchema>;

const locks = new Map<string, Mutex>();
function lockFor(projectDir: string): Mutex {
  const key = path.resolve(projectDir);
  let m = locks.get(key);
  if (!m) locks.set(key, (m = new Mutex()));
  return m;
}

export function waypointsPath(projectDir: string): string {
  return path.join(projectDir, WAYPOINTS_FILE);
}

export function emptyWaypoints(): WaypointsFile {
  return {
    format: WAYPOINTS_FORMAT,
    version: WAYPOINTS_VERSION,
    map_frame: { origin_m: [0, 0], yaw_rad: 0 },
    waypoints: [],
  };
}

export function parseWaypointsFile(text: string, file: string): WaypointsFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new QueryError('INVALID_INPUT', file, `not JSON: ${(err as Error).message}`);
  }
  const r = WaypointsFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new QueryError(
      'INVALID_INPUT',
      file,
      `invalid waypoints file: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`,
    );
  }
  const ids = new Set<string>();
  for (const w of r.data.waypoints) {
    if (ids.has(w.id)) throw new QueryError('INVALID_INPUT', file, `duplicate waypoint id ${w.id}`);
    ids.add(w.id);
  }
  return r.data;
}

export async function loadWaypoints(projectDir: string): Promise<WaypointsFile> {
  const file = waypointsPath(projectDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyWaypoints();
    throw new QueryError('IO', file, `cannot read: ${(err as Error).message}`);
  }
  return parseWaypointsFile(text, file);
}

async function update<T>(projectDir: string, fn: (w: WaypointsFile) => T): Promise<T> {
  return lockFor(projectDir).run(async () => {
    const data = await loadWaypoints(projectDir);
    const out = fn(data);
    try {
      await writeJsonAtomic(waypointsPath(projectDir), data);
    } catch (err) {
      throw new QueryError('IO', waypointsPath(projectDir), `cannot write: ${(err as Error).message}`);
    }
    return out;
  });
}

function unitHorizontal(v: [number, number, number]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  if (!(n > 1e-9)) throw new QueryError('BAD_ARGS', null, 'waypoint heading must be a non-zero vector');
  return [v[0] / n, v[1] / n, v[2] / n];
}

function findIndex(data: WaypointsFile, idOrName: string): number {
  let i = data.waypoints.findIndex((w) => w.id === idOrName);
  if (i < 0) i = data.waypoints.findIndex((w) => w.name === idOrName);
  if (i < 0) throw new QueryError('NOT_FOUND', null, `no waypoint with id or name "${idOrName}"`);
  return i;
}

function checkName(data: WaypointsFile, name: string, except?: string): string {
  const n = name.trim();
  if (n.length === 0 || n.length > 200)
    throw new QueryError('BAD_ARGS', null, 'waypoint name must have 1-200 characters');
  if (data.waypoints.some((w) => w.name === n && w.id !== except))
    throw new QueryError('CONFLICT', null, `a waypoint named "${n}" already exists`);
  return n;
}

export interface NewWaypoint {
  name: string;
  position_world_m: [number, number, number];
  heading_world: [number, number, number];
  look_at_world_m?: [number, number, number] | null;
  query?: string | null;
}

export async function addWaypoint(projectDir: string, w: NewWaypoint): Promise<Waypoint> {
  return update(projectDir, (data) => {
    const now = new Date().toISOString();
    const wp: Waypoint = {
      id: randomUUID(),
      name: checkName(data, w.name),
      position_world_m: w.position_world_m,
      heading_world: unitHorizontal(w.heading_world),
      look_at_world_m: w.look_at_world_m ?? null,
      query: w.query ?? null,
      created_at: now,
      updated_at: now,
    };
    const parsed = WaypointSchema.safeParse(wp);
    if (!parsed.success)
      throw new QueryError(
        'BAD_ARGS',
        null,
        `invalid waypoint: ${parsed.error.issues[0]?.message ?? 'unknown'}`,
      );
    data.waypoints.push(wp);
    return wp;
  });
}

export async function listWaypoints(projectDir: string): Promise<Waypoint[]> {
  return (await loadWaypoints(projectDir)).waypoints;
}

export async function renameWaypoint(projectDir: string, idOrName: string, name: string): Promise<Waypoint> {
  return update(projectDir, (data) => {
    const wp = data.waypoints[findIndex(data, idOrName)]!;
    wp.name = checkName(data, name, wp.id);
    wp.updated_at = new Date().toISOString();
    return wp;
  });
}

export async function moveWaypoint(
  projectDir: string,
  idOrName: string,
  to: { position_world_m?: [number, number, number]; heading_world?: [number, number, number] },
): Promise<Waypoint> {
  return update(projectDir, (data) => {
    const wp = data.waypoints[findIndex(data, idOrName)]!;
    if (to.position_world_m) {
      if (!to.position_world_m.every(Number.isFinite))
        throw new QueryError('BAD_ARGS', null, 'position must be finite');
      wp.position_world_m = to.position_world_m;
    }
    if (to.heading_world) wp.heading_world = unitHorizontal(to.heading_world);
    wp.updated_at = new Date().toISOString();
    return wp;
  });
}

/** Reorder: `ids` must name every waypoint exactly once. */
export async function reorderWaypoints(projectDir: string, ids: string[]): Promise<Waypoint[]> {
  return update(projectDir, (data) => {
    if (ids.length !== data.waypoints.length || new Set(ids).size !== ids.length)
      throw new QueryError(
        'BAD_ARGS',
        null,
        `reorder needs each of the ${data.waypoints.length} waypoint ids exactly once`,
      );
    data.waypoints = ids.map((id) => data.waypoints[findIndex(data, id)]!);
    return data.waypoints;
  });
}

export async function deleteWaypoint(projectDir: string, idOrName: string): Promise<Waypoint> {
  return update(projectDir, (data) => data.waypoints.splice(findIndex(data, idOrName), 1)[0]!);
}

export async function setMapFrame(
  projectDir: string,
  frame: { origin_m: [number, number]; yaw_rad: number },
): Promise<WaypointsFile['map_frame']> {
  if (![...frame.origin_m, frame.yaw_rad].every(Number.isFinite))
    throw new QueryError('BAD_ARGS', null, 'map frame origin and yaw must be finite');
  return update(
    projectDir,
    (data) => (data.map_frame = { origin_m: frame.origin_m, yaw_rad: frame.yaw_rad }),
  );
}
