/**
 * Project geometry for goals: the map, the capture's camera poses, the map frame and (lazily) the occupancy
 * grid; the look-at point of a query hit and the stand-off goal in front of it.
 */
import { topIndices } from '../util/select';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FrameIndexSchema, type FrameIndex } from '../../../preload/contract';
import { type PointMap, readMapFile } from '../map/format';
import { QueryError } from '../query/errors';
import { type Vec3, invertRigid, mapFromWorld, transformPoint, transformPoints } from './frame';
import {
  type OccupancyGrid,
  type OccupancyOptions,
  type StandOffOptions,
  buildOccupancy,
  standOffPose,
} from './occupancy';
import { loadWaypoints } from './waypoints';

export const MAP_FILE = path.join('map', 'map.bin');
export const FRAMES_FILE = path.join('frames', 'index.json');

export async function readFrameIndex(projectDir: string): Promise<FrameIndex | null> {
  const file = path.join(projectDir, FRAMES_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new QueryError('INVALID_INPUT', file, `not JSON: ${(err as Error).message}`);
  }
  const r = FrameIndexSchema.safeParse(raw);
  if (!r.success)
    throw new QueryError(
      'INVALID_INPUT',
      file,
      `invalid frame index: ${r.error.issues[0]?.message ?? 'unknown'}`,
    );
  return r.data;
}

export class ProjectGeometry {
  private grid: OccupancyGrid | null = null;
  private gridKey = '';
  readonly worldFromMap: Float64Array;

  constructor(
    readonly map: PointMap,
    readonly frames: FrameIndex | null,
    readonly mapFromWorld: Float64Array,
  ) {
    this.worldFromMap = invertRigid(mapFromWorld);
  }

  static async load(projectDir: string): Promise<ProjectGeometry> {
    const map = await readMapFile(path.join(projectDir, MAP_FILE));
    const frames = await readFrameIndex(projectDir);
    const wp = await loadWaypoints(projectDir);
    return new ProjectGeometry(map, frames, mapFromWorld(map.floor, wp.map_frame));
  }

  toMap(p: ArrayLike<number>): Vec3 {
    return transformPoint(this.mapFromWorld, p);
  }

  toWorld(p: ArrayLike<number>): Vec3 {
    return transformPoint(this.worldFromMap, p);
  }

  occupancy(opts: OccupancyOptions = {}): OccupancyGrid {
    const key = JSON.stringify(opts);
    if (!this.grid || key !== this.gridKey) {
      this.grid = buildOccupancy(
        transformPoints(this.mapFromWorld, this.map.positions, this.map.count),
        this.map.count,
        opts,
      );
      this.gridKey = key;
    }
    return this.grid;
  }

  /** Default start: the first (selected) camera position projected on the floor, else the map's centre. */
  defaultStartMap(): [number, number] {
    const fr = this.frames?.frames.find((f) => f.selected) ?? this.frames?.frames[0];
    if (fr) {
      const m = fr.world_from_camera;
      const p = this.toMap([m[3]!, m[7]!, m[11]!]);
      return [p[0], p[1]];
    }
    const b = this.map.bounds_m;
    const c = this.toMap([(b.min[0] + b.max[0]) / 2, (b.min[1] + b.max[1]) / 2, (b.min[2] + b.max[2]) / 2]);
    return [c[0], c[1]];
  }
}

/**
 * Look-at point of a cluster: the score-weighted centroid of its top points (the best `fraction`, at least
 * `minPoints`), with weights score - threshold, so one noisy argmax point cannot move it.
 */
export function lookAtPoint(
  positions: Float32Array,
  members: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  fraction = 0.2,
  minPoints = 5,
): Vec3 {
  const take = Math.min(members.length, Math.max(minPoints, Math.ceil(members.length * fraction)));
  // The `take` best-scoring members (ties by position), by selection rather than a full sort.
  const order = topIndices(scores instanceof Float32Array ? scores : Float32Array.from(scores), take);
  let wsum = 0;
  const c = [0, 0, 0];
  for (let k = 0; k < take; k++) {
    const m = order[k]!;
    const w = Math.max(scores[m]! - threshold, 1e-6);
    const p = members[m]!;
    for (let a = 0; a < 3; a++) c[a]! += w * positions[3 * p + a]!;
    wsum += w;
  }
  return [c[0]! / wsum, c[1]! / wsum, c[2]! / wsum];
}

export interface GoalOptions extends StandOffOptions {
  occupancy?: OccupancyOptions;
  /** Start in map metres (default: first camera on the floor). */
  start_map_m?: [number, number];
}

export type GoalResult =
  | {
      ok: true;
      frame: 'map';
      map_m: [number, number];
      yaw_rad: number;
      world_m: Vec3;
      distance_m: number;
      path_cost_m: number;
    }
  | { ok: false; reason: string };

/** A stand-off pose in front of `target_world` (see occupancy.ts). */
export function goalFor(
  geom: ProjectGeometry,
  target_world: ArrayLike<number>,
  opts: GoalOptions = {},
): GoalResult {
  const grid = geom.occupancy(opts.occupancy);
  const t = geom.toMap(target_world);
  const r = standOffPose(grid, [t[0], t[1]], opts.start_map_m ?? geom.defaultStartMap(), opts);
  if (!r.ok) return r;
  return {
    ok: true,
    frame: 'map',
    map_m: [r.x_m, r.y_m],
    yaw_rad: r.yaw_rad,
    world_m: geom.toWorld([r.x_m, r.y_m, 0]),
    distance_m: r.distance_m,
    path_cost_m: r.path_cost_m,
  };
}
