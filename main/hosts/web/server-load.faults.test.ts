import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { JobInfo, StudioEvent } from '../../../preload/contract';
import type { StudioCore } from '../../core/studio';
import { startWebHost, type WebHost } from './server';
import {
  FAULTS_ENABLED,
  memoryNow,
  runJob,
  tempBase,
  tinyProject,
  until,
} from '../../core/testing/faults/harness';
import { connectClient, type StudioClient } from '../../core/testing/faults/ws-client';

// The renderer goes away and comes back during training; ten renderers query while training runs.
const SMALL = {
  grid: { levels: 4, features_per_level: 2, log2_table_size: 12, max_resolution: 64 },
  mlp: { width: 32, depth: 1 },
  batch_size: 128,
  eval_every: 1_000_000,
};
let base: string;
let core: StudioCore;
let host: WebHost;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('load');
  const t = await tinyProject(base);
  core = t.core;
  // A trained field and its query cache, so queries have answers.
  const train = await runJob(core, 'train', { ...SMALL, steps: 40, checkpoint_every: 20 });
  expect(train.state).toBe('done');
  await until(
    'query cache',
    () => core.jobManager!.list().find((j) => j.kind === 'evaluate-field' && j.state === 'done'),
    120_000,
    100,
  );
  const rendererDir = path.join(base, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html>');
  host = await startWebHost({ studio: core, rendererDir });
}, 300_000);

afterAll(async () => {
  await host?.close();
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

const listenerCount = () => (core as unknown as { listeners: Set<unknown> }).listeners.size;

async function longTraining(client: StudioClient): Promise<JobInfo> {
  // Long enough to outlast the test; cancelled at the end. No periodic checkpoints: the field that queries read
  // stays the same while it runs (a new checkpoint legitimately changes query answers).
  const r = await client.call('jobs.start', {
    kind: 'train',
    params: { ...SMALL, steps: 10_000_000, checkpoint_every: 0 },
  });
  if (!r.ok) throw new Error(r.message);
  return r.data as JobInfo;
}

async function stopJob(id: string): Promise<void> {
  await core.invoke('jobs.cancel', { id });
  await core.jobManager!.waitFor(id, 30_000);
}

describe.skipIf(!FAULTS_ENABLED)('renderer disappears during training', () => {
  it('training continues; a reopened client re-attaches to the running job and gets its progress', async () => {
    const a = await connectClient(host.port, host.token);
    const job = await longTraining(a);
    await until(
      'progress on the first client',
      () => a.events.some((e) => e.type === 'job.progress' && e.id === job.id),
      60_000,
    );
    const listeners = listenerCount();
    await a.close();
    await until('listener released', () => listenerCount() === listeners - 1, 5000);
    const stepAtClose = core.jobManager!.list().find((j) => j.id === job.id)!.progress!.done;
    await new Promise((r) => setTimeout(r, 1500));

    const b = await connectClient(host.port, host.token);
    try {
      const list = await b.call('jobs.list', {});
      const seen = (list.ok ? (list.data as { jobs: JobInfo[] }).jobs : []).find((j) => j.id === job.id);
      expect(seen?.state).toBe('running');
      expect(seen!.progress!.done).toBeGreaterThan(stepAtClose); // it kept training with nobody watching
      await until(
        'progress on the new client',
        () => b.events.some((e: StudioEvent) => e.type === 'job.progress' && e.id === job.id),
        10_000,
      );
      const steps = b.events.flatMap((e) =>
        e.type === 'job.progress' && e.id === job.id ? [e.progress.done] : [],
      );
      expect(steps[0]!).toBeGreaterThanOrEqual(seen!.progress!.done);
    } finally {
      await b.close();
      await stopJob(job.id);
    }
  }, 120_000);
});

describe.skipIf(!FAULTS_ENABLED)('ten clients querying while training runs', () => {
  it('answers match a single client, p95 latency reported, memory and sockets released', async () => {
    const QUERIES: [string, unknown][] = [
      ['query.run', { text: 'chair' }],
      ['query.run', { text: 'table', top: 3 }],
      ['map.info', {}],
      ['capture.frames', {}],
      ['labels.overview', {}],
      ['waypoints.list', {}],
      ['capture.frame', { index: 1 }],
    ];
    const strip = (ch: string, data: unknown) => {
      if (ch !== 'query.run') return data;
      const { timings_ms: _t, heatmap: _h, ...rest } = data as Record<string, unknown>;
      return rest;
    };
    // Reference answers from one client with nothing else running.
    const solo = await connectClient(host.port, host.token);
    const reference = new Map<number, unknown>();
    for (const [i, [ch, args]] of QUERIES.entries()) {
      const r = await solo.call(ch, args);
      expect(r.ok, `${ch}: ${r.ok ? '' : r.message}`).toBe(true);
      reference.set(i, strip(ch, r.ok ? r.data : null));
    }
    await solo.close();

    const mem0 = memoryNow();
    const listeners0 = listenerCount();
    const starter = await connectClient(host.port, host.token);
    const job = await longTraining(starter);
    await starter.close();
    await until(
      'training running',
      () => core.jobManager!.list().find((j) => j.id === job.id)?.progress?.done,
      60_000,
    );

    const latencies: number[] = [];
    const clients = await Promise.all(Array.from({ length: 10 }, () => connectClient(host.port, host.token)));
    const ROUNDS = 6;
    await Promise.all(
      clients.map(async (c, ci) => {
        for (let round = 0; round < ROUNDS; round++) {
          for (let q = 0; q < QUERIES.length; q++) {
            const i = (q + ci + round) % QUERIES.length;
            const [ch, args] = QUERIES[i]!;
            const t0 = performance.now();
            const r = await c.call(ch, args);
            latencies.push(performance.now() - t0);
            expect(r.ok, `${ch}: ${r.ok ? '' : r.message}`).toBe(true);
            expect(strip(ch, r.ok ? r.data : null), `${ch} answer under load`).toEqual(reference.get(i));
          }
        }
      }),
    );
    expect(core.jobManager!.list().find((j) => j.id === job.id)?.state).toBe('running');
    latencies.sort((x, y) => x - y);
    const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    console.log(
      `[faults] 10 clients x ${ROUNDS * QUERIES.length} queries during training: p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, max ${p(1).toFixed(1)} ms`,
    );
    expect(p(0.95)).toBeLessThan(10_000);

    await Promise.all(clients.map((c) => c.close()));
    await stopJob(job.id);
    await until('sockets released', () => listenerCount() === listeners0, 5000);
    const mem1 = memoryNow();
    console.log(
      `[faults] host heap before ${(mem0.heap / 1048576).toFixed(1)} MiB, after ${(mem1.heap / 1048576).toFixed(1)} MiB`,
    );
    expect(mem1.heap - mem0.heap).toBeLessThan(32 * 1024 * 1024);
  }, 180_000);
});
