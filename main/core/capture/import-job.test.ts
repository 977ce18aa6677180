import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { FrameIndexSchema, ImportParamsSchema, type ImportParams } from '../../../preload/contract';
import { isAbortError, JobError, type JobContext } from '../jobs/types';
import { makeFakeCapture } from '../map/fake-capture';
import { readMapFile } from '../map/format';
import { colourDecodeSize, importFromSource, runImportJob } from './import-job';
import { writeTinyFolder, writeTinyR3d } from './testing';

const root = fs.mkdtemp(path.join(os.tmpdir(), 'import-job-'));
afterAll(async () => fs.rm(await root, { recursive: true, force: true }));

interface Recorded {
  problems: { severity: string; file: string | null; message: string }[];
  progress: { stage: string; done: number; total: number }[];
}

async function makeCtx(
  name: string,
  params: Partial<ImportParams> & { capture: string },
  abort?: AbortController,
): Promise<{ ctx: JobContext<ImportParams>; rec: Recorded; projectDir: string }> {
  const projectDir = path.join(await root, name);
  const workDir = path.join(projectDir, 'jobs', 'j1');
  await fs.mkdir(workDir, { recursive: true });
  const rec: Recorded = { problems: [], progress: [] };
  const ctx: JobContext<ImportParams> = {
    jobId: 'j1',
    kind: 'import',
    params: ImportParamsSchema.parse(params),
    projectDir,
    workDir,
    attempt: 1,
    signal: (abort ?? new AbortController()).signal,
    progress: (stage, done, total) => rec.progress.push({ stage, done, total }),
    log: () => undefined,
    metrics: () => undefined,
    problem: (severity, file, message) => rec.problems.push({ severity, file, message }),
  };
  return { ctx, rec, projectDir };
}

