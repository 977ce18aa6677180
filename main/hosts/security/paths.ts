/**
 * Mapping an untrusted request path (from an app:// URL or an HTTP request) to a file inside a
 * root folder. Used by the Electron host's protocol handler and the web host's static server.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';

/** Longest request path we look at; anything longer is refused. */
const MAX_REQUEST_PATH_CHARS = 4096;

/**
 * Strips the single leading '/' of a URL pathname (`/assets/a.js` -> `assets/a.js`) so the result
 * can be passed to {@link resolveContainedPath}. A pathname starting with '//' keeps one '/' and
 * is therefore refused there as absolute.
 */
export function relativeFromUrlPathname(pathname: string): string {
  return pathname.startsWith('/') ? pathname.slice(1) : pathname;
}

/**
 * Splits a still percent-encoded, root-relative request path into safe path segments, or null.
 *
 * The path is decoded exactly once. Refused: malformed percent-encoding, anything still
 * percent-encoded after one decode (double encoding such as `%252e%252e`), NUL and other control
 * characters, backslashes (Windows separators, UNC `\\server`), absolute paths (leading '/'),
 * colons (drive letters `C:`, NTFS streams), and any segment made only of dots and spaces
 * (`.`, `..`, `...`, `.. ` which Windows trims to `..`).
 */
export function safeSegments(requestPath: string): string[] | null {
  if (
    typeof requestPath !== 'string' ||
    requestPath.length === 0 ||
    requestPath.length > MAX_REQUEST_PATH_CHARS
  ) {
    return null;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  if (/%[0-9a-f]{2}/i.test(decoded)) return null;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\:]/.test(decoded)) return null;
  if (decoded.startsWith('/')) return null;
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  if (segments.length === 0) return null;
  for (const segment of segments) {
    if (/^[.\s]+$/.test(segment)) return null;
  }
  return segments;
}

/** True when `candidate` is `root` itself or lies below it (both absolute and normalised). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  if (relative === '') return true;
  if (path.isAbsolute(relative)) return false;
  return relative !== '..' && !relative.startsWith(`..${path.sep}`);
}

/**
 * Resolves an untrusted, percent-encoded, root-relative request path to an absolute path inside
 * `rootDir`, or null when it is malformed or would escape (lexically; see
 * {@link resolveContainedRealPath} for symlinks). Returns null for the root itself (empty path).
 */
export function resolveContainedPath(rootDir: string, requestPath: string): string | null {
  const segments = safeSegments(requestPath);
  if (segments === null) return null;
  const root = path.resolve(rootDir);
  const candidate = path.resolve(root, ...segments);
  if (candidate === root || !isInside(root, candidate)) return null;
  return candidate;
}

/**
 * Like {@link resolveContainedPath}, then resolves symlinks of both the root and the file and
 * returns the real path only when it is still inside the real root. Null when the path escapes,
 * does not exist or cannot be read.
 */
export async function resolveContainedRealPath(rootDir: string, requestPath: string): Promise<string | null> {
  const candidate = resolveContainedPath(rootDir, requestPath);
  if (candidate === null) return null;
  try {
    const [realRoot, realCandidate] = await Promise.all([
      realpath(path.resolve(rootDir)),
      realpath(candidate),
    ]);
    if (realCandidate === realRoot || !isInside(realRoot, realCandidate)) return null;
    return realCandidate;
  } catch {
    return null;
  }
}

/**
 * Checks an absolute path that something else (the core's `readAsset`) already resolved: true
 * when its real path lies inside the real `rootDir`. False when either does not exist.
 */
export async function isRealPathInside(rootDir: string, absolutePath: string): Promise<boolean> {
  if (typeof absolutePath !== 'string' || !path.isAbsolute(absolutePath)) return false;
  try {
    const [realRoot, realCandidate] = await Promise.all([
      realpath(path.resolve(rootDir)),
      realpath(absolutePath),
    ]);
    return realCandidate !== realRoot && isInside(realRoot, realCandidate);
  } catch {
    return false;
  }
}
