import { create } from 'zustand';
import type { QueryResultView } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { fetchAsset } from '../../lib/assets';
import { useApp } from '../app/store';
import { decodeScores } from './heatmap';

export type QueryMode = 'auto' | 'semantic' | 'visual';
const HISTORY_KEY = 'clip-fields-studio.query-history';

function loadHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 30) : [];
  } catch {
    return [];
  }
}

/** The latest heatmap's scores (one per map point), outside React state; `heatmapRev` tracks it. */
let scores: Float32Array | null = null;
export function getHeatmapScores(): Float32Array | null {
  return scores;
}

interface QueryStore {
  text: string;
  history: string[];
  mode: QueryMode;
  /** Visual share of the score in auto mode (null = let main decide). */
  weight: number | null;
  running: boolean;
  result: QueryResultView | null;
  error: string | null;
  unavailable: boolean;
  heatmapRev: number;
  heatmapState: 'none' | 'loading' | 'ready' | 'error';
  heatmapError: string | null;
  showHeatmap: boolean;
  threshold: number;
  hitsOnly: boolean;
  setText(t: string): void;
  remember(t: string): void;
  setMode(m: QueryMode): void;
  setWeight(w: number | null): void;
  setShowHeatmap(v: boolean): void;
  setThreshold(v: number): void;
  setHitsOnly(v: boolean): void;
  run(text?: string): Promise<void>;
  reset(): void;
}

let runId = 0;

export const useQuery = create<QueryStore>()((set, get) => ({
  text: '',
  history: loadHistory(),
  mode: 'auto',
  weight: null,
  running: false,
  result: null,
  error: null,
  unavailable: false,
  heatmapRev: 0,
  heatmapState: 'none',
  heatmapError: null,
  showHeatmap: true,
  threshold: 0,
  hitsOnly: false,
  setText: (text) => set({ text }),
  remember: (t) => {
    const q = t.trim();
    if (!q) return;
    const history = [q, ...get().history.filter((h) => h !== q)].slice(0, 30);
    set({ history });
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    } catch {
      /* storage unavailable */
    }
  },
  setMode: (mode) => set({ mode }),
  setWeight: (weight) => set({ weight }),
  setShowHeatmap: (showHeatmap) => set({ showHeatmap }),
  setThreshold: (threshold) => set({ threshold }),
  setHitsOnly: (hitsOnly) => set({ hitsOnly }),
  run: async (textArg) => {
    const text = (textArg ?? get().text).trim();
    if (!text) {
      set({ error: 'Type what to look for, e.g. “the red mug”.' });
      return;
    }
    const my = ++runId;
    set({ running: true, error: null, text });
    get().remember(text);
    const w = get().weight;
    const r = await getBridge().invoke('query.run', {
      text,
      mode: get().mode,
      top: 10,
      ...(get().mode === 'auto' && w !== null ? { weight: w } : {}),
    });
    if (my !== runId) return;
    set({ running: false });
    if (!r.ok) {
      set({ error: `${r.message} (${r.code})`, unavailable: r.code === 'UNKNOWN_CHANNEL', result: null });
      return;
    }
    const res = r.data;
    const top = res.hits[0]?.score;
    set({
      result: res,
      threshold:
        top !== undefined
          ? Math.max(res.score_range[0], top - (res.score_range[1] - res.score_range[0]) * 0.25)
          : res.score_range[1],
    });
    const mapPoints = useApp.getState().project?.map?.points ?? 0;
    set({ heatmapState: 'loading', heatmapError: null });
    try {
      const buf = await fetchAsset(res.heatmap, { cache: false });
      if (my !== runId) return;
      scores = decodeScores(buf, mapPoints, res.heatmap);
      set({ heatmapState: 'ready', heatmapRev: get().heatmapRev + 1 });
    } catch (err) {
      if (my !== runId) return;
      scores = null;
      set({
        heatmapState: 'error',
        heatmapError: err instanceof Error ? err.message : String(err),
        heatmapRev: get().heatmapRev + 1,
      });
    }
  },
  reset: () => {
    runId++;
    scores = null;
    set({
      result: null,
      error: null,
      running: false,
      heatmapState: 'none',
      heatmapRev: get().heatmapRev + 1,
    });
  },
}));
