/**
 * The web studio's bridge: one WebSocket to `/rpc?token=…` carrying `{kind:'req'}` requests,
 * `{kind:'res'}` answers and `{kind:'event'}` pushes (see preload/contract RpcRequest/RpcResponse).
 * It reconnects with exponential backoff; requests still unanswered when the socket drops resolve
 * to `{ok:false, code:'IO'}` (never reject), and requests made while disconnected wait for the
 * next connection attempt.
 */
import type {
  ChannelArgs,
  ChannelName,
  ChannelResult,
  Result,
  StudioBridge,
  StudioEvent,
} from '../../../preload/contract';

export type ConnectionState = 'connecting' | 'open' | 'closed';

/** The subset of the browser WebSocket the bridge uses (a fake stands in for it in tests). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}
export type SocketFactory = (url: string) => SocketLike;

export interface WebBridgeOptions {
  /** Full ws:// or wss:// URL of the RPC endpoint, token included. */
  url: string;
  token: string;
  createSocket?: SocketFactory;
  /** Backoff: first retry after `initialDelay_ms`, doubling up to `maxDelay_ms`. */
  initialDelay_ms?: number;
  maxDelay_ms?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Random in [0,1) for jitter; injectable for tests. */
  random?: () => number;
}

const OPEN = 1;

interface Pending {
  channel: string;
  resolve: (r: Result<unknown>) => void;
  /** The serialised request; null once it has been sent on the current socket. */
  payload: string;
}

export class WebBridge implements StudioBridge {
  readonly host = 'web' as const;
  private socket: SocketLike | null = null;
  private nextId = 1;
  /** Sent, awaiting an answer. */
  private readonly inflight = new Map<number, Pending>();
  /** Not yet sent (socket not open). */
  private readonly outbox = new Map<number, Pending>();
  private readonly listeners = new Set<(e: StudioEvent) => void>();
  private readonly connListeners = new Set<(s: ConnectionState, attempt: number) => void>();
  private state: ConnectionState = 'closed';
  private attempt = 0;
  private retryTimer: unknown = null;
  private disposed = false;
  private readonly createSocket: SocketFactory;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (h: unknown) => void;
  private readonly random: () => number;

  constructor(private readonly opts: WebBridgeOptions) {
    this.createSocket = opts.createSocket ?? ((url) => new WebSocket(url) as unknown as SocketLike);
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.random = opts.random ?? Math.random;
    this.connect();
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  /** Listens to connection changes; `attempt` counts failed tries since the last open. */
  onConnection(listener: (s: ConnectionState, attempt: number) => void): () => void {
    this.connListeners.add(listener);
    listener(this.state, this.attempt);
    return () => this.connListeners.delete(listener);
  }

  invoke<C extends ChannelName>(channel: C, args: ChannelArgs<C>): Promise<Result<ChannelResult<C>>> {
    return new Promise<Result<unknown>>((resolve) => {
      if (this.disposed) {
        resolve({ ok: false, code: 'IO', message: 'The studio connection is closed.' });
        return;
      }
      const id = this.nextId++;
      const payload = JSON.stringify({ kind: 'req', id, channel, args: args ?? {} });
      const pending: Pending = { channel, resolve, payload };
      if (this.socket && this.socket.readyState === OPEN) {
        this.inflight.set(id, pending);
        try {
          this.socket.send(payload);
        } catch (err) {
          this.inflight.delete(id);
          resolve({ ok: false, code: 'IO', message: `Could not send ${channel}: ${String(err)}` });
        }
      } else {
        this.outbox.set(id, pending);
        // A request made while we wait out a backoff should not wait the whole delay.
        if (this.state === 'closed' && this.retryTimer !== null) this.retryNow();
      }
    }) as Promise<Result<ChannelResult<C>>>;
  }

  onEvent(listener: (event: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  assetUrl(projectRelativePath: string): string {
    return webAssetUrl(projectRelativePath, this.opts.token);
  }

  /** Stops reconnecting and fails everything pending. */
  dispose(): void {
    this.disposed = true;
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    this.retryTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onopen = s.onclose = s.onerror = null;
      s.onmessage = null;
      try {
        s.close(1000, 'disposed');
      } catch {
        /* already closed */
      }
    }
    this.failAll('The studio connection was closed.');
    this.setState('closed');
  }

  /** Handles one raw message from the socket (exposed for tests). */
  handleMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    const m = msg as { kind?: unknown; id?: unknown; result?: unknown; event?: unknown };
    if (m.kind === 'res' && typeof m.id === 'number') {
      const p = this.inflight.get(m.id);
      if (!p) return;
      this.inflight.delete(m.id);
      p.resolve(
        isResult(m.result)
          ? m.result
          : { ok: false, code: 'INTERNAL', message: `Malformed answer to ${p.channel}` },
      );
    } else if (
      m.kind === 'event' &&
      m.event &&
      typeof m.event === 'object' &&
      typeof (m.event as { type?: unknown }).type === 'string'
    ) {
      for (const l of [...this.listeners]) {
        try {
          l(m.event as StudioEvent);
        } catch (err) {
          console.error('studio event listener failed', err);
        }
      }
    }
  }

  private connect(): void {
    if (this.disposed) return;
    this.retryTimer = null;
    this.setState('connecting');
    let socket: SocketLike;
    try {
      socket = this.createSocket(this.opts.url);
    } catch (err) {
      console.error('WebSocket could not be created', err);
      this.onDrop(null);
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.setState('open');
      this.flushOutbox();
    };
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.handleMessage(ev.data);
    };
    socket.onerror = () => {
      /* onclose follows */
    };
    socket.onclose = () => this.onDrop(socket);
  }

