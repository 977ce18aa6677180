import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ProjectSummary } from '../../preload/contract';
import type { AssetResponse } from './studio-types';
import type { CaptureSource } from './capture/types';

/** Project folders whose files the renderer may fetch. Everything else (project.json, jobs/) is not served. */
const SERVED_ROOTS = new Set(['frames', 'map', 'labels', 'field', 'query', 'exports', 'report']);

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.ply': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.html': 'text/html',
};

/**
 * Split an untrusted project-relative asset path into safe segments, or null. Decodes percent-encoding once;
 * rejects empty, `.`/`..` segments, backslashes, NUL, drive letters and absolute paths.
 */
export function safeSegments(relPath: string): string[] | null {
  if (typeof relPath !== 'string' || relPath.length === 0 || relPath.length > 1024) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(relPath);
  } catch {
    return null;
  }
  if (
    decoded.includes('\0') ||
    decoded.includes('\\') ||
    decoded.startsWith('/') ||
    /^[a-zA-Z]:/.test(decoded)
  )
    return null;
  const segs = decoded.split('/');
  for (const s of segs) {
    if (s === '' || s === '.' || s === '..' || s.includes('%')) return null;
  }
  return segs;
}

const sourceCache = new Map<string, Promise<CaptureSource>>();

async function captureFor(projectDir: string, summary: ProjectSummary | null): Promise<CaptureSource | null> {
  const src = summary?.capture?.source;
  if (!src) return null;
  const abs = path.resolve(projectDir, src);
  let p = sourceCache.get(abs);
  if (!p) {
    const { openCapture } = await import('./capture/open');
    p = openCapture(abs);
    sourceCache.set(abs, p);
    p.catch(() => sourceCache.delete(abs));
  }
  return p;
}

export async function closeCaptureCache(): Promise<void> {
  const all = [...sourceCache.values()];
  sourceCache.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close()));
}

/**
 * Resolve an asset request for the current project. Real files come from the served folders (with the path
 * kept inside the project, symlinks included); `frame/<N>/<kind>` assets are read from the capture on demand.
 */
export async function resolveProjectAsset(
  projectDir: string,
  relPath: string,
  summary: ProjectSummary | null,
): Promise<AssetResponse | null> {
  const segs = safeSegments(relPath);
  if (!segs) return null;
  if (segs[0] === 'frame' && segs.length === 3) {
    const index = Number(segs[1]);
    if (!Number.isInteger(index) || index < 0) return null;
    const source = await captureFor(projectDir, summary);
    if (!source || index >= source.info.frameCount) return null;
    switch (segs[2]) {
      case 'rgb': {
        const enc = await source.readRgbEncoded(index);
        return { bytes: enc.bytes, mime: enc.mime };
      }
      case 'depth.f32': {
        const d = await source.readDepth(index);
        return {
          bytes: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
          mime: 'application/octet-stream',
        };
      }
      case 'confidence.u8': {
        const c = await source.readConfidence(index);
        return c ? { bytes: c, mime: 'application/octet-stream' } : null;
      }
      case 'labels.u16': {
        const l = await source.readLabels(index);
        return l
          ? { bytes: new Uint8Array(l.buffer, l.byteOffset, l.byteLength), mime: 'application/octet-stream' }
          : null;
      }
      default:
        return null;
    }
  }
  if (!SERVED_ROOTS.has(segs[0] ?? '')) return null;
  const root = path.resolve(projectDir);
  const candidate = path.resolve(root, ...segs);
  if (!candidate.startsWith(root + path.sep)) return null;
  let real: string;
  let realRoot: string;
  try {
    [real, realRoot] = await Promise.all([fs.realpath(candidate), fs.realpath(root)]);
    const st = await fs.stat(real);
    if (!st.isFile()) return null;
  } catch {
    return null;
  }
  if (!real.startsWith(realRoot + path.sep)) return null;
  return { filePath: real, mime: MIME[path.extname(real).toLowerCase()] ?? 'application/octet-stream' };
}
