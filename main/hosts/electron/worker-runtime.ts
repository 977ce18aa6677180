/**
 * Job workers in the Electron host run as Electron utility processes (`utilityProcess.fork`), not
 * as `ELECTRON_RUN_AS_NODE` children: the packaged binary has the runAsNode fuse turned off
 * (electron-builder.yml), so nothing can turn the app into a general-purpose Node interpreter.
 *
 * The child side talks through `process.parentPort` (postMessage / on('message', e => e.data))
 * instead of `process.send` / `process.on('message')`; the job worker supports both.
 */
import { utilityProcess, type UtilityProcess } from 'electron';
import type { FromWorker, ToWorker } from '../../core/jobs/protocol';
import {
  resolveWorkerEntry,
  type SpawnWorker,
  type WorkerEntryName,
  type WorkerHandle,
} from '../../core/jobs/runtime';

/** A ChildProcess-like subset over a utility process. */
export interface UtilityWorker {
  readonly pid: number | undefined;
  /** Queued until the process has spawned; dropped after it exited. */
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): this;
  on(event: 'exit', listener: (code: number) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  kill(): boolean;
}

export interface SpawnUtilityOptions {
  env?: Record<string, string | undefined>;
  execArgv?: string[];
  cwd?: string;
  /** Shown in the OS task manager / crash reports. */
  serviceName?: string;
}

export function spawnUtilityWorker(
  modulePath: string,
  args: string[] = [],
  options: SpawnUtilityOptions = {},
): UtilityWorker {
  const child: UtilityProcess = utilityProcess.fork(modulePath, args, {
    env: options.env ?? { ...process.env },
    execArgv: options.execArgv ?? [],
    cwd: options.cwd,
    serviceName: options.serviceName ?? 'CLIP-Fields job worker',
    stdio: 'inherit',
  });
  let state: 'starting' | 'running' | 'exited' = 'starting';
  const queue: unknown[] = [];
  child.once('spawn', () => {
    if (state !== 'starting') return;
    state = 'running';
    for (const message of queue.splice(0)) child.postMessage(message);
  });
  child.once('exit', () => {
    state = 'exited';
    queue.length = 0;
  });

  const worker: UtilityWorker = {
    get pid() {
      return child.pid;
    },
    postMessage(message: unknown) {
      if (state === 'running') child.postMessage(message);
      else if (state === 'starting') queue.push(message);
    },
    on(event: 'message' | 'exit' | 'error', listener: (value: never) => void) {
      if (event === 'message') child.on('message', listener as (message: unknown) => void);
      else if (event === 'exit') child.on('exit', listener as (code: number) => void);
      else
        child.on('error', (type: string, location: string) =>
          (listener as (err: Error) => void)(new Error(`utility process ${type} at ${location}`)),
        );
      return worker;
    },
    kill() {
      if (state === 'exited') return false;
      return child.kill();
    },
  } as UtilityWorker;
  return worker;
}

/** The core's `spawnWorker` option for the Electron host: the job worker in a utility process. */
export function utilityProcessSpawnWorker(): SpawnWorker {
  return (env: Record<string, string>, name: WorkerEntryName = 'job-worker'): WorkerHandle => {
    const { entry, execArgv } = resolveWorkerEntry(name);
    const worker = spawnUtilityWorker(entry, [], { env: { ...process.env, ...env }, execArgv });
    return {
      get pid() {
        return worker.pid;
      },
      send: (msg: ToWorker) => worker.postMessage(msg),
      onMessage: (fn: (msg: FromWorker) => void) => {
        worker.on('message', (message) => fn(message as FromWorker));
      },
      onExit: (fn: (code: number | null, signal: string | null) => void) => {
        worker.on('exit', (code) => fn(code, null));
      },
      kill: () => {
        worker.kill();
      },
    };
  };
}
