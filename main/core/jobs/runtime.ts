import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { FromWorker, ToWorker } from './protocol';

/** The subset of a child process the job manager needs (Electron's utilityProcess can be adapted to it). */
export interface WorkerHandle<In = ToWorker, Out = FromWorker> {
  send(msg: In): void;
  onMessage(fn: (msg: Out) => void): void;
  onExit(fn: (code: number | null, signal: string | null) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

/** Worker processes: `job-worker` runs one job; `compute-worker` serves interactive computations. */
export type WorkerEntryName = 'job-worker' | 'compute-worker';

export type SpawnWorker = (env: Record<string, string>, entry?: WorkerEntryName) => WorkerHandle;

/**
 * Where the job worker's entry is: the bundled `job-worker.cjs` beside the running bundle (dist/main),
 * or the TypeScript source run through tsx (development and tests).
 */
export function resolveWorkerEntry(name: WorkerEntryName = 'job-worker'): {
  entry: string;
  execArgv: string[];
} {
  const here = __dirname;
  const bundled = path.join(here, `${name}.cjs`);
  if (existsSync(bundled)) return { entry: bundled, execArgv: [] };
  const distBundled = path.resolve(here, '..', '..', '..', 'dist', 'main', `${name}.cjs`);
  const source = path.resolve(here, '..', '..', 'workers', `${name}.ts`);
  if (existsSync(source)) return { entry: source, execArgv: ['--import', 'tsx'] };
  if (existsSync(distBundled)) return { entry: distBundled, execArgv: [] };
  throw new Error(`job worker entry not found (looked for ${bundled} and ${source})`);
}

/** Default runtime: a Node child process with an IPC channel. */
export function forkWorker(
  options: { execPath?: string; extraEnv?: Record<string, string> } = {},
): SpawnWorker {
  return (env, name = 'job-worker') => {
    const { entry, execArgv } = resolveWorkerEntry(name);
    const child: ChildProcess = fork(entry, [], {
      execArgv,
      execPath: options.execPath ?? process.execPath,
      env: { ...process.env, ...options.extraEnv, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (fn) => child.on('message', (m) => fn(m as FromWorker)),
      onExit: (fn) => child.on('exit', (code, signal) => fn(code, signal)),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
