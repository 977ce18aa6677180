/** A minimal contract client for e2e tests: drives the same web host the page talks to. */
import { WebSocket } from 'ws';
import type { RpcEvent, RpcResponse } from '../preload/contract';

export class RpcClient {
  private nextId = 1;
  private constructor(private readonly ws: WebSocket) {}

  static connect(port: number, token: string): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc?token=${token}`);
      ws.once('open', () => resolve(new RpcClient(ws)));
      ws.once('error', reject);
    });
  }

  async call<T = unknown>(channel: string, args: unknown = {}): Promise<T> {
    const id = this.nextId++;
    const res = await new Promise<RpcResponse>((resolve) => {
      const onMsg = (d: Buffer) => {
        const m = JSON.parse(d.toString()) as RpcResponse | RpcEvent;
        if (m.kind === 'res' && m.id === id) {
          this.ws.off('message', onMsg);
          resolve(m);
        }
      };
      this.ws.on('message', onMsg);
      this.ws.send(JSON.stringify({ kind: 'req', id, channel, args }));
    });
    if (!res.result.ok) throw new Error(`${channel}: ${res.result.code}: ${res.result.message}`);
    return res.result.data as T;
  }

  close(): void {
    this.ws.close();
  }
}

export interface JobRow {
  id: string;
  kind: string;
  state: string;
  error: { message: string } | null;
}

/** Polls jobs.list until the job (by id, or the first matching one) ends; throws unless it ends `done`. */
export async function waitForJob(
  rpc: RpcClient,
  job: string | ((j: JobRow) => boolean),
  timeout_ms: number,
): Promise<void> {
  const match = typeof job === 'string' ? (j: JobRow) => j.id === job : job;
  const t0 = Date.now();
  for (;;) {
    const { jobs } = await rpc.call<{ jobs: JobRow[] }>('jobs.list');
    const j = jobs.find(match);
    if (j?.state === 'done') return;
    if (j && ['failed', 'cancelled', 'interrupted'].includes(j.state))
      throw new Error(`${j.kind} job ${j.state}: ${j.error?.message ?? ''}`);
    if (Date.now() - t0 > timeout_ms)
      throw new Error(`job did not finish in ${timeout_ms} ms (state ${j?.state ?? 'not started'})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
