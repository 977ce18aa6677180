import { afterEach, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import type { RpcEvent, RpcResponse } from '../../../preload/contract';
import { StudioCore } from '../../core/studio';
import { startWebHost, type WebHost } from './server';

let host: WebHost | null = null;
let core: StudioCore | null = null;
afterEach(async () => {
  await host?.close();
  await core?.dispose();
  host = null;
  core = null;
});

async function start(): Promise<{ host: WebHost; core: StudioCore; base: string }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-web-'));
  const rendererDir = path.join(base, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  await fs.writeFile(path.join(base, 'secret.txt'), 'secret');
  core = new StudioCore({ host: 'web', userDataDir: path.join(base, 'ud'), resourcesDir: base });
  host = await startWebHost({ studio: core, rendererDir });
  return { host, core, base };
}

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

function connect(h: WebHost, token = h.token, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/rpc?token=${token}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function rpc(ws: WebSocket, id: number, channel: string, args: unknown): Promise<RpcResponse> {
  return new Promise((resolve) => {
    const onMsg = (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as RpcResponse | RpcEvent;
      if (msg.kind === 'res' && msg.id === id) {
        ws.off('message', onMsg);
        resolve(msg);
      }
    };
    ws.on('message', onMsg);
    ws.send(JSON.stringify({ kind: 'req', id, channel, args }));
  });
}

describe('web host', () => {
  it('listens on 127.0.0.1 only and prints a tokenised URL', async () => {
    const { host: h } = await start();
    expect(h.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
  });

  it('serves the renderer with a strict CSP and no path escapes', async () => {
    const { host: h } = await start();
    const r = await get(`http://127.0.0.1:${h.port}/`);
    expect(r.status).toBe(200);
    expect(r.headers['content-security-policy']).toContain("default-src 'self'");
    expect(r.headers['content-security-policy']).not.toContain("'unsafe-eval'");
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt']) {
      expect((await get(`http://127.0.0.1:${h.port}${p}`)).status).toBe(404);
    }
  });

  it('refuses requests whose Host header is not our loopback address (DNS rebinding)', async () => {
    const { host: h } = await start();
    expect((await get(`http://127.0.0.1:${h.port}/`, { host: 'evil.example:80' })).status).toBe(421);
  });

  it('refuses WebSocket connections without the token or from a foreign origin', async () => {
    const { host: h } = await start();
    await expect(connect(h, 'wrong')).rejects.toThrow(/403/);
    await expect(connect(h, h.token, 'http://evil.example')).rejects.toThrow(/403/);
    const ok = await connect(h, h.token, `http://127.0.0.1:${h.port}`);
    ok.close();
  });

  it('refuses project assets without the token', async () => {
    const { host: h } = await start();
    expect((await get(`http://127.0.0.1:${h.port}/project-asset/map/map.bin`)).status).toBe(403);
  });

  it('answers contract requests, streams events, and survives malformed messages', async () => {
    const { host: h, base } = await start();
    const ws = await connect(h);
    const events: RpcEvent[] = [];
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as RpcEvent | RpcResponse;
      if (m.kind === 'event') events.push(m);
    });
    const info = await rpc(ws, 1, 'app.info', {});
    expect(info.result).toMatchObject({ ok: true, data: { host: 'web' } });
    // Malformed frames get an error answer; the connection and host stay up.
    ws.send('not json');
    ws.send(JSON.stringify({ kind: 'req', id: 'x' }));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await rpc(ws, 2, 'no.such', {})).result).toMatchObject({ ok: false, code: 'UNKNOWN_CHANNEL' });
    expect((await rpc(ws, 3, 'project.open', { dir: 5 })).result).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
    const created = await rpc(ws, 4, 'project.create', { dir: path.join(base, 'p') });
    expect(created.result.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.some((e) => e.event.type === 'project.changed')).toBe(true);
    expect((await rpc(ws, 5, 'app.info', {})).result.ok).toBe(true);
    ws.close();
  });

  it('serves project assets with the token', async () => {
    const { host: h, base } = await start();
    const ws = await connect(h);
    const dir = path.join(base, 'p');
    await rpc(ws, 1, 'project.create', { dir });
    await fs.mkdir(path.join(dir, 'map'));
    await fs.writeFile(path.join(dir, 'map', 'map.bin'), 'MAPDATA');
    const r = await get(`http://127.0.0.1:${h.port}/project-asset/map/map.bin?token=${h.token}`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('MAPDATA');
    expect((await get(`http://127.0.0.1:${h.port}/project-asset/project.json?token=${h.token}`)).status).toBe(
      404,
    );
    ws.close();
  });
});
