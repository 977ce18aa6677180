import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { channels, type ChannelName } from '../../../preload/contract';
import type { StudioCore } from '../../core/studio';
import { startWebHost, type WebHost } from './server';
import { createInvokeHandler, type IpcEventLike } from '../electron/ipc-handlers';
import { APP_ORIGIN } from '../security/navigation';
import { FAULTS_ENABLED, tempBase, tinyProject } from '../../core/testing/faults/harness';
import { hostileJson } from '../../core/testing/faults/properties';
import { diffSnapshots, snapshotDir } from '../../core/testing/faults/snapshot';
import { connectClient, type StudioClient } from '../../core/testing/faults/ws-client';

// Every contract channel fed hostile arguments from "the renderer", through the real web host's WebSocket.
let base: string;
let core: StudioCore;
let host: WebHost;
let projectDir: string;
let client: StudioClient;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('web');
  const t = await tinyProject(base);
  core = t.core;
  projectDir = t.projectDir;
  const rendererDir = path.join(base, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html>');
  host = await startWebHost({ studio: core, rendererDir, token: 'a'.repeat(48) });
  client = await connectClient(host.port, host.token);
}, 240_000);

afterAll(async () => {
  await client?.close();
  await host?.close();
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

const NAMES = Object.keys(channels) as ChannelName[];
const TEN_MB = 'x'.repeat(10 * 1024 * 1024);

/** Arguments that the channel's own schema refuses: hostile JSON, wrong types, `__proto__` keys, unknown keys. */
function badArgsFor(name: ChannelName): fc.Arbitrary<unknown> {
  const schema = channels[name].args;
  return fc
    .oneof(
      hostileJson,
      fc.dictionary(
        fc.constantFrom(
          'dir',
          'name',
          'kind',
          'params',
          'id',
          'index',
          'edit',
          'text',
          'mode',
          'top',
          'map',
          'ids',
          'format',
          'out',
          'url',
          'origin_m',
          'yaw_rad',
          '__proto__',
          'constructor',
        ),
        hostileJson,
        { maxKeys: 4 },
      ),
      fc.constant(JSON.parse('{"__proto__":{"polluted":"yes"},"id":"x"}') as unknown),
    )
    .filter((args) => !schema.safeParse(args ?? {}).success);
}

async function alive(): Promise<void> {
  const r = await client.call('app.info', {});
  expect(r.ok).toBe(true);
}

describe.skipIf(!FAULTS_ENABLED)('hostile renderer arguments over the WebSocket', () => {
  it('every channel answers BAD_ARGS to generated bad arguments, with no side effects', async () => {
    const before = await snapshotDir(projectDir);
    const jobsBefore = core.jobManager!.list().length;
    let sent = 0;
    for (const [k, name] of NAMES.entries()) {
      await fc.assert(
        fc.asyncProperty(badArgsFor(name), async (args) => {
          sent++;
          const r = await client.call(name, args);
          if (r.ok || r.code !== 'BAD_ARGS')
            throw new Error(
              `${name}(${JSON.stringify(args).slice(0, 200)}) -> ${JSON.stringify(r).slice(0, 300)}`,
            );
        }),
        { numRuns: 40, seed: 0x9000 + k },
      );
    }
    expect(sent).toBeGreaterThanOrEqual(NAMES.length * 40);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(core.jobManager!.list().length).toBe(jobsBefore);
    expect(diffSnapshots(before, await snapshotDir(projectDir))).toEqual([]);
    await alive();
  }, 180_000);

  it('10 MB strings on every channel: BAD_ARGS (or a bounded refusal), no side effects, host alive', async () => {
    const before = await snapshotDir(projectDir);
    for (const name of NAMES) {
      // One 10 MB message per channel, in the field the channel reads most (or as the whole argument).
      const shapes = [
        { dir: TEN_MB },
        { text: TEN_MB },
        { id: TEN_MB },
        { edit: { op: 'reject-class', label: TEN_MB } },
        { name: TEN_MB, query: TEN_MB },
        { url: `ws://${TEN_MB}` },
        TEN_MB,
      ];
      const fields = Object.keys((channels[name].args as { shape?: object }).shape ?? {});
      const args = shapes.find((a) => typeof a === 'object' && fields.includes(Object.keys(a)[0]!)) ?? TEN_MB;
      {
        const r = await client.call(name, args);
        expect(r, name).toMatchObject({ ok: false, code: 'BAD_ARGS' });
        expect(r.ok ? '' : r.message.length).toBeLessThan(2000);
      }
    }
    expect(diffSnapshots(before, await snapshotDir(projectDir))).toEqual([]);
    await alive();
  }, 120_000);

  it('malformed frames and unknown channels are answered, never fatal', async () => {
    expect(await client.raw('{not json', -1)).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(await client.raw(JSON.stringify({ kind: 'req', id: 7, channel: 42, args: {} }), 7)).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
    expect(
      await client.raw(JSON.stringify({ kind: 'req', id: 8, channel: 'x'.repeat(300), args: {} }), 8),
    ).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    for (const ch of [
      'fs.readFile',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'app.info ',
      'APP.INFO',
      'jobs.start.x',
    ]) {
      expect(await client.call(ch, {}), ch).toMatchObject({ ok: false, code: 'UNKNOWN_CHANNEL' });
    }
    await alive();
  });

  it('foreign senders are refused: bad token, foreign origin, wrong path (403)', async () => {
    await expect(connectClient(host.port, 'b'.repeat(48))).rejects.toThrow('status 403');
    await expect(connectClient(host.port, host.token.slice(0, -1))).rejects.toThrow('status 403');
    await expect(connectClient(host.port, '')).rejects.toThrow('status 403');
    await expect(connectClient(host.port, host.token, { origin: 'http://evil.example' })).rejects.toThrow(
      'status 403',
    );
    await expect(
      connectClient(host.port, host.token, { origin: `http://127.0.0.1:${host.port + 1}` }),
    ).rejects.toThrow('status 403');
    await expect(connectClient(host.port, host.token, { path: '/rpc/../rpc2' })).rejects.toThrow(
      /status 403/,
    );
    await alive();
  });
});

describe.skipIf(!FAULTS_ENABLED)('Electron IPC from a foreign frame', () => {
  const mainFrame = { url: `${APP_ORIGIN}/index.html` };
  const ev = (frame: { url: string } | null, isMain: boolean): IpcEventLike => ({
    senderFrame: frame,
    sender: { mainFrame: isMain ? frame : {} },
  });

  it('FORBIDDEN before the core is reached, for every foreign frame and every channel', async () => {
    const invoke = vi.fn(async () => ({ ok: true as const, data: null }));
    const handler = createInvokeHandler({ invoke });
    const foreign = [
      ev({ url: 'https://evil.example/' }, true),
      ev({ url: 'file:///etc/passwd' }, true),
      ev({ url: 'app://project/x' }, true),
      ev({ url: 'app://studio@evil/' }, true),
      ev({ url: `${APP_ORIGIN}/index.html` }, false), // our origin, but a sub-frame
      ev(null, true),
      {
        senderFrame: {
          get url(): string {
            throw new Error('frame disposed');
          },
        },
        sender: { mainFrame: null },
      },
    ];
    for (const e of foreign)
      for (const name of NAMES)
        expect(await handler(e, name, {})).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(invoke).not.toHaveBeenCalled();
    // Our own top-level frame gets through, with hostile args passed on for the core to validate.
    const real = createInvokeHandler(core);
    expect(await real(ev(mainFrame, true), 'app.info', {})).toMatchObject({ ok: true });
    expect(await real(ev(mainFrame, true), 'project.open', { dir: 42 })).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
    expect(await real(ev(mainFrame, true), 'nope', {})).toMatchObject({ ok: false, code: 'UNKNOWN_CHANNEL' });
  });
});
