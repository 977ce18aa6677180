/**
 * A rosbridge v2 protocol client (JSON over WebSocket, `ws` package) for sending goals to a ROS 2 robot:
 * `advertise` + `publish` geometry_msgs/PoseStamped on a topic (default /goal_pose, what RViz's "Nav2 Goal"
 * uses) and, where the robot runs Nav2, `send_action_goal` on /navigate_to_pose (rosbridge >= 1.3 / ROS 2).
 *
 * Failures are QueryErrors naming the URL: connection refused, handshake that hangs (timeout), the connection
 * dropping while an operation waits, a rosbridge `status` error, an action that never answers (timeout).
 */
import WebSocket from 'ws';
import { QueryError } from '../query/errors';

export type RosbridgeStatus = 'connecting' | 'open' | 'closed';

export interface PoseStampedMsg {
  header: { stamp: { sec: number; nanosec: number }; frame_id: string };
  pose: {
    position: { x: number; y: number; z: number };
    orientation: { x: number; y: number; z: number; w: number };
  };
}

export interface ActionResult {
  /** action_msgs/GoalStatus code (4 = SUCCEEDED, 5 = CANCELED, 6 = ABORTED), when the bridge reports one. */
  status: number | null;
  result: boolean;
  values: unknown;
}

interface Pending {
  resolve: (v: ActionResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConnectOptions {
  /** Connect + handshake timeout (default 5000 ms). */
  timeout_ms?: number;
}

export class RosbridgeClient {
  private ws: WebSocket;
  private readonly pending = new Map<string, Pending>();
  private readonly advertised = new Set<string>();
  private seq = 0;
  private lastError: string | null = null;
  status: RosbridgeStatus = 'connecting';

  private constructor(
    readonly url: string,
    ws: WebSocket,
  ) {
    this.ws = ws;
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('close', () => {
      this.status = 'closed';
      this.failAll(new QueryError('IO', this.url, 'rosbridge connection dropped'));
    });
    ws.on('error', (err) => {
      this.lastError = err.message;
    });
  }

  static connect(url: string, opts: ConnectOptions = {}): Promise<RosbridgeClient> {
    const timeout = opts.timeout_ms ?? 5000;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return Promise.reject(new QueryError('BAD_ARGS', url, 'not a URL (expected ws://host:9090)'));
    }
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
      return Promise.reject(new QueryError('BAD_ARGS', url, 'rosbridge URL must start with ws:// or wss://'));
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { handshakeTimeout: timeout });
      let settled = false;
      const timer = setTimeout(
        () => fail(new QueryError('IO', url, `rosbridge did not answer within ${timeout} ms`)),
        timeout + 100,
      );
      const fail = (e: QueryError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(e);
      };
      ws.once('open', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.removeAllListeners();
        const c = new RosbridgeClient(url, ws);
        c.status = 'open';
        resolve(c);
      });
      ws.once('error', (err: NodeJS.ErrnoException) => {
        const msg =
          err.code === 'ECONNREFUSED'
            ? 'connection refused (is rosbridge_server running?)'
            : /timed out|timeout/i.test(err.message)
              ? `rosbridge handshake timed out after ${timeout} ms`
              : `cannot connect: ${err.message}`;
        fail(new QueryError('IO', url, msg));
      });
      ws.once('close', () => fail(new QueryError('IO', url, 'connection closed during the handshake')));
    });
  }

  private onMessage(text: string): void {
    let msg: {
      op?: unknown;
      id?: unknown;
      level?: unknown;
      msg?: unknown;
      values?: unknown;
      result?: unknown;
      status?: unknown;
    };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : null;
    if (msg.op === 'action_result' && id) {
      const p = this.pending.get(id);
      if (!p) return;
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.resolve({
        status: typeof msg.status === 'number' ? msg.status : null,
        result: msg.result === true,
        values: msg.values ?? null,
      });
    } else if (msg.op === 'status' && msg.level === 'error') {
      const err = new QueryError('IO', this.url, `rosbridge error: ${String(msg.msg ?? 'unknown')}`);
      this.lastError = err.reason;
      if (id && this.pending.has(id)) {
        const p = this.pending.get(id)!;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(err);
      }
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }

  /** The last error rosbridge reported (status op) or the socket raised. */
  get error(): string | null {
    return this.lastError;
  }

  private send(obj: unknown): Promise<void> {
    if (this.status !== 'open' || this.ws.readyState !== WebSocket.OPEN)
      return Promise.reject(new QueryError('IO', this.url, 'rosbridge connection is closed'));
    return new Promise((resolve, reject) => {
      this.ws.send(JSON.stringify(obj), (err) =>
        err ? reject(new QueryError('IO', this.url, `send failed: ${err.message}`)) : resolve(),
      );
    });
  }

  async advertise(topic: string, type: string): Promise<void> {
    if (this.advertised.has(topic)) return;
    await this.send({ op: 'advertise', id: `advertise:${topic}`, topic, type });
    this.advertised.add(topic);
  }

  async publish(topic: string, msg: unknown): Promise<void> {
    await this.send({ op: 'publish', id: `publish:${topic}:${++this.seq}`, topic, msg });
  }

  /** Send a ROS 2 action goal and wait for its result. */
  sendActionGoal(
    action: string,
    actionType: string,
    args: unknown,
    timeout_ms = 120_000,
  ): Promise<ActionResult> {
    const id = `send_action_goal:${action}:${++this.seq}`;
    return new Promise<ActionResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new QueryError('IO', this.url, `action ${action} gave no result within ${timeout_ms} ms`));
      }, timeout_ms);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ op: 'send_action_goal', id, action, action_type: actionType, args, feedback: false }).catch(
        (err: Error) => {
          clearTimeout(timer);
          this.pending.delete(id);
          reject(err);
        },
      );
    });
  }

  async close(): Promise<void> {
    if (this.status === 'closed') return;
    for (const topic of this.advertised) await this.send({ op: 'unadvertise', topic }).catch(() => undefined);
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 1000);
      this.ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.ws.close();
    });
    this.status = 'closed';
  }
}

export function poseStamped(
  position: [number, number, number],
  orientation: { x: number; y: number; z: number; w: number },
  frame_id = 'map',
  now_ms = Date.now(),
): PoseStampedMsg {
  return {
    header: { stamp: { sec: Math.floor(now_ms / 1000), nanosec: (now_ms % 1000) * 1e6 }, frame_id },
    pose: { position: { x: position[0], y: position[1], z: position[2] }, orientation },
  };
}
