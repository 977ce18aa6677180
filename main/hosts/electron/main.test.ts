/**
 * Wiring of the Electron entry, checked against a recording stand-in for the 'electron' module
 * (vi.mock with a factory: the real package, whose binary cannot be downloaded here, is never
 * loaded). The studio core is replaced by a fake too.
 */
import type { EventEmitter } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { StudioEvent } from '../../../preload/contract';

interface FakeWebContents extends EventEmitter {
  mainFrame: { url: string };
  sent: [string, unknown][];
  windowOpenHandler: (() => unknown) | null;
  setWindowOpenHandler(fn: () => unknown): void;
  send(channel: string, value: unknown): void;
  isDestroyed(): boolean;
}

const rec = vi.hoisted(() => ({
  privileged: [] as unknown[],
  sandboxEnabled: false,
  protocolHandlers: new Map<string, (req: Request) => Promise<Response>>(),
  ipcHandlers: new Map<string, (...args: unknown[]) => unknown>(),
  permissionRequest: null as null | ((wc: unknown, permission: string, cb: (allow: boolean) => void) => void),
  permissionCheck: null as null | ((wc: unknown, permission: string) => boolean),
  headersReceived: null as
    null | ((details: { responseHeaders?: Record<string, string[]> }, cb: (r: unknown) => void) => void),
  windows: [] as {
    options: { webPreferences: Record<string, unknown> };
    loaded: string[];
    webContents: unknown;
  }[],
  menuSet: false,
  studioOptions: null as null | Record<string, unknown>,
  studioCalls: [] as [string, unknown][],
  studioListeners: [] as ((e: unknown) => void)[],
  app: null as unknown as EventEmitter,
}));

vi.mock('electron', async () => {
  const { EventEmitter: Emitter } = await import('node:events');
  const makeContents = () => {
    const contents = new Emitter() as FakeWebContents;
    contents.mainFrame = { url: '' };
    contents.sent = [];
    contents.windowOpenHandler = null;
    contents.setWindowOpenHandler = (fn) => {
      contents.windowOpenHandler = fn;
    };
    contents.send = (channel, value) => {
      contents.sent.push([channel, value]);
    };
    contents.isDestroyed = () => false;
    return contents;
  };
  const app = Object.assign(new Emitter(), {
    isPackaged: false,
    enableSandbox: () => {
      rec.sandboxEnabled = true;
    },
    setPath: () => undefined,
    getPath: () => os.tmpdir(),
    getAppPath: () => '/opt/studio-app',
    getVersion: () => '0.1.0',
    requestSingleInstanceLock: () => true,
    whenReady: () => Promise.resolve(),
    quit: () => undefined,
    exit: () => undefined,
  });
  rec.app = app;
  class BrowserWindow extends Emitter {
    static all: BrowserWindow[] = [];
    static getAllWindows = () => BrowserWindow.all;
    static fromWebContents = () => BrowserWindow.all[0] ?? null;
    webContents = makeContents();
    loaded: string[] = [];
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      super();
      BrowserWindow.all.push(this);
      rec.windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      this.webContents.mainFrame.url = url;
      return Promise.resolve();
    }
    isMinimized = () => false;
    restore = () => undefined;
    focus = () => undefined;
    show = () => undefined;
  }
  const session = {
    defaultSession: Object.assign(new Emitter(), {
      setPermissionRequestHandler: (fn: typeof rec.permissionRequest) => {
        rec.permissionRequest = fn;
      },
      setPermissionCheckHandler: (fn: typeof rec.permissionCheck) => {
        rec.permissionCheck = fn;
      },
      setDevicePermissionHandler: () => undefined,
      webRequest: {
        onHeadersReceived: (fn: typeof rec.headersReceived) => {
          rec.headersReceived = fn;
        },
      },
    }),
  };
  return {
    app,
    BrowserWindow,
    session,
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => rec.privileged.push(...schemes),
      handle: (scheme: string, fn: (req: Request) => Promise<Response>) =>
        rec.protocolHandlers.set(scheme, fn),
    },
    ipcMain: {
      handle: (channel: string, fn: (...args: unknown[]) => unknown) => rec.ipcHandlers.set(channel, fn),
    },
    Menu: {
      buildFromTemplate: (template: unknown) => ({ template }),
      setApplicationMenu: () => {
        rec.menuSet = true;
      },
    },
    dialog: {
      showOpenDialog: () => Promise.resolve({ canceled: true, filePaths: [] }),
      showMessageBox: () => Promise.resolve({ response: 0 }),
      showErrorBox: () => undefined,
    },
    shell: { openPath: () => Promise.resolve('') },
    utilityProcess: { fork: () => new Emitter() },
  };
});

vi.mock('../../core/studio', () => ({
  createStudio: (options: Record<string, unknown>) => {
    rec.studioOptions = options;
    return Promise.resolve({
      invoke: (channel: string, args: unknown) => {
        rec.studioCalls.push([channel, args]);
        return Promise.resolve({ ok: true, data: channel === 'project.current' ? null : { channel } });
      },
      onEvent: (fn: (e: unknown) => void) => {
        rec.studioListeners.push(fn);
        return () => undefined;
      },
      readAsset: () => Promise.resolve(null),
      dispose: () => Promise.resolve(),
    });
  },
}));

