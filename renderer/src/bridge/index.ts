/**
 * Picks the bridge at start: Electron's preload exposes `window.studio`; otherwise the page was
 * served by the web host and talks to it over a WebSocket.
 */
import type { StudioBridge } from '../../../preload/contract';
import { rpcUrlFor, WebBridge, type ConnectionState } from './web';

/** Optional extras a host bridge may expose beyond the contract (feature-detected). */
export interface BridgeExtras {
  /** Native file/folder picker (Electron). Resolves to an absolute path or null when cancelled. */
  pickPath?: (opts: {
    kind: 'file' | 'directory';
    title?: string;
    filters?: { name: string; extensions: string[] }[];
  }) => Promise<string | null>;
}

export type HostBridge = StudioBridge & BridgeExtras;

declare global {
  interface Window {
    studio?: HostBridge;
  }
}

let bridge: HostBridge | null = null;

export function getBridge(): HostBridge {
  if (bridge) return bridge;
  if (typeof window !== 'undefined' && window.studio && typeof window.studio.invoke === 'function') {
    const native = window.studio;
    const pick = native.pick?.bind(native);
    bridge = {
      host: native.host,
      invoke: native.invoke.bind(native),
      onEvent: native.onEvent.bind(native),
      assetUrl: native.assetUrl.bind(native),
      ...(native.onMenu ? { onMenu: native.onMenu.bind(native) } : {}),
      ...(pick
        ? {
            pickPath: async (opts: { kind: 'file' | 'directory' }) => {
              const r = await pick(opts.kind === 'file' ? 'capture-file' : 'folder');
              return r.ok ? r.data.path : null;
            },
          }
        : {}),
    } as HostBridge;
  } else {
    const { url, token } = rpcUrlFor(window.location);
    bridge = new WebBridge({ url, token });
  }
  return bridge;
}

/** Tests and storybook-like harnesses can inject a bridge. */
export function setBridge(b: HostBridge | null): void {
  bridge = b;
}

/** Connection changes for the web bridge; Electron IPC is always 'open'. */
export function onConnection(listener: (s: ConnectionState, attempt: number) => void): () => void {
  const b = getBridge();
  if (b instanceof WebBridge) return b.onConnection(listener);
  listener('open', 0);
  return () => undefined;
}

export function canPickPath(): boolean {
  return typeof getBridge().pickPath === 'function';
}
