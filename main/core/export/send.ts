/**
 * Send waypoints to a robot through rosbridge: each waypoint (map frame) is published as a
 * geometry_msgs/msg/PoseStamped on `topic` (default /goal_pose); with `action: true` each is also sent as a
 * Nav2 NavigateToPose goal (/navigate_to_pose) and the next one waits for its result.
 */
import * as path from 'node:path';
import { loadWaypoints } from '../goals/waypoints';
import { readMapFile } from '../map/format';
import { MAP_FILE } from '../goals/goal';
import { QueryError } from '../query/errors';
import { posesInMap } from './poses';
import { type ActionResult, RosbridgeClient, poseStamped } from './rosbridge';

export interface SendOptions {
  topic?: string;
  /** Waypoint ids or names to send, in this order (default: all, in list order). */
  waypoints?: string[];
  action?: boolean;
  action_name?: string;
  connect_timeout_ms?: number;
  action_timeout_ms?: number;
}

export interface SendResult {
  url: string;
  topic: string;
  frame: 'map';
  published: { id: string; name: string }[];
  actions: { name: string; status: number | null; succeeded: boolean }[];
}

export async function sendWaypoints(
  projectDir: string,
  url: string,
  opts: SendOptions = {},
): Promise<SendResult> {
  const topic = opts.topic ?? '/goal_pose';
  if (!/^\/?[A-Za-z_][A-Za-z0-9_/]*$/.test(topic))
    throw new QueryError('BAD_ARGS', null, `"${topic}" is not a valid ROS topic name`);
  const file = await loadWaypoints(projectDir);
  const map = await readMapFile(path.join(projectDir, MAP_FILE));
  let { poses } = posesInMap(file, map.floor);
  if (opts.waypoints) {
    poses = opts.waypoints.map((key) => {
      const p = poses.find((q) => q.id === key) ?? poses.find((q) => q.name === key);
      if (!p) throw new QueryError('NOT_FOUND', null, `no waypoint with id or name "${key}"`);
      return p;
    });
  }
  if (poses.length === 0) throw new QueryError('NOT_FOUND', null, 'there are no waypoints to send');
  const client = await RosbridgeClient.connect(
    url,
    opts.connect_timeout_ms !== undefined ? { timeout_ms: opts.connect_timeout_ms } : {},
  );
  const result: SendResult = { url, topic, frame: 'map', published: [], actions: [] };
  try {
    await client.advertise(topic, 'geometry_msgs/msg/PoseStamped');
    for (const p of poses) {
      const msg = poseStamped(p.position_m, p.orientation, 'map');
      await client.publish(topic, msg);
      result.published.push({ id: p.id, name: p.name });
      if (opts.action) {
        const r: ActionResult = await client.sendActionGoal(
          opts.action_name ?? '/navigate_to_pose',
          'nav2_msgs/action/NavigateToPose',
          { pose: msg, behavior_tree: '' },
          opts.action_timeout_ms,
        );
        result.actions.push({
          name: p.name,
          status: r.status,
          succeeded: r.result && (r.status === null || r.status === 4),
        });
      }
    }
  } finally {
    await client.close();
  }
  return result;
}
