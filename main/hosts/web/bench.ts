/**
 * End-to-end query latency in the studio (`npm run bench -- --only studio`): the demo capture imported,
 * labeled (ground truth) and trained in a temporary project, then the renderer's two round trips per query
 * over the real web host, timed from the client: `query.run` over the WebSocket contract (validation, the
 * compute worker's warm query engine: fast scores, competitor margin, exact re-rank, clusters, goal) and the
 * heatmap asset over HTTP (one float per map point). Every vocabulary class and a few made-up objects are
 * queried `repeats` times; the first query, 3 s after the query cache was built (the studio warms the engine
 * in the compute worker meanwhile), is reported on its own.
 * The renderer's recolouring of the point cloud is not included (it happens on the GPU on the next frame).
 */
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import type { ProjectSummary, RpcEvent, RpcResponse } from '../../../preload/contract';
import { StudioCore } from '../../core/studio';
import { createProject } from '../../core/project/store';
import { startWebHost } from './server';

export interface StudioBenchSample {
  name: string;
  unit: string;
  samples: number[];
  higherIsBetter?: boolean;
  meta?: Record<string, unknown>;
}

const MADE_UP = ['a giraffe', 'a surfboard', 'the saxophone'];
const FIRST_QUERY_AFTER_S = 3;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

function getBytes(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () =>
          res.statusCode === 200 ? resolve(n) : reject(new Error(`GET ${url}: ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
}

export async function benchStudioQuery(opts: {
  repeats: number;
  quick: boolean;
  /** Training steps (default 400; 150 quick). */
  steps?: number;
  resourcesDir: string;
}): Promise<StudioBenchSample[]> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-studio-bench-'));
  const core = new StudioCore({
    warmQueries: true,
    host: 'web',
    userDataDir: path.join(base, 'ud'),
    resourcesDir: opts.resourcesDir,
  });
  const rendererDir = path.join(base, 'renderer');
  await fs.mkdir(rendererDir);
  await fs.writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>bench</title>');
  const host = await startWebHost({ studio: core, rendererDir });
  let ws: WebSocket | null = null;
  try {
    const dir = path.join(base, 'demo');
    await createProject(dir, 'Bench demo');
    await core.openProjectDir(dir);
    const jm = core.jobManager;
    if (!jm) throw new Error('studio bench: no job manager');
    const run = async (kind: 'import' | 'label' | 'train', params: Record<string, unknown>) => {
      const job = await jm.start(kind, params);
      const final = await jm.waitFor(job.id);
      if (final.state !== 'done')
        throw new Error(`studio bench: ${kind} ${final.state}: ${final.error?.message ?? ''}`);
      return final;
    };
    await run('import', { capture: 'demo:0' });
    await run('label', { labeler: 'ground-truth' });
    const trained = await run('train', { steps: opts.steps ?? (opts.quick ? 150 : 400) });
    const evalJob = jm
      .list()
      .find((j) => j.kind === 'evaluate-field' && j.created_at >= (trained.started_at ?? trained.created_at));
    if (!evalJob) throw new Error('studio bench: training did not queue the query cache');
    const ev = await jm.waitFor(evalJob.id);
    if (ev.state !== 'done') throw new Error(`studio bench: evaluate-field ${ev.state}`);

    ws = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${host.port}/rpc?token=${host.token}`);
      s.once('open', () => resolve(s));
      s.once('error', reject);
    });
    const socket = ws;
    let nextId = 1;
    const call = async <T>(channel: string, args: unknown): Promise<T> => {
      const id = nextId++;
      const res = await new Promise<RpcResponse>((resolve) => {
        const onMsg = (d: Buffer) => {
          const m = JSON.parse(d.toString()) as RpcResponse | RpcEvent;
          if (m.kind === 'res' && m.id === id) {
            socket.off('message', onMsg);
            resolve(m);
          }
        };
        socket.on('message', onMsg);
        socket.send(JSON.stringify({ kind: 'req', id, channel, args }));
      });
      if (!res.result.ok) throw new Error(`${channel}: ${res.result.code}: ${res.result.message}`);
      return res.result.data as T;
    };
    const info = await call<ProjectSummary | null>('project.current', {});
    const classes = Object.keys(info?.labels?.classes ?? {});
    const texts = [...(classes.length ? classes : ['sofa', 'chair', 'table', 'fridge']), ...MADE_UP];
    const points = info?.map?.points ?? 0;
    const once = async (text: string) => {
      const t0 = performance.now();
      const r = await call<{ heatmap: string; not_found: boolean; timings_ms: Record<string, number> }>(
        'query.run',
        { text, mode: 'auto', top: 10 },
      );
      const t1 = performance.now();
      const bytes = await getBytes(
        `http://127.0.0.1:${host.port}/project-asset/${r.heatmap}?token=${host.token}`,
      );
      return { total: performance.now() - t0, rpc: t1 - t0, engine: r.timings_ms['total'] ?? NaN, bytes };
    };
    // The operator's first query comes a few seconds after training ends (the studio warms the engine then).
    await new Promise((r) => setTimeout(r, FIRST_QUERY_AFTER_S * 1000));
    const first = await once(texts[0]!);
    const total: number[] = [];
    const rpc: number[] = [];
    const engine: number[] = [];
    for (let r = 0; r < Math.max(1, opts.quick ? 1 : opts.repeats); r++)
      for (const t of texts) {
        const x = await once(t);
        total.push(x.total);
        rpc.push(x.rpc);
        engine.push(x.engine);
      }
    const meta = {
      points,
      queries: total.length,
      texts: texts.length,
      train_steps: opts.steps ?? (opts.quick ? 150 : 400),
      heatmap_bytes: first.bytes,
      median: quantile(total, 0.5),
      p95: quantile(total, 0.95),
      engine_median: quantile(engine, 0.5),
      query_run_median: quantile(rpc, 0.5),
    };
    return [
      { name: 'studio_query_e2e_ms', unit: 'ms', samples: total, meta },
      {
        name: 'studio_query_e2e_p95_ms',
        unit: 'ms',
        samples: [quantile(total, 0.95)],
        meta: { points, queries: total.length },
      },
      { name: 'studio_query_engine_ms', unit: 'ms', samples: engine, meta: { points } },
      {
        name: 'studio_query_first_ms',
        unit: 'ms',
        samples: [first.total],
        meta: { points, opens_cache: true },
      },
    ];
  } finally {
    ws?.close();
    await host.close();
    await core.dispose();
    await fs.rm(base, { recursive: true, force: true });
  }
}
