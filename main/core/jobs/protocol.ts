import type { ErrorCode, JobInfo } from '../../../preload/contract';

/** Messages host -> job worker. */
export type ToWorker =
  | { type: 'start'; job: JobInfo; projectDir: string; workDir: string; cacheDir: string }
  | { type: 'abort'; reason: 'cancel' | 'pause' };

/** Messages job worker -> host. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; stage: string; done: number; total: number }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'metrics'; values: Record<string, number> }
  | { type: 'problem'; severity: 'error' | 'warning' | 'info'; file: string | null; message: string }
  | { type: 'done'; result: unknown }
  | { type: 'paused' }
  | { type: 'cancelled' }
  | { type: 'failed'; code: ErrorCode; message: string };