async function settle(): Promise<void> {
  for (let i = 0; i < 20 && rec.windows.length === 0; i += 1) await new Promise((r) => setTimeout(r, 5));
}

beforeAll(async () => {
  await import('./main');
  await settle();
});

function contents(): FakeWebContents {
  const window = rec.windows[0];
  if (!window) throw new Error('no window was created');
  return window.webContents as FakeWebContents;
}

describe('electron main wiring', () => {
  it('registers app:// as a privileged standard, secure scheme and enables the sandbox', () => {
    expect(rec.privileged).toEqual([
      {
        scheme: 'app',
        privileges: expect.objectContaining({
          standard: true,
          secure: true,
          supportFetchAPI: true,
          stream: true,
        }) as unknown,
      },
    ]);
    expect(rec.sandboxEnabled).toBe(true);
    expect(rec.protocolHandlers.has('app')).toBe(true);
  });

  it('starts the core as the electron host with utility-process workers', () => {
    expect(rec.studioOptions).toMatchObject({
      host: 'electron',
      resourcesDir: path.join('/opt/studio-app', 'resources'),
    });
    expect(typeof rec.studioOptions?.['spawnWorker']).toBe('function');
  });

  it('creates one hardened window loading app://studio', () => {
    expect(rec.windows).toHaveLength(1);
    const prefs = rec.windows[0]?.options.webPreferences;
    expect(prefs).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webviewTag: false,
    });
    expect(prefs?.['preload']).toBe(path.join('/opt/studio-app', 'dist', 'preload', 'preload.cjs'));
    expect(rec.windows[0]?.loaded).toEqual(['app://studio/index.html']);
    expect(rec.menuSet).toBe(true);
  });

  it('denies new windows, foreign navigation and webviews for every webContents', () => {
    const wc = contents();
    expect(wc.windowOpenHandler?.()).toEqual({ action: 'deny' });
    const navigate = (event: string, url: string) => {
      let prevented = false;
      wc.emit(event, { url, preventDefault: () => (prevented = true) }, url);
      return prevented;
    };
    expect(navigate('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(navigate('will-navigate', 'https://example.com/')).toBe(true);
    expect(navigate('will-redirect', 'http://localhost/')).toBe(true);
    expect(navigate('will-frame-navigate', 'data:text/html,x')).toBe(true);
    expect(navigate('will-navigate', 'app://studio/index.html#/jobs')).toBe(false);
    let webviewPrevented = false;
    wc.emit('will-attach-webview', { preventDefault: () => (webviewPrevented = true) }, {}, {});
    expect(webviewPrevented).toBe(true);
  });

  it('denies permissions except sanitized clipboard writes', () => {
    const answers: boolean[] = [];
    rec.permissionRequest?.({}, 'media', (allow) => answers.push(allow));
    rec.permissionRequest?.({}, 'geolocation', (allow) => answers.push(allow));
    expect(answers).toEqual([false, false]);
    expect(rec.permissionCheck?.({}, 'notifications')).toBe(false);
    expect(rec.permissionCheck?.({}, 'clipboard-sanitized-write')).toBe(true);
  });

  it('adds the CSP to every response', () => {
    let headers: unknown = null;
    rec.headersReceived?.({ responseHeaders: { 'X-A': ['1'] } }, (r) => (headers = r));
    expect(headers).toEqual({
      responseHeaders: {
        'X-A': ['1'],
        'Content-Security-Policy': [expect.stringContaining("object-src 'none'") as unknown],
      },
    });
  });

  it('answers studio:invoke only for the top-level app frame', async () => {
    const wc = contents();
    const handler = rec.ipcHandlers.get('studio:invoke');
    expect(handler).toBeDefined();
    const trusted = { senderFrame: wc.mainFrame, sender: wc };
    const sub = { senderFrame: { url: 'app://studio/index.html' }, sender: wc };
    expect(await handler?.(trusted, 'app.info', {})).toEqual({ ok: true, data: { channel: 'app.info' } });
    expect(await handler?.(sub, 'app.info', {})).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(rec.studioCalls.filter(([c]) => c === 'app.info')).toHaveLength(1);
    expect(await rec.ipcHandlers.get('studio:pick')?.(sub, 'folder')).toMatchObject({
      ok: false,
      code: 'FORBIDDEN',
    });
    expect(await rec.ipcHandlers.get('studio:pick')?.(trusted, 'folder')).toEqual({
      ok: true,
      data: { path: null },
    });
  });

  it('forwards studio events to the app window', () => {
    const event: StudioEvent = { type: 'project.changed', project: null };
    for (const listener of rec.studioListeners) listener(event);
    expect(contents().sent).toContainEqual(['studio:event', event]);
  });
});
