import { create } from 'zustand';
import type { FrameDetail, FrameIndex } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import type { ColormapName } from '../../lib/colormap';

export type LoadState = 'idle' | 'loading' | 'ready' | 'error';
export interface Overlays {
  rgb: boolean;
  depth: boolean;
  confidence: boolean;
  labels: boolean;
}

interface CaptureStore {
  index: FrameIndex | null;
  indexState: LoadState;
  indexError: string | null;
  /** Position in `index.frames` of the current frame (not the capture frame number). */
  current: number | null;
  detail: FrameDetail | null;
  detailState: LoadState;
  detailError: string | null;
  overlays: Overlays;
  colormap: ColormapName;
  /** Bumped whenever the project's capture/map assets were rewritten (cache key). */
  generation: number;
  importOpen: boolean;
  loadIndex(): Promise<void>;
  reset(): void;
  bumpGeneration(): void;
  select(position: number | null): void;
  step(delta: number): void;
  selectFrameNumber(frameIndex: number): void;
  setOverlay(k: keyof Overlays, v: boolean): void;
  setColormap(c: ColormapName): void;
  setImportOpen(v: boolean): void;
}

let detailRequest = 0;

async function loadDetail(position: number): Promise<void> {
  const s = useCapture.getState();
  const entry = s.index?.frames[position];
  if (!entry) return;
  const req = ++detailRequest;
  useCapture.setState({ detailState: 'loading', detailError: null });
  const r = await getBridge().invoke('capture.frame', { index: entry.index });
  if (req !== detailRequest) return;
  if (r.ok) useCapture.setState({ detail: r.data, detailState: 'ready' });
  else useCapture.setState({ detail: null, detailState: 'error', detailError: `${r.message} (${r.code})` });
}

export const useCapture = create<CaptureStore>()((set, get) => ({
  index: null,
  indexState: 'idle',
  indexError: null,
  current: null,
  detail: null,
  detailState: 'idle',
  detailError: null,
  overlays: { rgb: true, depth: false, confidence: false, labels: false },
  colormap: 'turbo',
  generation: 0,
  importOpen: false,
  loadIndex: async () => {
    set({ indexState: 'loading', indexError: null });
    const r = await getBridge().invoke('capture.frames', {});
    if (!r.ok) {
      set({
        index: null,
        indexState: r.code === 'NOT_FOUND' || r.code === 'NO_PROJECT' ? 'idle' : 'error',
        indexError: `${r.message} (${r.code})`,
        current: null,
        detail: null,
      });
      return;
    }
    const cur = get().current;
    const n = r.data.frames.length;
    const next = n === 0 ? null : cur !== null && cur < n ? cur : 0;
    set({ index: r.data, indexState: 'ready', current: next });
    if (next !== null) void loadDetail(next);
    else set({ detail: null, detailState: 'idle' });
  },
  reset: () =>
    set({
      index: null,
      indexState: 'idle',
      indexError: null,
      current: null,
      detail: null,
      detailState: 'idle',
    }),
  bumpGeneration: () => set({ generation: get().generation + 1 }),
  select: (position) => {
    const n = get().index?.frames.length ?? 0;
    if (position === null || n === 0) {
      set({ current: null, detail: null });
      return;
    }
    const p = Math.max(0, Math.min(n - 1, Math.round(position)));
    if (p === get().current && get().detailState !== 'error') return;
    set({ current: p });
    void loadDetail(p);
  },
  step: (delta) => {
    const cur = get().current;
    get().select(cur === null ? 0 : cur + delta);
  },
  selectFrameNumber: (frameIndex) => {
    const frames = get().index?.frames ?? [];
    const pos = frames.findIndex((f) => f.index === frameIndex);
    if (pos >= 0) get().select(pos);
  },
  setOverlay: (k, v) => set({ overlays: { ...get().overlays, [k]: v } }),
  setColormap: (colormap) => set({ colormap }),
  setImportOpen: (importOpen) => set({ importOpen }),
}));
