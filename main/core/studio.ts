import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CONTRACT_VERSION,
  ErrorCodeSchema,
  channels,
  errorResult,
  isChannelName,
  type ChannelName,
  type ChannelParsedArgs,
  type ChannelResult,
  type ErrorCode,
  type FrameIndex,
  type Problem,
  type ProjectSummary,
  type Result,
  type StudioEvent,
} from '../../preload/contract';
import { JobManager, JobRequestError } from './jobs/manager';
import { forkWorker, type SpawnWorker } from './jobs/runtime';
import { APP_VERSION, createProject, openProject, summarize, updateProject } from './project/store';
import { ProjectError } from './project/schema';
import { addRecent, readRecent } from './project/recent';
import type { AssetResponse, StudioApi, StudioOptions } from './studio-types';
import { resolveProjectAsset } from './assets';
import { CaptureError } from './capture/types';
import { ComputeError, ComputePool } from './compute/pool';
import { writeFileAtomic } from './util/atomic';
import { DiskSpaceError } from './util/atomic';

type Handlers = { [C in ChannelName]: (args: ChannelParsedArgs<C>) => Promise<ChannelResult<C>> };

class RequestError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface StudioCoreOptions extends StudioOptions {
  /** How job workers are started (defaults to a Node child process). */
  spawnWorker?: SpawnWorker;
  /**
   * Warm the query engine in the compute worker when a project opens and after its query cache is rebuilt
   * (the interactive hosts do; the CLI, which opens a project only to run one job, does not).
   */
  warmQueries?: boolean;
}

/**
 * The host-agnostic studio behind both hosts and the CLI: one open project, its jobs, its problems list,
 * and the contract's request handlers. Arguments are validated here against the contract's schemas;
 * nothing thrown inside escapes `invoke`.
 */
export class StudioCore implements StudioApi {
  private listeners = new Set<(e: StudioEvent) => void>();
  private projectDir: string | null = null;
  private jobs: JobManager | null = null;
  private problems: Problem[] = [];
  private readonly spawn: SpawnWorker;
  private frameIndexCache: { dir: string; mtimeMs: number; index: FrameIndex } | null = null;

  constructor(readonly options: StudioCoreOptions) {
    this.spawn = options.spawnWorker ?? forkWorker();
    this.compute = new ComputePool(this.spawn);
  }

  get currentProjectDir(): string | null {
    return this.projectDir;
  }

  get jobManager(): JobManager | null {
    return this.jobs;
  }

  /** Generated demo captures and other caches (CLIP_FIELDS_CACHE overrides, e.g. to share one across test runs). */
  get cacheDir(): string {
    return process.env['CLIP_FIELDS_CACHE'] ?? path.join(this.options.userDataDir, 'cache');
  }

