/**
 * The `app://` protocol handler of the Electron host, written against the web-standard
 * Request/Response so it runs (and is tested) in plain Node: no electron import here.
 *
 *   app://studio/<path>   files of the built renderer (dist/renderer), index.html for '/'
 *   app://project/<path>  project assets through `studio.readAsset` (the core resolves and
 *                         contains them; we re-check that a returned filePath is really inside
 *                         the open project)
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { StudioApi } from '../../core/studio-types';
import { APP_ORIGIN, APP_PROJECT_HOST, APP_STUDIO_HOST } from '../security/navigation';
import {
  isRealPathInside,
  relativeFromUrlPathname,
  resolveContainedPath,
  safeSegments,
} from '../security/paths';
import { mimeTypeForPath } from '../security/mime';

export interface AppProtocolOptions {
  /** Absolute folder of the built renderer (contains index.html). */
  rendererDir: string;
  studio: Pick<StudioApi, 'readAsset' | 'invoke'>;
  /** Sent as Content-Security-Policy with every response. */
  csp: string;
  /** Called with unexpected errors (the response is a bare 500 either way). */
  onError?: (err: unknown, url: string) => void;
}

type Handler = (request: Request) => Promise<Response>;

export function createAppProtocolHandler(options: AppProtocolOptions): Handler {
  const baseHeaders = (): Headers => {
    const headers = new Headers();
    headers.set('Content-Security-Policy', options.csp);
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('Referrer-Policy', 'no-referrer');
    headers.set('Cross-Origin-Opener-Policy', 'same-origin');
    return headers;
  };
  const status = (code: number, text: string): Response => {
    const headers = baseHeaders();
    headers.set('Content-Type', 'text/plain; charset=utf-8');
    return new Response(text, { status: code, headers });
  };

  const serveFile = async (filePath: string, method: string, headers: Headers): Promise<Response> => {
    let size: number;
    try {
      const info = await stat(filePath);
      if (!info.isFile()) return status(404, 'not found');
      size = info.size;
    } catch {
      return status(404, 'not found');
    }
    if (!headers.has('Content-Type')) headers.set('Content-Type', mimeTypeForPath(filePath));
    headers.set('Content-Length', String(size));
    if (method === 'HEAD') return new Response(null, { status: 200, headers });
    const body = Readable.toWeb(createReadStream(filePath)) as unknown as ReadableStream<Uint8Array>;
    return new Response(body, { status: 200, headers });
  };

  const serveRenderer = async (url: URL, method: string): Promise<Response> => {
    const relative = relativeFromUrlPathname(url.pathname);
    const requestPath = relative === '' ? 'index.html' : relative;
    // The renderer folder is our own build output (inside app.asar when packaged): lexical
    // containment is enough and asar has no symlinks to follow.
    const filePath = resolveContainedPath(options.rendererDir, requestPath);
    if (filePath === null) return status(404, 'not found');
    const headers = baseHeaders();
    headers.set('Cache-Control', 'no-cache');
    return serveFile(filePath, method, headers);
  };

  const currentProjectDir = async (): Promise<string | null> => {
    const current = await options.studio.invoke('project.current', {});
    if (!current.ok || current.data === null || typeof current.data !== 'object') return null;
    const dir = (current.data as { dir?: unknown }).dir;
    return typeof dir === 'string' && dir.length > 0 ? dir : null;
  };

  const serveProjectAsset = async (url: URL, method: string): Promise<Response> => {
    const segments = safeSegments(relativeFromUrlPathname(url.pathname));
    if (segments === null) return status(404, 'not found');
    const asset = await options.studio.readAsset(segments.join('/'));
    if (asset === null) return status(404, 'not found');
    const headers = baseHeaders();
    headers.set('Cache-Control', 'no-store');
    // The renderer (app://studio) fetches these cross-origin.
    headers.set('Access-Control-Allow-Origin', APP_ORIGIN);
    headers.set('Vary', 'Origin');
    headers.set('Content-Type', asset.mime);
    if (typeof asset.filePath === 'string') {
      const projectDir = await currentProjectDir();
      if (projectDir === null || !(await isRealPathInside(projectDir, asset.filePath))) {
        return status(403, 'forbidden');
      }
      return serveFile(asset.filePath, method, headers);
    }
    if (asset.bytes instanceof Uint8Array) {
      headers.set('Content-Length', String(asset.bytes.byteLength));
      if (method === 'HEAD') return new Response(null, { status: 200, headers });
      return new Response(asset.bytes as Uint8Array<ArrayBuffer>, { status: 200, headers });
    }
    return status(404, 'not found');
  };

  return async (request: Request): Promise<Response> => {
    try {
      const method = request.method.toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') return status(405, 'method not allowed');
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        return status(400, 'bad url');
      }
      if (url.protocol !== 'app:' || url.username !== '' || url.password !== '' || url.port !== '') {
        return status(404, 'not found');
      }
      const host = url.hostname.toLowerCase();
      if (host === APP_STUDIO_HOST) return await serveRenderer(url, method);
      if (host === APP_PROJECT_HOST) return await serveProjectAsset(url, method);
      return status(404, 'not found');
    } catch (err) {
      options.onError?.(err, request.url);
      return status(500, 'internal error');
    }
  };
}
