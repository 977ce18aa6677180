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
export async function runJobToEnd(projectDir: string, kind: JobKind, params: Record<string, unknown>, io: CliIO, json: boolean): Promise<JobInfo> {
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
    if (e.type === 'problem.added' && !json) io.err(`${lastLine ? '\n' : ''}${e.problem.severity}: ${e.problem.file ? `${e.problem.file}: ` : ''}${e.problem.message}\n`);
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
    if (lastLine) io.err('\n');
    return final;
  } finally {
    await core.dispose();
  }
}

function failIfNotDone(job: JobInfo): void {
  if (job.state !== 'done') {
    throw new CliError(job.error ? `${job.kind} ${job.state}: ${job.error.message}` : `${job.kind} ${job.state}`);
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

const RESERVED: [string, string][] = [
  ['label', 'label frames with open-vocabulary models or the ground-truth labeler'],
  ['train', 'train the semantic field'],
  ['query', 'query the trained field with text'],
  ['waypoints', 'manage and export robot goals'],
  ['eval', 'evaluate map quality against ground truth'],
  ['models', 'list, verify, add and pull models'],
  ['report', 'write a self-contained HTML report'],
];

export const commands: Command[] = [
  {
    spec: {
      name: 'serve',
      summary: 'serve the studio in a browser (HTTP + WebSocket on 127.0.0.1, token-protected)',
      usage: 'clip-fields serve [--port N] [--project DIR] [--demo]',
      options: [
        { name: 'port', type: 'int', value: 'N', description: 'port on 127.0.0.1 (0 = any free port)', default: 0 },
        projectOpt,
        { name: 'demo', type: 'boolean', description: 'open the bundled demo capture when no project is given' },
        { name: 'renderer', type: 'string', value: 'DIR', description: 'built renderer folder (default dist/renderer)' },
      ],
    },
    run: async (p, io) => {
      const { serveStudio } = await import('../hosts/web/serve');
      await serveStudio({
        port: p.options['port'] as number,
        projectDir: p.options['project'] as string | undefined,
        openDemo: p.options['demo'] === true,
        rendererDir: (p.options['renderer'] as string | undefined) ?? path.join(repoRoot(), 'dist', 'renderer'),
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
      options: [{ name: 'name', type: 'string', value: 'NAME', description: 'display name (default: folder name)' }],
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
      if (b) io.out(`  bounds (m): min [${b.min.map((v) => v.toFixed(2)).join(', ')}] max [${b.max.map((v) => v.toFixed(2)).join(', ')}]`);
      const f = info['floor_m'] as { up: number[]; height: number } | null;
      if (f) io.out(`  floor: up [${f.up.map((v) => v.toFixed(3)).join(', ')}] height ${f.height.toFixed(3)} m`);
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
      const manager = await JobManager.open({ projectDir: dir, cacheDir: path.join(defaultUserDataDir(), 'cache'), spawn: forkWorker(), emit: () => undefined });
      const jobs = manager.list();
      await manager.dispose();
      if (p.options['json']) {
        io.out(JSON.stringify({ jobs }));
        return;
      }
      if (jobs.length === 0) io.out('No jobs.');
      for (const j of jobs) io.out(`${j.id}  ${j.kind.padEnd(14)} ${j.state.padEnd(12)} ${j.created_at}${j.error ? `  ${j.error.message}` : ''}`);
    },
  },
  {
    spec: {
      name: 'import',
      summary: 'import an RGB-D capture (.r3d or plain folder) into a project and fuse the 3D map',
      usage: 'clip-fields import CAPTURE --project DIR [--every K] [--voxel M] [--max-depth M] [--copy]',
      positionals: [{ name: 'CAPTURE', description: '.r3d file, capture folder, or demo:SEED for the synthetic demo', required: true }],
      options: [
        projectOpt,
        { name: 'every', type: 'int', value: 'K', description: 'use every K-th frame', default: 1 },
        { name: 'voxel', type: 'number', value: 'M', description: 'map voxel size in metres', default: 0.02 },
        { name: 'min-depth', type: 'number', value: 'M', description: 'ignore depth nearer than this (m)', default: 0.1 },
        { name: 'max-depth', type: 'number', value: 'M', description: 'ignore depth beyond this (m)', default: 3 },
        { name: 'copy', type: 'boolean', description: 'copy the capture into the project instead of referencing it' },
        { name: 'create', type: 'boolean', description: 'create the project folder if it does not exist' },
      ],
    },
    run: async (p, io) => {
      const dir = path.resolve(requireString(p, 'project'));
      const captureArg = p.positionals[0] as string;
      const capture = captureArg.startsWith('demo:') ? captureArg : path.resolve(captureArg);
      if (p.options['create']) {
        const exists = await fs.access(path.join(dir, 'project.json')).then(() => true, () => false);
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
      options: [{ ...projectOpt, description: 'project folder (default: a demo project in the user data folder)' }],
    },
    run: async (p, io) => {
      const dir = path.resolve((p.options['project'] as string | undefined) ?? path.join(defaultUserDataDir(), 'demo-project'));
      const exists = await fs.access(path.join(dir, 'project.json')).then(() => true, () => false);
      if (!exists) await createProject(dir, 'Demo apartment');
      const job = await runJobToEnd(dir, 'import', { capture: 'demo:0' }, io, p.options['json'] === true);
      failIfNotDone(job);
      const info = await projectInfoObject(dir);
      if (p.options['json']) io.out(JSON.stringify(info));
      else io.out(`Demo project ready in ${dir}: ${String(info['frames'])} frames, ${String(info['points'])} map points.`);
    },
  },
  {
    spec: {
      name: 'demo-scene',
      summary: 'write a synthetic annotated capture (.r3d) of a furnished apartment',
      usage: 'clip-fields demo-scene --seed N --out FILE.r3d [--frames N]',
      options: [
        { name: 'seed', type: 'int', value: 'N', description: 'layout seed (other seeds give other apartments)', default: 0 },
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
      else io.out(`Wrote ${out}: ${r.frames} frames, ${(r.bytes / 1e6).toFixed(1)} MB, classes: ${r.classes.join(', ')}`);
    },
  },
  {
    spec: {
      name: 'bench',
      summary: 'run the benchmarks: prints a table and writes bench/results/<date>-<machine>.json',
      usage: 'clip-fields bench [--quick] [--repeats N] [--only a,b]',
      options: [
        { name: 'quick', type: 'boolean', description: 'small sizes and few repeats (CI smoke run, under 3 minutes)' },
        { name: 'repeats', type: 'int', value: 'N', description: 'runs per benchmark (default 7, quick 3)' },
        { name: 'only', type: 'string', value: 'LIST', description: 'comma-separated suites to run' },
        { name: 'out', type: 'string', value: 'DIR', description: 'results folder (default bench/results)' },
      ],
    },
    run: async (p, io) => {
      const { runBench } = await import('../core/bench/run');
      const only = typeof p.options['only'] === 'string' ? (p.options['only'] as string).split(',').filter(Boolean) : undefined;
      const json = p.options['json'] === true;
      const r = await runBench({
        quick: p.options['quick'] === true,
        ...(typeof p.options['repeats'] === 'number' ? { repeats: p.options['repeats'] as number } : {}),
        ...(only ? { only } : {}),
        outDir: path.resolve((p.options['out'] as string | undefined) ?? path.join(repoRoot(), 'bench', 'results')),
        print: (line) => (json ? io.err(line + '\n') : io.out(line)),
      });
      if (json) io.out(JSON.stringify(r));
    },
  },
  ...RESERVED.map(
    ([name, summary]): Command => ({
      spec: { name, summary, usage: `clip-fields ${name} ...`, options: [], reserved: true },
      run: async () => {
        throw new CliError(`"${name}" is not available in this build yet`);
      },
    }),
  ),
];

export function topLevelHelp(): string {
  const lines = ['clip-fields — CLIP-Fields Studio on the command line', '', 'Usage: clip-fields <command> [options]   (clip-fields <command> --help)', '', 'Commands:'];
  for (const c of commands) lines.push(`  ${c.spec.name.padEnd(16)} ${c.spec.summary}${c.spec.reserved ? ' (reserved)' : ''}`);
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
      io.out([`clip-fields ${argv[0]} <subcommand>`, '', ...group.map((c) => `  ${c.spec.name.padEnd(16)} ${c.spec.summary}`)].join('\n'));
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
    const msg = err instanceof ProjectError || err instanceof CliError ? err.message : (err as Error).message ?? String(err);
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
