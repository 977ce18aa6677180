/**
 * CLI-ready export and waypoint functions (every pose exported in the map frame; every write atomic).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ProjectGeometry } from '../goals/goal';
import { mapFromWorld, invertRigid, transformPoint, worldDirectionOfYaw, type Vec3 } from '../goals/frame';
import type { OccupancyOptions } from '../goals/occupancy';
import { type Waypoint, addWaypoint, listWaypoints, loadWaypoints } from '../goals/waypoints';
import { QueryError } from '../query/errors';
import { type EngineOptions, QueryEngine, type QueryOptions } from '../query/engine';
import { readMapFile } from '../map/format';
import { MAP_FILE } from '../goals/goal';
import { heatmapPly, nav2Yaml, occupancyPgm, occupancyYaml, waypointsCsv, waypointsJson } from './formats';
import { posesInMap } from './poses';
import { exportFile } from './write';

export type WaypointFormat = 'json' | 'nav2' | 'csv';

export async function waypointsList(projectDir: string): Promise<Waypoint[]> {
  return listWaypoints(projectDir);
}

/** Add a waypoint at a map-frame pose (x, y on the floor, yaw about z). */
export async function waypointsAddMapPose(
  projectDir: string,
  name: string,
  pose: { x_m: number; y_m: number; yaw_rad: number },
  extra: { look_at_world_m?: Vec3 | null; query?: string | null } = {},
): Promise<Waypoint> {
  const map = await readMapFile(path.join(projectDir, MAP_FILE));
  const M = mapFromWorld(map.floor, (await loadWaypoints(projectDir)).map_frame);
  return addWaypoint(projectDir, {
    name,
    position_world_m: transformPoint(invertRigid(M), [pose.x_m, pose.y_m, 0]),
    heading_world: worldDirectionOfYaw(M, pose.yaw_rad),
    look_at_world_m: extra.look_at_world_m ?? null,
    query: extra.query ?? null,
  });
}

/** Run a query and store its stand-off goal (facing the look-at point) as a waypoint. */
export async function waypointsAddFromQuery(
  projectDir: string,
  name: string,
  text: string,
  opts: QueryOptions & EngineOptions = {},
): Promise<Waypoint> {
  const engine = await QueryEngine.open(projectDir, opts);
  try {
    const { result } = await engine.query(text, opts);
    if (result.not_found || !result.look_at)
      throw new QueryError('NOT_FOUND', null, `"${text}" was not found: ${result.reason ?? ''}`);
    if (!result.goal)
      throw new QueryError(
        'NOT_FOUND',
        null,
        `"${text}" was found but no reachable stand-off pose exists: ${result.goal_error ?? ''}`,
      );
    return waypointsAddMapPose(
      projectDir,
      name,
      { x_m: result.goal.map_m[0], y_m: result.goal.map_m[1], yaw_rad: result.goal.yaw_rad },
      { look_at_world_m: result.look_at.world_m, query: text },
    );
  } finally {
    await engine.dispose();
  }
}

export async function waypointsExport(
  projectDir: string,
  dest: string,
  format: WaypointFormat,
): Promise<{ file: string; bytes: number; count: number }> {
  const file = await loadWaypoints(projectDir);
  const map = await readMapFile(path.join(projectDir, MAP_FILE));
  const { poses, map_from_world } = posesInMap(file, map.floor);
  const text =
    format === 'json'
      ? waypointsJson(poses, map_from_world)
      : format === 'nav2'
        ? nav2Yaml(poses)
        : waypointsCsv(poses);
  return { ...(await exportFile(dest, text)), count: poses.length };
}

/** Write the ROS map_server pair `<base>.pgm` + `<base>.yaml` (the YAML last: it names the image). */
export async function exportOccupancy(
  projectDir: string,
  destYaml: string,
  opts: OccupancyOptions = {},
): Promise<{ yaml: string; pgm: string; width: number; height: number }> {
  const geom = await ProjectGeometry.load(projectDir);
  const grid = geom.occupancy(opts);
  const yamlFile = destYaml.endsWith('.yaml') || destYaml.endsWith('.yml') ? destYaml : `${destYaml}.yaml`;
  const pgmFile = yamlFile.replace(/\.ya?ml$/, '.pgm');
  const hadPgm = await fs.stat(pgmFile).then(
    () => true,
    () => false,
  );
  await exportFile(pgmFile, occupancyPgm(grid));
  try {
    await exportFile(yamlFile, occupancyYaml(grid, path.basename(pgmFile)));
  } catch (err) {
    // Nothing partial at the destination: an image without its YAML is not a map.
    if (!hadPgm) await fs.rm(pgmFile, { force: true }).catch(() => undefined);
    throw err;
  }
  return { yaml: path.resolve(yamlFile), pgm: path.resolve(pgmFile), width: grid.width, height: grid.height };
}

/** Heatmap of one text query as a coloured binary PLY (world frame; colours from the threshold's median to the peak). */
export async function exportHeatmap(
  projectDir: string,
  dest: string,
  text: string,
  opts: QueryOptions & EngineOptions = {},
): Promise<{ file: string; bytes: number; points: number }> {
  const engine = await QueryEngine.open(projectDir, opts);
  try {
    const { result, scores } = await engine.query(text, { ...opts, goal: false });
    const map = engine.geometry.map;
    let hi = -Infinity;
    for (const s of scores) hi = Math.max(hi, s);
    const ply = heatmapPly(
      map.positions,
      scores,
      map.count,
      result.threshold.median,
      hi,
      `query "${text}" heatmap, world frame (capture), score = weighted cosine`,
    );
    return { ...(await exportFile(dest, ply)), points: map.count };
  } finally {
    await engine.dispose();
  }
}
