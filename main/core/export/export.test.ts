import { promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeBounds, writeMap } from '../map/format';
import { addWaypoint } from '../goals/waypoints';
import { heatmapPly } from './formats';
import { exportOccupancy, waypointsAddMapPose, waypointsExport } from './index';
import { exportFile } from './write';
import { RosbridgeClient } from './rosbridge';
import { sendWaypoints } from './send';

let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-export-'));
  // World y-up; floor at y = 0 over [0, 3] x [0, 3] (x, z), a box at x, z in [1, 1.3], 0.1 < y < 0.9.
  const pts: number[] = [];
  for (let x = 0.025; x < 3; x += 0.05) for (let z = 0.025; z < 3; z += 0.05) pts.push(x, 0, z);
  for (let x = 1; x <= 1.3; x += 0.04)
    for (let z = 1; z <= 1.3; z += 0.04) for (let y = 0.15; y < 0.9; y += 0.1) pts.push(x, y, z);
  const positions = Float32Array.from(pts);
  const n = positions.length / 3;
  await fs.mkdir(path.join(dir, 'map'));
  await writeMap(path.join(dir, 'map', 'map.bin'), {
    voxel_m: 0.05,
    count: n,
    frames_total: 1,
    bounds_m: computeBounds(positions, n),
    floor: { up: [0, 1, 0], height: 0 },
    positions,
    colors: new Uint8Array(3 * n),
    frameCounts: new Uint16Array(n),
    frameOffsets: new Uint32Array(n + 1),
    frameIds: new Uint16Array(0),
  });
  await addWaypoint(dir, {
    name: 'kitchen, "north"',
    position_world_m: [1, 0, -2],
    heading_world: [0, 0, -1],
  });
  await waypointsAddMapPose(dir, 'desk', { x_m: 0.5, y_m: -0.25, yaw_rad: Math.PI / 2 });
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('waypoint exports (map frame)', () => {
  it('Nav2 YAML parses as a list of PoseStamped in frame map with unit quaternions', async () => {
    const out = path.join(dir, 'goals.yaml');
    const r = await waypointsExport(dir, out, 'nav2');
    expect(r.count).toBe(2);
    const doc = parse(await fs.readFile(out, 'utf8')) as {
      poses: {
        header: { frame_id: string };
        pose: { position: Record<string, number>; orientation: Record<string, number> };
      }[];
      names: string[];
    };
    expect(doc.names).toEqual(['kitchen, "north"', 'desk']);
    for (const p of doc.poses) {
      expect(p.header.frame_id).toBe('map');
      const q = p.pose.orientation;
      expect(Math.hypot(q.x!, q.y!, q.z!, q.w!)).toBeCloseTo(1, 9);
    }
    // World (1, 0, -2) facing world -z: the default map frame has x = world -z, y = world -x (z up).
    expect(doc.poses[0]!.pose.position).toEqual({ x: 2, y: -1, z: 0 });
    expect(doc.poses[0]!.pose.orientation.z).toBeCloseTo(0, 9);
    // The desk was added in the map frame and comes back unchanged.
    expect(doc.poses[1]!.pose.position.x).toBeCloseTo(0.5, 9);
    expect(doc.poses[1]!.pose.position.y).toBeCloseTo(-0.25, 9);
    expect(doc.poses[1]!.pose.orientation.z).toBeCloseTo(Math.SQRT1_2, 9);
  });

  it('JSON and CSV exports carry the frame and quote names', async () => {
    await waypointsExport(dir, path.join(dir, 'w.json'), 'json');
    const j = JSON.parse(await fs.readFile(path.join(dir, 'w.json'), 'utf8')) as {
      format: string;
      version: number;
      frame: string;
      map_from_world: number[];
      waypoints: { frame: string }[];
    };
    expect([j.format, j.version, j.frame, j.map_from_world.length]).toEqual([
      'clip-fields-waypoints-export',
      1,
      'map',
      16,
    ]);
    expect(j.waypoints.every((w) => w.frame === 'map')).toBe(true);
    await waypointsExport(dir, path.join(dir, 'w.csv'), 'csv');
    const lines = (await fs.readFile(path.join(dir, 'w.csv'), 'utf8')).trim().split('\r\n');
    expect(lines[0]).toBe('name,frame,x_m,y_m,z_m,yaw_rad,qx,qy,qz,qw');
    expect(lines[1]!.startsWith('"kitchen, ""north""",map,2,-1,0,')).toBe(true);
  });

  it('map_server pair: P5 PGM and YAML with the ROS fields', async () => {
    const r = await exportOccupancy(dir, path.join(dir, 'room'));
    const y = parse(await fs.readFile(r.yaml, 'utf8')) as Record<string, unknown>;
    expect(y).toMatchObject({
      image: 'room.pgm',
      resolution: 0.05,
      negate: 0,
      occupied_thresh: 0.65,
      free_thresh: 0.196,
      mode: 'trinary',
    });
    expect((y.origin as number[]).length).toBe(3);
    const pgm = await fs.readFile(r.pgm);
    const header = pgm.subarray(0, 80).toString('latin1');
    expect(header.startsWith('P5\n')).toBe(true);
    const m = /\n(\d+) (\d+)\n255\n/.exec(header)!;
    expect([Number(m[1]), Number(m[2])]).toEqual([r.width, r.height]);
    const body = pgm.subarray(pgm.length - r.width * r.height);
    expect(new Set(body)).toEqual(new Set([0, 205, 254]));
  });

  it('heatmap PLY has a valid binary header and one 19-byte record per point', () => {
    const ply = heatmapPly(Float32Array.from([0, 0, 0, 1, 2, 3]), Float32Array.from([0, 1]), 2, 0, 1);
    const text = Buffer.from(ply).toString('latin1');
    const end = text.indexOf('end_header\n') + 'end_header\n'.length;
    expect(text).toContain('format binary_little_endian 1.0');
    expect(text).toContain('element vertex 2');
    expect(ply.length - end).toBe(2 * 19);
    expect(new DataView(ply.buffer, end + 19).getFloat32(15, true)).toBe(1);
  });

  it('a vanished destination folder gives a clear error and leaves nothing', async () => {
    const gone = path.join(dir, 'gone');
    await expect(exportFile(path.join(gone, 'x.yaml'), 'a')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(fs.stat(gone)).rejects.toThrow();
  });

  it.skipIf(process.getuid?.() === 0)(
    'a read-only destination gives a clear error and leaves nothing',
    async () => {
      const ro = path.join(dir, 'ro');
      await fs.mkdir(ro);
      await fs.chmod(ro, 0o555);
      await expect(exportFile(path.join(ro, 'x.yaml'), 'a')).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await fs.readdir(ro)).toEqual([]);
    },
  );
});

