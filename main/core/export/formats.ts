/**
 * Export encoders (pure: text/bytes in memory; `exportFile` writes them atomically).
 *
 * - Waypoints JSON (`clip-fields-waypoints-export` v1): { format, version, frame: "map", map_from_world (4x4
 *   row-major, point_in_map = M * point_in_world), created_at, waypoints: [{ id, name, frame, position_m,
 *   yaw_rad, orientation {x,y,z,w}, position_world_m, look_at_m, query }] }.
 * - ROS 2 Nav2 YAML: `poses:` a list of geometry_msgs/PoseStamped ({header: {frame_id: map, stamp}, pose:
 *   {position, orientation}}) in order, plus `names:` in the same order (for NavigateThroughPoses / waypoint
 *   followers).
 * - CSV: name,frame,x_m,y_m,z_m,yaw_rad,qx,qy,qz,qw (RFC 4180 quoting).
 * - ROS map_server pair: PGM (P5, 8-bit; occupied 0, free 254, unknown 205; top row = largest y) and YAML
 *   {image, resolution, origin [x, y, yaw], negate 0, occupied_thresh 0.65, free_thresh 0.196, mode trinary}.
 * - Heatmap PLY: binary little-endian, vertex {float x,y,z; uchar red,green,blue; float score}.
 */
import { stringify } from 'yaml';
import type { OccupancyGrid } from '../goals/occupancy';
import { CELL_FREE, CELL_OCCUPIED } from '../goals/occupancy';
import type { MapPose } from './poses';

export const WAYPOINTS_EXPORT_FORMAT = 'clip-fields-waypoints-export';

export function waypointsJson(poses: MapPose[], map_from_world: number[]): string {
  return (
    JSON.stringify(
      {
        format: WAYPOINTS_EXPORT_FORMAT,
        version: 1,
        frame: 'map',
        map_from_world,
        created_at: new Date().toISOString(),
        waypoints: poses,
      },
      null,
      2,
    ) + '\n'
  );
}

export function nav2Yaml(poses: MapPose[]): string {
  const doc = {
    frame_id: 'map',
    names: poses.map((p) => p.name),
    poses: poses.map((p) => ({
      header: { frame_id: 'map', stamp: { sec: 0, nanosec: 0 } },
      pose: {
        position: { x: p.position_m[0], y: p.position_m[1], z: p.position_m[2] },
        orientation: p.orientation,
      },
    })),
  };
  return `# ROS 2 Nav2 goals: geometry_msgs/PoseStamped in frame "map" (z up, REP 103)\n${stringify(doc)}`;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function waypointsCsv(poses: MapPose[]): string {
  const rows = ['name,frame,x_m,y_m,z_m,yaw_rad,qx,qy,qz,qw'];
  for (const p of poses) {
    const o = p.orientation;
    rows.push(
      [csvField(p.name), 'map', ...p.position_m, p.yaw_rad, o.x, o.y, o.z, o.w].map(String).join(','),
    );
  }
  return rows.join('\r\n') + '\r\n';
}

export function occupancyPgm(g: OccupancyGrid): Uint8Array {
  const header = Buffer.from(
    `P5\n# clip-fields-studio occupancy, ${g.cell_m} m/cell\n${g.width} ${g.height}\n255\n`,
    'ascii',
  );
  const out = new Uint8Array(header.length + g.width * g.height);
  out.set(header, 0);
  let o = header.length;
  for (let row = g.height - 1; row >= 0; row--) {
    for (let x = 0; x < g.width; x++) {
      const c = g.cells[row * g.width + x];
      out[o++] = c === CELL_OCCUPIED ? 0 : c === CELL_FREE ? 254 : 205;
    }
  }
  return out;
}

export function occupancyYaml(g: OccupancyGrid, imageName: string): string {
  return stringify({
    image: imageName,
    resolution: g.cell_m,
    origin: [g.origin_m[0], g.origin_m[1], 0],
    negate: 0,
    occupied_thresh: 0.65,
    free_thresh: 0.196,
    mode: 'trinary',
  });
}

/** Turbo-like colour ramp for t in [0, 1]. */
export function heatColour(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 3))));
  const g = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 2))));
  const b = Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 1))));
  return [r, g, b];
}

/** Coloured binary PLY of points with their scores; colours span [lo, hi]. */
export function heatmapPly(
  positions: Float32Array,
  scores: Float32Array,
  count: number,
  lo: number,
  hi: number,
  comment = 'query heatmap, world frame',
): Uint8Array {
  const header = Buffer.from(
    `ply\nformat binary_little_endian 1.0\ncomment ${comment.replace(/[\r\n]/g, ' ')}\nelement vertex ${count}\nproperty float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nproperty float score\nend_header\n`,
    'ascii',
  );
  const rec = 19;
  const out = new Uint8Array(header.length + count * rec);
  out.set(header, 0);
  const dv = new DataView(out.buffer, header.length);
  const span = hi > lo ? hi - lo : 1;
  for (let i = 0; i < count; i++) {
    const o = i * rec;
    dv.setFloat32(o, positions[3 * i]!, true);
    dv.setFloat32(o + 4, positions[3 * i + 1]!, true);
    dv.setFloat32(o + 8, positions[3 * i + 2]!, true);
    const [r, g, b] = heatColour((scores[i]! - lo) / span);
    dv.setUint8(o + 12, r);
    dv.setUint8(o + 13, g);
    dv.setUint8(o + 14, b);
    dv.setFloat32(o + 15, scores[i]!, true);
  }
  return out;
}
