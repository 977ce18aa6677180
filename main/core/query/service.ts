/**
 * Queries, waypoints and exports for the studio, run in the compute worker: one warm QueryEngine per project
 * (reopened when the query cache is rebuilt), the last heatmap kept for the renderer to fetch as an asset.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { QueryEngine, type QueryOptions, type QueryResult } from './engine';
import { queryCacheDir } from './cache';
import { QueryError } from './errors';
import { ProjectGeometry, MAP_FILE, goalFor } from '../goals/goal';
import {
  loadWaypoints,
  renameWaypoint,
  deleteWaypoint,
  reorderWaypoints,
  setMapFrame,
  moveWaypoint,
  type Waypoint,
} from '../goals/waypoints';
import { mapFromWorld, transformPoint, worldDirectionOfYaw, yawOfWorldDirection } from '../goals/frame';
import { readMapFile } from '../map/format';
import {
  exportHeatmap,
  exportOccupancy,
  waypointsAddFromQuery,
  waypointsAddMapPose,
  waypointsExport,
} from '../export';
import { sendWaypoints } from '../export/send';
import { encodeHeatmap } from '../../../preload/contract/heatmap-format';

interface Warm {
  projectDir: string;
  stamp: string;
  engine: QueryEngine;
}
let warm: Warm | null = null;
interface HeatmapEntry {
  projectDir: string;
  seq: number;
  scores: Float32Array;
  encoded: Uint8Array | null;
}
/** The heatmaps of the last KEEP_HEATMAPS queries (newest last): queries can finish out of order. */
let recentHeatmaps: HeatmapEntry[] = [];
const KEEP_HEATMAPS = 2;
let seq = 0;
let heatmapBuffers: Float32Array[] = [];
const heatmapBusy = new Set<Float32Array>();

async function cacheStamp(projectDir: string): Promise<string> {
  const manifest = path.join(queryCacheDir(projectDir), 'manifest.json');
  try {
    const st = await fs.stat(manifest);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    throw new QueryError(
      'NOT_FOUND',
      manifest,
      'no trained field to query yet: label the capture, then train the field (Training ▸ Start); the query cache is built when training ends',
    );
  }
}

export async function engineFor(projectDir: string): Promise<QueryEngine> {
  const stamp = await cacheStamp(projectDir);
  if (warm && warm.projectDir === projectDir && warm.stamp === stamp) return warm.engine;
  if (warm) await warm.engine.dispose().catch(() => undefined);
  warm = null;
  const engine = await QueryEngine.open(projectDir);
  warm = { projectDir, stamp, engine };
  return engine;
}

/** Open the project's engine and build what the first query would (false when there is no cache yet). */
export async function warmStudioQueries(projectDir: string): Promise<boolean> {
  let engine: QueryEngine;
  try {
    engine = await engineFor(projectDir);
  } catch (err) {
    if (err instanceof QueryError && err.code === 'NOT_FOUND') return false;
    throw err;
  }
  await engine.warm();
  return true;
}

export interface StudioQueryResult extends QueryResult {
  /** Project asset with the per-map-point scores of this query (preload/contract/heatmap-format.ts). */
  heatmap: string;
  score_range: [number, number];
}

export async function runStudioQuery(
  projectDir: string,
  text: string,
  opts: QueryOptions,
): Promise<StudioQueryResult> {
  const engine = await engineFor(projectDir);
  // Heatmap buffers are reused, but never one a kept heatmap holds (still readable as an asset) nor one a
  // query still running writes into (queries interleave while they wait for the scoring threads).
  const N = engine.cache.manifest.points;
  const spare = heatmapBuffers.find(
    (b) => b.length === N && !heatmapBusy.has(b) && !recentHeatmaps.some((h) => h.scores === b),
  );
  if (spare) heatmapBusy.add(spare);
  let out: { result: QueryResult; scores: Float32Array };
  try {
    out = await engine.query(text, { ...opts, ...(spare ? { scores_out: spare } : {}) });
  } finally {
    if (spare) heatmapBusy.delete(spare);
  }
  const { result, scores } = out;
  if (!spare)
    heatmapBuffers = [...heatmapBuffers.filter((b) => b.length === N), scores].slice(-(KEEP_HEATMAPS + 1));
  seq += 1;
  const entry: HeatmapEntry = { projectDir, seq, scores, encoded: null };
  recentHeatmaps = [...recentHeatmaps, entry].slice(-KEEP_HEATMAPS);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i] as number;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  const range: [number, number] = [Number.isFinite(lo) ? lo : 0, Number.isFinite(hi) ? hi : 0];
  // Encode the heatmap right after the result is sent: the renderer asks for it next.
  setImmediate(() => {
    if (recentHeatmaps.includes(entry)) entry.encoded ??= encodeHeatmap(scores, scores.length, range);
  });
  return {
    ...result,
    heatmap: `query/heatmap-${entry.seq}.u16`,
    score_range: range,
  };
}

/** Bytes of the heatmap asset `query/heatmap-<seq>.u16`, or null when it is no longer kept. */
export function heatmapBytes(projectDir: string, asset: string): Uint8Array | null {
  const m = /^query\/heatmap-(\d+)\.u16$/.exec(asset);
  const entry = m ? recentHeatmaps.find((h) => h.seq === Number(m[1]) && h.projectDir === projectDir) : null;
  if (!entry) return null;
  entry.encoded ??= encodeHeatmap(entry.scores);
  return entry.encoded;
}

export interface WaypointView extends Waypoint {
  /** Pose in the robot map frame (z-up, REP 103). */
  map: { x_m: number; y_m: number; yaw_rad: number };
}

