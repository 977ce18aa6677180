/**
 * The Electron entry (bundled to dist/main/electron-main.cjs). Everything Electron-specific lives
 * in main/hosts/electron; the studio itself is the host-agnostic core.
 *
 * Security posture: sandboxed, context-isolated renderer served from app://studio with a strict
 * CSP; no navigation, new windows, webviews or permissions; IPC only from our own top-level frame;
 * project assets only through the core's contained `readAsset`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  protocol,
  session,
  shell,
  type IpcMainInvokeEvent,
  type OpenDialogOptions,
  type WebContents,
} from 'electron';
import type { Result } from '../../../preload/contract';
import { createStudio } from '../../core/studio';
import type { StudioApi } from '../../core/studio-types';
import { buildCsp } from '../security/csp';
import { APP_ORIGIN, APP_SCHEME, isNavigationAllowed, isTrustedSender } from '../security/navigation';
import { permissionDecision } from '../security/permissions';
import { secureWebPreferences } from '../security/web-preferences';
import { createAppProtocolHandler } from './app-protocol';
import { IPC_EVENT, IPC_INVOKE, IPC_MENU, IPC_PICK, type MenuCommand, type PickKind } from './ipc-channels';
import { createInvokeHandler, createPickHandler } from './ipc-handlers';
import { parseLaunchArgs } from './launch-args';
import { buildAppMenu } from './menu';
import { utilityProcessSpawnWorker } from './worker-runtime';

const PRODUCT_NAME = 'CLIP-Fields Studio';
const CSP = buildCsp();
const DISPOSE_TIMEOUT_MS = 5000;

// Must happen before 'ready'.
protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true },
  },
]);
app.enableSandbox();
// Same variable as the CLI / web host: tests and portable setups keep all state in one folder.
const homeOverride = process.env['CLIP_FIELDS_HOME'];
if (homeOverride !== undefined && homeOverride.length > 0)
  app.setPath('userData', path.resolve(homeOverride));

let studio: StudioApi | null = null;
let mainWindow: BrowserWindow | null = null;
/** Captures opened (file association, second instance) before the studio was ready. */
const pendingCaptures: string[] = [];

function userArgs(argv: readonly string[]): string[] {
  // Packaged: [exe, ...args]; unpackaged: [electron, script, ...args].
  return argv.slice(app.isPackaged ? 1 : 2);
}

function appRoot(): string {
  return app.getAppPath();
}

function resourcesDir(): string {
  return app.isPackaged ? process.resourcesPath : path.join(appRoot(), 'resources');
}

function logError(context: string, err: unknown): void {
  console.error(`[electron-host] ${context}:`, err instanceof Error ? (err.stack ?? err.message) : err);
}

// ---------------------------------------------------------------------------------------------
// Hardening that applies to every webContents
// ---------------------------------------------------------------------------------------------

app.on('web-contents-created', (_event, contents: WebContents) => {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (details) => {
    if (!isNavigationAllowed(details.url, APP_ORIGIN)) details.preventDefault();
  });
  contents.on('will-frame-navigate', (details) => {
    if (!isNavigationAllowed(details.url, APP_ORIGIN)) details.preventDefault();
  });
  contents.on('will-redirect', (details) => {
    if (!isNavigationAllowed(details.url, APP_ORIGIN)) details.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

function hardenSession(): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permissionDecision(permission)),
  );
  ses.setPermissionCheckHandler((_contents, permission) => permissionDecision(permission));
  ses.setDevicePermissionHandler(() => false);
  ses.on('will-download', (event) => event.preventDefault());
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
}

// ---------------------------------------------------------------------------------------------
// Dialogs, menu actions
// ---------------------------------------------------------------------------------------------

async function showPicker(
  owner: BrowserWindow | null,
  kind: PickKind,
  title?: string,
): Promise<string | null> {
  const options: OpenDialogOptions =
    kind === 'folder'
      ? { title: title ?? 'Choose a folder', properties: ['openDirectory', 'createDirectory'] }
      : {
          title: title ?? 'Import a capture',
          properties: ['openFile'],
          filters: [
            { name: 'Record3D capture', extensions: ['r3d'] },
            { name: 'All files', extensions: ['*'] },
          ],
        };
  const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
  if (result.canceled) return null;
  return result.filePaths[0] ?? null;
}

async function reportFailure(what: string, result: Result<unknown>): Promise<void> {
  if (result.ok) return;
  const options = {
    type: 'error' as const,
    title: PRODUCT_NAME,
    message: what,
    detail: `${result.code}: ${result.message}`,
  };
  if (mainWindow) await dialog.showMessageBox(mainWindow, options);
  else await dialog.showMessageBox(options);
}

async function runStudio(what: string, channel: string, args: unknown): Promise<void> {
  if (!studio) return;
  await reportFailure(what, await studio.invoke(channel, args));
}

async function importCapture(capture: string): Promise<void> {
  if (!studio) {
    pendingCaptures.push(capture);
    return;
  }
  const current = await studio.invoke('project.current', {});
  if (!current.ok || current.data === null) {
    const options = {
      type: 'info' as const,
      title: PRODUCT_NAME,
      message: 'Open or create a project first',
      detail: `Then import ${path.basename(capture)} with File > Import Capture.`,
    };
    if (mainWindow) await dialog.showMessageBox(mainWindow, options);
    else await dialog.showMessageBox(options);
    return;
  }
  await runStudio('Could not start the import', 'jobs.start', { kind: 'import', params: { capture } });
}

function sendMenuCommand(command: MenuCommand): void {
  const contents = mainWindow?.webContents;
  if (contents && !contents.isDestroyed() && isTrustedSender(contents.mainFrame.url, true, APP_ORIGIN)) {
    contents.send(IPC_MENU, command);
  }
}

