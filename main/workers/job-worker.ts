/**
 * Job worker process: runs exactly one job handler off the host's main thread and reports over IPC.
 * Exits when the host disconnects (the host died), so a crashed host never leaves orphans running.
 */
import type { FromWorker, ToWorker } from '../core/jobs/protocol';
import { loadHandler } from '../core/jobs/handlers';
import { JobError, type JobContext } from '../core/jobs/types';
import type { ErrorCode } from '../../preload/contract';
import { DiskSpaceError, diskSpaceError } from '../core/util/atomic';

/** "needs X, Y free" for a disk-full failure (writeFileAtomic already says it; other writes get the volume's free space). */
async function diskSpaceMessage(err: unknown, projectDir: string): Promise<string> {
  if (err instanceof DiskSpaceError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const file = typeof e.path === 'string' ? e.path : projectDir;
  const free = (await diskSpaceError(file, 0)).freeBytes;
  return `not enough disk space writing ${file} (${e.message}); ${free === null ? 'unknown space' : `${(free / 1048576).toFixed(1)} MiB`} free on that volume: free some space and resume`;
}

/** In Electron the worker is a utilityProcess (messages through `process.parentPort`); elsewhere a forked child. */
interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (ev: { data: unknown }) => void): void;
}
const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

function send(msg: FromWorker): void {
  if (parentPort) parentPort.postMessage(msg);
  else if (process.send && process.connected) process.send(msg);
}

const controller = new AbortController();
let started = false;

process.on('disconnect', () => process.exit(0));

function onMessage(raw: unknown): void {
  const msg = raw as ToWorker;
  if (msg.type === 'abort') {
    const err = new Error(msg.reason === 'pause' ? 'paused' : 'cancelled');
    err.name = 'AbortError';
    controller.abort(Object.assign(err, { reason: msg.reason }));
    return;
  }
  if (msg.type === 'start' && !started) {
    started = true;
    void run(msg);
  }
}
if (parentPort) parentPort.on('message', (ev) => onMessage(ev.data));
else process.on('message', onMessage);

async function run(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  const { job } = msg;
  process.env['CLIP_FIELDS_CACHE_DIR'] = msg.cacheDir;
  const ctx: JobContext = {
    jobId: job.id,
    kind: job.kind,
    params: job.params,
    projectDir: msg.projectDir,
    workDir: msg.workDir,
    attempt: job.attempt,
    signal: controller.signal,
    progress: (stage, done, total) => send({ type: 'progress', stage, done, total }),
    log: (level, message) => send({ type: 'log', level, message }),
    metrics: (values) => send({ type: 'metrics', values }),
    problem: (severity, file, message) => send({ type: 'problem', severity, file, message }),
  };
  try {
    const handler = await loadHandler(job.kind);
    const result = await handler(ctx as never);
    send({ type: 'done', result: result ?? null });
  } catch (err) {
    const reason = (controller.signal.reason as { reason?: string } | undefined)?.reason;
    if (controller.signal.aborted && reason === 'pause') send({ type: 'paused' });
    else if (controller.signal.aborted) send({ type: 'cancelled' });
    else if (err instanceof JobError) send({ type: 'failed', code: err.code, message: err.message });
    else {
      const e = err as Error & { code?: unknown; file?: unknown; reason?: unknown };
      if (e.code === 'ENOSPC') {
        send({ type: 'failed', code: 'NEEDS_SPACE', message: await diskSpaceMessage(err, msg.projectDir) });
        return;
      }
      const typed: ErrorCode =
        e.name === 'CaptureError' || e.name === 'ProjectError' ? 'INVALID_INPUT' : 'INTERNAL';
      send({ type: 'failed', code: typed, message: e.message ?? String(err) });
    }
  } finally {
    // Give the IPC channel a moment to flush, then leave.
    setTimeout(() => process.exit(0), 20);
  }
}

send({ type: 'ready' });
