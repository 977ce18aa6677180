import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChannelResult, JobInfo } from '../../../preload/contract';
import { StudioCore } from '../studio';
import { writeTinyR3d } from '../capture/testing';

// The whole label QA path through the core: import and label jobs in worker processes, QA calls in the
// compute worker thread, edits persisted in the project and re-applied without models.
let core: StudioCore;
let base: string;
let projectDir: string;

async function runJob(kind: 'import' | 'label', params: Record<string, unknown>): Promise<JobInfo> {
  const r = await core.invoke('jobs.start', { kind, params });
  if (!r.ok) throw new Error(r.message);
  return core.jobManager!.waitFor((r.data as JobInfo).id, 120_000);
}

beforeAll(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-labels-'));
  const capture = path.join(base, 'tiny.r3d');
  await writeTinyR3d(capture, { frames: 4, annotations: true });
  core = new StudioCore({ host: 'web', userDataDir: path.join(base, 'ud'), resourcesDir: base });
  projectDir = path.join(base, 'proj');
  expect((await core.invoke('project.create', { dir: projectDir })).ok).toBe(true);
  expect((await runJob('import', { capture })).state).toBe('done');
  const label = await runJob('label', { labeler: 'ground-truth', point_probability: 1 });
  expect(label.error).toBeNull();
  expect(label.state).toBe('done');
}, 180_000);

afterAll(async () => {
  await core.dispose();
});

function okData(r: { ok: boolean; data?: unknown; message?: string }): unknown {
  if (!r.ok) throw new Error(r.message);
  return r.data;
}

async function overview(): Promise<ChannelResult<'labels.overview'>> {
  const r = await core.invoke('labels.overview', {});
  if (!r.ok) throw new Error(r.message);
  return r.data as ChannelResult<'labels.overview'>;
}

describe('label QA through the studio core', () => {
  it('records the label summary in the project', async () => {
    const s = await core.invoke('project.current', {});
    expect(s.ok && (s.data as { labels: { labeler: string } | null }).labels?.labeler).toBe('ground-truth');
  });

  it('lists classes with counts and per-frame detections with scores', async () => {
    const o = await overview();
    expect(o.classes.length).toBeGreaterThanOrEqual(2);
    expect(o.points).toBeGreaterThan(0);
    expect(o.classes.reduce((a, c) => a + c.points, 0)).toBe(o.points);
    const f = await core.invoke('labels.frame', { index: o.frames[0] as number });
    expect(f.ok).toBe(true);
    const dets = (okData(f) as { detections: { class: string | null; score: number }[] }).detections;
    expect(dets.length).toBeGreaterThan(0);
    expect(dets.every((d) => d.score > 0)).toBe(true);
  });

  it('rejecting a class removes its points, survives a restart, and undo restores them', async () => {
    const before = await overview();
    const victim = before.classes[0]!.name;
    const r = await core.invoke('labels.edit', { edit: { op: 'reject-class', label: victim } });
    expect(r.ok).toBe(true);
    const after = okData(r) as ChannelResult<'labels.edit'>;
    expect(after.classes.find((c) => c.name === victim)).toBeUndefined();
    expect(after.points).toBeLessThan(before.points);
    expect(after.rejected_classes).toContain(victim);

    // A fresh core (a restarted host) sees the same edited labels.
    const core2 = new StudioCore({ host: 'web', userDataDir: path.join(base, 'ud2'), resourcesDir: base });
    await core2.openProjectDir(projectDir);
    const o2 = await core2.invoke('labels.overview', {});
    expect(o2.ok && (o2.data as ChannelResult<'labels.overview'>).points).toBe(after.points);
    await core2.dispose();

    const undone = await core.invoke('labels.undo', {});
    expect(undone.ok && (undone.data as ChannelResult<'labels.undo'>).points).toBe(before.points);
  });

  it('renaming a class merges it into the new name', async () => {
    const before = await overview();
    const [a, b] = before.classes;
    const r = await core.invoke('labels.edit', { edit: { op: 'rename-class', from: a!.name, to: b!.name } });
    expect(r.ok).toBe(true);
    const after = okData(r) as ChannelResult<'labels.edit'>;
    expect(after.classes.find((c) => c.name === a!.name)).toBeUndefined();
    expect(after.classes.find((c) => c.name === b!.name)?.points).toBe(a!.points + b!.points);
    await core.invoke('labels.undo', {});
  });

  it('serves the labeled points as a binary asset', async () => {
    const o = await overview();
    const asset = await core.readAsset('labels/points.bin');
    expect(asset?.bytes).toBeDefined();
    const bytes = asset!.bytes!;
    const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    expect(n).toBe(o.points);
  });

  it('rejects malformed edits as BAD_ARGS', async () => {
    expect(await core.invoke('labels.edit', { edit: { op: 'rename-class', from: 'a' } })).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
    expect(await core.invoke('labels.edit', { edit: { op: 'undo', target: 'x' } })).toMatchObject({
      ok: false,
      code: 'BAD_ARGS',
    });
  });
});
