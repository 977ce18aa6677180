/**
 * Waypoints as map-frame poses: every export goes through `posesInMap`, so every exported pose is in the map
 * frame (z up on the floor, REP 103) and says so.
 */
import { type Vec3, mapFromWorld, transformPoint, yawOfWorldDirection, yawQuaternion } from '../goals/frame';
import type { MapFloor } from '../map/format';
import type { WaypointsFile } from '../goals/waypoints';

export interface MapPose {
  id: string;
  name: string;
  frame: 'map';
  position_m: Vec3;
  yaw_rad: number;
  orientation: { x: number; y: number; z: number; w: number };
  position_world_m: Vec3;
  look_at_m: Vec3 | null;
  query: string | null;
}

export function posesInMap(
  file: WaypointsFile,
  floor: MapFloor | null,
): { map_from_world: number[]; poses: MapPose[] } {
  const M = mapFromWorld(floor, file.map_frame);
  const poses = file.waypoints.map((w) => {
    const yaw = yawOfWorldDirection(M, w.heading_world);
    const p = transformPoint(M, w.position_world_m);
    return {
      id: w.id,
      name: w.name,
      frame: 'map' as const,
      position_m: p,
      yaw_rad: yaw,
      orientation: yawQuaternion(yaw),
      position_world_m: w.position_world_m,
      look_at_m: w.look_at_world_m ? transformPoint(M, w.look_at_world_m) : null,
      query: w.query,
    };
  });
  return { map_from_world: Array.from(M), poses };
}
