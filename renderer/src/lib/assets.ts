/**
 * Binary asset fetching with an LRU byte cache. ArrayBuffers and typed arrays live here, outside
 * React/zustand state; components keep only the asset path (the cache key).
 */
import { getBridge } from '../bridge';

export class AssetError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly status: number | null = null,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'AssetError';
  }
}

const MAX_CACHE_BYTES = 384 * 1024 * 1024;
const cache = new Map<string, ArrayBuffer>();
const inflight = new Map<string, Promise<ArrayBuffer>>();
let cachedBytes = 0;

function touch(key: string, buf: ArrayBuffer): void {
  cache.delete(key);
  cache.set(key, buf);
}

function insert(key: string, buf: ArrayBuffer): void {
  if (buf.byteLength > MAX_CACHE_BYTES / 2) return;
  const old = cache.get(key);
  if (old) cachedBytes -= old.byteLength;
  cache.set(key, buf);
  cachedBytes += buf.byteLength;
  for (const [k, v] of cache) {
    if (cachedBytes <= MAX_CACHE_BYTES) break;
    cache.delete(k);
    cachedBytes -= v.byteLength;
  }
}

/** Fetches a project-relative asset as bytes (cached; concurrent callers share one request). */
export function fetchAsset(rel: string, opts: { cache?: boolean } = {}): Promise<ArrayBuffer> {
  const hit = cache.get(rel);
  if (hit) {
    touch(rel, hit);
    return Promise.resolve(hit);
  }
  const running = inflight.get(rel);
  if (running) return running;
  const p = (async () => {
    let res: Response;
    try {
      res = await fetch(getBridge().assetUrl(rel), { cache: 'no-store' });
    } catch (err) {
      throw new AssetError(rel, `could not be fetched (${String(err)})`);
    }
    if (!res.ok) throw new AssetError(rel, `the studio answered HTTP ${res.status}`, res.status);
    const buf = await res.arrayBuffer();
    if (opts.cache !== false) insert(rel, buf);
    return buf;
  })();
  inflight.set(rel, p);
  p.then(
    () => inflight.delete(rel),
    () => inflight.delete(rel),
  );
  return p;
}

/** Forget everything (after a re-import rewrote the project's assets). */
export function clearAssetCache(): void {
  cache.clear();
  cachedBytes = 0;
}

/** Views raw little-endian bytes as a typed array, copying when unaligned or on big-endian hosts. */
export function viewFloat32(buf: ArrayBuffer, expected: number, file: string): Float32Array {
  if (buf.byteLength !== expected * 4)
    throw new AssetError(file, `expected ${expected * 4} bytes of float32 depth, got ${buf.byteLength}`);
  return new Float32Array(buf);
}

export function viewUint16(buf: ArrayBuffer, expected: number, file: string): Uint16Array {
  if (buf.byteLength !== expected * 2)
    throw new AssetError(file, `expected ${expected * 2} bytes of uint16 labels, got ${buf.byteLength}`);
  return new Uint16Array(buf);
}

export function viewUint8(buf: ArrayBuffer, expected: number, file: string): Uint8Array {
  if (buf.byteLength !== expected)
    throw new AssetError(file, `expected ${expected} bytes of uint8 confidence, got ${buf.byteLength}`);
  return new Uint8Array(buf);
}
