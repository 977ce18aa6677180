import { describe, expect, it } from 'vitest';
import type { JobInfo } from '../../../../preload/contract';
import { applyJobEvent, applyJobList, emptyJobs, orderedJobs } from './reduce';

const job = (id: string, over: Partial<JobInfo> = {}): JobInfo => ({
  id,
  kind: 'import',
  params: {},
  state: 'running',
  progress: null,
  created_at: `2025-01-01T00:00:0${id.length}Z`,
  started_at: null,
  ended_at: null,
  error: null,
  result: null,
  attempt: 1,
  ...over,
});

describe('job events', () => {
  it('upserts on job.state and updates progress on job.progress', () => {
    let s = applyJobEvent(emptyJobs, { type: 'job.state', job: job('a', { state: 'queued' }) });
    s = applyJobEvent(s, {
      type: 'job.progress',
      id: 'a',
      progress: { stage: 'decode', done: 3, total: 10, eta_s: 5 },
    });
    expect(s.byId.a?.progress?.done).toBe(3);
    expect(s.byId.a?.state).toBe('running');
  });

  it('marks done and failed (CANCELLED -> cancelled) with the error', () => {
    let s = applyJobList(emptyJobs, [job('a'), job('bb')]);
    s = applyJobEvent(s, { type: 'job.done', id: 'a', result: { frames: 3 } });
    s = applyJobEvent(s, { type: 'job.failed', id: 'bb', code: 'CANCELLED', message: 'by user' });
    expect(s.byId.a?.state).toBe('done');
    expect(s.byId.a?.result).toEqual({ frames: 3 });
    expect(s.byId.bb?.state).toBe('cancelled');
    expect(s.byId.bb?.error).toEqual({ code: 'CANCELLED', message: 'by user' });
  });

  it('a progress tick after done does not change the state; unknown ids are ignored', () => {
    let s = applyJobList(emptyJobs, [job('a', { state: 'done' })]);
    s = applyJobEvent(s, {
      type: 'job.progress',
      id: 'a',
      progress: { stage: 'x', done: 1, total: 1, eta_s: null },
    });
    expect(s.byId.a?.state).toBe('done');
    expect(applyJobEvent(s, { type: 'job.done', id: 'zzz', result: null })).toBe(s);
    expect(applyJobEvent(s, { type: 'project.changed', project: null })).toBe(s);
  });

  it('orders active and interrupted jobs before finished ones, newest first', () => {
    const list = orderedJobs({
      a: job('a', { state: 'done' }),
      bb: job('bb', { state: 'interrupted' }),
      ccc: job('ccc', { state: 'running' }),
    });
    expect(list.map((j) => j.id)).toEqual(['ccc', 'bb', 'a']);
  });
});