  onEvent(listener: (e: StudioEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: StudioEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken listener (a closed socket) must not stop the others.
      }
    }
  }

  addProblem(p: Omit<Problem, 'id' | 'at'>): Problem {
    const problem: Problem = { ...p, id: randomBytes(4).toString('hex'), at: new Date().toISOString() };
    this.problems.push(problem);
    if (this.problems.length > 500) this.problems.splice(0, this.problems.length - 500);
    this.emit({ type: 'problem.added', problem });
    return problem;
  }

  async invoke(channel: string, args: unknown): Promise<Result<unknown>> {
    if (!isChannelName(channel))
      return errorResult('UNKNOWN_CHANNEL', `unknown channel "${String(channel).slice(0, 100)}"`);
    const spec = channels[channel];
    const parsed = spec.args.safeParse(args ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return errorResult(
        'BAD_ARGS',
        `${channel}: ${issue ? `${issue.path.join('.') || '(arguments)'}: ${issue.message}` : 'invalid arguments'}`,
      );
    }
    try {
      const handler = this.handlers[channel] as (a: unknown) => Promise<unknown>;
      const data = await handler(parsed.data);
      return { ok: true, data };
    } catch (err) {
      return toErrorResult(err);
    }
  }

  private readonly compute: ComputePool;

  private async computeCall<T>(fn: string, args: Record<string, unknown>): Promise<T> {
    try {
      return await this.compute.call<T>(fn, { projectDir: this.requireProject(), ...args });
    } catch (err) {
      if (err instanceof ComputeError) {
        const code = ErrorCodeSchema.safeParse(err.code);
        throw new RequestError(code.success ? code.data : 'INTERNAL', err.message);
      }
      throw err;
    }
  }

  private readonly handlers: Handlers = {
    'app.info': async () => ({
      version: APP_VERSION,
      contract: CONTRACT_VERSION,
      host: this.options.host,
      platform: process.platform,
      project: await this.currentSummary(),
      demo_capture: 'demo:0',
    }),
    'project.create': async ({ dir, name }) => {
      await createProject(dir, name);
      return this.openProjectDir(dir);
    },
    'project.open': async ({ dir }) => this.openProjectDir(dir),
    'project.current': async () => this.currentSummary(),
    'project.recent': async () => ({ items: await readRecent(this.options.userDataDir) }),
    'jobs.start': async ({ kind, params }) => this.requireJobs().start(kind, params),
    'jobs.cancel': async ({ id }) => this.requireJobs().cancel(id),
    'jobs.pause': async ({ id }) => this.requireJobs().pause(id),
    'jobs.resume': async ({ id }) => this.requireJobs().resume(id),
    'jobs.discard': async ({ id }) => {
      await this.requireJobs().discard(id);
      return { id };
    },
    'jobs.list': async () => ({ jobs: this.jobs?.list() ?? [] }),
    'problems.list': async () => ({ problems: [...this.problems] }),
    'problems.clear': async () => {
      const cleared = this.problems.length;
      this.problems = [];
      return { cleared };
    },
    'capture.frames': async () => this.frameIndex(),
    'capture.frame': async ({ index }) => {
      const fi = await this.frameIndex();
      const entry = fi.frames.find((f) => f.index === index);
      if (!entry)
        throw new RequestError(
          'NOT_FOUND',
          `frame ${index} is not in this capture (0..${fi.frames.length - 1})`,
        );
      const summary = await this.currentSummary();
      const cap = summary?.capture;
      return {
        index,
        width: fi.rgb_size[0],
        height: fi.rgb_size[1],
        depth_width: fi.depth_size[0],
        depth_height: fi.depth_size[1],
        rgb: `frame/${index}/rgb`,
        depth: `frame/${index}/depth.f32`,
        confidence: cap?.has_confidence ? `frame/${index}/confidence.u8` : null,
        labels: cap?.has_annotations ? `frame/${index}/labels.u16` : null,
        depth_range_m: [0, 4] as [number, number],
      };
    },
    'labels.overview': async () => this.computeCall('labels.overview', {}),
    'labels.frame': async ({ index }) => ({
      detections: await this.computeCall('labels.frame', { frame: index }),
    }),
    'labels.edit': async ({ edit }) => {
      const r = await this.computeCall<ChannelResult<'labels.edit'>>('labels.edit', { edit });
      await this.refreshLabelSummary(r);
      return r;
    },
    'labels.undo': async () => {
      const r = await this.computeCall<ChannelResult<'labels.undo'>>('labels.undo', {});
      await this.refreshLabelSummary(r);
      return r;
    },
    'labels.objects': async () => ({ objects: await this.computeCall('labels.objects', {}) }),
    'field.status': async () => this.computeCall('field.status', {}),
    'query.run': async (a) => this.computeCall('query.run', a),
    'waypoints.list': async () => this.computeCall('waypoints.list', {}),
    'waypoints.add': async (a) => this.computeCall('waypoints.add', a),
    'waypoints.rename': async (a) => this.computeCall('waypoints.rename', a),
    'waypoints.move': async (a) => this.computeCall('waypoints.move', a),
    'waypoints.reorder': async (a) => this.computeCall('waypoints.reorder', a),
    'waypoints.delete': async (a) => this.computeCall('waypoints.delete', a),
    'waypoints.export': async (a) => this.computeCall('waypoints.export', a),
    'waypoints.send': async (a) => this.computeCall('waypoints.send', a),
    'mapframe.set': async (a) => this.computeCall('mapframe.set', a),
    'report.generate': async () => this.computeCall('report.generate', {}),
    'field.use': async ({ step }) => {
      const dir = this.requireProject();
      const { listCheckpoints } = await import('./field/checkpoint');
      const { checkpointDirOf } = await import('./field/train-job');
      const cpDir = checkpointDirOf(dir);
      const steps = await listCheckpoints(cpDir);
      if (!steps.includes(step))
        throw new RequestError(
          'NOT_FOUND',
          `no checkpoint at step ${step} (have ${steps.join(', ') || 'none'})`,
        );
      await writeFileAtomic(path.join(cpDir, 'latest'), `${step}\n`);
      // Rebuild the query cache from the chosen checkpoint.
      return this.requireJobs().start('evaluate-field', {});
    },
    'map.info': async () => {
      const s = await this.currentSummary();
      if (!s) throw new RequestError('NO_PROJECT', 'no project is open: create or open one first');
      if (!s.map)
        throw new RequestError(
          'NOT_FOUND',
          'this project has no map yet: import a capture first (Capture ▸ Import)',
        );
      return s.map;
    },
  };

  private requireProject(): string {
    if (!this.projectDir)
      throw new RequestError('NO_PROJECT', 'no project is open: create or open one first');
    return this.projectDir;
  }

  private requireJobs(): JobManager {
    this.requireProject();
    if (!this.jobs) throw new RequestError('NO_PROJECT', 'no project is open');
    return this.jobs;
  }

  async currentSummary(): Promise<ProjectSummary | null> {
    if (!this.projectDir) return null;
    const p = await openProject(this.projectDir);
    return summarize(this.projectDir, p);
  }

  /** Open (and make current) a project folder; its interrupted jobs show as such. */
  async openProjectDir(dir: string): Promise<ProjectSummary> {
    const abs = path.resolve(dir);
    const project = await openProject(abs);
    if (this.jobs) await this.jobs.dispose();
    this.projectDir = abs;
    this.frameIndexCache = null;
    this.jobs = await JobManager.open({
      projectDir: abs,
      cacheDir: this.cacheDir,
      spawn: this.spawn,
      emit: (e) => this.emit(e),
      onDone: (job) => this.applyJobResult(abs, job.kind, job.result),
      onProblem: (p) =>
        this.addProblem({ severity: p.severity, source: p.source, file: p.file, message: p.message }),
    });
    await addRecent(this.options.userDataDir, abs, project.name).catch(() => undefined);
    this.warmQueries(abs);
    const summary = summarize(abs, project);
    this.emit({ type: 'project.changed', project: summary });
    return summary;
  }

  private async refreshLabelSummary(o: ChannelResult<'labels.overview'>): Promise<void> {
    const dir = this.requireProject();
    const p = await updateProject(dir, (p) => {
      const prev = p.sections['labels'] as Record<string, unknown> | undefined;
      if (!prev) return p;
      const classes: Record<string, number> = {};
      for (const c of o.classes) classes[c.name] = c.points;
      return {
        ...p,
        sections: {
          ...p.sections,
          labels: {
            ...prev,
            points: o.points,
            detections: o.detections,
            classes,
            updated_at: new Date().toISOString(),
          },
        },
      };
    });
    this.emit({ type: 'project.changed', project: summarize(dir, p) });
  }

  /**
   * Load the project's query engine in the compute worker ahead of the first query (cache, competitor
   * baselines, supervision mask: about 2 s on a 1M-point map), so the operator's first query is as fast as
   * the rest. Best effort: without a query cache there is nothing to warm, and failures surface on query.
   */
  private warmQueries(dir: string): void {
    if (!this.options.warmQueries) return;
    void this.compute.call('query.warm', { projectDir: dir }).catch(() => undefined);
  }

  /** Jobs return results; the host (the single writer of project.json) records them. */
  private async applyJobResult(dir: string, kind: string, result: unknown): Promise<void> {
    if (kind === 'import' && result && typeof result === 'object') {
      const r = result as { capture: ProjectSummary['capture']; map: ProjectSummary['map'] };
      const p = await updateProject(dir, (p) => ({ ...p, capture: r.capture, map: r.map }));
      this.frameIndexCache = null;
      this.emit({ type: 'project.changed', project: summarize(dir, p) });
    }
    if (kind === 'train' && result && typeof result === 'object') {
      const r = result as Record<string, unknown>;
      const p = await updateProject(dir, (p) => ({
        ...p,
        sections: { ...p.sections, field: { ...r, updated_at: new Date().toISOString() } },
      }));
      this.emit({ type: 'project.changed', project: summarize(dir, p) });
      // The query cache is built from the newest checkpoint as a follow-up job.
      if (this.jobs && this.projectDir === dir) await this.jobs.start('evaluate-field', {});
    }
    if (kind === 'evaluate-field' && this.projectDir === dir) this.warmQueries(dir);
    if (kind === 'label' && result && typeof result === 'object') {
      const r = result as Record<string, unknown>;
      const labels = {
        labeler: r['labeler'],
        frames: r['frames'],
        detections: r['detections'],
        points: r['points'],
        classes: r['classes'],
        encoders: r['encoders'],
        updated_at: new Date().toISOString(),
      };
      const p = await updateProject(dir, (p) => ({ ...p, sections: { ...p.sections, labels } }));
      this.emit({ type: 'project.changed', project: summarize(dir, p) });
    }
  }

  private async frameIndex(): Promise<FrameIndex> {
    const dir = this.requireProject();
    const file = path.join(dir, 'frames', 'index.json');
    let stat;
    try {
      stat = await fs.stat(file);
    } catch {
      throw new RequestError(
        'NOT_FOUND',
        'this project has no frames yet: import a capture first (Capture ▸ Import)',
      );
    }
    if (
      this.frameIndexCache &&
      this.frameIndexCache.dir === dir &&
      this.frameIndexCache.mtimeMs === stat.mtimeMs
    ) {
      return this.frameIndexCache.index;
    }
    const raw = JSON.parse(await fs.readFile(file, 'utf8')) as FrameIndex & { capture?: unknown };
    const index: FrameIndex = {
      rgb_size: raw.rgb_size,
      depth_size: raw.depth_size,
      depth_intrinsics: raw.depth_intrinsics,
      frames: raw.frames,
    };
    this.frameIndexCache = { dir, mtimeMs: stat.mtimeMs, index };
    return index;
  }

  async readAsset(relPath: string): Promise<AssetResponse | null> {
    if (!this.projectDir) return null;
    const computed: Record<string, string> = {
      'labels/points.bin': 'labels.points',
      'goals/occupancy.bin': 'goals.occupancy',
      'field/top-labels.bin': 'field.top-labels',
    };
    const fn = computed[relPath] ?? (/^query\/heatmap-\d+\.u16$/.test(relPath) ? 'query.heatmap' : null);
    if (fn) {
      const bytes = await this.compute
        .call<Uint8Array | null>(fn, { projectDir: this.projectDir, asset: relPath })
        .catch(() => null);
      return bytes ? { bytes, mime: 'application/octet-stream' } : null;
    }
    const summary = await this.currentSummary().catch(() => null);
    return resolveProjectAsset(this.projectDir, relPath, summary);
  }

  async dispose(): Promise<void> {
    await this.compute.dispose();
    if (this.jobs) await this.jobs.dispose();
    this.jobs = null;
    this.listeners.clear();
  }
}