function installMenu(): void {
  const menu = buildAppMenu(
    {
      newProject: () => {
        void (async () => {
          const dir = await showPicker(mainWindow, 'folder', 'Choose an empty folder for the new project');
          if (dir) await runStudio('Could not create the project', 'project.create', { dir });
        })().catch((err: unknown) => logError('new project', err));
      },
      openProject: () => {
        void (async () => {
          const dir = await showPicker(mainWindow, 'folder', 'Open a project folder');
          if (dir) await runStudio('Could not open the project', 'project.open', { dir });
        })().catch((err: unknown) => logError('open project', err));
      },
      importCapture: () => {
        void (async () => {
          const capture = await showPicker(mainWindow, 'capture-file');
          if (capture) await importCapture(capture);
        })().catch((err: unknown) => logError('import capture', err));
      },
      command: sendMenuCommand,
      about: () => {
        const options = {
          type: 'info' as const,
          title: `About ${PRODUCT_NAME}`,
          message: `${PRODUCT_NAME} ${app.getVersion()}`,
          detail: `Electron ${process.versions.electron ?? '?'} · Chromium ${process.versions.chrome ?? '?'} · Node ${process.versions.node}`,
        };
        void (mainWindow ? dialog.showMessageBox(mainWindow, options) : dialog.showMessageBox(options)).catch(
          (err: unknown) => logError('about', err),
        );
      },
      showDataFolder: () => {
        void shell
          .openPath(app.getPath('userData'))
          .catch((err: unknown) => logError('show data folder', err));
      },
    },
    { isMac: process.platform === 'darwin', devTools: !app.isPackaged },
  );
  Menu.setApplicationMenu(menu);
}

// ---------------------------------------------------------------------------------------------
// Window
// ---------------------------------------------------------------------------------------------

function createWindow(): BrowserWindow {
  const preload = path.join(appRoot(), 'dist', 'preload', 'preload.cjs');
  const icon = path.join(resourcesDir(), 'icons', '512x512.png');
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: PRODUCT_NAME,
    backgroundColor: '#111418',
    ...(process.platform === 'linux' && existsSync(icon) ? { icon } : {}),
    webPreferences: { ...secureWebPreferences(preload) },
  });
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  void window.loadURL(`${APP_ORIGIN}/index.html`).catch((err: unknown) => logError('load renderer', err));
  return window;
}

function focusMainWindow(): void {
  if (!mainWindow) {
    mainWindow = createWindow();
    return;
  }
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

// ---------------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------------

async function start(): Promise<void> {
  const launch = parseLaunchArgs(userArgs(process.argv), process.cwd());
  pendingCaptures.push(...launch.captures);

  const instance = await createStudio({
    warmQueries: true,
    host: 'electron',
    userDataDir: app.getPath('userData'),
    resourcesDir: resourcesDir(),
    ...(launch.projectDir ? { projectDir: launch.projectDir } : {}),
    openDemo: launch.demo,
    spawnWorker: utilityProcessSpawnWorker(),
  });
  studio = instance;

  hardenSession();
  protocol.handle(
    APP_SCHEME,
    createAppProtocolHandler({
      rendererDir: path.join(appRoot(), 'dist', 'renderer'),
      studio: instance,
      csp: CSP,
      onError: (err, url) => logError(`app:// ${url}`, err),
    }),
  );

  const invokeHandler = createInvokeHandler(instance, APP_ORIGIN);
  ipcMain.handle(IPC_INVOKE, (event, channel: unknown, args: unknown) => invokeHandler(event, channel, args));
  const pickHandler = createPickHandler<IpcMainInvokeEvent>(
    (event, kind) => showPicker(BrowserWindow.fromWebContents(event.sender), kind),
    APP_ORIGIN,
  );
  ipcMain.handle(IPC_PICK, (event, kind: unknown) => pickHandler(event, kind));

  instance.onEvent((studioEvent) => {
    for (const window of BrowserWindow.getAllWindows()) {
      const contents = window.webContents;
      if (contents.isDestroyed()) continue;
      if (!isTrustedSender(contents.mainFrame.url, true, APP_ORIGIN)) continue;
      contents.send(IPC_EVENT, studioEvent);
    }
  });

  installMenu();
  mainWindow = createWindow();

  for (const capture of pendingCaptures.splice(0)) await importCapture(capture);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv, workingDirectory) => {
    focusMainWindow();
    const launch = parseLaunchArgs(userArgs(argv), workingDirectory);
    void (async () => {
      if (launch.projectDir && studio)
        await runStudio('Could not open the project', 'project.open', { dir: launch.projectDir });
      for (const capture of launch.captures) await importCapture(capture);
    })().catch((err: unknown) => logError('second instance', err));
  });

  // macOS file associations (may fire before 'ready').
  app.on('open-file', (event, filePath) => {
    event.preventDefault();
    void importCapture(filePath).catch((err: unknown) => logError('open file', err));
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  app.on('activate', () => {
    if (studio && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });

  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed || !studio) return;
    event.preventDefault();
    const current = studio;
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, DISPOSE_TIMEOUT_MS));
    void Promise.race([current.dispose(), timeout])
      .catch((err: unknown) => logError('dispose', err))
      .finally(() => {
        disposed = true;
        app.quit();
      });
  });

  app
    .whenReady()
    .then(start)
    .catch((err: unknown) => {
      logError('start-up', err);
      dialog.showErrorBox(
        PRODUCT_NAME,
        `The studio could not start:\n${err instanceof Error ? err.message : String(err)}`,
      );
      app.exit(1);
    });
}
