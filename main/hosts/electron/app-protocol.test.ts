import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../../preload/contract';
import type { AssetResponse } from '../../core/studio-types';
import { buildCsp } from '../security/csp';
import { createAppProtocolHandler } from './app-protocol';

let tmp = '';
let rendererDir = '';
let projectDir = '';
const readAssetCalls: string[] = [];
let assets: Record<string, AssetResponse> = {};

const studio = {
  readAsset: (rel: string): Promise<AssetResponse | null> => {
    readAssetCalls.push(rel);
    return Promise.resolve(assets[rel] ?? null);
  },
  invoke: (channel: string): Promise<Result<unknown>> =>
    Promise.resolve(
      channel === 'project.current'
        ? { ok: true, data: { dir: projectDir, name: 'p' } }
        : { ok: false, code: 'UNKNOWN_CHANNEL', message: channel },
    ),
};

let handler: (request: Request) => Promise<Response>;
const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

beforeAll(async () => {
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'cfs-proto-')));
  rendererDir = path.join(tmp, 'renderer');
  projectDir = path.join(tmp, 'project');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>studio</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(tmp, 'secret.txt'), 'secret');
  await mkdir(path.join(projectDir, 'map'), { recursive: true });
  await writeFile(path.join(projectDir, 'map', 'points.bin'), new Uint8Array([1, 2, 3, 4]));
  await symlink(path.join(tmp, 'secret.txt'), path.join(projectDir, 'map', 'link.bin'));
  assets = {
    'map/points.bin': {
      filePath: path.join(projectDir, 'map', 'points.bin'),
      mime: 'application/octet-stream',
    },
    'map/link.bin': { filePath: path.join(projectDir, 'map', 'link.bin'), mime: 'application/octet-stream' },
    'frames/0001 depth.f32': { bytes: new Uint8Array([9, 8, 7]), mime: 'application/octet-stream' },
    'outside.txt': { filePath: path.join(tmp, 'secret.txt'), mime: 'text/plain' },
  };
  handler = createAppProtocolHandler({ rendererDir, studio, csp: buildCsp() });
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('app://studio', () => {
  it('serves index.html for the root with the CSP header', async () => {
    const res = await get('app://studio/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(buildCsp());
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>studio</title>');
  });
  it('serves renderer files with their content type', async () => {
    const res = await get('app://studio/assets/app.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-length')).toBe('14');
    expect(await res.text()).toBe('console.log(1)');
  });
  it('answers HEAD without a body', async () => {
    const res = await get('app://studio/index.html', 'HEAD');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
  it.each([
    'app://studio/%2e%2e/secret.txt',
    'app://studio/assets%2f..%2f..%2fsecret.txt',
    'app://studio/..%5csecret.txt',
    'app://studio/missing.js',
    'app://studio/assets',
  ])('refuses %s', async (url) => {
    const res = await get(url);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('secret');
  });
  it('refuses other methods and hosts', async () => {
    expect((await get('app://studio/index.html', 'POST')).status).toBe(405);
    expect((await get('app://evil/index.html')).status).toBe(404);
    expect((await get('app://studio:99/index.html')).status).toBe(404);
  });
});

describe('app://project', () => {
  it('streams a file asset inside the project, allowing the studio origin', async () => {
    const res = await get('app://project/map/points.bin');
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('app://studio');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3, 4]));
  });
  it('decodes each segment once before asking the core', async () => {
    const res = await get('app://project/frames/0001%20depth.f32');
    expect(res.status).toBe(200);
    expect(readAssetCalls).toContain('frames/0001 depth.f32');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array([9, 8, 7]));
  });
  it('never asks the core for a traversal path', async () => {
    const before = readAssetCalls.length;
    // (`/%2e%2e/` itself is already collapsed by the URL parser, before any handler sees it.)
    expect((await get('app://project/..%2fsecret.txt')).status).toBe(404);
    expect((await get('app://project/map%2f..%2f..%2fsecret.txt')).status).toBe(404);
    expect((await get('app://project/map/%252e%252e/x')).status).toBe(404);
    expect(readAssetCalls.length).toBe(before);
  });
  it('refuses a filePath from the core that is outside the project', async () => {
    expect((await get('app://project/outside.txt')).status).toBe(403);
  });
  it('refuses a filePath whose symlink escapes the project', async () => {
    expect((await get('app://project/map/link.bin')).status).toBe(403);
  });
  it('answers 404 for unknown assets', async () => {
    expect((await get('app://project/nope.bin')).status).toBe(404);
  });
  it('answers 500 (without details) when the core throws', async () => {
    const errors: unknown[] = [];
    const broken = createAppProtocolHandler({
      rendererDir,
      csp: buildCsp(),
      studio: { readAsset: () => Promise.reject(new Error('boom /private/path')), invoke: studio.invoke },
      onError: (err) => errors.push(err),
    });
    const res = await broken(new Request('app://project/x.bin'));
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('/private/path');
    expect(errors).toHaveLength(1);
  });
});