function toErrorResult(err: unknown): Result<never> {
  if (err instanceof RequestError) return errorResult(err.code, err.message);
  if (err instanceof JobRequestError) return errorResult(err.code, err.message);
  if (err instanceof ProjectError) return errorResult(err.code === 'IO' ? 'IO' : err.code, err.message);
  if (err instanceof CaptureError)
    return errorResult(err.code === 'TOO_LARGE' ? 'INVALID_INPUT' : err.code, err.message);
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    if (e.code === 'ENOSPC')
      return errorResult(
        'NEEDS_SPACE',
        e instanceof DiskSpaceError ? e.message : `not enough disk space: ${e.message}`,
      );
    if (e.code === 'ENOENT') return errorResult('NOT_FOUND', e.message);
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') return errorResult('IO', e.message);
  }
  return errorResult('INTERNAL', e instanceof Error ? e.message : String(err));
}

export async function createStudio(options: StudioCoreOptions): Promise<StudioCore> {
  const core = new StudioCore(options);
  await fs.mkdir(options.userDataDir, { recursive: true });
  if (options.projectDir) {
    const dir = path.resolve(options.projectDir);
    const exists = await fs
      .access(path.join(dir, 'project.json'))
      .then(() => true)
      .catch(() => false);
    if (!exists) await createProject(dir);
    await core.openProjectDir(dir);
  } else if (options.openDemo) {
    await openDemoProject(core);
  }
  return core;
}

/** Open the demo project in userDataDir, importing the bundled synthetic capture on first use (as a job). */
export async function openDemoProject(core: StudioCore): Promise<void> {
  const dir = path.join(core.options.userDataDir, 'demo-project');
  const exists = await fs
    .access(path.join(dir, 'project.json'))
    .then(() => true)
    .catch(() => false);
  if (!exists) await createProject(dir, 'Demo apartment');
  const summary = await core.openProjectDir(dir);
  const jobs = core.jobManager;
  if (
    !summary.map &&
    jobs &&
    !jobs.list().some((j) => j.kind === 'import' && (j.state === 'running' || j.state === 'queued'))
  ) {
    await jobs.start('import', { capture: 'demo:0' });
  }
}
