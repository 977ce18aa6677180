/** Pure job-list bookkeeping: applies `jobs.list` snapshots and `job.*` events. */
import type { JobInfo, StudioEvent } from '../../../../preload/contract';

export interface JobsSnapshot {
  byId: Record<string, JobInfo>;
  /** Last log line per job. */
  lastLog: Record<string, { level: 'info' | 'warn' | 'error'; message: string }>;
}

export const emptyJobs: JobsSnapshot = { byId: {}, lastLog: {} };

const ACTIVE = new Set<JobInfo['state']>(['queued', 'running', 'paused']);
export const isActive = (j: JobInfo): boolean => ACTIVE.has(j.state);

export function applyJobList(s: JobsSnapshot, jobs: readonly JobInfo[]): JobsSnapshot {
  const byId: Record<string, JobInfo> = {};
  for (const j of jobs) byId[j.id] = j;
  const lastLog: JobsSnapshot['lastLog'] = {};
  for (const id of Object.keys(byId)) {
    const l = s.lastLog[id];
    if (l) lastLog[id] = l;
  }
  return { byId, lastLog };
}

/** Returns the same object when the event does not concern jobs (cheap for zustand). */
export function applyJobEvent(s: JobsSnapshot, e: StudioEvent): JobsSnapshot {
  switch (e.type) {
    case 'job.state':
      return { ...s, byId: { ...s.byId, [e.job.id]: e.job } };
    case 'job.progress': {
      const j = s.byId[e.id];
      if (!j) return s;
      // A late progress tick must not resurrect a finished job's state.
      return {
        ...s,
        byId: {
          ...s.byId,
          [e.id]: { ...j, progress: e.progress, state: j.state === 'queued' ? 'running' : j.state },
        },
      };
    }
    case 'job.done': {
      const j = s.byId[e.id];
      if (!j) return s;
      return {
        ...s,
        byId: { ...s.byId, [e.id]: { ...j, state: 'done', result: e.result ?? null, error: null } },
      };
    }
    case 'job.failed': {
      const j = s.byId[e.id];
      if (!j) return s;
      const state = e.code === 'CANCELLED' ? 'cancelled' : 'failed';
      return {
        ...s,
        byId: { ...s.byId, [e.id]: { ...j, state, error: { code: e.code, message: e.message } } },
      };
    }
    case 'job.log':
      return { ...s, lastLog: { ...s.lastLog, [e.id]: { level: e.level, message: e.message } } };
    default:
      return s;
  }
}

/** Display order: active jobs first (newest first), then finished ones, newest first. */
export function orderedJobs(byId: Record<string, JobInfo>): JobInfo[] {
  return Object.values(byId).sort((a, b) => {
    const aa = isActive(a) || a.state === 'interrupted' ? 0 : 1;
    const bb = isActive(b) || b.state === 'interrupted' ? 0 : 1;
    if (aa !== bb) return aa - bb;
    return a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0;
  });
}
