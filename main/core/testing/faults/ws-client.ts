/** A minimal studio client over the web host's WebSocket (what the renderer does), for fault and load tests. */
import { WebSocket } from 'ws';
import type { Result, RpcEvent, RpcResponse, StudioEvent } from '../../../../preload/contract';

export interface StudioClient {
  ws: WebSocket;
  events: StudioEvent[];
  /** Send one request; resolves with its answer. */
  call(channel: string, args: unknown): Promise<Result<unknown>>;
  /** Send raw text (malformed frames). Resolves with the next answer carrying `id` (or -1). */
  raw(text: string, id?: number): Promise<Result<unknown>>;
  close(): Promise<void>;
}

/** Connect; rejects with `status <code>` when the upgrade is refused. */
export function connectClient(
  port: number,
  token: string,
  opts: { origin?: string; path?: string } = {},
): Promise<StudioClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${port}${opts.path ?? '/rpc'}?token=${encodeURIComponent(token)}`,
      opts.origin ? { origin: opts.origin } : {},
    );
    const events: StudioEvent[] = [];
    const pending = new Map<number, (r: Result<unknown>) => void>();
    let nextId = 1;
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as RpcResponse | RpcEvent;
      if (msg.kind === 'event') events.push(msg.event);
      else {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        p?.(msg.result);
      }
    });
    const send = (text: string, id: number) =>
      new Promise<Result<unknown>>((res, rej) => {
        pending.set(id, res);
        ws.send(text, (err) => {
          if (err) {
            pending.delete(id);
            rej(err);
          }
        });
      });
    ws.once('open', () =>
      resolve({
        ws,
        events,
        call: (channel, args) => {
          const id = nextId++;
          return send(JSON.stringify({ kind: 'req', id, channel, args }), id);
        },
        raw: (text, id = -1) => send(text, id),
        close: () =>
          new Promise<void>((r) => {
            if (ws.readyState === ws.CLOSED) return r();
            ws.once('close', () => r());
            ws.close();
          }),
      }),
    );
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}
