/**
 * Hash-grid work of the trainer split BY LEVEL between the calling thread and worker_threads.
 *
 * Levels are independent: a level's corners, gather, scatter-add and grid Adam read and write only that level's
 * rows (`rowOffset[l] .. + rows[l]`), its own corner slots and its own feature columns. Each command (forward,
 * scatter, scatter + Adam, clear) is shared out by level: every thread claims the next level with Atomics.add on
 * a small Int32 control block (finest levels first, they cost the most) and runs it with the one kernel
 * implementation of grid-kernels.ts, so a level's arithmetic and its order are the same whichever thread runs
 * it and the results are bit-identical to the single-threaded path (threads = 1 uses the same code).
 *
 * The grid table (GridStore.data), the points, corner rows/weights, features, feature gradients, touched-row
 * marks and per-level touched lists all live on SharedArrayBuffers. Features and their gradients are stored
 * level-major between threads (no two threads write one cache line) and transposed to the point-major layout
 * of the graph by the calling thread. Workers block in Atomics.wait between commands (no spinning: on a 2-core
 * machine onnxruntime needs both cores while the graph runs); the caller starts a command with Atomics.notify
 * and waits for the workers' done count the same way. No postMessage per step.
 *
 * Workers are started from a source string (`new Worker(src, { eval: true })`), so they run the same under tsx,
 * vitest and the esbuild bundle. Without SharedArrayBuffer, or when a worker fails to start, the pool runs on
 * the calling thread alone and says why in `note`.
 */
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import * as os from 'node:os';
import type { OptimizerConfig } from './config';
import {
  CMD,
  CTL,
  KERNEL_SOURCE,
  PARAM,
  type PoolBuffers,
  type PoolState,
  adamStepConstants,
  gridKernels,
} from './grid-kernels';
import type { GridLayout, GridStore } from './hashgrid';

export class GridThreadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GridThreadError';
  }
}

export interface GridPoolOptions {
  /**
   * Threads doing grid work, the calling thread included (default: CLIP_FIELDS_GRID_THREADS, else
   * min(2, available CPUs)). 1 = everything on the calling thread, no worker.
   */
  threads?: number;
  /** Replaces the workers' source (tests use it to make a worker fail to start). */
  workerSource?: string;
  /** How long to wait for a worker to start (default 20 s). */
  startTimeoutMs?: number;
  /** How long a command waits for the workers before failing (default 120 s). */
  stallTimeoutMs?: number;
}

/** Grid threads when not configured: CLIP_FIELDS_GRID_THREADS (>= 1), else min(2, available CPUs). */
export function defaultGridThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['CLIP_FIELDS_GRID_THREADS']);
  if (Number.isInteger(v) && v >= 1) return Math.min(v, 64);
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, cpus));
}

/** Source of a grid worker (exported for tests that derive failing workers from it). */
export const GRID_WORKER_SOURCE = `
const { workerData, parentPort, receiveMessageOnPort } = require('node:worker_threads');
const K = (function () {
${KERNEL_SOURCE}
return kernels;
})();
const port = workerData.port;
let st = K.makeState(workerData.layout, workerData.buffers);
const ctl = st.ctl;
let seen = Atomics.load(ctl, ${CTL.SEQ});
parentPort.postMessage({ ready: true });
for (;;) {
  Atomics.wait(ctl, ${CTL.SEQ}, seen);
  seen = Atomics.load(ctl, ${CTL.SEQ});
  const cmd = ctl[${CTL.CMD}];
  if (cmd === ${CMD.STOP}) break;
  try {
    if (cmd === ${CMD.REBIND}) {
      const m = receiveMessageOnPort(port);
      if (!m) throw new Error('rebind without buffers');
      st = K.makeState(workerData.layout, m.message);
    } else K.share(st, cmd);
  } catch (e) {
    Atomics.store(ctl, ${CTL.ERR}, 1);
    port.postMessage(String((e && e.stack) || e));
  }
  Atomics.add(ctl, ${CTL.DONE}, 1);
  Atomics.notify(ctl, ${CTL.DONE});
}
`;

interface PoolWorker {
  worker: Worker;
  /** Our end of the worker's channel: buffers go out on it (REBIND), error texts come back. */
  port: MessagePort;
}

function sharedOk(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object';
}

type Hyper = Pick<OptimizerConfig, 'lr' | 'beta1' | 'beta2' | 'eps' | 'weightDecay'>;

export class GridPool {
  private workers: PoolWorker[] = [];
  private st: PoolState;
  private buffers: PoolBuffers;
  private broken: string | null = null;
  private readonly stallMs: number;
  /** Threads that do grid work, the calling thread included. */
  threads = 1;
  /** Why fewer threads than asked for are used, or null. */
  note: string | null = null;

