/** Starts the real web host (`clip-fields serve`, built bundle) as a child process for e2e tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HostProcess {
  url: string;
  port: number;
  token: string;
  home: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const root = path.resolve(__dirname, '..');

/** Share one generated demo capture across spec files (set before any host starts). */
export function useSharedDemoCache(): void {
  const dir = path.resolve(__dirname, '..', '.cache', 'e2e-cache');
  mkdirSync(dir, { recursive: true });
  process.env['CLIP_FIELDS_CACHE'] = dir;
}

export async function makeHome(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'cfs-e2e-'));
}

export async function startHost(opts: {
  home: string;
  project?: string;
  demo?: boolean;
  port?: number;
}): Promise<HostProcess> {
  const args = [
    path.join(root, 'dist', 'main', 'cli.cjs'),
    'serve',
    '--json',
    '--port',
    String(opts.port ?? 0),
  ];
  if (opts.project) args.push('--project', opts.project);
  if (opts.demo) args.push('--demo');
  const proc = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, CLIP_FIELDS_HOME: opts.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`host did not start in 60 s: ${stderr}`)), 60_000);
    proc.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited with ${code}: ${stderr}`));
    });
  });
  const info = JSON.parse(first) as { url: string; port: number; token: string };
  return {
    ...info,
    home: opts.home,
    proc,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}
