import { describe, expect, it } from 'vitest';
import { buildCsp } from './csp';
import { mimeTypeForPath } from './mime';
import { permissionDecision } from './permissions';
import { secureWebPreferences } from './web-preferences';

function directives(csp: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) map.set(name, sources);
  }
  return map;
}

describe('buildCsp', () => {
  it('is the documented production policy', () => {
    expect(buildCsp()).toBe(
      "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
        "img-src 'self' data: blob: app:; connect-src 'self' app:; worker-src 'self' blob:; frame-src 'self' app:; object-src 'none'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it.each([false, true])('never allows eval or inline scripts (dev=%s)', (dev) => {
    const csp = buildCsp({ dev });
    expect(csp).not.toContain("'unsafe-eval'");
    const script = directives(csp).get('script-src') ?? [];
    expect(script).not.toContain("'unsafe-inline'");
    expect(script).not.toContain('*');
    expect(directives(csp).get('object-src')).toEqual(["'none'"]);
  });

  it('only opens connect-src to localhost in dev', () => {
    expect(directives(buildCsp({ dev: false })).get('connect-src')).toEqual(["'self'", 'app:']);
    expect(directives(buildCsp({ dev: true })).get('connect-src')).toContain('ws://localhost:*');
  });
});

describe('secureWebPreferences', () => {
  it('isolates and sandboxes the renderer', () => {
    const prefs = secureWebPreferences('/app/dist/preload/preload.cjs');
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      preload: '/app/dist/preload/preload.cjs',
    });
  });
  it('returns a frozen object', () => {
    expect(Object.isFrozen(secureWebPreferences('/p.cjs'))).toBe(true);
  });
  it('refuses an empty preload path', () => {
    expect(() => secureWebPreferences('')).toThrow(TypeError);
  });
});

describe('permissionDecision', () => {
  it.each([
    'media',
    'geolocation',
    'notifications',
    'clipboard-read',
    'hid',
    'serial',
    'usb',
    'openExternal',
    'fullscreen',
    'unknown',
  ])('denies %s', (permission) => {
    expect(permissionDecision(permission)).toBe(false);
  });
  it('allows sanitized clipboard writes', () => {
    expect(permissionDecision('clipboard-sanitized-write')).toBe(true);
  });
});

describe('mimeTypeForPath', () => {
  it('maps renderer and asset extensions', () => {
    expect(mimeTypeForPath('/a/index.html')).toBe('text/html; charset=utf-8');
    expect(mimeTypeForPath('assets/app.JS')).toBe('text/javascript; charset=utf-8');
    expect(mimeTypeForPath('x/model.wasm')).toBe('application/wasm');
    expect(mimeTypeForPath('frames/0001.png')).toBe('image/png');
  });
  it('falls back to octet-stream for unknown or missing extensions', () => {
    expect(mimeTypeForPath('a.weird')).toBe('application/octet-stream');
    expect(mimeTypeForPath('dir.d/file')).toBe('application/octet-stream');
  });
});
