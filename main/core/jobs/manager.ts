import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  JobInfoSchema,
  JobParamsByKind,
  type ErrorCode,
  type JobInfo,
  type JobKind,
  type StudioEvent,
} from '../../../preload/contract';
import { writeJsonAtomic } from '../util/atomic';
import { Mutex } from '../util/mutex';
import type { FromWorker } from './protocol';
import type { SpawnWorker, WorkerHandle } from './runtime';

const JournalSchema = z.object({ version: z.literal(1), jobs: z.array(JobInfoSchema) });
export const JOURNAL_FILE = path.join('jobs', 'journal.json');

/** Kinds that may pause (they checkpoint and resume from it). */
const PAUSABLE: ReadonlySet<JobKind> = new Set(['train', 'selftest']);
const ACTIVE = new Set(['queued', 'running', 'paused']);
const PROGRESS_INTERVAL_MS = 100;
const CANCEL_GRACE_MS = 5000;

export class JobRequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Running {
  worker: WorkerHandle;
  requested: 'cancel' | 'pause' | null;
  lastProgressSent: number;
  pendingProgress: FromWorker | null;
  progressTimer: NodeJS.Timeout | null;
  killTimer: NodeJS.Timeout | null;
  startedAtMs: number;
  ended: boolean;
}

export interface JobManagerOptions {
  projectDir: string;
  cacheDir: string;
  spawn: SpawnWorker;
  emit: (event: StudioEvent) => void;
  /** Called in the host when a job finishes with a result (e.g. to write project.json from an import). */
  onDone?: (job: JobInfo) => Promise<void>;
  /** Called for problems reported by a job. */
  onProblem?: (p: {
    severity: 'error' | 'warning' | 'info';
    file: string | null;
    message: string;
    source: string;
  }) => void;
}

/**
 * Jobs of one project: a persisted journal (`<project>/jobs/journal.json`), a FIFO queue running one job at a
 * time in a worker process, throttled progress, cancel/pause/resume, and crash recovery: a job found
 * `running`/`queued`/`paused` in the journal when the project is opened again is marked `interrupted`.
 */
export class JobManager {
  private jobs: JobInfo[] = [];
  private running = new Map<string, Running>();
  private readonly saveLock = new Mutex();
  private disposed = false;
  /** Jobs whose end is being recorded (journal written, events not yet all emitted). */
  private finishing = new Set<string>();

  private constructor(private readonly opts: JobManagerOptions) {}

  static async open(opts: JobManagerOptions): Promise<JobManager> {
    const m = new JobManager(opts);
    await m.load();
    return m;
  }

  private get journalPath(): string {
    return path.join(this.opts.projectDir, JOURNAL_FILE);
  }

  private async load(): Promise<void> {
    let raw: unknown = null;
    try {
      raw = JSON.parse(await fs.readFile(this.journalPath, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.opts.onProblem?.({
          severity: 'warning',
          file: this.journalPath,
          message: `job journal unreadable, starting a new one (${(err as Error).message})`,
          source: 'jobs',
        });
      }
    }
    const parsed = raw === null ? null : JournalSchema.safeParse(raw);
    this.jobs = parsed?.success ? parsed.data.jobs : [];
    let changed = false;
    for (const job of this.jobs) {
      if (ACTIVE.has(job.state)) {
        job.state = 'interrupted';
        job.ended_at = job.ended_at ?? new Date().toISOString();
        changed = true;
      }
    }
    if (changed) await this.save();
  }

  private async save(): Promise<void> {
    await this.saveLock.run(async () => {
      await fs.mkdir(path.dirname(this.journalPath), { recursive: true });
      await writeJsonAtomic(this.journalPath, { version: 1, jobs: this.jobs.slice(-200) });
    });
  }

  list(): JobInfo[] {
    return this.jobs.map((j) => ({ ...j }));
  }

  get(id: string): JobInfo {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) throw new JobRequestError('NOT_FOUND', `no job with id ${id}`);
    return job;
  }

