/**
 * Scores every cached point for one query with the WASM SIMD kernel (wasm-kernel.ts), split across
 * worker_threads that share one `WasmMemory({shared: true})` (a SharedArrayBuffer):
 *
 *   [codes: points_padded x rank int8][pad][query: rank int16, 256 B slot][scores: points_padded f32]
 *
 * Workers are started once per scorer (evaluated from a string, so they run the same under tsx, vitest and
 * a bundled build) and each scores a contiguous slice (a multiple of 4 points). Without WASM SIMD the scorer
 * falls back to the plain TypeScript loop on the calling thread.
 */
import { Worker } from 'node:worker_threads';
import * as os from 'node:os';
import { type QueryCache, readQueryCache } from './cache';
import { fastScoresJs } from './scoring';
import {
  type WasmMemory,
  instantiateKernel,
  quantizeQuery,
  scoreModuleBytes,
  wasm,
  wasmSimdAvailable,
} from './wasm-kernel';
import { QueryError } from './errors';
import { Mutex } from '../util/mutex';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const inst = new WebAssembly.Instance(workerData.module, { env: { mem: workerData.memory } });
const score = inst.exports.score;
parentPort.on('message', (m) => {
  try { score(m.z, m.n, m.q, m.out, m.scale, m.bias); parentPort.postMessage({ id: m.id, ok: true }); }
  catch (e) { parentPort.postMessage({ id: m.id, ok: false, message: String(e && e.message || e) }); }
});
`;

const PAGE = 65536;

export interface FastScorerOptions {
  /** Worker threads (default: min(2, CPUs)); 0 = score on the calling thread. */
  threads?: number;
}

export class FastScorer {
  private workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private kernel: ReturnType<typeof instantiateKernel> | null = null;
  private codesPtr = 0;
  private qPtr = 0;
  private outPtr = 0;
  readonly scores: Float32Array;
  readonly simd: boolean;

  private constructor(
    readonly cache: QueryCache,
    private readonly memory: WasmMemory | null,
    layout: { codes: number; q: number; out: number } | null,
  ) {
    const Np = cache.manifest.points_padded;
    this.simd = memory !== null;
    if (memory && layout) {
      this.codesPtr = layout.codes;
      this.qPtr = layout.q;
      this.outPtr = layout.out;
      this.scores = new Float32Array(memory.buffer, layout.out, Np);
    } else {
      this.scores = new Float32Array(Np);
    }
  }

  /** Read the cache in `dir` with its codes placed in shared WASM memory and start the workers. */
  static async open(dir: string, opts: FastScorerOptions = {}): Promise<FastScorer> {
    if (!wasmSimdAvailable()) return new FastScorer(await readQueryCache(dir), null, null);
    let memory: WasmMemory | null = null;
    let layout: { codes: number; q: number; out: number } | null = null;
    const cache = await readQueryCache(dir, (bytes) => {
      const q = Math.ceil(bytes / 16) * 16;
      const out = q + 256;
      layout = { codes: 0, q, out };
      // Scores need points_padded * 4 bytes = bytes * 4 / rank <= bytes / 2 (rank >= 8).
      const need = out + Math.ceil(bytes / 8) * 4 + 16;
      const pages = Math.max(1, Math.ceil(need / PAGE));
      if (pages > 65536)
        throw new QueryError(
          'UNSUPPORTED',
          dir,
          'query cache is too large for one WebAssembly memory (4 GiB)',
        );
      memory = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
      return new Uint8Array(memory.buffer, 0, bytes);
    });
    const scorer = new FastScorer(cache, memory, layout);
    const threads = opts.threads ?? Math.min(2, Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
    if (memory && threads > 0) {
      const module = new wasm.Module(scoreModuleBytes(cache.fast.rank));
      for (let t = 0; t < threads; t++) {
        const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory } });
        w.on('message', (m: { id: number; ok: boolean; message?: string }) => {
          const p = scorer.pending.get(m.id);
          if (!p) return;
          scorer.pending.delete(m.id);
          if (m.ok) p.resolve();
          else p.reject(new QueryError('INTERNAL', null, `score worker failed: ${m.message ?? 'unknown'}`));
        });
        w.on('error', (err) => {
          for (const p of scorer.pending.values())
            p.reject(new QueryError('INTERNAL', null, `score worker crashed: ${err.message}`));
          scorer.pending.clear();
        });
        w.unref();
        scorer.workers.push(w);
      }
    } else if (memory) {
      scorer.kernel = instantiateKernel(cache.fast.rank, memory);
    }
    return scorer;
  }

  get threads(): number {
    return this.workers.length;
  }

  /**
   * Scores of every point for the code-space query (qz, bias), as a fresh array (entries past `points` are
   * padding). Calls run one at a time: the query vector and the output live in one shared buffer, so two
   * concurrent queries (several studio clients) would otherwise overwrite each other's input and scores.
   */
  score(qz: Float64Array, bias: number): Promise<Float32Array> {
    return this.lock.run(async () => (await this.scoreShared(qz, bias)).slice());
  }

  private readonly lock = new Mutex();

  /** Scores into the shared `this.scores` (valid until the next call). */
  private async scoreShared(qz: Float64Array, bias: number): Promise<Float32Array> {
    const { rank, codes } = this.cache.fast;
    const Np = this.cache.manifest.points_padded;
    if (!this.memory) {
      fastScoresJs(codes, rank, qz, bias, 0, Np, this.scores);
      return this.scores;
    }
    const { q16, scale } = quantizeQuery(qz);
    new Int16Array(this.memory.buffer, this.qPtr, rank).set(q16);
    if (this.workers.length === 0) {
      this.kernel!.score(this.codesPtr, Np, this.qPtr, this.outPtr, scale, bias);
      return this.scores;
    }
    const T = this.workers.length;
    const per = Math.ceil(Np / 4 / T) * 4;
    const jobs: Promise<void>[] = [];
    for (let t = 0; t < T; t++) {
      const start = Math.min(Np, t * per);
      const n = Math.min(Np, start + per) - start;
      if (n <= 0) continue;
      const id = this.nextId++;
      jobs.push(
        new Promise<void>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[t]!.postMessage({
            id,
            z: this.codesPtr + start * rank,
            n,
            q: this.qPtr,
            out: this.outPtr + start * 4,
            scale,
            bias,
          });
        }),
      );
    }
    // Workers are unref'd while idle (they must not keep a process alive) and ref'd while they work.
    for (const w of this.workers) w.ref();
    try {
      await Promise.all(jobs);
    } finally {
      for (const w of this.workers) w.unref();
    }
    return this.scores;
  }

  async dispose(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
