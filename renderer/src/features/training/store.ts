import { create } from 'zustand';
import type { FieldStatus, StudioEvent } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { useJobs } from '../jobs/store';
import { useFieldColors } from './field-colors';
import { appendMetrics } from './metrics-buffer';

/**
 * Training pane state. Metric series live in metrics-buffer (typed arrays, module level); this store
 * keeps only each job's newest metrics (for the text read-outs) and the field status.
 */
interface TrainingStore {
  /** jobId -> newest value of each metric. */
  latest: Record<string, Record<string, number>>;
  /** The train job the charts follow (null = the newest). */
  followJob: string | null;
  status: FieldStatus | null;
  statusState: 'idle' | 'loading' | 'ready' | 'error' | 'unavailable';
  statusError: string | null;
  apply(e: StudioEvent): void;
  setFollowJob(id: string | null): void;
  loadStatus(): Promise<void>;
}

/** The project the field status and colours belong to. */
let lastDir: string | null = null;

export const useTraining = create<TrainingStore>()((set, get) => ({
  latest: {},
  followJob: null,
  status: null,
  statusState: 'idle',
  statusError: null,
  apply: (e) => {
    if (e.type === 'job.metrics') {
      appendMetrics(e.id, e.metrics);
      const prev = get().latest[e.id] ?? {};
      const next = { ...prev };
      for (const [k, v] of Object.entries(e.metrics)) if (Number.isFinite(v)) next[k] = v;
      set({ latest: { ...get().latest, [e.id]: next } });
      return;
    }
    if (
      e.type === 'job.done' ||
      e.type === 'job.failed' ||
      (e.type === 'job.state' && e.job.state === 'paused')
    ) {
      const kind = e.type === 'job.state' ? e.job.kind : useJobs.getState().byId[e.id]?.kind;
      if (kind === 'train' || kind === 'evaluate-field') void get().loadStatus();
      // A rebuilt query cache has new top labels.
      if (e.type === 'job.done' && kind === 'evaluate-field' && useFieldColors.getState().enabled)
        void useFieldColors.getState().reload();
    }
    if (e.type === 'project.changed') {
      const dir = e.project?.dir ?? null;
      if (dir !== lastDir) useFieldColors.getState().reset();
      lastDir = dir;
      set({ status: null, statusState: 'idle' });
      if (e.project) void get().loadStatus();
    }
  },
  setFollowJob: (followJob) => set({ followJob }),
  loadStatus: async () => {
    set({ statusState: 'loading', statusError: null });
    const r = await getBridge().invoke('field.status', {});
    if (r.ok) set({ status: r.data, statusState: 'ready' });
    else if (r.code === 'UNKNOWN_CHANNEL')
      set({ status: null, statusState: 'unavailable', statusError: r.message });
    else
      set({
        status: null,
        statusState: r.code === 'NOT_FOUND' ? 'ready' : 'error',
        statusError: `${r.message} (${r.code})`,
      });
  },
}));
