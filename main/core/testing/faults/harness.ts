/** Drive the real studio core (worker processes included) from fault tests. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JobInfo, JobKind, StudioEvent } from '../../../../preload/contract';
import { StudioCore } from '../../studio';
import type { SpawnWorker } from '../../jobs/runtime';
import { writeTinyR3d, type TinyCaptureOptions } from '../../capture/testing';

/** The faults suite runs only under vitest.faults.config.mts (which sets CLIP_FIELDS_FAULTS=1). */
export const FAULTS_ENABLED = process.env['CLIP_FIELDS_FAULTS'] === '1';

export async function tempBase(prefix: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `cfs-faults-${prefix}-`));
}

export function newStudio(base: string, spawnWorker?: SpawnWorker, name = 'ud'): StudioCore {
  return new StudioCore({
    host: 'web',
    userDataDir: path.join(base, name),
    resourcesDir: base,
    ...(spawnWorker ? { spawnWorker } : {}),
  });
}

export async function call<T = unknown>(core: StudioCore, channel: string, args: unknown = {}): Promise<T> {
  const r = await core.invoke(channel, args);
  if (!r.ok) throw new Error(`${channel}: ${r.code}: ${r.message}`);
  return r.data as T;
}

export async function startJob(
  core: StudioCore,
  kind: JobKind,
  params: Record<string, unknown>,
): Promise<JobInfo> {
  return call<JobInfo>(core, 'jobs.start', { kind, params });
}

export async function runJob(
  core: StudioCore,
  kind: JobKind,
  params: Record<string, unknown>,
  timeoutMs = 120_000,
): Promise<JobInfo> {
  const job = await startJob(core, kind, params);
  return core.jobManager!.waitFor(job.id, timeoutMs);
}

/** Resolve when `pred` holds (polled), or reject after `timeoutMs`. */
export async function until<T>(
  what: string,
  pred: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 60_000,
  everyMs = 25,
): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Every event the core emits, for assertions. */
export function recordEvents(core: StudioCore): StudioEvent[] {
  const events: StudioEvent[] = [];
  core.onEvent((e) => events.push(e));
  return events;
}

export async function copyDir(src: string, dst: string): Promise<void> {
  await fs.cp(src, dst, { recursive: true, force: true });
}

/**
 * A project with an imported (and optionally ground-truth labeled) tiny annotated capture, built through the
 * core and its workers. Returns the core still open on it.
 */
export async function tinyProject(
  base: string,
  opts: {
    label?: boolean;
    capture?: TinyCaptureOptions;
    spawnWorker?: SpawnWorker;
    labelParams?: Record<string, unknown>;
  } = {},
): Promise<{ core: StudioCore; projectDir: string; capture: string }> {
  const capture = path.join(base, 'tiny.r3d');
  await writeTinyR3d(capture, { frames: 4, annotations: true, ...opts.capture });
  const core = newStudio(base, opts.spawnWorker);
  const projectDir = path.join(base, 'proj');
  await call(core, 'project.create', { dir: projectDir });
  const imp = await runJob(core, 'import', { capture });
  if (imp.state !== 'done') throw new Error(`import ${imp.state}: ${imp.error?.message}`);
  if (opts.label !== false) {
    const lab = await runJob(core, 'label', {
      labeler: 'ground-truth',
      point_probability: 1,
      ...opts.labelParams,
    });
    if (lab.state !== 'done') throw new Error(`label ${lab.state}: ${lab.error?.message}`);
  }
  return { core, projectDir, capture };
}

/** Heap (after a forced GC when --expose-gc is on) and RSS of this process, bytes. */
export function memoryNow(): { heap: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}
