import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { channels, type ChannelName } from '../../preload/contract';
import { StudioCore } from './studio';

async function core(): Promise<{ core: StudioCore; dir: string }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-core-'));
  const c = new StudioCore({ host: 'web', userDataDir: path.join(base, 'ud'), resourcesDir: base });
  const dir = path.join(base, 'proj');
  const r = await c.invoke('project.create', { dir });
  expect(r.ok).toBe(true);
  return { core: c, dir };
}

const names = Object.keys(channels) as ChannelName[];
/** Channels that take arguments: anything but an object matching the schema is BAD_ARGS. */
const withArgs = names.filter((n) => !channels[n].args.safeParse({}).success);

describe('contract handling in the core', () => {
  it('answers every channel with a Result, never a throw, for arbitrary JSON arguments (property)', async () => {
    const { core: c } = await core();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.jsonValue(), async (channel, args) => {
        if (channel === 'project.create' || channel === 'project.open' || channel === 'jobs.start') {
          // These act on the filesystem or start processes when valid; wrong types only here.
          fc.pre(typeof args !== 'object' || args === null || Array.isArray(args));
        }
        const r = await c.invoke(channel, args);
        expect(typeof r.ok).toBe('boolean');
        if (!r.ok) expect(typeof r.message).toBe('string');
      }),
      { numRuns: 1000, seed: 7 },
    );
    await c.dispose();
  });

  it('rejects malformed arguments of every channel that takes arguments with BAD_ARGS (property)', async () => {
    const { core: c } = await core();
    const wrong = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.string(),
      fc.array(fc.integer()),
      fc.record({
        dir: fc.integer(),
        id: fc.boolean(),
        index: fc.string(),
        kind: fc.constant('no-such-kind'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...withArgs), wrong, async (channel, args) => {
        const r = await c.invoke(channel, args);
        expect(r).toMatchObject({ ok: false, code: 'BAD_ARGS' });
      }),
      { numRuns: 1000, seed: 11 },
    );
    await c.dispose();
  });

  it('rejects unknown keys, __proto__ keys and 10 MB strings without side effects', async () => {
    const { core: c, dir } = await core();
    const before = await fs.readFile(path.join(dir, 'project.json'), 'utf8');
    const proto = JSON.parse('{"dir":"/tmp/x","__proto__":{"polluted":true}}') as unknown;
    expect(await c.invoke('project.open', proto)).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(await c.invoke('project.create', { dir: 'x'.repeat(10 * 1024 * 1024) })).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
    expect(await c.invoke('jobs.list', { extra: 1 })).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(await fs.readFile(path.join(dir, 'project.json'), 'utf8')).toBe(before);
    expect(await c.invoke('jobs.list', {})).toMatchObject({ ok: true, data: { jobs: [] } });
    await c.dispose();
  });

  it('refuses unknown channels with UNKNOWN_CHANNEL', async () => {
    const { core: c } = await core();
    for (const ch of ['', 'nope', '__proto__', 'constructor', 'toString', 'app.info.x']) {
      expect(await c.invoke(ch, {})).toMatchObject({ ok: false, code: 'UNKNOWN_CHANNEL' });
    }
    await c.dispose();
  });

  it('says what to do first when there is no project or no capture', async () => {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-core-'));
    const c = new StudioCore({ host: 'web', userDataDir: base, resourcesDir: base });
    expect(await c.invoke('jobs.start', { kind: 'selftest', params: {} })).toMatchObject({
      ok: false,
      code: 'NO_PROJECT',
    });
    await c.invoke('project.create', { dir: path.join(base, 'p') });
    const r = await c.invoke('capture.frames', {});
    expect(r).toMatchObject({ ok: false, code: 'NOT_FOUND' });
    expect(!r.ok && r.message).toMatch(/import a capture/);
    await c.dispose();
  });

  it('lists a project among recent projects after opening it', async () => {
    const { core: c, dir } = await core();
    const r = await c.invoke('project.recent', {});
    expect(r.ok && (r.data as { items: { dir: string }[] }).items[0]?.dir).toBe(path.resolve(dir));
    await c.dispose();
  });

  it('never serves files outside the served project folders', async () => {
    const { core: c, dir } = await core();
    await fs.mkdir(path.join(dir, 'map'), { recursive: true });
    await fs.writeFile(path.join(dir, 'map', 'map.bin'), 'MAP');
    await fs.symlink('/etc/passwd', path.join(dir, 'map', 'escape.bin'));
    expect((await c.readAsset('map/map.bin'))?.filePath).toBe(
      path.join(await fs.realpath(dir), 'map', 'map.bin'),
    );
    for (const bad of [
      'project.json',
      '../x',
      'map/../project.json',
      'map/%2e%2e/project.json',
      '/etc/passwd',
      'map\\..\\project.json',
      'map/escape.bin',
      'C:/x',
      'map/%252e%252e/x',
      'map//map.bin',
    ]) {
      expect(await c.readAsset(bad)).toBeNull();
    }
    await c.dispose();
  });
});
