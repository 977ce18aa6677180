/**
 * The Electron host, end to end: launches the built app (dist/main/electron-main.cjs) with the
 * Electron binary from node_modules and checks the security posture from inside the page.
 *
 * The Electron binary cannot be downloaded on every machine (no network); then the whole file
 * skips. We look for the binary without requiring the 'electron' package, whose index.js would
 * try to download it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';

const root = path.resolve(__dirname, '..');
const mainBundle = path.join(root, 'dist', 'main', 'electron-main.cjs');

function electronBinary(): string | null {
  const pkgDir = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  if (relative.length === 0) return null;
  const binary = path.join(pkgDir, 'dist', relative);
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

test.describe('electron host', () => {
  test.skip(
    binary === null,
    'Electron binary not installed (cannot be downloaded here): skipping Electron e2e',
  );
  test.skip(
    !existsSync(mainBundle),
    'dist/main/electron-main.cjs missing: run `node scripts/build.mjs` first',
  );

  let app: ElectronApplication;
  let page: Page;
  let home = '';

  test.beforeAll(async () => {
    home = mkdtempSync(path.join(os.tmpdir(), 'cfs-electron-e2e-'));
    app = await _electron.launch({
      executablePath: binary ?? undefined,
      args: [mainBundle, ...(process.platform === 'linux' && process.env['CI'] ? ['--no-sandbox'] : [])],
      cwd: root,
      env: { ...process.env, CLIP_FIELDS_HOME: home, ELECTRON_ENABLE_LOGGING: '1' } as Record<string, string>,
      timeout: 60_000,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  test.afterAll(async () => {
    await app?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test('loads the renderer from app://studio', async () => {
    expect(page.url()).toMatch(/^app:\/\/studio\//);
  });

  test('exposes window.studio and it answers app.info', async () => {
    const info = await page.evaluate(async () => {
      const studio = (
        globalThis as unknown as {
          studio?: { host: string; invoke(c: string, a: unknown): Promise<unknown> };
        }
      ).studio;
      if (!studio) return null;
      return { host: studio.host, result: await studio.invoke('app.info', {}) };
    });
    expect(info).not.toBeNull();
    expect(info?.host).toBe('electron');
    expect(info?.result).toMatchObject({ ok: true, data: { host: 'electron' } });
  });

  test('gives the page no Node.js or Electron globals', async () => {
    const globals = await page.evaluate(() => ({
      require: typeof (globalThis as { require?: unknown }).require,
      process: typeof (globalThis as { process?: unknown }).process,
      module: typeof (globalThis as { module?: unknown }).module,
      ipcRenderer: typeof (globalThis as { ipcRenderer?: unknown }).ipcRenderer,
    }));
    expect(globals).toEqual({
      require: 'undefined',
      process: 'undefined',
      module: 'undefined',
      ipcRenderer: 'undefined',
    });
  });

  test('refuses to open new windows', async () => {
    const opened = await page.evaluate(
      () =>
        (globalThis as unknown as { open(url: string, target: string): unknown }).open(
          'https://example.com/',
          '_blank',
        ) === null,
    );
    expect(opened).toBe(true);
    await page.waitForTimeout(300);
    expect(app.windows()).toHaveLength(1);
  });

  test('blocks navigation away from the app (file://)', async () => {
    const before = page.url();
    await page.evaluate(() => {
      (globalThis as unknown as { location: { href: string } }).location.href = 'file:///etc/passwd';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
  });

  test('enforces the CSP (no eval)', async () => {
    const evalState = await page.evaluate(() => {
      try {
        return eval('1 + 1') === 2 ? 'allowed' : 'odd';
      } catch {
        return 'blocked';
      }
    });
    expect(evalState).toBe('blocked');
  });

  test('does not serve files outside the project through app://project', async () => {
    const status = await page.evaluate(async () => {
      try {
        return (await fetch('app://project/..%2f..%2f..%2fetc%2fpasswd')).status;
      } catch {
        return -1;
      }
    });
    expect([404, -1]).toContain(status);
  });
});