export async function waypointsView(projectDir: string): Promise<{
  waypoints: WaypointView[];
  map_frame: { origin_m: [number, number]; yaw_rad: number };
  map_from_world: number[];
}> {
  const file = await loadWaypoints(projectDir);
  const map = await readMapFile(path.join(projectDir, MAP_FILE));
  const M = mapFromWorld(map.floor, file.map_frame);
  return {
    waypoints: file.waypoints.map((w) => {
      const p = transformPoint(M, w.position_world_m);
      return { ...w, map: { x_m: p[0], y_m: p[1], yaw_rad: yawOfWorldDirection(M, w.heading_world) } };
    }),
    map_frame: file.map_frame,
    map_from_world: Array.from(M),
  };
}

export type WaypointAdd =
  | { name: string; query: string }
  | { name: string; map: { x_m: number; y_m: number; yaw_rad: number } }
  | { name: string; target_world_m: [number, number, number]; target_radius_m?: number; query?: string };

export async function addStudioWaypoint(projectDir: string, w: WaypointAdd): Promise<Waypoint> {
  if ('target_world_m' in w) {
    const geom = await ProjectGeometry.load(projectDir);
    // Without a size, assume a piece of furniture (the look-at point is its centre, its surface ~0.3 m away).
    const g = goalFor(geom, w.target_world_m, { target_radius_m: w.target_radius_m ?? 0.3 });
    if (!g.ok)
      throw new QueryError('NOT_FOUND', null, `no reachable stand-off pose near that point: ${g.reason}`);
    return waypointsAddMapPose(
      projectDir,
      w.name,
      { x_m: g.map_m[0], y_m: g.map_m[1], yaw_rad: g.yaw_rad },
      { look_at_world_m: w.target_world_m, query: w.query ?? null },
    );
  }
  if ('query' in w) return waypointsAddFromQuery(projectDir, w.name, w.query);
  return waypointsAddMapPose(projectDir, w.name, w.map);
}

/**
 * The field's top label per map point (from the query cache), for colouring the 3D view: u32 n, u32 JSON length,
 * i16 top-label index per point (-1 = none; padded to 4 bytes), then the UTF-8 JSON array of label texts.
 */
export async function topLabelsBinary(projectDir: string): Promise<Uint8Array> {
  const engine = await engineFor(projectDir);
  const top = engine.cache.topLabel;
  const labels = new TextEncoder().encode(JSON.stringify(engine.cache.manifest.labels));
  const n = top.length;
  const idsBytes = Math.ceil((n * 2) / 4) * 4;
  const out = new Uint8Array(8 + idsBytes + labels.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n, true);
  dv.setUint32(4, labels.length, true);
  new Int16Array(out.buffer, 8, n).set(top);
  out.set(labels, 8 + idsBytes);
  return out;
}

export async function moveStudioWaypoint(
  projectDir: string,
  id: string,
  pose: { x_m: number; y_m: number; yaw_rad: number },
): Promise<Waypoint> {
  const file = await loadWaypoints(projectDir);
  const map = await readMapFile(path.join(projectDir, MAP_FILE));
  const M = mapFromWorld(map.floor, file.map_frame);
  const { invertRigid } = await import('../goals/frame');
  return moveWaypoint(projectDir, id, {
    position_world_m: transformPoint(invertRigid(M), [pose.x_m, pose.y_m, 0]),
    heading_world: worldDirectionOfYaw(M, pose.yaw_rad),
  });
}

export { renameWaypoint, deleteWaypoint, reorderWaypoints, setMapFrame };

export type ExportFormat = 'json' | 'nav2' | 'csv' | 'occupancy' | 'ply';

export async function exportStudio(
  projectDir: string,
  format: ExportFormat,
  out: string,
  query?: string,
): Promise<{ files: string[] }> {
  const dest = path.resolve(out);
  if (format === 'occupancy') {
    const r = await exportOccupancy(projectDir, dest);
    return { files: [r.pgm, r.yaml] };
  }
  if (format === 'ply') {
    if (!query) throw new QueryError('BAD_ARGS', null, 'a heatmap export needs the query text');
    const r = await exportHeatmap(projectDir, dest, query);
    return { files: [r.file] };
  }
  const r = await waypointsExport(projectDir, dest, format);
  return { files: [r.file] };
}

export { sendWaypoints };

/**
 * The occupancy grid for the renderer: u32 header length, UTF-8 JSON header
 * `{width, height, cell_m, origin_m:[x,y], map_from_world:[16]}`, padding to 4 bytes, then Int8 cells
 * (row-major from the origin; -1 unknown, 0 free, 100 occupied).
 */
export async function occupancyBinary(projectDir: string): Promise<Uint8Array> {
  const geom = await ProjectGeometry.load(projectDir);
  const g = geom.occupancy();
  const header = new TextEncoder().encode(
    JSON.stringify({
      width: g.width,
      height: g.height,
      cell_m: g.cell_m,
      origin_m: g.origin_m,
      map_from_world: Array.from(geom.mapFromWorld),
    }),
  );
  const pad = (4 - ((4 + header.length) % 4)) % 4;
  const out = new Uint8Array(4 + header.length + pad + g.cells.length);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  out.set(new Uint8Array(g.cells.buffer, g.cells.byteOffset, g.cells.byteLength), 4 + header.length + pad);
  return out;
}

export async function disposeQueryService(): Promise<void> {
  if (warm) await warm.engine.dispose().catch(() => undefined);
  warm = null;
  recentHeatmaps = [];
  heatmapBuffers = [];
}