  private flushOutbox(): void {
    const s = this.socket;
    if (!s || s.readyState !== OPEN) return;
    for (const [id, p] of [...this.outbox]) {
      this.outbox.delete(id);
      this.inflight.set(id, p);
      try {
        s.send(p.payload);
      } catch (err) {
        this.inflight.delete(id);
        p.resolve({ ok: false, code: 'IO', message: `Could not send ${p.channel}: ${String(err)}` });
      }
    }
  }

  private onDrop(socket: SocketLike | null): void {
    if (socket && this.socket !== socket) return;
    this.socket = null;
    this.failAll('The connection to the studio was lost before it answered; try again.');
    if (this.disposed) return;
    this.attempt++;
    this.setState('closed');
    const base = this.opts.initialDelay_ms ?? 500;
    const max = this.opts.maxDelay_ms ?? 10_000;
    const delay = Math.min(max, base * 2 ** Math.min(this.attempt - 1, 16)) * (0.75 + 0.5 * this.random());
    this.retryTimer = this.setTimer(() => this.connect(), delay);
  }

  private retryNow(): void {
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    this.connect();
  }

  private failAll(message: string): void {
    const all = [...this.inflight.values(), ...this.outbox.values()];
    this.inflight.clear();
    this.outbox.clear();
    for (const p of all) p.resolve({ ok: false, code: 'IO', message: `${p.channel}: ${message}` });
  }

  private setState(s: ConnectionState): void {
    if (this.state === s && s !== 'closed') return;
    this.state = s;
    for (const l of [...this.connListeners]) l(s, this.attempt);
  }
}

function isResult(r: unknown): r is Result<unknown> {
  if (!r || typeof r !== 'object') return false;
  const o = r as { ok?: unknown; code?: unknown; message?: unknown };
  if (o.ok === true) return true;
  return o.ok === false && typeof o.code === 'string' && typeof o.message === 'string';
}

/** `/project-asset/<each segment URI-encoded>?token=<token>`. */
export function webAssetUrl(projectRelativePath: string, token: string): string {
  const segs = projectRelativePath.split('/').filter((s) => s.length > 0);
  return `/project-asset/${segs.map(encodeURIComponent).join('/')}?token=${encodeURIComponent(token)}`;
}

/** The RPC URL for a page location: same host, ws/wss by page protocol, token from `?token=`. */
export function rpcUrlFor(loc: { protocol: string; host: string; search: string }): {
  url: string;
  token: string;
} {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return { url: `${scheme}//${loc.host}/rpc?token=${encodeURIComponent(token)}`, token };
}
