import { create } from 'zustand';
import type { AppInfo, ProjectSummary } from '../../../../preload/contract';
import type { ConnectionState } from '../../bridge/web';
import { getBridge } from '../../bridge';

export const PANES = ['capture', 'labels', 'training', 'query', 'waypoints', 'report'] as const;
export type PaneId = (typeof PANES)[number];
export const PANE_TITLES: Record<PaneId, string> = {
  capture: 'Capture',
  labels: 'Labels',
  training: 'Training',
  query: 'Query',
  waypoints: 'Waypoints',
  report: 'Report',
};

export type Theme = 'light' | 'dark';
export type Dialog = null | 'help' | 'project-open' | 'project-create';
export interface RecentProject {
  dir: string;
  name: string;
  opened_at: string;
}

const THEME_KEY = 'clip-fields-studio.theme';

export function initialTheme(): Theme {
  try {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === 'light' || saved === 'dark') return saved;
  } catch {
    /* storage unavailable */
  }
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches
    ? 'dark'
    : 'light';
}

interface AppStore {
  connection: ConnectionState;
  reconnectAttempt: number;
  info: AppInfo | null;
  project: ProjectSummary | null;
  recent: RecentProject[];
  pane: PaneId;
  theme: Theme;
  dialog: Dialog;
  menuOpen: boolean;
  /** The latest user-facing error from an action (shown as a dismissable notice). */
  notice: { kind: 'error' | 'info'; text: string } | null;
  busy: boolean;
  setConnection(s: ConnectionState, attempt: number): void;
  setPane(p: PaneId): void;
  setTheme(t: Theme): void;
  toggleTheme(): void;
  setDialog(d: Dialog): void;
  setMenuOpen(o: boolean): void;
  setNotice(n: AppStore['notice']): void;
  setProject(p: ProjectSummary | null): void;
  loadInfo(): Promise<boolean>;
  loadRecent(): Promise<void>;
  openProject(dir: string): Promise<boolean>;
  createProject(dir: string, name: string): Promise<boolean>;
}

export const useApp = create<AppStore>()((set, get) => ({
  connection: 'connecting',
  reconnectAttempt: 0,
  info: null,
  project: null,
  recent: [],
  pane: 'capture',
  theme: initialTheme(),
  dialog: null,
  menuOpen: false,
  notice: null,
  busy: false,
  setConnection: (connection, reconnectAttempt) => set({ connection, reconnectAttempt }),
  setPane: (pane) => set({ pane }),
  setTheme: (theme) => {
    try {
      localStorage.setItem(THEME_KEY, theme);
    } catch {
      /* storage unavailable */
    }
    set({ theme });
  },
  toggleTheme: () => get().setTheme(get().theme === 'dark' ? 'light' : 'dark'),
  setDialog: (dialog) => set({ dialog, menuOpen: false }),
  setMenuOpen: (menuOpen) => set({ menuOpen }),
  setNotice: (notice) => set({ notice }),
  setProject: (project) => set({ project }),
  loadInfo: async () => {
    const r = await getBridge().invoke('app.info', {});
    if (!r.ok) return false;
    set({ info: r.data, project: r.data.project });
    return true;
  },
  loadRecent: async () => {
    const r = await getBridge().invoke('project.recent', {});
    if (r.ok) set({ recent: r.data.items });
  },
  openProject: async (dir) => {
    set({ busy: true });
    const r = await getBridge().invoke('project.open', { dir });
    set({ busy: false });
    if (!r.ok) {
      set({ notice: { kind: 'error', text: `Could not open ${dir}: ${r.message} (${r.code})` } });
      return false;
    }
    set({ project: r.data, dialog: null, menuOpen: false, notice: null });
    void get().loadRecent();
    return true;
  },
  createProject: async (dir, name) => {
    set({ busy: true });
    const r = await getBridge().invoke('project.create', name.trim() ? { dir, name: name.trim() } : { dir });
    set({ busy: false });
    if (!r.ok) {
      set({
        notice: { kind: 'error', text: `Could not create a project in ${dir}: ${r.message} (${r.code})` },
      });
      return false;
    }
    set({ project: r.data, dialog: null, menuOpen: false, notice: null });
    void get().loadRecent();
    return true;
  },
}));
