/**
 * The Electron IPC channel names and the few Electron-only bridge additions, shared by the main
 * process (main.ts) and the sandboxed preload. No electron import: the preload bundle and tests
 * may import this file.
 */
import type { Result, StudioBridge } from '../../../preload/contract';

/** renderer -> main: `(channel: string, args: unknown) => Result<unknown>` (never rejects). */
export const IPC_INVOKE = 'studio:invoke';
/** main -> renderer: one StudioEvent per message. */
export const IPC_EVENT = 'studio:event';
/** renderer -> main: `(kind: PickKind) => Result<{ path: string | null }>`: a native open dialog. */
export const IPC_PICK = 'studio:pick';
/** main -> renderer: a MenuCommand chosen in the application menu that the renderer carries out. */
export const IPC_MENU = 'studio:menu';

export const PICK_KINDS = ['capture-file', 'folder'] as const;
export type PickKind = (typeof PICK_KINDS)[number];
export type PickResult = Result<{ path: string | null }>;

export function isPickKind(value: unknown): value is PickKind {
  return typeof value === 'string' && (PICK_KINDS as readonly string[]).includes(value);
}

/** Menu items that only change renderer state (layout, theme) are forwarded as these commands. */
export const MENU_COMMANDS = [
  'view.pane.frames',
  'view.pane.jobs',
  'view.pane.problems',
  'view.pane.query',
  'view.layout.reset',
  'view.theme.system',
  'view.theme.light',
  'view.theme.dark',
] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

export function isMenuCommand(value: unknown): value is MenuCommand {
  return typeof value === 'string' && (MENU_COMMANDS as readonly string[]).includes(value);
}

/** `window.studio` in Electron: the host-neutral bridge plus a native file picker and menu commands. */
export interface ElectronStudioBridge extends StudioBridge {
  readonly host: 'electron';
  pick(kind: PickKind): Promise<PickResult>;
  onMenu(listener: (command: MenuCommand) => void): () => void;
}

/** `app://project/<segments>`: each segment percent-encoded, empty segments dropped. */
export function projectAssetUrl(projectRelativePath: string): string {
  const segments = String(projectRelativePath)
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => encodeURIComponent(segment));
  return `app://project/${segments.join('/')}`;
}