  private constructor(
    private readonly layout: GridLayout,
    private readonly store: GridStore,
    capacity: number,
    private readonly shared: boolean,
    opts: GridPoolOptions,
  ) {
    this.stallMs = opts.stallTimeoutMs ?? 120_000;
    this.buffers = this.allocBuffers(capacity);
    this.st = gridKernels.makeState(layout, this.buffers);
  }

  /** A pool over `store` (whose data should be shared, see GridStore) for commands of up to `capacity` points. */
  static async create(
    layout: GridLayout,
    store: GridStore,
    capacity: number,
    opts: GridPoolOptions = {},
  ): Promise<GridPool> {
    const wanted = Math.max(1, Math.floor(opts.threads ?? defaultGridThreads()));
    const shared = sharedOk() && store.data.buffer instanceof SharedArrayBuffer;
    const pool = new GridPool(layout, store, Math.max(1, capacity), shared, opts);
    if (wanted <= 1) return pool;
    if (!shared) {
      pool.note = `grid threads unavailable (no SharedArrayBuffer); grid runs on 1 thread instead of ${wanted}`;
      return pool;
    }
    try {
      await pool.startWorkers(
        wanted - 1,
        opts.workerSource ?? GRID_WORKER_SOURCE,
        opts.startTimeoutMs ?? 20_000,
      );
      pool.threads = wanted;
    } catch (err) {
      await pool.stopWorkers();
      pool.note = `grid worker failed to start (${(err as Error).message.split('\n')[0]}); grid runs on 1 thread instead of ${wanted}`;
    }
    return pool;
  }

