import { decodeHeatmap } from '../../preload/contract/heatmap-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { ChannelResult, JobInfo } from '../../preload/contract';
import { StudioCore } from './studio';
import { writeTinyR3d } from './capture/testing';
import { disposeQueryService, warmStudioQueries } from './query/service';

// The whole product path through the studio core and its workers on a tiny annotated capture:
// import -> label (ground truth) -> train -> evaluate-field (follow-up) -> query -> waypoint -> exports.
let core: StudioCore;
let base: string;

async function waitKind(kind: string, timeoutMs = 240_000): Promise<JobInfo> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const job = core
      .jobManager!.list()
      .filter((j) => j.kind === kind)
      .at(-1);
    if (job && ['done', 'failed', 'cancelled'].includes(job.state)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${kind} job ended in time`);
}

async function call<C extends Parameters<StudioCore['invoke']>[0]>(
  channel: C,
  args: unknown,
): Promise<unknown> {
  const r = await core.invoke(channel, args);
  if (!r.ok) throw new Error(`${channel}: ${r.code}: ${r.message}`);
  return r.data;
}

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-pipeline-'));
  const capture = path.join(base, 'tiny.r3d');
  await writeTinyR3d(capture, { frames: 4, annotations: true });
  core = new StudioCore({
    host: 'web',
    userDataDir: path.join(base, 'ud'),
    resourcesDir: base,
    warmQueries: true,
  });
  await call('project.create', { dir: path.join(base, 'proj') });
  await call('jobs.start', { kind: 'import', params: { capture } });
  expect((await waitKind('import')).state).toBe('done');
  await call('jobs.start', { kind: 'label', params: { labeler: 'ground-truth', point_probability: 1 } });
  expect((await waitKind('label')).state).toBe('done');
  await call('jobs.start', {
    kind: 'train',
    params: { steps: 60, batch_size: 256, eval_every: 30, checkpoint_every: 30 },
  });
  const train = await waitKind('train');
  expect(train.error).toBeNull();
  const evaluate = await waitKind('evaluate-field');
  expect(evaluate.error).toBeNull();
  expect(evaluate.state).toBe('done');
}, 400_000);

afterAll(async () => {
  await core.dispose();
  await disposeQueryService();
  await fs.rm(base, { recursive: true, force: true });
});

describe('product path on a tiny annotated capture', () => {
  it('reports checkpoints and the query cache', async () => {
    const s = (await call('field.status', {})) as ChannelResult<'field.status'>;
    expect(s.checkpoints.length).toBeGreaterThan(0);
    expect(s.latest).toBe(60);
    expect(s.query_cache).toBe(true);
  });

  it('answers a query with a heatmap asset of one score per map point', async () => {
    const r = (await call('query.run', { text: 'chair' })) as ChannelResult<'query.run'>;
    const map = (await call('map.info', {})) as ChannelResult<'map.info'>;
    const asset = await core.readAsset(r.heatmap);
    const { scores, lo, hi } = decodeHeatmap(asset!.bytes!, map.points, r.heatmap);
    expect(scores).toHaveLength(map.points);
    expect([lo, hi]).toEqual(r.score_range.map((v) => Math.fround(v)));
    expect(r.score_range[1]).toBeGreaterThanOrEqual(r.score_range[0]);
  });

  it('gives the same heatmap for the same query while reusing heatmap buffers, and retires old assets', async () => {
    const bytesOf = async (text: string) => {
      const r = (await call('query.run', { text })) as ChannelResult<'query.run'>;
      return { name: r.heatmap, bytes: (await core.readAsset(r.heatmap))!.bytes! };
    };
    const a1 = await bytesOf('chair');
    const b = await bytesOf('table');
    const a2 = await bytesOf('chair');
    expect(Buffer.compare(Buffer.from(a1.bytes), Buffer.from(a2.bytes))).toBe(0);
    expect(Buffer.compare(Buffer.from(a1.bytes), Buffer.from(b.bytes))).not.toBe(0);
    expect(await core.readAsset(a1.name)).toBeNull();
  });

  it('keeps both heatmaps of two queries that run at once, each as if it ran alone', async () => {
    const alone = async (text: string) => {
      const r = (await call('query.run', { text })) as ChannelResult<'query.run'>;
      return Buffer.from((await core.readAsset(r.heatmap))!.bytes!);
    };
    const chair = await alone('chair');
    const table = await alone('table');
    await alone('lamp'); // now one reusable heatmap buffer is free: both queries below would want it
    const [a, b] = (await Promise.all([
      call('query.run', { text: 'chair' }),
      call('query.run', { text: 'table' }),
    ])) as [ChannelResult<'query.run'>, ChannelResult<'query.run'>];
    expect(Buffer.compare(Buffer.from((await core.readAsset(a.heatmap))!.bytes!), chair)).toBe(0);
    expect(Buffer.compare(Buffer.from((await core.readAsset(b.heatmap))!.bytes!), table)).toBe(0);
  });

  it('warms the query engine only where a query cache exists', async () => {
    expect(await warmStudioQueries(path.join(base, 'proj'))).toBe(true);
    await fs.mkdir(path.join(base, 'empty'), { recursive: true });
    expect(await warmStudioQueries(path.join(base, 'empty'))).toBe(false);
  });

  it('rejects empty and oversized queries as BAD_ARGS', async () => {
    expect(await core.invoke('query.run', { text: '   ' })).toMatchObject({ ok: false, code: 'BAD_ARGS' });
    expect(await core.invoke('query.run', { text: 'x'.repeat(5000) })).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
  });

  it('adds, renames and exports waypoints in the map frame', async () => {
    let st = (await call('waypoints.add', {
      name: 'dock',
      map: { x_m: 0.5, y_m: -0.25, yaw_rad: 1 },
    })) as ChannelResult<'waypoints.list'>;
    expect(st.waypoints).toHaveLength(1);
    expect(st.waypoints[0]!.map.x_m).toBeCloseTo(0.5, 4);
    expect(st.waypoints[0]!.map.yaw_rad).toBeCloseTo(1, 4);
    st = (await call('waypoints.rename', {
      id: st.waypoints[0]!.id,
      name: 'charging dock',
    })) as ChannelResult<'waypoints.list'>;
    expect(st.waypoints[0]!.name).toBe('charging dock');
    const out = path.join(base, 'exports', 'goals.yaml');
    await fs.mkdir(path.dirname(out), { recursive: true });
    const ex = (await call('waypoints.export', { format: 'nav2', out })) as { files: string[] };
    const doc = parseYaml(await fs.readFile(ex.files[0]!, 'utf8')) as unknown;
    expect(JSON.stringify(doc)).toContain('"frame_id":"map"');
    const occ = (await call('waypoints.export', {
      format: 'occupancy',
      out: path.join(base, 'exports', 'map.yaml'),
    })) as { files: string[] };
    expect(occ.files.some((f) => f.endsWith('.pgm'))).toBe(true);
  });

  it('serves the occupancy grid to the renderer', async () => {
    const asset = await core.readAsset('goals/occupancy.bin');
    expect(asset?.bytes).toBeDefined();
    const bytes = asset!.bytes!;
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n))) as {
      width: number;
      height: number;
    };
    expect(header.width * header.height).toBeGreaterThan(0);
  });
});
