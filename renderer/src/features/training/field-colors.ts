/**
 * "Colour map by field top label": the decoded `field/top-labels.bin` lives here (outside React and
 * zustand); `useFieldColors` holds only the toggle, load status and a revision counter.
 */
import { create } from 'zustand';
import { fetchAsset } from '../../lib/assets';
import { useApp } from '../app/store';
import { decodeTopLabels, TOP_LABELS_ASSET, topLabelCounts, type TopLabels } from './top-labels';

interface FieldColorsStore {
  enabled: boolean;
  state: 'none' | 'loading' | 'ready' | 'error';
  error: string | null;
  /** Bumped whenever the data changes. */
  rev: number;
  /** Legend: label text -> map points whose top label it is (largest first), and unlabeled points. */
  legend: { label: string; points: number }[];
  unlabeled: number;
  setEnabled(v: boolean): void;
  reload(): Promise<void>;
  reset(): void;
}

let data: TopLabels | null = null;
let load = 0;

export function getTopLabels(): TopLabels | null {
  return data;
}

export const useFieldColors = create<FieldColorsStore>()((set, get) => ({
  enabled: false,
  state: 'none',
  error: null,
  rev: 0,
  legend: [],
  unlabeled: 0,
  setEnabled: (enabled) => {
    set({ enabled });
    if (enabled && get().state !== 'ready' && get().state !== 'loading') void get().reload();
  },
  reload: async () => {
    const my = ++load;
    set({ state: 'loading', error: null });
    try {
      const buf = await fetchAsset(TOP_LABELS_ASSET, { cache: false });
      if (my !== load) return;
      const next = decodeTopLabels(buf, useApp.getState().project?.map?.points ?? null);
      const { counts, none } = topLabelCounts(next);
      data = next;
      set({
        state: 'ready',
        rev: get().rev + 1,
        legend: [...counts]
          .filter(([, n]) => n > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([label, points]) => ({ label, points })),
        unlabeled: none,
      });
    } catch (err) {
      if (my !== load) return;
      data = null;
      const msg = err instanceof Error ? err.message : String(err);
      set({
        state: 'error',
        rev: get().rev + 1,
        error: /HTTP 404/.test(msg) ? 'the field has no query cache yet — press “Evaluate field” first' : msg,
      });
    }
  },
  reset: () => {
    load++;
    data = null;
    set({ state: 'none', error: null, rev: get().rev + 1, legend: [], unlabeled: 0 });
  },
}));
