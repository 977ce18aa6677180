/** Keyboard shortcut table (shown by `?`) and the pure key -> action mapping. */
export type ShortcutAction =
  | { type: 'pane'; index: number }
  | { type: 'help' }
  | { type: 'open-project' }
  | { type: 'frame'; delta: number }
  | { type: 'theme' }
  | { type: 'escape' };

export const SHORTCUTS: readonly { keys: string; what: string }[] = [
  { keys: '1 – 5', what: 'Capture, Labels, Training, Query, Waypoints' },
  { keys: '6', what: 'Report' },
  { keys: '[ / ]', what: 'Previous / next frame' },
  { keys: 'Ctrl/⌘ + O', what: 'Open project' },
  { keys: 't', what: 'Toggle light / dark theme' },
  { keys: '?', what: 'Show this help' },
  { keys: 'Esc', what: 'Close dialogs and menus' },
];

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** True when focus is in a text field (single-key shortcuts are then ignored). */
  inTextField: boolean;
}

export function shortcutFor(e: KeyLike): ShortcutAction | null {
  if (e.key === 'Escape') return { type: 'escape' };
  if ((e.ctrlKey || e.metaKey) && !e.altKey && (e.key === 'o' || e.key === 'O'))
    return { type: 'open-project' };
  if (e.ctrlKey || e.metaKey || e.altKey || e.inTextField) return null;
  if (e.key >= '1' && e.key <= '6' && e.key.length === 1) return { type: 'pane', index: Number(e.key) - 1 };
  switch (e.key) {
    case '?':
      return { type: 'help' };
    case '[':
      return { type: 'frame', delta: -1 };
    case ']':
      return { type: 'frame', delta: 1 };
    case 't':
    case 'T':
      return { type: 'theme' };
    default:
      return null;
  }
}

export function isTextField(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (el as HTMLInputElement).type;
    return !['checkbox', 'radio', 'range', 'button', 'submit', 'reset'].includes(type);
  }
  return (el as HTMLElement).isContentEditable === true;
}
