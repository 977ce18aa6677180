/**
 * The web host: serves the built renderer and the studio contract over HTTP + WebSocket on 127.0.0.1 only.
 *
 * - Every RPC connection and every project asset request must carry the per-run random token (`?token=`);
 *   it is compared in constant time. Without it the WebSocket upgrade is refused (403).
 * - The Host header must name the loopback address we listen on (DNS-rebinding protection) and a WebSocket
 *   Origin, when sent, must be our own origin.
 * - Messages are validated (`RpcRequestSchema`), channel arguments by the core; a malformed message gets an
 *   error answer and never closes the host.
 */
import * as http from 'node:http';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { RpcRequestSchema, errorResult, type RpcEvent, type RpcResponse } from '../../../preload/contract';
import type { StudioApi } from '../../core/studio-types';
import { safeSegments } from '../../core/assets';

export const RENDERER_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; worker-src 'self' blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STATIC_MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

export interface WebHostOptions {
  studio: StudioApi;
  /** Folder with the built renderer (dist/renderer). */
  rendererDir: string;
  port?: number;
  /** Fixed token (tests); a random one by default. */
  token?: string;
  /** Largest WebSocket message accepted, bytes. */
  maxMessageBytes?: number;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

function tokenMatches(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const rendererDir = path.resolve(opts.rendererDir);
  let port = 0;

  const hostAllowed = (host: string | undefined): boolean =>
    host === `127.0.0.1:${port}` || host === `localhost:${port}`;

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(err as Error).message}`);
    });
  });

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(421, { 'content-type': 'text/plain' });
      res.end('misdirected request');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const common = {
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
    };
    if (url.pathname.startsWith('/project-asset/')) {
      if (!tokenMatches(url.searchParams.get('token'), token)) {
        res.writeHead(403, common);
        res.end('forbidden');
        return;
      }
      const rel = url.pathname.slice('/project-asset/'.length);
      const asset = await opts.studio.readAsset(rel);
      if (!asset) {
        res.writeHead(404, common);
        res.end('not found');
        return;
      }
      if (asset.bytes) {
        res.writeHead(200, {
          ...common,
          'content-type': asset.mime,
          'content-length': asset.bytes.byteLength,
          'cache-control': 'no-store',
        });
        res.end(
          req.method === 'HEAD'
            ? undefined
            : Buffer.from(asset.bytes.buffer, asset.bytes.byteOffset, asset.bytes.byteLength),
        );
        return;
      }
      if (asset.filePath) {
        const st = await fs.stat(asset.filePath);
        res.writeHead(200, {
          ...common,
          'content-type': asset.mime,
          'content-length': st.size,
          'cache-control': 'no-store',
        });
        if (req.method === 'HEAD') res.end();
        else createReadStream(asset.filePath).pipe(res);
        return;
      }
    }
    // Static renderer files.
    let rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const segs = safeSegments(rel);
    if (!segs) {
      res.writeHead(404, common);
      res.end('not found');
      return;
    }
    rel = segs.join('/');
    const file = path.join(rendererDir, ...segs);
    let st;
    try {
      st = await fs.stat(file);
    } catch {
      st = null;
    }
    if (!st || !st.isFile() || !file.startsWith(rendererDir + path.sep)) {
      res.writeHead(404, { ...common, 'content-type': 'text/plain' });
      res.end(rel === 'index.html' ? 'The studio is not built: run `npm run build` first.' : 'not found');
      return;
    }
    const headers: Record<string, string | number> = {
      ...common,
      'content-type': STATIC_MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
    };
    if (file.endsWith('.html')) {
      headers['content-security-policy'] = RENDERER_CSP.replace(
        /ws:\/\/127\.0\.0\.1:\*/,
        `ws://127.0.0.1:${port}`,
      ).replace(/ws:\/\/localhost:\*/, `ws://localhost:${port}`);
      headers['cache-control'] = 'no-store';
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? 32 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const origin = req.headers.origin;
    const originOk =
      origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (
      url.pathname !== '/rpc' ||
      !hostAllowed(req.headers.host) ||
      !originOk ||
      !tokenMatches(url.searchParams.get('token'), token)
    ) {
      socket.write('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    sockets.add(ws);
    const unsubscribe = opts.studio.onEvent((event) => {
      if (ws.readyState !== ws.OPEN) return;
      const msg: RpcEvent = { kind: 'event', event };
      ws.send(JSON.stringify(msg));
    });
    ws.on('message', (data, isBinary) => {
      void (async () => {
        let id = -1;
        let response: RpcResponse;
        try {
          if (isBinary) throw new Error('binary messages are not part of the protocol');
          const raw: unknown = JSON.parse(data.toString());
          const maybeId = (raw as { id?: unknown } | null)?.id;
          if (typeof maybeId === 'number' && Number.isSafeInteger(maybeId) && maybeId >= 0) id = maybeId;
          const req = RpcRequestSchema.safeParse(raw);
          if (!req.success) throw new Error('not a request: expected {kind:"req", id, channel, args}');
          const result = await opts.studio.invoke(req.data.channel, req.data.args);
          response = { kind: 'res', id: req.data.id, result };
        } catch (err) {
          response = { kind: 'res', id, result: errorResult('BAD_ARGS', (err as Error).message) };
        }
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(response));
      })();
    });
    ws.on('close', () => {
      unsubscribe();
      sockets.delete(ws);
    });
    ws.on('error', () => undefined);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;

  return {
    url,
    port,
    token,
    close: async () => {
      for (const s of sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
