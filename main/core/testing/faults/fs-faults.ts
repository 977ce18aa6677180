/**
 * Typed access to fs-fault-engine.cjs: inject ENOSPC/EIO/EROFS at the Nth matching write in this process
 * (`installFsFaults`), or in job workers (`workerFaultEnv` + `faultySpawn`).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { forkWorker, type SpawnWorker, type WorkerHandle } from '../../jobs/runtime';

export type FaultCode = 'ENOSPC' | 'EIO' | 'EROFS' | 'ENOENT';

export interface FsFaultOptions {
  /** Error thrown by failing writes (omit for delay/kill-only faults). */
  code?: FaultCode;
  /** First failing write, 1-based, counted over writes whose path contains `match` (default 1). */
  nth?: number;
  /** How many writes fail from the nth on (default: every one after it). */
  times?: number;
  /** Only writes whose path contains this substring count (default: all). */
  match?: string;
  /** Delay every matching write (ms). */
  delayMs?: number;
  /** SIGKILL the process when a rename's source contains this substring (after `killSkip` such renames). */
  killOnRename?: string;
  killSkip?: number;
}

export interface FsFaults {
  readonly state: { writes: number; failures: number; hits: string[]; renames: number };
  restore(): void;
}

interface Engine {
  install(opts: FsFaultOptions): FsFaults;
}

export const FAULT_ENGINE_FILE = path.join(__dirname, 'fs-fault-engine.cjs');
const engine = createRequire(__filename)(FAULT_ENGINE_FILE) as Engine;

/** Patch `fs.promises` in this process; call `restore()` in a finally. */
export function installFsFaults(opts: FsFaultOptions): FsFaults {
  return engine.install(opts);
}

/** Environment that makes a forked worker install the same faults at start-up. */
export function workerFaultEnv(opts: FsFaultOptions): Record<string, string> {
  const env: Record<string, string> = {
    NODE_OPTIONS: `${process.env['NODE_OPTIONS'] ?? ''} --require ${FAULT_ENGINE_FILE}`.trim(),
    CFS_FAULT_AUTO: '1',
  };
  if (opts.code) env['CFS_FAULT_CODE'] = opts.code;
  if (opts.nth !== undefined) env['CFS_FAULT_NTH'] = String(opts.nth);
  if (opts.times !== undefined) env['CFS_FAULT_TIMES'] = String(opts.times);
  if (opts.match !== undefined) env['CFS_FAULT_MATCH'] = opts.match;
  if (opts.delayMs !== undefined) env['CFS_FAULT_DELAY_MS'] = String(opts.delayMs);
  if (opts.killOnRename !== undefined) env['CFS_FAULT_KILL_ON_RENAME'] = opts.killOnRename;
  if (opts.killSkip !== undefined) env['CFS_FAULT_KILL_SKIP'] = String(opts.killSkip);
  return env;
}

export interface SpawnedWorker {
  entry: string;
  handle: WorkerHandle;
  pid: number | undefined;
  exited: boolean;
  exit: { code: number | null; signal: string | null } | null;
}

/**
 * A SpawnWorker that records every worker it starts (pid, entry, exit) so tests can kill them, and that
 * applies `faults()` (evaluated at each spawn; null = none) to job workers only.
 */
export function recordingSpawn(faults: () => FsFaultOptions | null = () => null): {
  spawn: SpawnWorker;
  workers: SpawnedWorker[];
} {
  const workers: SpawnedWorker[] = [];
  const plain = forkWorker();
  const spawn: SpawnWorker = (env, entry = 'job-worker') => {
    const f = entry === 'job-worker' ? faults() : null;
    const handle = f ? forkWorker({ extraEnv: workerFaultEnv(f) })(env, entry) : plain(env, entry);
    const rec: SpawnedWorker = { entry, handle, pid: handle.pid, exited: false, exit: null };
    handle.onExit((code, signal) => {
      rec.exited = true;
      rec.exit = { code, signal };
    });
    workers.push(rec);
    return handle;
  };
  return { spawn, workers };
}

/** True while a process with this pid exists. */
export function processAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
