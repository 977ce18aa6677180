import { create } from 'zustand';
import type { JobKind, StudioEvent } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { useApp } from '../app/store';
import { applyJobEvent, applyJobList, emptyJobs, type JobsSnapshot } from './reduce';

interface JobsStore extends JobsSnapshot {
  load(): Promise<void>;
  apply(e: StudioEvent): void;
  start(kind: JobKind, params: Record<string, unknown>): Promise<string | null>;
  cancel(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  discard(id: string): Promise<void>;
}

function report(action: string, r: { ok: false; code: string; message: string }): void {
  useApp.getState().setNotice({ kind: 'error', text: `${action} failed: ${r.message} (${r.code})` });
}

export const useJobs = create<JobsStore>()((set, get) => ({
  ...emptyJobs,
  load: async () => {
    const r = await getBridge().invoke('jobs.list', {});
    if (r.ok) set(applyJobList(get(), r.data.jobs));
  },
  apply: (e) => {
    const s = get();
    const next = applyJobEvent(s, e);
    if (next !== s) set({ byId: next.byId, lastLog: next.lastLog });
  },
  start: async (kind, params) => {
    const r = await getBridge().invoke('jobs.start', { kind, params });
    if (!r.ok) {
      report(`Starting ${kind}`, r);
      return null;
    }
    set({ byId: { ...get().byId, [r.data.id]: r.data } });
    return r.data.id;
  },
  cancel: async (id) => {
    const r = await getBridge().invoke('jobs.cancel', { id });
    if (!r.ok) report('Cancel', r);
    else set({ byId: { ...get().byId, [id]: r.data } });
  },
  pause: async (id) => {
    const r = await getBridge().invoke('jobs.pause', { id });
    if (!r.ok) report('Pause', r);
    else set({ byId: { ...get().byId, [id]: r.data } });
  },
  resume: async (id) => {
    const r = await getBridge().invoke('jobs.resume', { id });
    if (!r.ok) report('Resume', r);
    else set({ byId: { ...get().byId, [id]: r.data } });
  },
  discard: async (id) => {
    const r = await getBridge().invoke('jobs.discard', { id });
    if (!r.ok) {
      report('Discard', r);
      return;
    }
    const byId = { ...get().byId };
    delete byId[id];
    set({ byId });
  },
}));
