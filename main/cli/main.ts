/**
 * `clip-fields`: the command-line face of the same core the studio uses.
 *
 * Conventions: `--help` on every command; `--json` prints one JSON object as the last line of stdout;
 * progress bars only on a TTY (stderr); failures print one line `clip-fields: error: ...` to stderr and
 * exit non-zero (2 = usage, 1 = failure).
 */
import * as path from 'node:path';
import * as os from 'node:os';
import { promises as fs } from 'node:fs';
import type { JobInfo, JobKind, StudioEvent } from '../../preload/contract';
import { formatHelp, parseArgs, UsageError, type CommandSpec, type Parsed } from './args';
import { createProject, readProject, summarize } from '../core/project/store';
import { ProjectError } from '../core/project/schema';
import { StudioCore } from '../core/studio';
import { JobManager } from '../core/jobs/manager';
import { forkWorker } from '../core/jobs/runtime';
import type { BenchRow } from '../core/bench/run';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface CliIO {
  out: (line: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

export function defaultUserDataDir(): string {
  const env = process.env['CLIP_FIELDS_HOME'];
  if (env) return path.resolve(env);
  const base = process.env['XDG_DATA_HOME'] ?? path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'clip-fields-studio');
}

export function repoRoot(): string {
  // main/cli/main.ts in the source tree; dist/main/cli.cjs when bundled: both are two levels below the root.
  return path.resolve(__dirname, '..', '..');
}

type Runner = (p: Parsed, io: CliIO) => Promise<void>;
interface Command {
  spec: CommandSpec;
  run: Runner;
}

const projectOpt = { name: 'project', type: 'string' as const, value: 'DIR', description: 'project folder' };

function requireString(p: Parsed, name: string): string {
  const v = p.options[name];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

/** Run one job of the project in a worker, with a progress bar on a TTY, and return its final state. */
export async function runJobToEnd(
  projectDir: string,
  kind: JobKind,
  params: Record<string, unknown>,
  io: CliIO,
  json: boolean,
  followUp: JobKind | null = null,
): Promise<JobInfo> {
  const userDataDir = defaultUserDataDir();
  let manager: JobManager | null = null;
  let lastLine = '';
  const onEvent = (e: StudioEvent) => {
    if (e.type === 'job.progress' && io.isTTY && !json) {
      const { stage, done, total, eta_s } = e.progress;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const width = 28;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      const line = `\r[${bar}] ${(frac * 100).toFixed(0).padStart(3)}% ${stage} ${done}/${total}${eta_s !== null ? ` eta ${eta_s}s` : ''}`;
      if (line !== lastLine) io.err(line.padEnd(80));
      lastLine = line;
    } else if (e.type === 'job.log' && !json) {
      io.err(`${lastLine ? '\n' : ''}${e.level}: ${e.message}\n`);
      lastLine = '';
    }
  };
  const core = new StudioCore({ host: 'web', userDataDir, resourcesDir: path.join(repoRoot(), 'resources') });
  core.onEvent((e) => {
    onEvent(e);
    if (e.type === 'problem.added' && !json)
      io.err(
        `${lastLine ? '\n' : ''}${e.problem.severity}: ${e.problem.file ? `${e.problem.file}: ` : ''}${e.problem.message}\n`,
      );
  });
  try {
    await core.openProjectDir(projectDir);
    manager = core.jobManager;
    if (!manager) throw new CliError('no job manager');
    const job = await manager.start(kind, params);
    const stop = () => void manager?.cancel(job.id).catch(() => undefined);
    process.once('SIGINT', stop);
    const final = await manager.waitFor(job.id);
    process.off('SIGINT', stop);
    if (final.state === 'done' && followUp) {
      // The core queues follow-up work (e.g. the query cache after training); wait for it too.
      const next = manager
        .list()
        .find((j) => j.kind === followUp && j.created_at >= (final.started_at ?? final.created_at));
      if (next) {
        const after = await manager.waitFor(next.id);
        if (after.state !== 'done')
          throw new CliError(`${followUp} ${after.state}: ${after.error?.message ?? ''}`);
      }
    }
    if (lastLine) io.err('\n');
    return final;
  } finally {
    await core.dispose();
  }
}

async function newestBenchFile(): Promise<string | null> {
  const dir = path.join(repoRoot(), 'bench', 'results');
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json')).sort();
  return files.length ? path.join(dir, files[files.length - 1] as string) : null;
}

function failIfNotDone(job: JobInfo): void {
  if (job.state !== 'done') {
    throw new CliError(
      job.error ? `${job.kind} ${job.state}: ${job.error.message}` : `${job.kind} ${job.state}`,
    );
  }
}

async function projectInfoObject(dir: string): Promise<Record<string, unknown>> {
  const { project } = await readProject(dir);
  const s = summarize(dir, project);
  return {
    dir: s.dir,
    name: s.name,
    schemaVersion: s.schemaVersion,
    frames: s.capture?.selected_frames ?? 0,
    capture: s.capture,
    points: s.map?.points ?? 0,
    bounds_m: s.map?.bounds_m ?? null,
    floor_m: s.map?.floor_m ?? null,
    voxel_m: s.map?.voxel_m ?? null,
    map_from_world: project.map_from_world,
  };
}

const RESERVED: [string, string][] = [];

export const commands: Command[] = [
  {
    spec: {
      name: 'serve',
      summary: 'serve the studio in a browser (HTTP + WebSocket on 127.0.0.1, token-protected)',
      usage: 'clip-fields serve [--port N] [--project DIR] [--demo]',
      options: [
        {
          name: 'port',
          type: 'int',
          value: 'N',
          description: 'port on 127.0.0.1 (0 = any free port)',
          default: 0,
        },
        projectOpt,
        {
          name: 'demo',
          type: 'boolean',
          description: 'open the bundled demo capture when no project is given',
        },
        {
          name: 'renderer',
          type: 'string',
          value: 'DIR',
          description: 'built renderer folder (default dist/renderer)',
        },
      ],
    },
    run: async (p, io) => {
      const { serveStudio } = await import('../hosts/web/serve');
      await serveStudio({
        port: p.options['port'] as number,
        projectDir: p.options['project'] as string | undefined,
        openDemo: p.options['demo'] === true,
        rendererDir:
          (p.options['renderer'] as string | undefined) ?? path.join(repoRoot(), 'dist', 'renderer'),
        userDataDir: defaultUserDataDir(),
        resourcesDir: path.join(repoRoot(), 'resources'),
        print: (line) => io.out(line),
        json: p.options['json'] === true,
      });
    },
  },
  {
    spec: {
      name: 'project create',
      summary: 'create a new map project folder',
      usage: 'clip-fields project create DIR [--name NAME]',
      positionals: [{ name: 'DIR', description: 'folder to create the project in', required: true }],
      options: [
        { name: 'name', type: 'string', value: 'NAME', description: 'display name (default: folder name)' },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(p.positionals[0] as string);
      const project = await createProject(dir, p.options['name'] as string | undefined);
      if (p.options['json']) io.out(JSON.stringify(summarize(dir, project)));
      else io.out(`Created project "${project.name}" in ${dir}`);
    },
  },
  {
    spec: {
      name: 'project info',
      summary: 'show a project: frames, map size, bounds and floor in the capture world frame',
      usage: 'clip-fields project info DIR [--json]',
      positionals: [{ name: 'DIR', description: 'project folder', required: true }],
      options: [],
    },
    run: async (p, io) => {
      const info = await projectInfoObject(path.resolve(p.positionals[0] as string));
      if (p.options['json']) {
        io.out(JSON.stringify(info));
        return;
      }
      io.out(`Project ${String(info['name'])} (${String(info['dir'])})`);
      io.out(`  frames: ${String(info['frames'])}   map points: ${String(info['points'])}`);
      const b = info['bounds_m'] as { min: number[]; max: number[] } | null;
      if (b)
        io.out(
          `  bounds (m): min [${b.min.map((v) => v.toFixed(2)).join(', ')}] max [${b.max.map((v) => v.toFixed(2)).join(', ')}]`,
        );
      const f = info['floor_m'] as { up: number[]; height: number } | null;
      if (f)
        io.out(`  floor: up [${f.up.map((v) => v.toFixed(3)).join(', ')}] height ${f.height.toFixed(3)} m`);
    },
  },
  {
    spec: {
      name: 'jobs list',
      summary: "list a project's jobs and their states",
      usage: 'clip-fields jobs list --project DIR [--json]',
      options: [projectOpt],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      await readProject(dir);
      const manager = await JobManager.open({
        projectDir: dir,
        cacheDir: path.join(defaultUserDataDir(), 'cache'),
        spawn: forkWorker(),
        emit: () => undefined,
      });
      const jobs = manager.list();
      await manager.dispose();
      if (p.options['json']) {
        io.out(JSON.stringify({ jobs }));
        return;
      }
      if (jobs.length === 0) io.out('No jobs.');
      for (const j of jobs)
        io.out(
          `${j.id}  ${j.kind.padEnd(14)} ${j.state.padEnd(12)} ${j.created_at}${j.error ? `  ${j.error.message}` : ''}`,
        );
    },
  },
  {
    spec: {
      name: 'import',
      summary: 'import an RGB-D capture (.r3d or plain folder) into a project and fuse the 3D map',
      usage: 'clip-fields import CAPTURE --project DIR [--every K] [--voxel M] [--max-depth M] [--copy]',
      positionals: [
        {
          name: 'CAPTURE',
          description: '.r3d file, capture folder, or demo:SEED for the synthetic demo',
          required: true,
        },
      ],
      options: [
        projectOpt,
        { name: 'every', type: 'int', value: 'K', description: 'use every K-th frame', default: 1 },
        { name: 'voxel', type: 'number', value: 'M', description: 'map voxel size in metres', default: 0.02 },
        {
          name: 'min-depth',
          type: 'number',
          value: 'M',
          description: 'ignore depth nearer than this (m)',
          default: 0.1,
        },
        {
          name: 'max-depth',
          type: 'number',
          value: 'M',
          description: 'ignore depth beyond this (m)',
          default: 3,
        },
        {
          name: 'copy',
          type: 'boolean',
          description: 'copy the capture into the project instead of referencing it',
        },
        { name: 'create', type: 'boolean', description: 'create the project folder if it does not exist' },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const captureArg = p.positionals[0] as string;
      const capture = captureArg.startsWith('demo:') ? captureArg : path.resolve(captureArg);
      if (p.options['create']) {
        const exists = await fs.access(path.join(dir, 'project.json')).then(
          () => true,
          () => false,
        );
        if (!exists) await createProject(dir);
      }
      const job = await runJobToEnd(
        dir,
        'import',
        {
          capture,
          every: p.options['every'],
          voxel_m: p.options['voxel'],
          min_depth_m: p.options['min-depth'],
          max_depth_m: p.options['max-depth'],
          copy: p.options['copy'] === true,
        },
        io,
        p.options['json'] === true,
      );
      failIfNotDone(job);
      const info = await projectInfoObject(dir);
      if (p.options['json']) io.out(JSON.stringify(info));
      else io.out(`Imported ${String(info['frames'])} frames; map has ${String(info['points'])} points.`);
    },
  },
  {
    spec: {
      name: 'demo',
      summary: 'create a project from the bundled synthetic demo capture (generated on first use)',
      usage: 'clip-fields demo [--project DIR]',
      options: [
        { ...projectOpt, description: 'project folder (default: a demo project in the user data folder)' },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(
        (p.options['project'] as string | undefined) ?? path.join(defaultUserDataDir(), 'demo-project'),
      );
      const exists = await fs.access(path.join(dir, 'project.json')).then(
        () => true,
        () => false,
      );
      if (!exists) await createProject(dir, 'Demo apartment');
      const job = await runJobToEnd(dir, 'import', { capture: 'demo:0' }, io, p.options['json'] === true);
      failIfNotDone(job);
      const info = await projectInfoObject(dir);
      if (p.options['json']) io.out(JSON.stringify(info));
      else
        io.out(
          `Demo project ready in ${dir}: ${String(info['frames'])} frames, ${String(info['points'])} map points.`,
        );
    },
  },
  {
    spec: {
      name: 'demo-scene',
      summary: 'write a synthetic annotated capture (.r3d) of a furnished apartment',
      usage: 'clip-fields demo-scene --seed N --out FILE.r3d [--frames N]',
      options: [
        {
          name: 'seed',
          type: 'int',
          value: 'N',
          description: 'layout seed (other seeds give other apartments)',
          default: 0,
        },
        { name: 'out', type: 'string', value: 'FILE', description: 'output .r3d path' },
        { name: 'frames', type: 'int', value: 'N', description: 'number of frames' },
      ],
    },
    run: async (p, io) => {
      const out = path.resolve(requireString(p, 'out'));
      const { writeSyntheticR3d } = await import('../core/capture/synthetic/write');
      const frames = p.options['frames'] as number | undefined;
      const r = await writeSyntheticR3d(out, {
        seed: p.options['seed'] as number,
        ...(frames !== undefined ? { frames } : {}),
        onProgress: (d, t) => {
          if (io.isTTY && p.options['json'] !== true) io.err(`\rrendering ${d}/${t}`);
        },
      });
      if (io.isTTY && p.options['json'] !== true) io.err('\n');
      if (p.options['json']) io.out(JSON.stringify({ out, ...r }));
      else
        io.out(
          `Wrote ${out}: ${r.frames} frames, ${(r.bytes / 1e6).toFixed(1)} MB, classes: ${r.classes.join(', ')}`,
        );
    },
  },
  {
    spec: {
      name: 'bench',
      summary: 'run the benchmarks: prints a table and writes bench/results/<date>-<machine>.json',
      usage: 'clip-fields bench [--quick] [--repeats N] [--only a,b]',
      options: [
        {
          name: 'quick',
          type: 'boolean',
          description: 'small sizes and few repeats (CI smoke run, under 3 minutes)',
        },
        { name: 'repeats', type: 'int', value: 'N', description: 'runs per benchmark (default 7, quick 3)' },
        {
          name: 'only',
          type: 'string',
          value: 'LIST',
          description: 'comma-separated suites: lzfse, import, labeling, training, query, studio',
        },
        { name: 'out', type: 'string', value: 'DIR', description: 'results folder (default bench/results)' },
      ],
    },
    run: async (p, io) => {
      const { runBench } = await import('../core/bench/run');
      const only =
        typeof p.options['only'] === 'string'
          ? (p.options['only'] as string).split(',').filter(Boolean)
          : undefined;
      const json = p.options['json'] === true;
      const r = await runBench({
        quick: p.options['quick'] === true,
        ...(typeof p.options['repeats'] === 'number' ? { repeats: p.options['repeats'] as number } : {}),
        ...(only ? { only } : {}),
        outDir: path.resolve(
          (p.options['out'] as string | undefined) ?? path.join(repoRoot(), 'bench', 'results'),
        ),
        print: (line) => (json ? io.err(line + '\n') : io.out(line)),
        // The end-to-end studio query latency goes through the web host, which the core cannot import.
        extraSuites: [
          {
            id: 'studio',
            run: async (o) =>
              (await import('../hosts/web/bench')).benchStudioQuery({
                ...o,
                resourcesDir: path.join(repoRoot(), 'resources'),
              }),
          },
        ],
      });
      if (json) io.out(JSON.stringify(r));
    },
  },
  {
    spec: {
      name: 'label',
      summary:
        'label the frames: open-vocabulary models when installed, else the ground-truth labeler on annotated captures',
      usage:
        'clip-fields label --project DIR [--labeler auto|models|ground-truth] [--vocab FILE] [--every K] [--threshold T] [--noise SPEC]',
      options: [
        projectOpt,
        {
          name: 'labeler',
          type: 'string',
          value: 'KIND',
          description: 'auto | models | ground-truth',
          default: 'auto',
        },
        {
          name: 'vocab',
          type: 'string',
          value: 'FILE',
          description: 'vocabulary: one label per line, or a JSON list',
        },
        {
          name: 'every',
          type: 'int',
          value: 'K',
          description: 'label every K-th selected frame',
          default: 1,
        },
        {
          name: 'threshold',
          type: 'number',
          value: 'T',
          description: 'detection score threshold',
          default: 0.1,
        },
        {
          name: 'noise',
          type: 'string',
          value: 'SPEC',
          description: 'ground-truth noise, e.g. drop=0.2,confuse=0.15,jitter=0.1',
        },
        { name: 'seed', type: 'int', value: 'N', description: 'seed for sampling and noise', default: 0 },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      let vocab: string[] | undefined;
      if (typeof p.options['vocab'] === 'string') {
        const { loadVocabularyFile } = await import('../core/labeling/vocab');
        vocab = await loadVocabularyFile(path.resolve(p.options['vocab'] as string));
      }
      const job = await runJobToEnd(
        dir,
        'label',
        {
          labeler: p.options['labeler'],
          every: p.options['every'],
          threshold: p.options['threshold'],
          seed: p.options['seed'],
          ...(vocab ? { vocab } : {}),
          ...(typeof p.options['noise'] === 'string' ? { noise: p.options['noise'] } : {}),
        },
        io,
        p.options['json'] === true,
      );
      failIfNotDone(job);
      const r = job.result as {
        labeler: string;
        frames: number;
        detections: number;
        points: number;
        classes: Record<string, number>;
        encoders: { language: string; vision: string | null };
      };
      if (p.options['json']) {
        io.out(
          JSON.stringify({
            labeler: r.labeler,
            frames: r.frames,
            detections: r.detections,
            points: r.points,
            classes: r.classes,
            encoders: r.encoders,
          }),
        );
        return;
      }
      io.out(
        `Labeled ${r.frames} frames with the ${r.labeler} labeler: ${r.detections} detections, ${r.points} points, ${Object.keys(r.classes).length} classes.`,
      );
      io.out(
        `Encoders: language ${r.encoders.language}${r.encoders.language.startsWith('lexical') ? ' (fallback: matches spelling, not meaning — install models for synonyms)' : ''}; vision ${r.encoders.vision ?? 'none (training uses the language head only)'}.`,
      );
    },
  },
  {
    spec: {
      name: 'train',
      summary: 'train the semantic field on the labeled points, then build the query cache',
      usage:
        'clip-fields train --project DIR [--preset cpu|paper] [--steps N | --epochs E] [--engine onnx|tfjs] [--seed S]',
      options: [
        projectOpt,
        {
          name: 'preset',
          type: 'string',
          value: 'NAME',
          description: 'cpu | paper | custom',
          default: 'cpu',
        },
        { name: 'steps', type: 'int', value: 'N', description: 'optimizer steps (default 3000)' },
        {
          name: 'epochs',
          type: 'number',
          value: 'E',
          description: 'passes over the labeled points (instead of --steps)',
        },
        {
          name: 'engine',
          type: 'string',
          value: 'NAME',
          description: 'onnx (onnxruntime, default) | tfjs (TensorFlow.js)',
          default: 'onnx',
        },
        {
          name: 'provider',
          type: 'string',
          value: 'EP',
          description: 'onnxruntime execution provider: cpu | webgpu | cuda | auto (falls back to cpu)',
        },
        { name: 'seed', type: 'int', value: 'S', description: 'random seed', default: 0 },
        { name: 'batch', type: 'int', value: 'B', description: 'batch size (default from the preset)' },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const params: Record<string, unknown> = {
        preset: p.options['preset'],
        engine: p.options['engine'],
        seed: p.options['seed'],
      };
      if (typeof p.options['batch'] === 'number') params['batch_size'] = p.options['batch'];
      if (typeof p.options['provider'] === 'string') params['provider'] = p.options['provider'];
      if (typeof p.options['steps'] === 'number') params['steps'] = p.options['steps'];
      else if (typeof p.options['epochs'] === 'number') {
        const { project } = await readProject(dir);
        const points = (project.sections['labels'] as { points?: number } | undefined)?.points ?? 0;
        if (!points) throw new CliError('no labeled points yet: run `clip-fields label` first');
        const batch =
          (params['batch_size'] as number | undefined) ?? (p.options['preset'] === 'paper' ? 12544 : 2048);
        params['steps'] = Math.max(1, Math.ceil(((p.options['epochs'] as number) * points) / batch));
      }
      const job = await runJobToEnd(dir, 'train', params, io, p.options['json'] === true, 'evaluate-field');
      failIfNotDone(job);
      const r = job.result as {
        engine: string;
        provider: string;
        threads: number;
        grid_threads?: number;
        steps: number;
        samples_per_s: number;
        final: Record<string, number>;
        checkpoint: string | null;
      };
      if (p.options['json']) {
        io.out(
          JSON.stringify({
            engine: r.engine,
            provider: r.provider,
            threads: r.threads,
            grid_threads: r.grid_threads ?? 1,
            steps: r.steps,
            samples_per_s: r.samples_per_s,
            final: r.final,
            checkpoint: r.checkpoint,
          }),
        );
        return;
      }
      io.out(
        `Trained ${r.steps} steps on ${r.engine} (${r.provider}, ${r.threads} threads, hash grid on ${r.grid_threads ?? 1}) at ${Math.round(r.samples_per_s)} samples/s.`,
      );
      io.out(
        `Final loss ${r.final['loss']?.toFixed(4)}, held-out accuracy ${((r.final['heldout_accuracy'] ?? 0) * 100).toFixed(1)} %. Checkpoint: ${r.checkpoint ?? 'none'}`,
      );
    },
  },
  {
    spec: {
      name: 'query',
      summary: 'find something in the map: heat, hits, where to look and where the robot should stand',
      usage: 'clip-fields query --project DIR "TEXT" [--visual|--semantic|--weight W] [--top K] | --set FILE',
      positionals: [{ name: 'TEXT', description: 'what to look for', required: false }],
      options: [
        projectOpt,
        {
          name: 'visual',
          type: 'boolean',
          description: 'weight the vision head 10:1 (colours, materials, looks)',
        },
        { name: 'semantic', type: 'boolean', description: 'weight the language head 10:1 (what a thing is)' },
        {
          name: 'weight',
          type: 'number',
          value: 'W',
          description: 'language share in [0, 1] (overrides the mode)',
        },
        { name: 'top', type: 'int', value: 'K', description: 'hits to return', default: 5 },
        {
          name: 'set',
          type: 'string',
          value: 'FILE',
          description: 'run a saved query set and report its success rate',
        },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      if (typeof p.options['set'] === 'string') {
        const { runQuerySet } = await import('../core/query/query-set');
        const r = await runQuerySet(dir, path.resolve(p.options['set'] as string));
        if (p.options['json']) io.out(JSON.stringify(r));
        else
          io.out(
            `Query set: ${(r.success_rate * 100).toFixed(0)} % of ${r.items.length} queries found their golden location.`,
          );
        return;
      }
      const text = p.positionals[0];
      if (!text || !text.trim())
        throw new UsageError('give the query text, e.g. clip-fields query --project DIR "the fridge"');
      if (text.length > 1000) throw new UsageError('queries are limited to 1000 characters');
      const { runQuery } = await import('../core/query/engine');
      const mode = p.options['visual'] ? 'visual' : p.options['semantic'] ? 'semantic' : 'auto';
      const r = await runQuery(dir, text, {
        mode,
        top: p.options['top'] as number,
        ...(typeof p.options['weight'] === 'number' ? { weight: p.options['weight'] as number } : {}),
      });
      if (p.options['json']) {
        io.out(
          JSON.stringify({
            query: r.query,
            encoders: r.encoders,
            not_found: r.not_found,
            hits: r.hits.map((h) => ({
              world_m: h.world_m,
              map_m: h.map_m,
              score: h.score,
              extent_m: h.extent_m,
              points: h.points,
              support_frames: h.support_frames.map((f) => f.frame),
              instance_id: h.instance_id,
            })),
            look_at: r.look_at,
            goal: r.goal ? { map_m: r.goal.map_m, yaw_rad: r.goal.yaw_rad, world_m: r.goal.world_m } : null,
          }),
        );
        return;
      }
      if (r.not_found) {
        io.out(`Not found: "${text}" (${r.reason ?? 'nothing stands out from the background'}).`);
        return;
      }
      const f = (v: number[]) => `[${v.map((x) => x.toFixed(2)).join(', ')}]`;
      io.out(`"${text}": ${r.hits.length} hit(s)`);
      r.hits.forEach((h, i) =>
        io.out(
          `  #${i + 1} map ${f(h.map_m)} score ${h.score.toFixed(3)} ${h.points} points, seen in frames ${h.support_frames
            .map((s) => s.frame)
            .slice(0, 5)
            .join(', ')}`,
        ),
      );
      if (r.look_at) io.out(`Look at (map): ${f(r.look_at.map_m)}`);
      io.out(
        r.goal
          ? `Stand at (map): ${f(r.goal.map_m)} yaw ${r.goal.yaw_rad.toFixed(2)} rad`
          : `No reachable stand-off pose: ${r.goal_error ?? ''}`,
      );
    },
  },
  {
    spec: {
      name: 'waypoints add',
      summary: 'add a named goal: from a query (its stand-off pose) or a map-frame pose',
      usage: 'clip-fields waypoints add --project DIR --name NAME (--query TEXT | --x X --y Y [--yaw RAD])',
      options: [
        projectOpt,
        { name: 'name', type: 'string', value: 'NAME', description: 'waypoint name' },
        {
          name: 'query',
          type: 'string',
          value: 'TEXT',
          description: 'use the stand-off pose found for this query',
        },
        { name: 'x', type: 'number', value: 'M', description: 'map-frame x (m)' },
        { name: 'y', type: 'number', value: 'M', description: 'map-frame y (m)' },
        { name: 'yaw', type: 'number', value: 'RAD', description: 'map-frame yaw (rad)', default: 0 },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const name = requireString(p, 'name');
      const ex = await import('../core/export');
      const w =
        typeof p.options['query'] === 'string'
          ? await ex.waypointsAddFromQuery(dir, name, p.options['query'] as string)
          : typeof p.options['x'] === 'number' && typeof p.options['y'] === 'number'
            ? await ex.waypointsAddMapPose(dir, name, {
                x_m: p.options['x'] as number,
                y_m: p.options['y'] as number,
                yaw_rad: p.options['yaw'] as number,
              })
            : (() => {
                throw new UsageError('give --query TEXT or --x and --y');
              })();
      if (p.options['json']) io.out(JSON.stringify(w));
      else io.out(`Added waypoint "${w.name}".`);
    },
  },
  {
    spec: {
      name: 'waypoints list',
      summary: 'list the waypoints with their map-frame poses',
      usage: 'clip-fields waypoints list --project DIR [--json]',
      options: [projectOpt],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const { waypointsView } = await import('../core/query/service');
      const st = await waypointsView(dir);
      if (p.options['json']) {
        io.out(JSON.stringify(st));
        return;
      }
      if (st.waypoints.length === 0) io.out('No waypoints.');
      for (const w of st.waypoints)
        io.out(
          `${w.name.padEnd(24)} x ${w.map.x_m.toFixed(2)}  y ${w.map.y_m.toFixed(2)}  yaw ${w.map.yaw_rad.toFixed(2)}  (map frame)`,
        );
    },
  },
  {
    spec: {
      name: 'waypoints export',
      summary:
        'export waypoints (json, nav2, csv), the occupancy grid (map_server PGM+YAML) or a query heatmap (PLY)',
      usage:
        'clip-fields waypoints export --project DIR --format json|nav2|csv|occupancy|ply --out PATH [--query TEXT]',
      options: [
        projectOpt,
        { name: 'format', type: 'string', value: 'FMT', description: 'json | nav2 | csv | occupancy | ply' },
        {
          name: 'out',
          type: 'string',
          value: 'PATH',
          description: 'output file (occupancy: the .yaml; the .pgm goes beside it)',
        },
        {
          name: 'query',
          type: 'string',
          value: 'TEXT',
          description: 'the query whose heatmap to export (ply)',
        },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const format = requireString(p, 'format');
      if (!['json', 'nav2', 'csv', 'occupancy', 'ply'].includes(format))
        throw new UsageError(`--format must be json, nav2, csv, occupancy or ply (got "${format}")`);
      const { exportStudio } = await import('../core/query/service');
      const r = await exportStudio(
        dir,
        format as 'json',
        requireString(p, 'out'),
        p.options['query'] as string | undefined,
      );
      if (p.options['json']) io.out(JSON.stringify(r));
      else io.out(`Wrote ${r.files.join(', ')}`);
    },
  },
  {
    spec: {
      name: 'waypoints send',
      summary: 'publish the waypoints to a robot over rosbridge (geometry_msgs/PoseStamped in map)',
      usage: 'clip-fields waypoints send --project DIR --url ws://HOST:9090 [--topic /goal_pose] [--action]',
      options: [
        projectOpt,
        { name: 'url', type: 'string', value: 'URL', description: 'rosbridge WebSocket URL' },
        {
          name: 'topic',
          type: 'string',
          value: 'TOPIC',
          description: 'topic to publish on',
          default: '/goal_pose',
        },
        {
          name: 'action',
          type: 'boolean',
          description: "also call Nav2's navigate_to_pose action for each goal",
        },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const { sendWaypoints } = await import('../core/export/send');
      const r = await sendWaypoints(dir, requireString(p, 'url'), {
        topic: p.options['topic'] as string,
        action: p.options['action'] === true,
      });
      if (p.options['json']) io.out(JSON.stringify(r));
      else io.out(`Published ${r.published.length} goal(s) on ${r.topic} at ${r.url}.`);
    },
  },
  {
    spec: {
      name: 'models list',
      summary: 'list supported models and which are installed',
      usage: 'clip-fields models list [--json]',
      options: [],
    },
    run: async (p, io) => {
      const { listModels, modelsDir } = await import('../core/models/registry');
      const models = await listModels();
      if (p.options['json']) {
        io.out(JSON.stringify({ dir: modelsDir(), models }));
        return;
      }
      io.out(`Models folder: ${modelsDir()}`);
      for (const m of models)
        io.out(
          `${m.installed ? 'installed ' : 'missing   '} ${m.id.padEnd(28)} ${m.task.padEnd(22)} sets: ${m.sets.join(', ')}`,
        );
    },
  },
  {
    spec: {
      name: 'models verify',
      summary: 'check installed model files (sizes, sha256, ONNX signatures)',
      usage: 'clip-fields models verify [ID] [--json]',
      positionals: [
        { name: 'ID', description: 'model id (default: every installed model)', required: false },
      ],
      options: [],
    },
    run: async (p, io) => {
      const { listModels, verifyModel } = await import('../core/models/registry');
      const ids = p.positionals[0]
        ? [p.positionals[0]]
        : (await listModels()).filter((m) => m.installed).map((m) => m.id);
      const out: { id: string; ok: boolean; error?: string }[] = [];
      for (const id of ids) {
        try {
          await verifyModel(id);
          out.push({ id, ok: true });
        } catch (err) {
          out.push({ id, ok: false, error: (err as Error).message });
        }
      }
      if (p.options['json']) io.out(JSON.stringify({ models: out }));
      else
        for (const r of out) io.out(`${r.ok ? 'ok    ' : 'FAILED'} ${r.id}${r.error ? `: ${r.error}` : ''}`);
      if (out.some((r) => !r.ok)) throw new CliError('some models failed verification');
    },
  },
  {
    spec: {
      name: 'models add',
      summary: 'install models from a folder (offline install)',
      usage: 'clip-fields models add DIR',
      positionals: [{ name: 'DIR', description: 'folder holding model folders or files', required: true }],
      options: [],
    },
    run: async (p, io) => {
      const { addModelFromDir } = await import('../core/models/registry');
      const ids = await addModelFromDir(path.resolve(p.positionals[0] as string));
      if (p.options['json']) io.out(JSON.stringify({ installed: ids }));
      else io.out(ids.length ? `Installed ${ids.join(', ')}` : 'No supported model found in that folder.');
    },
  },
  {
    spec: {
      name: 'models pull',
      summary: 'download models from the Hugging Face hub into the user cache (resumable, sha256-checked)',
      usage: 'clip-fields models pull [--set fast|paper | --ids ID,ID] [--base-url URL]',
      options: [
        {
          name: 'ids',
          type: 'string',
          value: 'ID,ID',
          description: 'pull these manifest ids instead of a set (e.g. owlvit-b32 for the fp32 OWL-ViT)',
        },
        {
          name: 'set',
          type: 'string',
          value: 'SET',
          description:
            'fast (MiniLM, CLIP B/32 with int8 image tower, OWL-ViT B/32 int8) | paper (MPNet, CLIP B/32 fp32, OWLv2)',
          default: 'fast',
        },
        {
          name: 'base-url',
          type: 'string',
          value: 'URL',
          description: 'hub mirror (default https://huggingface.co)',
        },
      ],
    },
    run: async (p, io) => {
      const { pullModels } = await import('../core/models/registry');
      const set = p.options['set'] as string;
      if (set !== 'fast' && set !== 'paper') throw new UsageError('--set must be fast or paper');
      const idsOpt = p.options['ids'];
      const ids =
        typeof idsOpt === 'string'
          ? idsOpt
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s.length > 0)
          : undefined;
      if (ids && ids.length === 0) throw new UsageError('--ids needs at least one model id');
      const r = await pullModels({
        set,
        ...(ids ? { ids } : {}),
        ...(typeof p.options['base-url'] === 'string' ? { baseUrl: p.options['base-url'] as string } : {}),
        onProgress: (pr) => {
          if (io.isTTY && !p.options['json']) io.err(`\\r${JSON.stringify(pr).slice(0, 78).padEnd(80)}`);
        },
      });
      if (io.isTTY && !p.options['json']) io.err('\\n');
      if (p.options['json']) io.out(JSON.stringify(r));
      else
        io.out(
          `Installed: ${r.installed.join(', ') || 'none'}; already there: ${r.alreadyInstalled.join(', ') || 'none'}`,
        );
    },
  },
  {
    spec: {
      name: 'eval',
      summary:
        'measure map quality against ground truth: labels, segmentation, query localisation, noise, few-shot, baselines',
      usage:
        'clip-fields eval (--project DIR | --seeds 1,2,3) [--frames N] [--steps N] [--quick] [--out DIR] [--json]',
      options: [
        {
          ...projectOpt,
          description: 'evaluate this annotated project (labels and field are trained in a scratch folder)',
        },
        {
          name: 'seeds',
          type: 'string',
          value: 'LIST',
          description: 'generate synthetic scenes with these seeds and evaluate each',
        },
        { name: 'frames', type: 'int', value: 'N', description: 'frames per generated scene', default: 100 },
        { name: 'steps', type: 'int', value: 'N', description: 'training steps of the main run' },
        {
          name: 'study-steps',
          type: 'int',
          value: 'N',
          description: 'training steps of each denoising / few-shot run',
        },
        { name: 'no-studies', type: 'boolean', description: 'skip the denoising and few-shot studies' },
        { name: 'quick', type: 'boolean', description: 'one small seed, few steps (CI smoke run)' },
        { name: 'out', type: 'string', value: 'DIR', description: 'folder for result.json and visuals' },
      ],
    },
    run: async (p, io) => {
      const ev = await import('../core/eval/pipeline');
      const json = p.options['json'] === true;
      const common = {
        ...(typeof p.options['steps'] === 'number' ? { steps: p.options['steps'] as number } : {}),
        ...(typeof p.options['study-steps'] === 'number'
          ? { studySteps: p.options['study-steps'] as number }
          : {}),
        ...(p.options['no-studies'] ? { denoising: [], fewShot: [] } : {}),
        ...(typeof p.options['out'] === 'string' ? { outDir: path.resolve(p.options['out'] as string) } : {}),
        progress: (stage: string, done: number, total: number) => {
          if (io.isTTY && !json) io.err(`\r${stage} ${done}/${total}`.padEnd(60));
        },
      };
      let result;
      if (typeof p.options['project'] === 'string') {
        result = await ev.evaluateProject(path.resolve(p.options['project'] as string), {
          ...(p.options['quick'] ? { quick: true } : {}),
          ...common,
        } as Parameters<typeof ev.evaluateProject>[1]);
      } else {
        const seeds =
          typeof p.options['seeds'] === 'string'
            ? (p.options['seeds'] as string).split(',').map((x) => Number(x.trim()))
            : undefined;
        if (seeds && seeds.some((x) => !Number.isInteger(x) || x < 0))
          throw new UsageError('--seeds takes whole numbers, e.g. 1,2,3');
        result = await ev.evaluateSeeds({
          ...(seeds ? { seeds } : {}),
          frames: p.options['frames'] as number,
          quick: p.options['quick'] === true,
          ...common,
        });
      }
      if (io.isTTY && !json) io.err('\n');
      if (json) {
        io.out(JSON.stringify(result));
        return;
      }
      const pct = (x: number | null | undefined) =>
        typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : 'n/a';
      io.out(
        `Segmentation on held-out frames: accuracy ${pct(result.segmentation.accuracy)}, mIoU ${pct(result.segmentation.miou)}`,
      );
      io.out(
        `Query localisation: present ${pct(result.localisation.present_success)}, absent answered "not found" ${pct(result.localisation.absent_success)}`,
      );
    },
  },
  {
    spec: {
      name: 'report',
      summary: 'write a self-contained HTML report (charts as SVG, images inline) from the last evaluation',
      usage: 'clip-fields report --project DIR --out report.html [--bench FILE]',
      options: [
        projectOpt,
        { name: 'out', type: 'string', value: 'FILE', description: 'output HTML file' },
        {
          name: 'bench',
          type: 'string',
          value: 'FILE',
          description: 'a bench/results JSON to include (default: the newest)',
        },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const out = path.resolve(requireString(p, 'out'));
      const { writeReport } = await import('../core/report/report');
      const benchFile =
        typeof p.options['bench'] === 'string'
          ? path.resolve(p.options['bench'] as string)
          : await newestBenchFile();
      const benchResults = benchFile
        ? ((JSON.parse(await fs.readFile(benchFile, 'utf8')) as { rows?: BenchRow[] }).rows ?? [])
        : [];
      const r = await writeReport({ projectDir: dir, out, benchResults });
      if (p.options['json']) io.out(JSON.stringify(r));
      else io.out(`Wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB)`);
    },
  },
  ...RESERVED.map(([name, summary]): Command => ({
    spec: { name, summary, usage: `clip-fields ${name} ...`, options: [], reserved: true },
    run: async () => {
      throw new CliError(`"${name}" is not available in this build yet`);
    },
  })),
];

export function topLevelHelp(): string {
  const lines = [
    'clip-fields — CLIP-Fields Studio on the command line',
    '',
    'Usage: clip-fields <command> [options]   (clip-fields <command> --help)',
    '',
    'Commands:',
  ];
  for (const c of commands)
    lines.push(`  ${c.spec.name.padEnd(16)} ${c.spec.summary}${c.spec.reserved ? ' (reserved)' : ''}`);
  lines.push('', 'Every command takes --help and --json.');
  return lines.join('\n');
}

function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  const two = `${argv[0] ?? ''} ${argv[1] ?? ''}`;
  const c2 = commands.find((c) => c.spec.name === two);
  if (c2) return { command: c2, rest: argv.slice(2) };
  const c1 = commands.find((c) => c.spec.name === argv[0]);
  if (c1) return { command: c1, rest: argv.slice(1) };
  return null;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topLevelHelp());
    return 0;
  }
  if (argv[0] === '--version') {
    io.out('0.1.0');
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.spec.name.startsWith(`${argv[0]} `));
    if (group.length > 0 && (argv[1] === undefined || argv[1] === '--help')) {
      io.out(
        [
          `clip-fields ${argv[0]} <subcommand>`,
          '',
          ...group.map((c) => `  ${c.spec.name.padEnd(16)} ${c.spec.summary}`),
        ].join('\n'),
      );
      return argv[1] === '--help' ? 0 : 2;
    }
    io.err(`clip-fields: error: unknown command "${argv.slice(0, 2).join(' ')}" (see clip-fields --help)\n`);
    return 2;
  }
  try {
    const parsed = parseArgs(found.command.spec, found.rest);
    if (parsed.help) {
      io.out(formatHelp(found.command.spec));
      return 0;
    }
    await found.command.run(parsed, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`clip-fields: error: ${err.message}\n`);
      return 2;
    }
    const msg =
      err instanceof ProjectError || err instanceof CliError
        ? err.message
        : ((err as Error).message ?? String(err));
    io.err(`clip-fields: error: ${msg.split('\n')[0]}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2), {
    out: (line) => process.stdout.write(line + '\n'),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process.stderr.isTTY),
  }).then((code) => {
    if (code !== 0 || !process.argv.includes('serve')) process.exitCode = code;
  });
}