/** Every file under `dir` with its content, for before/after comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[path.relative(dir, p)] = (await fs.readFile(p)).toString('base64');
    }
  };
  await walk(dir);
  return out;
}

async function seedProject(projectDir: string): Promise<void> {
  await fs.mkdir(path.join(projectDir, 'frames'), { recursive: true });
  await fs.mkdir(path.join(projectDir, 'map'), { recursive: true });
  await fs.writeFile(path.join(projectDir, 'frames', 'index.json'), '{"old":true}');
  await fs.writeFile(path.join(projectDir, 'map', 'map.bin'), 'old map');
}

const K = { width: 48, height: 36, fx: 40, fy: 40, cx: 23.5, cy: 17.5 };

describe('import job on an in-memory capture', () => {
  it('writes the frame index, thumbnails and map, and returns the summaries', async () => {
    const src = await makeFakeCapture({ frames: 6, depth: K });
    const { ctx, rec, projectDir } = await makeCtx('ok', {
      capture: src.info.path,
      max_depth_m: 6,
      every: 2,
    });
    const res = await importFromSource(ctx, src);
    expect(res.frames).toBe(3);
    expect(res.capture).toMatchObject({
      format: 'r3d',
      frames: 6,
      selected_frames: 3,
      depth_size: [48, 36],
      rgb_size: [96, 72],
      copied: false,
    });
    expect(res.map.asset).toBe('map/map.bin');
    const index = JSON.parse(await fs.readFile(path.join(projectDir, 'frames', 'index.json'), 'utf8'));
    expect(FrameIndexSchema.safeParse(index).success).toBe(true);
    expect(index.capture.selected_frames).toBe(3);
    expect(index.frames.map((f: { selected: boolean }) => f.selected)).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
    ]);
    const depth2 = await src.readDepth(2);
    expect(index.frames[2].valid_depth_fraction).toBeCloseTo(
      depth2.filter((z) => z >= 0.1 && z <= 6).length / depth2.length,
      9,
    );
    expect(index.frames[2].valid_depth_fraction).toBeGreaterThan(0.5);
    const thumb = await sharp(path.join(projectDir, index.frames[4].thumb)).metadata();
    expect([thumb.format, thumb.width]).toEqual(['jpeg', 160]);
    const map = await readMapFile(path.join(projectDir, 'map', 'map.bin'));
    expect(map.count).toBe(res.map.points);
    expect(map.count).toBeGreaterThan(500);
    expect(map.frames_total).toBe(6);
    // The floor of the fake scene is at y = 0.
    expect(res.map.floor_m?.height).toBeCloseTo(0, 2);
    expect(res.map.floor_m?.up[1]).toBeGreaterThan(0.999);
    expect(rec.progress.filter((p) => p.stage === 'fuse').at(-1)).toEqual({
      stage: 'fuse',
      done: 3,
      total: 3,
    });
    expect(await fs.readdir(ctx.workDir)).toEqual([]); // the stage is gone
  });

  it('skips a corrupt frame with a problem naming its file and fuses the rest', async () => {
    const src = await makeFakeCapture({ frames: 4, depth: K, corrupt: new Set([1]) });
    const { ctx, rec, projectDir } = await makeCtx('one-bad', { capture: src.info.path, max_depth_m: 6 });
    const res = await importFromSource(ctx, src);
    expect(res.frames).toBe(3);
    expect(rec.problems).toHaveLength(1);
    expect(rec.problems[0]!.file).toMatch(/^rgbd\/1\./);
    const index = JSON.parse(await fs.readFile(path.join(projectDir, 'frames', 'index.json'), 'utf8'));
    expect(index.frames[1].selected).toBe(false);
    expect(index.frames[1].problems[0]).toMatch(/corrupt/);
  });

  it('fails with INVALID_INPUT and leaves the project unchanged when every frame is corrupt', async () => {
    const src = await makeFakeCapture({ frames: 3, depth: K, corrupt: new Set([0, 1, 2]) });
    const { ctx, projectDir } = await makeCtx('all-bad', { capture: src.info.path });
    await seedProject(projectDir);
    const before = await snapshot(projectDir);
    const err = await importFromSource(ctx, src).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobError);
    expect((err as JobError).code).toBe('INVALID_INPUT');
    expect(await snapshot(projectDir)).toEqual(before);
  });

  it('cancels mid-capture and leaves the project unchanged', async () => {
    const src = await makeFakeCapture({ frames: 30, depth: K, readDelayMs: 5 });
    const abort = new AbortController();
    const { ctx, rec, projectDir } = await makeCtx(
      'cancel',
      { capture: src.info.path, max_depth_m: 6 },
      abort,
    );
    await seedProject(projectDir);
    const before = await snapshot(projectDir);
    const origProgress = ctx.progress;
    (ctx as { progress: JobContext['progress'] }).progress = (stage, done, total) => {
      origProgress(stage, done, total);
      if (stage === 'fuse' && done === 5) abort.abort('cancel');
    };
    const t0 = Date.now();
    const err = await importFromSource(ctx, src).catch((e: unknown) => e);
    expect(isAbortError(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(rec.progress.filter((p) => p.stage === 'fuse').at(-1)!.done).toBe(5);
    expect(await snapshot(projectDir)).toEqual(before);
  });

  it('reruns cleanly over a stage left by an interrupted attempt', async () => {
    const src = await makeFakeCapture({ frames: 2, depth: K });
    const { ctx, projectDir } = await makeCtx('resume', { capture: src.info.path, max_depth_m: 6 });
    await fs.mkdir(path.join(ctx.workDir, 'stage', 'frames', 'thumbs'), { recursive: true });
    await fs.writeFile(path.join(ctx.workDir, 'stage', 'frames', 'thumbs', '99.jpg'), 'stale');
    await importFromSource({ ...ctx, attempt: 2 }, src);
    expect(await fs.readdir(path.join(projectDir, 'frames', 'thumbs'))).toEqual(['0.jpg', '1.jpg']);
    expect(await fs.readdir(ctx.workDir)).toEqual([]);
  });

  it('drops blurry frames when asked', async () => {
    const src = await makeFakeCapture({ frames: 5, depth: K });
    // Replace frame 2's colour with a heavily blurred copy.
    const enc = await src.readRgbEncoded(2);
    const blurred = new Uint8Array(await sharp(enc.bytes).blur(8).jpeg().toBuffer());
    const orig = src.readRgbEncoded.bind(src);
    (src as { readRgbEncoded: typeof src.readRgbEncoded }).readRgbEncoded = async (i) =>
      i === 2 ? { ...enc, bytes: blurred } : orig(i);
    const { ctx, projectDir } = await makeCtx('blur', {
      capture: src.info.path,
      max_depth_m: 6,
      skip_blurry: true,
    });
    const res = await importFromSource(ctx, src);
    expect(res.frames).toBe(4);
    const index = JSON.parse(await fs.readFile(path.join(projectDir, 'frames', 'index.json'), 'utf8'));
    expect(index.frames[2].selected).toBe(false);
    expect(index.frames[2].problems[0]).toMatch(/blurry/);
  });
});

describe('import job on tiny capture files (real readers)', () => {
  it('imports a tiny .r3d, copying it into the project', async () => {
    const dir = await root;
    const file = path.join(dir, 'tiny.r3d');
    await writeTinyR3d(file, { frames: 4 });
    const { ctx, projectDir } = await makeCtx('tiny-r3d', { capture: file, max_depth_m: 5, copy: true });
    const res = await runImportJob(ctx);
    expect(res.frames).toBe(4);
    expect(res.capture).toMatchObject({
      source: 'capture/tiny.r3d',
      copied: true,
      format: 'r3d',
      has_confidence: true,
    });
    expect(await fs.readFile(path.join(projectDir, 'capture', 'tiny.r3d'))).toEqual(await fs.readFile(file));
    // The tiny scene is a wall at z = -3 m: every map point lies on it.
    const map = await readMapFile(path.join(projectDir, 'map', 'map.bin'));
    for (let i = 0; i < map.count; i++) expect(map.positions[3 * i + 2]).toBeCloseTo(-3, 2);
  });

  it('imports a tiny plain folder to the same map as the .r3d', async () => {
    const dir = await root;
    await writeTinyFolder(path.join(dir, 'tiny-folder'), { frames: 4 });
    await writeTinyR3d(path.join(dir, 'tiny2.r3d'), { frames: 4 });
    const a = await makeCtx('proj-folder', {
      capture: path.join(dir, 'tiny-folder'),
      max_depth_m: 5,
      copy: true,
    });
    const b = await makeCtx('tiny-r3d2', { capture: path.join(dir, 'tiny2.r3d'), max_depth_m: 5 });
    const ra = await runImportJob(a.ctx);
    const rb = await runImportJob(b.ctx);
    expect(ra.capture.format).toBe('folder');
    expect(ra.capture.source).toBe('capture/tiny-folder');
    expect(await snapshot(path.join(a.projectDir, 'capture', 'tiny-folder'))).toEqual(
      await snapshot(path.join(dir, 'tiny-folder')),
    );
    expect(ra.map.points).toBe(rb.map.points);
    const ma = await readMapFile(path.join(a.projectDir, 'map', 'map.bin'));
    const mb = await readMapFile(path.join(b.projectDir, 'map', 'map.bin'));
    for (let i = 0; i < ma.positions.length; i++)
      expect(Math.abs(ma.positions[i]! - mb.positions[i]!)).toBeLessThan(1e-4);
  });

  it('refuses to copy a capture folder into a project inside it', async () => {
    const dir = path.join(await root, 'outer-capture');
    await writeTinyFolder(dir, { frames: 2 });
    const projectDir = path.join(dir, 'project');
    await fs.mkdir(path.join(projectDir, 'jobs', 'j'), { recursive: true });
    const { ctx } = await makeCtx('unused', { capture: dir, max_depth_m: 5, copy: true });
    const err = await runImportJob({ ...ctx, projectDir, workDir: path.join(projectDir, 'jobs', 'j') }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'JobError', code: 'BAD_ARGS' });
    expect(await fs.readdir(projectDir)).toEqual(['jobs']);
  });

  it('reports a missing capture as NOT_FOUND', async () => {
    const { ctx } = await makeCtx('missing', { capture: path.join(await root, 'nope.r3d') });
    await expect(runImportJob(ctx)).rejects.toMatchObject({ name: 'JobError', code: 'NOT_FOUND' });
  });
});

describe('colourDecodeSize', () => {
  it('decodes near twice the depth resolution with a power-of-two JPEG shrink', () => {
    expect(colourDecodeSize(1440, 1920, 192)).toEqual({ width: 360, height: 480 }); // iPhone: 1/4
    expect(colourDecodeSize(480, 640, 192)).toEqual({ width: 480, height: 640 }); // already small
    expect(colourDecodeSize(3840, 2880, 256)).toEqual({ width: 480, height: 360 }); // at most 1/8
  });
});
