/**
 * A persistent compute worker process for interactive requests that are too heavy for a host's main thread
 * but too short for a job: label QA summaries, object grouping, query scoring. Calls are queued to one
 * process that keeps caches warm (e.g. a loaded query cache) between calls; a crashed worker is restarted on
 * the next call and its pending calls fail with a typed error. It is started like job workers (a forked Node
 * process, or an Electron utility process through the host's `spawnWorker`).
 */
import { forkWorker, type SpawnWorker, type WorkerHandle } from '../jobs/runtime';

export class ComputeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ComputeError';
  }
}

export interface ComputeRequest {
  id: number;
  fn: string;
  args: unknown;
}
export interface ComputeResponse {
  id: number;
  ok: boolean;
  data?: unknown;
  code?: string;
  message?: string;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class ComputePool {
  private worker: WorkerHandle<ComputeRequest, ComputeResponse> | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();

  constructor(private readonly spawn: SpawnWorker = forkWorker()) {}

  private ensure(): WorkerHandle<ComputeRequest, ComputeResponse> {
    if (this.worker) return this.worker;
    const w = this.spawn({}, 'compute-worker') as unknown as WorkerHandle<ComputeRequest, ComputeResponse>;
    w.onMessage((msg) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.data);
      else p.reject(new ComputeError(msg.code ?? 'INTERNAL', msg.message ?? 'compute failed'));
    });
    w.onExit((code, signal) => {
      if (this.worker !== w) return;
      this.worker = null;
      for (const p of this.pending.values())
        p.reject(new ComputeError('INTERNAL', `compute worker stopped (${signal ?? `exit code ${code}`})`));
      this.pending.clear();
    });
    this.worker = w;
    return w;
  }

  call<T>(fn: string, args: unknown): Promise<T> {
    const w = this.ensure();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.send({ id, fn, args });
    });
  }

  async dispose(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    for (const p of this.pending.values()) p.reject(new ComputeError('CANCELLED', 'compute pool closed'));
    this.pending.clear();
    w?.kill();
  }
}