/** A protocol-conformant rosbridge v2 endpoint: advertise/publish/subscribe bookkeeping + NavigateToPose. */
class FakeRosbridge {
  readonly wss: WebSocketServer;
  readonly advertised = new Map<string, string>();
  readonly published: { topic: string; msg: unknown }[] = [];
  readonly subscribers = new Map<string, Set<WebSocket>>();
  readonly goals: unknown[] = [];
  dropOnAction = false;
  constructor() {
    this.wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.wss.on('connection', (ws) => {
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString()) as {
          op: string;
          id?: string;
          topic?: string;
          type?: string;
          msg?: unknown;
          action?: string;
          args?: unknown;
        };
        const status = (msg: string) =>
          ws.send(JSON.stringify({ op: 'status', level: 'error', msg, id: m.id }));
        if (m.op === 'advertise') this.advertised.set(m.topic!, m.type!);
        else if (m.op === 'unadvertise') this.advertised.delete(m.topic!);
        else if (m.op === 'subscribe') {
          if (!this.subscribers.has(m.topic!)) this.subscribers.set(m.topic!, new Set());
          this.subscribers.get(m.topic!)!.add(ws);
        } else if (m.op === 'publish') {
          if (!this.advertised.has(m.topic!)) return status(`topic ${m.topic} not advertised`);
          this.published.push({ topic: m.topic!, msg: m.msg });
          for (const s of this.subscribers.get(m.topic!) ?? [])
            s.send(JSON.stringify({ op: 'publish', topic: m.topic, msg: m.msg }));
        } else if (m.op === 'send_action_goal') {
          if (this.dropOnAction) return ws.terminate();
          if (m.action !== '/navigate_to_pose') return status(`action ${m.action} not available`);
          this.goals.push(m.args);
          setTimeout(
            () =>
              ws.send(
                JSON.stringify({
                  op: 'action_result',
                  id: m.id,
                  action: m.action,
                  values: { result: {} },
                  status: 4,
                  result: true,
                }),
              ),
            20,
          );
        }
      });
    });
  }
  get url(): string {
    const a = this.wss.address() as net.AddressInfo;
    return `ws://127.0.0.1:${a.port}`;
  }
  close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    return new Promise((r) => this.wss.close(() => r()));
  }
}