  async start(kind: JobKind, rawParams: Record<string, unknown>): Promise<JobInfo> {
    const schema = JobParamsByKind[kind];
    const parsed = schema.safeParse(rawParams);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new JobRequestError(
        'BAD_ARGS',
        `invalid ${kind} parameters: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : ''}`,
      );
    }
    const job: JobInfo = {
      id: `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      kind,
      params: parsed.data as Record<string, unknown>,
      state: 'queued',
      progress: null,
      created_at: new Date().toISOString(),
      started_at: null,
      ended_at: null,
      error: null,
      result: null,
      attempt: 1,
    };
    this.jobs.push(job);
    try {
      await this.save();
    } catch (err) {
      // Not recorded, so not started: a failed start must not leave a phantom queued job behind.
      this.jobs = this.jobs.filter((j) => j !== job);
      throw err;
    }
    this.emitState(job);
    this.pump();
    return { ...job };
  }

  async cancel(id: string): Promise<JobInfo> {
    const job = this.get(id);
    if (job.state === 'queued' || job.state === 'paused' || job.state === 'interrupted') {
      await this.finish(job, 'cancelled', null, null);
      return { ...job };
    }
    const r = this.running.get(id);
    if (!r || job.state !== 'running')
      throw new JobRequestError(
        'CONFLICT',
        `job ${id} is ${job.state}; only queued, running, paused or interrupted jobs can be cancelled`,
      );
    this.requestStop(r, 'cancel');
    return { ...job };
  }

  async pause(id: string): Promise<JobInfo> {
    const job = this.get(id);
    if (!PAUSABLE.has(job.kind))
      throw new JobRequestError(
        'UNSUPPORTED',
        `${job.kind} jobs cannot be paused (cancel and start again instead)`,
      );
    const r = this.running.get(id);
    if (!r || job.state !== 'running')
      throw new JobRequestError('CONFLICT', `job ${id} is ${job.state}; only a running job can be paused`);
    this.requestStop(r, 'pause');
    return { ...job };
  }

  /** Resume a paused or interrupted job: it is queued again with attempt + 1 and continues from its checkpoint. */
  async resume(id: string): Promise<JobInfo> {
    const job = this.get(id);
    if (job.state !== 'paused' && job.state !== 'interrupted') {
      throw new JobRequestError(
        'CONFLICT',
        `job ${id} is ${job.state}; only paused or interrupted jobs can be resumed`,
      );
    }
    job.state = 'queued';
    job.attempt += 1;
    job.ended_at = null;
    job.error = null;
    await this.save();
    this.emitState(job);
    this.pump();
    return { ...job };
  }

  /** Forget an ended or interrupted job and delete its work folder. */
  async discard(id: string): Promise<void> {
    const job = this.get(id);
    if (job.state === 'running' || job.state === 'queued') {
      throw new JobRequestError('CONFLICT', `job ${id} is ${job.state}; cancel it first`);
    }
    this.jobs = this.jobs.filter((j) => j.id !== id);
    await fs.rm(this.workDirOf(id), { recursive: true, force: true });
    await this.save();
  }

  workDirOf(id: string): string {
    return path.join(this.opts.projectDir, 'jobs', id);
  }

  /** Resolves when the job reaches an ended state (done, failed, cancelled, paused, interrupted). */
  waitFor(id: string, timeoutMs = 0): Promise<JobInfo> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const job = this.jobs.find((j) => j.id === id);
        if (!job) return reject(new JobRequestError('NOT_FOUND', `no job with id ${id}`));
        if (this.finishing.has(id)) return;
        if (!ACTIVE.has(job.state) || (job.state === 'paused' && !this.running.has(id))) {
          cleanup();
          resolve({ ...job });
        }
      };
      const timer = setInterval(check, 50);
      const to =
        timeoutMs > 0
          ? setTimeout(() => {
              cleanup();
              reject(new Error(`timed out waiting for job ${id}`));
            }, timeoutMs)
          : null;
      const cleanup = () => {
        clearInterval(timer);
        if (to) clearTimeout(to);
      };
      check();
    });
  }

  private requestStop(r: Running, reason: 'cancel' | 'pause'): void {
    if (r.requested === 'cancel') return;
    r.requested = reason;
    r.worker.send({ type: 'abort', reason });
    if (r.killTimer) clearTimeout(r.killTimer);
    r.killTimer = setTimeout(() => r.worker.kill(), CANCEL_GRACE_MS);
  }

  private pump(): void {
    if (this.disposed) return;
    if ([...this.running.values()].some((r) => !r.ended)) return;
    const next = this.jobs.find((j) => j.state === 'queued');
    if (!next) return;
    void this.run(next);
  }

  private async run(job: JobInfo): Promise<void> {
    job.state = 'running';
    job.started_at = new Date().toISOString();
    job.progress = null;
    const workDir = this.workDirOf(job.id);
    await fs.mkdir(workDir, { recursive: true });
    await this.save();
    // Disposed while recording the start: spawning now would leave a worker nobody kills (it stays `running`
    // in the journal and shows as interrupted next time).
    if (this.disposed) return;
    this.emitState(job);

    let worker: WorkerHandle;
    try {
      worker = this.opts.spawn({ CLIP_FIELDS_CACHE_DIR: this.opts.cacheDir });
    } catch (err) {
      await this.finish(job, 'failed', null, {
        code: 'INTERNAL',
        message: `cannot start the job worker: ${(err as Error).message}`,
      });
      return;
    }
    const r: Running = {
      worker,
      requested: null,
      lastProgressSent: 0,
      pendingProgress: null,
      progressTimer: null,
      killTimer: null,
      startedAtMs: Date.now(),
      ended: false,
    };
    this.running.set(job.id, r);
    let outcome: FromWorker | null = null;

    worker.onMessage((msg) => {
      switch (msg.type) {
        case 'progress':
          this.onProgress(job, r, msg);
          break;
        case 'log':
          this.opts.emit({ type: 'job.log', id: job.id, level: msg.level, message: msg.message });
          break;
        case 'metrics':
          this.opts.emit({ type: 'job.metrics', id: job.id, metrics: msg.values });
          break;
        case 'problem':
          this.opts.onProblem?.({
            severity: msg.severity,
            file: msg.file,
            message: msg.message,
            source: `${job.kind} job`,
          });
          break;
        case 'done':
        case 'failed':
        case 'paused':
        case 'cancelled':
          outcome = msg;
          break;
        default:
          break;
      }
    });
    worker.onExit((code, signal) => {
      r.ended = true;
      if (r.killTimer) clearTimeout(r.killTimer);
      if (r.progressTimer) clearTimeout(r.progressTimer);
      this.running.delete(job.id);
      void this.settle(job, r, outcome, code, signal).finally(() => this.pump());
    });
    worker.send({
      type: 'start',
      job: { ...job },
      projectDir: this.opts.projectDir,
      workDir,
      cacheDir: this.opts.cacheDir,
    });
  }

  private async settle(
    job: JobInfo,
    r: Running,
    outcome: FromWorker | null,
    code: number | null,
    signal: string | null,
  ): Promise<void> {
    if (this.disposed) return;
    if (outcome?.type === 'done') {
      job.result = outcome.result ?? null;
      try {
        await this.opts.onDone?.(job);
      } catch (err) {
        await this.finish(job, 'failed', null, {
          code: 'IO',
          message: `job finished but its result could not be saved: ${(err as Error).message}`,
        });
        return;
      }
      await this.finish(job, 'done', outcome.result ?? null, null);
    } else if (outcome?.type === 'failed') {
      await this.finish(job, 'failed', null, { code: outcome.code, message: outcome.message });
    } else if (outcome?.type === 'paused' || (r.requested === 'pause' && outcome === null)) {
      await this.finish(job, 'paused', null, null);
    } else if (outcome?.type === 'cancelled' || r.requested === 'cancel') {
      await this.finish(job, 'cancelled', null, null);
    } else {
      await this.finish(job, 'failed', null, {
        code: 'INTERNAL',
        message: `the job worker exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code ?? 'unknown'}`})`,
      });
    }
  }

  private onProgress(job: JobInfo, r: Running, msg: Extract<FromWorker, { type: 'progress' }>): void {
    const elapsed = (Date.now() - r.startedAtMs) / 1000;
    const frac = msg.total > 0 ? msg.done / msg.total : 0;
    const eta_s = frac > 0.02 && frac < 1 ? Math.round((elapsed / frac) * (1 - frac)) : null;
    job.progress = { stage: msg.stage, done: msg.done, total: msg.total, eta_s };
    const now = Date.now();
    const flush = () => {
      r.progressTimer = null;
      r.lastProgressSent = Date.now();
      if (job.progress) this.opts.emit({ type: 'job.progress', id: job.id, progress: { ...job.progress } });
    };
    if (now - r.lastProgressSent >= PROGRESS_INTERVAL_MS) flush();
    else if (!r.progressTimer)
      r.progressTimer = setTimeout(flush, PROGRESS_INTERVAL_MS - (now - r.lastProgressSent));
  }

  private async finish(
    job: JobInfo,
    state: 'done' | 'failed' | 'cancelled' | 'paused',
    result: unknown,
    error: { code: ErrorCode; message: string } | null,
  ): Promise<void> {
    this.finishing.add(job.id);
    try {
      job.state = state;
      job.ended_at = new Date().toISOString();
      job.error = error;
      if (state === 'done') job.result = result ?? null;
      await this.save();
      this.emitState(job);
      if (state === 'done') this.opts.emit({ type: 'job.done', id: job.id, result: job.result });
      if (state === 'failed' && error)
        this.opts.emit({ type: 'job.failed', id: job.id, code: error.code, message: error.message });
    } finally {
      this.finishing.delete(job.id);
    }
  }

  private emitState(job: JobInfo): void {
    this.opts.emit({ type: 'job.state', job: { ...job } });
  }

  /** Stop every worker (host shutdown). Jobs stay `running` in the journal and show as `interrupted` next time. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const r of this.running.values()) r.worker.kill();
    this.running.clear();
    await this.saveLock.run(async () => undefined);
  }
}