  private allocBuffers(capacity: number): PoolBuffers {
    const L = this.layout.levels;
    const F = this.layout.features;
    const B = (bytes: number) =>
      (this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)) as SharedArrayBuffer;
    let listLen = 0;
    for (let l = 0; l < L; l++) listLen += Math.min(this.layout.rows[l]!, capacity * 8);
    const old = this.buffers as PoolBuffers | undefined;
    return {
      capacity,
      ctl: old?.ctl ?? B(CTL.SIZE * 4),
      params: old?.params ?? B(PARAM.SIZE * 8),
      data: this.store.data.buffer as SharedArrayBuffer,
      xyz: B(capacity * 3 * 4),
      rows: B(capacity * L * 8 * 4),
      weights: B(capacity * L * 8 * 4),
      feat: B(capacity * L * F * 4),
      dF: B(capacity * L * F * 4),
      mark: old?.mark ?? B(this.layout.totalRows),
      lists: B(Math.max(1, listLen) * 4),
      counts: old?.counts ?? B(L * 4),
    };
  }

  private async startWorkers(count: number, source: string, timeoutMs: number): Promise<void> {
    const layout = {
      levels: this.layout.levels,
      features: this.layout.features,
      scale: this.layout.scale,
      resolution: this.layout.resolution,
      dense: this.layout.dense,
      rows: this.layout.rows,
      rowOffset: this.layout.rowOffset,
    };
    for (let k = 0; k < count; k++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(source, {
        eval: true,
        workerData: { layout, buffers: this.buffers, port: port2 },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      this.workers.push({ worker, port: port1 });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
        const done = (err?: Error) => {
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
          if (err) reject(err);
          else resolve();
        };
        const onMessage = (m: unknown) => {
          if ((m as { ready?: boolean } | null)?.ready) done();
        };
        const onError = (err: Error) => done(err);
        const onExit = (code: number) => done(new Error(`worker exited with code ${code}`));
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      });
      // A later crash is reported by the next command (ERR flag or stall timeout); keep it from being unhandled.
      worker.on('error', (err) => {
        this.broken ??= `grid worker crashed: ${err.message}`;
      });
    }
  }

  private async stopWorkers(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    if (ws.length === 0) return;
    const c = this.st.ctl;
    c[CTL.CMD] = CMD.STOP;
    Atomics.add(c, CTL.SEQ, 1);
    Atomics.notify(c, CTL.SEQ);
    for (const w of ws) {
      w.port.close();
      await w.worker.terminate();
    }
  }

  /** Run one command on every thread; returns when all levels are done. */
  private run(cmd: number, n: number, alongside?: () => void): void {
    if (this.broken) throw new GridThreadError(this.broken);
    const c = this.st.ctl;
    const W = this.workers.length;
    c[CTL.CMD] = cmd;
    c[CTL.N] = n;
    Atomics.store(c, CTL.NEXT, 0);
    Atomics.store(c, CTL.DONE, 0);
    Atomics.store(c, CTL.ERR, 0);
    if (W > 0) {
      Atomics.add(c, CTL.SEQ, 1);
      Atomics.notify(c, CTL.SEQ);
    }
    let mainError: unknown = null;
    try {
      alongside?.();
      if (cmd !== CMD.REBIND) gridKernels.share(this.st, cmd);
    } catch (err) {
      mainError = err;
    }
    if (W > 0) {
      const deadline = performance.now() + this.stallMs;
      for (;;) {
        const d = Atomics.load(c, CTL.DONE);
        if (d >= W) break;
        if (performance.now() > deadline) {
          this.broken = `grid worker did not finish a command in ${this.stallMs} ms`;
          throw new GridThreadError(this.broken);
        }
        Atomics.wait(c, CTL.DONE, d, 100);
      }
      if (Atomics.load(c, CTL.ERR) !== 0) {
        const texts = this.workers.map((w) => receiveMessageOnPort(w.port)?.message as string | undefined);
        this.broken = `grid worker failed: ${texts.filter(Boolean).join('; ') || 'unknown error'}`;
        throw new GridThreadError(this.broken);
      }
    }
    if (mainError) throw mainError;
  }

  private ensureCapacity(n: number): void {
    if (n <= this.buffers.capacity) return;
    this.clearGrad(); // lists are rebuilt; only a failed step can leave rows listed here
    this.buffers = this.allocBuffers(Math.max(n, Math.ceil(this.buffers.capacity * 1.5)));
    this.st = gridKernels.makeState(this.layout, this.buffers);
    if (this.workers.length > 0) {
      for (const w of this.workers) w.port.postMessage(this.buffers);
      this.run(CMD.REBIND, 0);
    }
  }

  /**
   * Corners of `n` unit-cube points and their features, written point-major (`n * L*F`) into `out`. The
   * corners stay in the pool for the next `scatter*` call.
   */
  forward(xyzUnit: Float32Array, n: number, out: Float32Array): void {
    this.ensureCapacity(n);
    this.st.xyz.set(xyzUnit.subarray(0, n * 3));
    this.run(CMD.FORWARD, n);
    const F = this.layout.features;
    const D = this.layout.outDim;
    const feat = this.st.feat;
    for (let l = 0; l < this.layout.levels; l++) {
      const src = l * n * F;
      const dst = l * F;
      if (F === 2) {
        for (let i = 0; i < n; i++) {
          out[i * D + dst] = feat[src + i * 2]!;
          out[i * D + dst + 1] = feat[src + i * 2 + 1]!;
        }
      } else {
        for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) out[i * D + dst + f] = feat[src + i * F + f]!;
      }
    }
  }

  private loadGrads(dFeatures: Float32Array, n: number): void {
    const F = this.layout.features;
    const D = this.layout.outDim;
    const dF = this.st.dF;
    for (let l = 0; l < this.layout.levels; l++) {
      const dst = l * n * F;
      const src = l * F;
      if (F === 2) {
        for (let i = 0; i < n; i++) {
          dF[dst + i * 2] = dFeatures[i * D + src]!;
          dF[dst + i * 2 + 1] = dFeatures[i * D + src + 1]!;
        }
      } else {
        for (let i = 0; i < n; i++)
          for (let f = 0; f < F; f++) dF[dst + i * F + f] = dFeatures[i * D + src + f]!;
      }
    }
  }

  /** Scatter-add point-major feature gradients of the last `forward` into the store's G slot (rows listed). */
  scatter(dFeatures: Float32Array, n: number): void {
    this.loadGrads(dFeatures, n);
    this.run(CMD.SCATTER, n);
  }

  /**
   * Scatter-add, then Adam step `t` on the grid ('lazy': the touched rows; 'dense': every row), level by
   * level; `alongside` runs on the calling thread while the workers start on their levels.
   */
  scatterAdam(
    dFeatures: Float32Array,
    n: number,
    t: number,
    h: Hyper,
    mode: 'lazy' | 'dense',
    alongside?: () => void,
  ): void {
    this.loadGrads(dFeatures, n);
    const p = this.st.params;
    const { stepSize, invSqrtBc2 } = adamStepConstants(h.lr, h.beta1, h.beta2, t);
    p[PARAM.STEP_SIZE] = stepSize;
    p[PARAM.INV_SQRT_BC2] = invSqrtBc2;
    p[PARAM.BETA1] = h.beta1;
    p[PARAM.BETA2] = h.beta2;
    p[PARAM.EPS] = h.eps;
    p[PARAM.WD] = h.weightDecay;
    this.run(mode === 'lazy' ? CMD.SCATTER_ADAM_LAZY : CMD.SCATTER_ADAM_DENSE, n, alongside);
  }

  /** Zero the gradient of the rows listed by `scatter` and forget them. */
  clearGrad(): void {
    let any = false;
    for (let l = 0; l < this.layout.levels; l++) if (this.st.counts[l] !== 0) any = true;
    if (any) this.run(CMD.CLEAR_GRAD, 0);
  }

  /** Rows listed by the last `scatter` (all levels). */
  touchedCount(): number {
    let s = 0;
    for (let l = 0; l < this.layout.levels; l++) s += this.st.counts[l]!;
    return s;
  }

  async dispose(): Promise<void> {
    await this.stopWorkers();
    this.threads = 1;
  }
}
