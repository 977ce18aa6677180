import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { StudioEvent } from '../../../preload/contract';
import { createProject } from '../project/store';
import { JobManager } from './manager';
import { forkWorker } from './runtime';

async function setup(): Promise<{ dir: string; events: StudioEvent[]; open: () => Promise<JobManager> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-jobs-'));
  await createProject(dir);
  const events: StudioEvent[] = [];
  const open = () =>
    JobManager.open({
      projectDir: dir,
      cacheDir: path.join(dir, '.cache'),
      spawn: forkWorker(),
      emit: (e) => events.push(e),
    });
  return { dir, events, open };
}

async function waitUntil(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('job manager', () => {
  it('runs a job in a worker process, streams throttled progress and ends done', async () => {
    const { events, open } = await setup();
    const m = await open();
    const job = await m.start('selftest', { steps: 20, step_ms: 10 });
    const final = await m.waitFor(job.id, 30_000);
    expect(final.state).toBe('done');
    expect(final.result).toEqual({ steps: 20, resumed_from: 0 });
    const progress = events.filter((e) => e.type === 'job.progress');
    expect(progress.length).toBeGreaterThan(0);
    // Throttled to ~10 Hz: 20 steps of 10 ms must not produce 20 events.
    expect(progress.length).toBeLessThan(20);
    expect(events.some((e) => e.type === 'job.done' && e.id === job.id)).toBe(true);
    await m.dispose();
  });

  it('cancels a running job', async () => {
    const { open } = await setup();
    const m = await open();
    const job = await m.start('selftest', { steps: 1000, step_ms: 20 });
    await waitUntil(() => m.get(job.id).progress !== null);
    await m.cancel(job.id);
    const final = await m.waitFor(job.id, 20_000);
    expect(final.state).toBe('cancelled');
    await m.dispose();
  });

  it('pauses and resumes from the checkpoint with a higher attempt count', async () => {
    const { events, open } = await setup();
    const m = await open();
    const job = await m.start('selftest', { steps: 60, step_ms: 20 });
    // Pause once the job has passed its first checkpoint (every 5 steps), however slow the machine is.
    await waitUntil(() =>
      events.some((e) => e.type === 'job.progress' && e.id === job.id && e.progress.done >= 6),
    );
    await m.pause(job.id);
    const paused = await m.waitFor(job.id, 20_000);
    expect(paused.state).toBe('paused');
    await m.resume(job.id);
    const final = await m.waitFor(job.id, 30_000);
    expect(final.state).toBe('done');
    expect(final.attempt).toBe(2);
    expect((final.result as { resumed_from: number }).resumed_from).toBeGreaterThan(0);
    await m.dispose();
  });

  it('reports a handler failure with its code and message', async () => {
    const { events, open } = await setup();
    const m = await open();
    const job = await m.start('selftest', { steps: 10, step_ms: 1, fail_at: 3 });
    const final = await m.waitFor(job.id, 20_000);
    expect(final.state).toBe('failed');
    expect(final.error).toEqual({ code: 'INVALID_INPUT', message: 'selftest failed on purpose at step 3' });
    expect(events.some((e) => e.type === 'job.failed' && e.id === job.id)).toBe(true);
    await m.dispose();
  });

  it('marks the job failed when its worker dies, and keeps running later jobs', async () => {
    const { dir } = await setup();
    let killFirst = true;
    const spawn = forkWorker();
    const m = await JobManager.open({
      projectDir: dir,
      cacheDir: dir,
      emit: () => undefined,
      spawn: (env) => {
        const w = spawn(env);
        if (killFirst) {
          killFirst = false;
          setTimeout(() => w.kill(), 1000);
        }
        return w;
      },
    });
    const a = await m.start('selftest', { steps: 1000, step_ms: 20 });
    const b = await m.start('selftest', { steps: 3, step_ms: 1 });
    expect((await m.waitFor(a.id, 20_000)).state).toBe('failed');
    expect((await m.waitFor(a.id)).error?.message).toMatch(/exited unexpectedly/);
    expect((await m.waitFor(b.id, 20_000)).state).toBe('done');
    await m.dispose();
  });

  it('a job left running by a host that died shows as interrupted and can be resumed', async () => {
    const { open } = await setup();
    const m1 = await open();
    const job = await m1.start('selftest', { steps: 40, step_ms: 25 });
    await waitUntil(() => m1.get(job.id).progress !== null);
    await m1.dispose(); // the host goes away without ending the job
    const m2 = await open();
    expect(m2.get(job.id).state).toBe('interrupted');
    await m2.resume(job.id);
    const final = await m2.waitFor(job.id, 30_000);
    expect(final.state).toBe('done');
    await m2.dispose();
  });

  it('rejects invalid parameters as BAD_ARGS and unknown ids as NOT_FOUND', async () => {
    const { open } = await setup();
    const m = await open();
    await expect(m.start('selftest', { steps: -1 })).rejects.toMatchObject({ code: 'BAD_ARGS' });
    await expect(m.start('import', { capture: 'x', bogus: 1 })).rejects.toMatchObject({ code: 'BAD_ARGS' });
    await expect(m.cancel('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await m.dispose();
  });
});
