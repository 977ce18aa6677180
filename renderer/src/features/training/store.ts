import { create } from 'zustand';
import type { StudioEvent } from '../../../../preload/contract';

/** Cap on points kept per metric series (older ones are thinned by half). */
export const MAX_SERIES_POINTS = 5000;

interface TrainingStore {
  /** jobId -> metric name -> values in arrival order. */
  series: Record<string, Record<string, number[]>>;
  apply(e: StudioEvent): void;
}

export function appendMetric(values: number[], v: number): number[] {
  const next = values.length >= MAX_SERIES_POINTS ? values.filter((_, i) => i % 2 === 0) : values.slice();
  next.push(v);
  return next;
}

export const useTraining = create<TrainingStore>()((set, get) => ({
  series: {},
  apply: (e) => {
    if (e.type !== 'job.metrics') return;
    const cur = get().series[e.id] ?? {};
    const next: Record<string, number[]> = { ...cur };
    for (const [k, v] of Object.entries(e.metrics)) {
      if (Number.isFinite(v)) next[k] = appendMetric(cur[k] ?? [], v);
    }
    set({ series: { ...get().series, [e.id]: next } });
  },
}));
