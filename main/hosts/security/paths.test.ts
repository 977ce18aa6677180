import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isInside,
  isRealPathInside,
  relativeFromUrlPathname,
  resolveContainedPath,
  resolveContainedRealPath,
} from './paths';

const ROOT = path.resolve('/srv/app/renderer');

describe('resolveContainedPath', () => {
  it('resolves plain and percent-encoded relative paths inside the root', () => {
    expect(resolveContainedPath(ROOT, 'index.html')).toBe(path.join(ROOT, 'index.html'));
    expect(resolveContainedPath(ROOT, 'assets/app.js')).toBe(path.join(ROOT, 'assets', 'app.js'));
    expect(resolveContainedPath(ROOT, 'frames/my%20frame.png')).toBe(
      path.join(ROOT, 'frames', 'my frame.png'),
    );
    expect(resolveContainedPath(ROOT, 'a//b/')).toBe(path.join(ROOT, 'a', 'b'));
    expect(resolveContainedPath(ROOT, '..hidden/x')).toBe(path.join(ROOT, '..hidden', 'x'));
  });

  it.each([
    ['parent segment', '../secret'],
    ['nested parent', 'assets/../../secret'],
    ['parent at end', 'assets/..'],
    ['dot segment', './index.html'],
    ['encoded dots', '%2e%2e/secret'],
    ['encoded upper-case dots', '%2E%2E/secret'],
    ['encoded slash', '..%2fsecret'],
    ['encoded slash in the middle', 'assets%2f..%2f..%2fsecret'],
    ['double-encoded dots', '%252e%252e/secret'],
    ['double-encoded slash', 'a%252f..%252f..%252fsecret'],
    ['backslash', '..\\secret'],
    ['encoded backslash', '..%5csecret'],
    ['UNC path', '\\\\server\\share\\x'],
    ['absolute', '/etc/passwd'],
    ['encoded absolute', '%2fetc%2fpasswd'],
    ['pathname with two slashes', relativeFromUrlPathname('//etc/passwd')],
    ['drive letter', 'C:/Windows/win.ini'],
    ['drive-relative', 'C:secret'],
    ['NTFS stream', 'index.html::$DATA'],
    ['NUL', 'index.html%00.png'],
    ['raw NUL', 'index.html\u0000.png'],
    ['trailing-dot parent (Windows)', '.../secret'],
    ['dots and space (Windows)', '.. /secret'],
    ['malformed encoding', '%E0%A4%A'],
    ['empty', ''],
    ['only slashes', '///'],
    ['too long', 'a/'.repeat(3000)],
  ])('rejects %s', (_name, requestPath) => {
    expect(resolveContainedPath(ROOT, requestPath)).toBeNull();
  });

  it('never returns a path outside the root for arbitrary input (property)', () => {
    const pieces = fc.constantFrom(
      '..',
      '.',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '/',
      '\\',
      'a',
      'b.txt',
      '%25',
      '%00',
      ':',
      'C:',
      '~',
      ' ',
      '%20',
    );
    const arbitraryPath = fc.oneof(
      fc.array(pieces, { maxLength: 12 }).map((p) => p.join('')),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(
      fc.property(arbitraryPath, (requestPath) => {
        const resolved = resolveContainedPath(ROOT, requestPath);
        if (resolved === null) return true;
        return resolved !== ROOT && isInside(ROOT, resolved) && path.isAbsolute(resolved);
      }),
      { numRuns: 5000, seed: 424242 },
    );
  });
});

describe('relativeFromUrlPathname', () => {
  it('strips exactly one leading slash', () => {
    expect(relativeFromUrlPathname('/assets/a.js')).toBe('assets/a.js');
    expect(relativeFromUrlPathname('//x')).toBe('/x');
    expect(relativeFromUrlPathname('x')).toBe('x');
  });
});

describe('isInside', () => {
  it('distinguishes siblings sharing a prefix', () => {
    expect(isInside('/srv/app', '/srv/app/x')).toBe(true);
    expect(isInside('/srv/app', '/srv/app2/x')).toBe(false);
    expect(isInside('/srv/app', '/srv')).toBe(false);
  });
});

describe('resolveContainedRealPath (symlinks)', () => {
  let tmp = '';
  let root = '';
  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'cfs-sec-')));
    root = path.join(tmp, 'root');
    await mkdir(path.join(root, 'assets'), { recursive: true });
    await writeFile(path.join(root, 'assets', 'ok.txt'), 'ok');
    await writeFile(path.join(tmp, 'secret.txt'), 'secret');
    await mkdir(path.join(tmp, 'outside'));
    await writeFile(path.join(tmp, 'outside', 'x.txt'), 'x');
    await symlink(path.join(tmp, 'secret.txt'), path.join(root, 'escape.txt'));
    await symlink(path.join(tmp, 'outside'), path.join(root, 'escape-dir'));
    await symlink(path.join(root, 'assets', 'ok.txt'), path.join(root, 'inner-link.txt'));
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('returns the real path of a contained file', async () => {
    expect(await resolveContainedRealPath(root, 'assets/ok.txt')).toBe(path.join(root, 'assets', 'ok.txt'));
  });
  it('follows a symlink that stays inside the root', async () => {
    expect(await resolveContainedRealPath(root, 'inner-link.txt')).toBe(path.join(root, 'assets', 'ok.txt'));
  });
  it('rejects a file symlink that escapes the root', async () => {
    expect(resolveContainedPath(root, 'escape.txt')).toBe(path.join(root, 'escape.txt'));
    expect(await resolveContainedRealPath(root, 'escape.txt')).toBeNull();
  });
  it('rejects a directory symlink that escapes the root', async () => {
    expect(await resolveContainedRealPath(root, 'escape-dir/x.txt')).toBeNull();
  });
  it('rejects missing files and traversal', async () => {
    expect(await resolveContainedRealPath(root, 'assets/missing.txt')).toBeNull();
    expect(await resolveContainedRealPath(root, '../secret.txt')).toBeNull();
  });
  it('isRealPathInside checks an already-resolved absolute path', async () => {
    expect(await isRealPathInside(root, path.join(root, 'assets', 'ok.txt'))).toBe(true);
    expect(await isRealPathInside(root, path.join(root, 'escape.txt'))).toBe(false);
    expect(await isRealPathInside(root, path.join(tmp, 'secret.txt'))).toBe(false);
    expect(await isRealPathInside(root, 'assets/ok.txt')).toBe(false);
    expect(await isRealPathInside(root, root)).toBe(false);
  });
});
