import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { commands, runCli, type CliIO } from './main';

function io(): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (t) => stderr.push(t), isTTY: false };
}

describe('clip-fields CLI', () => {
  it('prints help for every command, including reserved names', async () => {
    for (const c of commands) {
      const o = io();
      const code = await runCli([...c.spec.name.split(' '), '--help'], o);
      expect(code, c.spec.name).toBe(0);
      expect(o.stdout.join('\n')).toContain(`clip-fields ${c.spec.name}`);
      expect(o.stdout.join('\n')).toContain('--json');
    }
    for (const reserved of ['label', 'train', 'query', 'waypoints', 'eval', 'bench']) {
      expect(
        commands.some((c) => c.spec.name === reserved || c.spec.name.startsWith(`${reserved} `)),
        reserved,
      ).toBe(true);
    }
  });

  it('exits 2 with a one-line error on unknown commands and options', async () => {
    const a = io();
    expect(await runCli(['frobnicate'], a)).toBe(2);
    expect(a.stderr.join('')).toMatch(/^clip-fields: error: unknown command/);
    const b = io();
    expect(await runCli(['project', 'info', 'x', '--bogus'], b)).toBe(2);
    expect(b.stderr.join('')).toMatch(/unknown option --bogus/);
    expect(b.stderr.join('').trim().split('\n')).toHaveLength(1);
  });

  it('models pull --ids checks the ids before downloading anything', async () => {
    const a = io();
    expect(await runCli(['models', 'pull', '--ids', ' , '], a)).toBe(2);
    expect(a.stderr.join('')).toMatch(/--ids needs at least one model id/);
    const b = io();
    expect(
      await runCli(['models', 'pull', '--ids', 'no-such-model', '--base-url', 'http://127.0.0.1:9'], b),
    ).toBe(1);
    expect(b.stderr.join('')).toMatch(/no-such-model/);
  });

  it('creates a project and reports it as JSON', async () => {
    const dir = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-cli-')), 'p');
    expect(await runCli(['project', 'create', dir, '--name', 'Lab'], io())).toBe(0);
    const o = io();
    expect(await runCli(['project', 'info', dir, '--json'], o)).toBe(0);
    const info = JSON.parse(o.stdout.at(-1) as string) as Record<string, unknown>;
    expect(info).toMatchObject({ name: 'Lab', frames: 0, points: 0, bounds_m: null, floor_m: null });
  });

  it('fails with exit 1 and names the file when the project is missing', async () => {
    const o = io();
    const dir = path.join(os.tmpdir(), 'cfs-no-such-project-xyz');
    expect(await runCli(['project', 'info', dir], o)).toBe(1);
    expect(o.stderr.join('')).toContain(path.join(dir, 'project.json'));
  });

  it('lists jobs as JSON', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-cli-'));
    await runCli(['project', 'create', dir], io());
    const o = io();
    expect(await runCli(['jobs', 'list', '--project', dir, '--json'], o)).toBe(0);
    expect(JSON.parse(o.stdout.at(-1) as string)).toEqual({ jobs: [] });
  });
});
