import { create } from 'zustand';

interface QueryStore {
  text: string;
  history: string[];
  setText(t: string): void;
  remember(t: string): void;
}

export const useQuery = create<QueryStore>()((set, get) => ({
  text: '',
  history: [],
  setText: (text) => set({ text }),
  remember: (t) => {
    const q = t.trim();
    if (!q) return;
    set({ history: [q, ...get().history.filter((h) => h !== q)].slice(0, 20) });
  },
}));
