/**
 * The sandboxed preload (bundled to dist/preload/preload.cjs). It exposes exactly one object,
 * `window.studio`, through contextBridge; the page never sees ipcRenderer or any Electron object.
 *
 * Only type imports from the contract: a sandboxed preload can load nothing but 'electron' at run
 * time, and zod must not be bundled here. The channel names come from a dependency-free module.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ChannelArgs, ChannelName, ChannelResult, ErrorCode, Result, StudioEvent } from './contract';
import {
  IPC_EVENT,
  IPC_INVOKE,
  IPC_MENU,
  IPC_PICK,
  isMenuCommand,
  isPickKind,
  projectAssetUrl,
  type ElectronStudioBridge,
  type MenuCommand,
  type PickKind,
  type PickResult,
} from '../main/hosts/electron/ipc-channels';

function failure(code: ErrorCode, err: unknown): { ok: false; code: ErrorCode; message: string } {
  return { ok: false, code, message: err instanceof Error ? err.message : String(err) };
}

const eventListeners = new Set<(event: StudioEvent) => void>();
const menuListeners = new Set<(command: MenuCommand) => void>();

function dispatch<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (err) {
      console.error('studio listener failed', err);
    }
  }
}

ipcRenderer.on(IPC_EVENT, (_event: IpcRendererEvent, studioEvent: StudioEvent) => {
  if (studioEvent !== null && typeof studioEvent === 'object') dispatch(eventListeners, studioEvent);
});
ipcRenderer.on(IPC_MENU, (_event: IpcRendererEvent, command: unknown) => {
  if (isMenuCommand(command)) dispatch(menuListeners, command);
});

function subscribe<T>(listeners: Set<(value: T) => void>, listener: unknown): () => void {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  const fn = listener as (value: T) => void;
  listeners.add(fn);
  let active = true;
  return () => {
    if (!active) return;
    active = false;
    listeners.delete(fn);
  };
}

const bridge: ElectronStudioBridge = {
  host: 'electron',
  async invoke<C extends ChannelName>(channel: C, args: ChannelArgs<C>): Promise<Result<ChannelResult<C>>> {
    if (typeof channel !== 'string') return failure('BAD_ARGS', 'channel must be a string');
    try {
      return (await ipcRenderer.invoke(IPC_INVOKE, channel, args)) as Result<ChannelResult<C>>;
    } catch (err) {
      // Only reachable when IPC itself fails (e.g. arguments that cannot be cloned).
      return failure('INTERNAL', err);
    }
  },
  onEvent(listener: (event: StudioEvent) => void): () => void {
    return subscribe(eventListeners, listener);
  },
  assetUrl(projectRelativePath: string): string {
    return projectAssetUrl(projectRelativePath);
  },
  async pick(kind: PickKind): Promise<PickResult> {
    if (!isPickKind(kind)) return failure('BAD_ARGS', "kind must be 'capture-file' or 'folder'");
    try {
      return (await ipcRenderer.invoke(IPC_PICK, kind)) as PickResult;
    } catch (err) {
      return failure('INTERNAL', err);
    }
  },
  onMenu(listener: (command: MenuCommand) => void): () => void {
    return subscribe(menuListeners, listener);
  },
};

contextBridge.exposeInMainWorld('studio', bridge);