describe('send to robot (rosbridge v2)', () => {
  it('publishes every waypoint as a PoseStamped in frame map and runs NavigateToPose goals', async () => {
    const server = new FakeRosbridge();
    await new Promise((r) => server.wss.once('listening', r));
    try {
      const r = await sendWaypoints(dir, server.url, { action: true });
      expect(r.published.map((p) => p.name)).toEqual(['kitchen, "north"', 'desk']);
      expect(server.published).toHaveLength(2);
      expect(server.published.every((p) => p.topic === '/goal_pose')).toBe(true);
      const msg = server.published[0]!.msg as {
        header: { frame_id: string };
        pose: { position: { x: number } };
      };
      expect(msg.header.frame_id).toBe('map');
      expect(msg.pose.position.x).toBe(2);
      expect(server.goals).toHaveLength(2);
      expect(r.actions.every((a) => a.succeeded)).toBe(true);
      expect(server.advertised.size).toBe(0); // unadvertised on close
    } finally {
      await server.close();
    }
  });

  it('reports a refused connection', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    await expect(RosbridgeClient.connect(`ws://127.0.0.1:${port}`, { timeout_ms: 2000 })).rejects.toThrow(
      /refused/,
    );
  });

  it('times out on an endpoint that accepts TCP but never answers the handshake', async () => {
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      await expect(RosbridgeClient.connect(`ws://127.0.0.1:${port}`, { timeout_ms: 300 })).rejects.toThrow(
        /timed out|did not answer/,
      );
      expect(Date.now() - t0).toBeLessThan(3000);
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => srv.close(r));
    }
  });

  it('reports a connection that drops while waiting for an action result, and an unknown action', async () => {
    const server = new FakeRosbridge();
    await new Promise((r) => server.wss.once('listening', r));
    try {
      const c = await RosbridgeClient.connect(server.url);
      await expect(c.sendActionGoal('/nope', 'nav2_msgs/action/NavigateToPose', {}, 2000)).rejects.toThrow(
        /not available/,
      );
      server.dropOnAction = true;
      await expect(
        c.sendActionGoal('/navigate_to_pose', 'nav2_msgs/action/NavigateToPose', {}, 2000),
      ).rejects.toThrow(/dropped/);
      expect(c.status).toBe('closed');
      await expect(c.publish('/goal_pose', {})).rejects.toThrow(/closed/);
    } finally {
      await server.close();
    }
  });

  it('rejects a non-ws URL', async () => {
    await expect(RosbridgeClient.connect('http://localhost:9090')).rejects.toMatchObject({
      code: 'BAD_ARGS',
    });
  });
});
