import { create } from 'zustand';
import type { Problem } from '../../../../preload/contract';
import { getBridge } from '../../bridge';

/** Keep the newest problems only; a runaway producer must not grow the list without bound. */
export const MAX_PROBLEMS = 1000;

interface ProblemsStore {
  problems: Problem[];
  open: boolean;
  setOpen(o: boolean): void;
  load(): Promise<void>;
  add(p: Problem): void;
  clear(): Promise<void>;
}

export const useProblems = create<ProblemsStore>()((set, get) => ({
  problems: [],
  open: false,
  setOpen: (open) => set({ open }),
  load: async () => {
    const r = await getBridge().invoke('problems.list', {});
    if (r.ok) set({ problems: r.data.problems.slice(-MAX_PROBLEMS) });
  },
  add: (p) => {
    const cur = get().problems;
    if (cur.some((q) => q.id === p.id)) return;
    set({ problems: [...cur, p].slice(-MAX_PROBLEMS) });
  },
  clear: async () => {
    const r = await getBridge().invoke('problems.clear', {});
    if (r.ok) set({ problems: [] });
  },
}));
