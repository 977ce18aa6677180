import type { ErrorCode, JobKind } from '../../../preload/contract';

/**
 * What a job handler gets. Handlers run in a job worker process (never the host's main thread):
 * they report progress and logs through the context and watch `signal` for cancel/pause.
 */
export interface JobContext<P = Record<string, unknown>> {
  readonly jobId: string;
  readonly kind: JobKind;
  /** Parameters, already validated against the contract's schema for this kind. */
  readonly params: P;
  readonly projectDir: string;
  /** A folder private to this job (`<project>/jobs/<id>/`) for staging, caches and checkpoints; kept across resumes. */
  readonly workDir: string;
  /** 1 for a fresh run, 2+ when resumed after an interruption. */
  readonly attempt: number;
  /** Aborted when the job is cancelled (reason 'cancel') or paused (reason 'pause'). */
  readonly signal: AbortSignal;
  /** Throttled to ~10 Hz by the runtime; call as often as you like. */
  progress(stage: string, done: number, total: number): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Numeric metrics (training curves); throttled by the caller, not the runtime. */
  metrics(values: Record<string, number>): void;
  /** A data problem that does not stop the job (shown in the studio's problems list). */
  problem(severity: 'error' | 'warning' | 'info', file: string | null, message: string): void;
}

export type JobHandler<P = Record<string, unknown>, R = unknown> = (ctx: JobContext<P>) => Promise<R>;

/** Thrown by handlers for expected failures; the code reaches the renderer and the CLI as is. */
export class JobError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'JobError';
  }
}

/** Throw this (or let `signal.throwIfAborted()` throw) when the job sees its signal aborted. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.message === 'cancelled');
}
