/**
 * Field checkpoints: `<dir>/<step>/` holding the state as raw little-endian float32 files plus `state.json`,
 * and `manifest.json` (sha256 + size of every file) written last. A checkpoint is staged in a temp folder,
 * fsynced, renamed into place, then `<dir>/latest` (the step) is replaced atomically; only the newest
 * `keep` checkpoints are kept. Loading verifies every hash; a checkpoint that fails is renamed `<step>.bad`
 * and the next older one is tried.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { cleanStaleTemps, fsyncDir, replaceDirAtomic, writeFileAtomic } from '../util/atomic';
import type { FieldState } from './backend';

export const CHECKPOINT_FORMAT = 'clip-fields-field-checkpoint';
export const CHECKPOINT_VERSION = 1;

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CheckpointError';
  }
}

/** Extra, engine-independent facts stored with the state. */
export interface CheckpointMeta {
  engine: string;
  seed: number;
  datasetFingerprint: string;
  heldoutAccuracy: number | null;
  samplesSeen: number;
  [k: string]: unknown;
}

interface StateJson {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  step: number;
  config: FieldState['config'];
  dims: FieldState['dims'];
  bounds: FieldState['bounds'];
  logTemperature: number;
  adamLogTemperature: { m: number; v: number };
  weightSizes: number[];
  gridSize: number;
  meta: CheckpointMeta;
}

const FILES = [
  'grid.f32',
  'grid_m.f32',
  'grid_v.f32',
  'weights.f32',
  'weights_m.f32',
  'weights_v.f32',
] as const;

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((s, a) => s + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

async function writeSynced(file: string, data: Uint8Array): Promise<void> {
  const h = await fs.open(file, 'wx', 0o644);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Numeric checkpoint folders in `dir`, newest first. */
export async function listCheckpoints(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => b - a);
}

export async function saveCheckpoint(
  dir: string,
  state: FieldState,
  meta: CheckpointMeta,
  keep = 2,
): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const staged = path.join(dir, `.staging-${state.step}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(staged);
  try {
    const arrays: Record<(typeof FILES)[number], Float32Array> = {
      'grid.f32': state.grid,
      'grid_m.f32': state.adam.grid.m,
      'grid_v.f32': state.adam.grid.v,
      'weights.f32': concat(state.weights),
      'weights_m.f32': concat(state.adam.weights.map((a) => a.m)),
      'weights_v.f32': concat(state.adam.weights.map((a) => a.v)),
    };
    const json: StateJson = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      step: state.step,
      config: state.config,
      dims: state.dims,
      bounds: state.bounds,
      logTemperature: state.logTemperature,
      adamLogTemperature: { m: state.adam.logTemperature.m[0]!, v: state.adam.logTemperature.v[0]! },
      weightSizes: state.weights.map((w) => w.length),
      gridSize: state.grid.length,
      meta,
    };
    const files: Record<string, { sha256: string; bytes: number }> = {};
    const put = async (name: string, data: Uint8Array) => {
      await writeSynced(path.join(staged, name), data);
      files[name] = { sha256: sha256(data), bytes: data.byteLength };
    };
    for (const name of FILES) await put(name, bytesOf(arrays[name]));
    await put('state.json', new TextEncoder().encode(JSON.stringify(json, null, 1)));
    await writeSynced(
      path.join(staged, 'manifest.json'),
      new TextEncoder().encode(
        JSON.stringify({ format: CHECKPOINT_FORMAT, step: state.step, files }, null, 1),
      ),
    );
    await fsyncDir(staged);
    const target = path.join(dir, String(state.step));
    await replaceDirAtomic(staged, target);
  } catch (err) {
    await fs.rm(staged, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  await writeFileAtomic(path.join(dir, 'latest'), `${state.step}\n`);
  const steps = await listCheckpoints(dir);
  for (const old of steps.slice(keep))
    await fs.rm(path.join(dir, String(old)), { recursive: true, force: true });
  return path.join(dir, String(state.step));
}

function toFloat32(buf: Uint8Array, file: string, expected: number): Float32Array {
  if (buf.byteLength !== expected * 4)
    throw new CheckpointError(file, `has ${buf.byteLength} bytes, expected ${expected * 4}`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Read and verify one checkpoint folder. */
export async function readCheckpoint(cpDir: string): Promise<{ state: FieldState; meta: CheckpointMeta }> {
  const mfile = path.join(cpDir, 'manifest.json');
  let manifest: { format?: string; files?: Record<string, { sha256: string; bytes: number }> };
  try {
    manifest = JSON.parse(await fs.readFile(mfile, 'utf8')) as typeof manifest;
  } catch (err) {
    throw new CheckpointError(mfile, `unreadable manifest (${(err as Error).message})`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT || !manifest.files)
    throw new CheckpointError(mfile, 'not a field checkpoint manifest');
  const data: Record<string, Uint8Array> = {};
  for (const name of [...FILES, 'state.json']) {
    const entry = manifest.files[name];
    const file = path.join(cpDir, name);
    if (!entry) throw new CheckpointError(mfile, `does not list ${name}`);
    let buf: Uint8Array;
    try {
      buf = await fs.readFile(file);
    } catch {
      throw new CheckpointError(file, 'missing');
    }
    if (buf.byteLength !== entry.bytes || sha256(buf) !== entry.sha256)
      throw new CheckpointError(file, 'sha256 mismatch (corrupt or partially written)');
    data[name] = buf;
  }
  const sfile = path.join(cpDir, 'state.json');
  const json = JSON.parse(new TextDecoder().decode(data['state.json'])) as StateJson;
  if (json.format !== CHECKPOINT_FORMAT || json.version !== CHECKPOINT_VERSION)
    throw new CheckpointError(sfile, `unsupported format/version ${json.format} ${json.version}`);
  const totalW = json.weightSizes.reduce((a, b) => a + b, 0);
  const split = (flat: Float32Array) => {
    const out: Float32Array[] = [];
    let o = 0;
    for (const n of json.weightSizes) {
      out.push(flat.slice(o, o + n));
      o += n;
    }
    return out;
  };
  const f = (name: (typeof FILES)[number], n: number) => toFloat32(data[name]!, path.join(cpDir, name), n);
  const w = split(f('weights.f32', totalW));
  const wm = split(f('weights_m.f32', totalW));
  const wv = split(f('weights_v.f32', totalW));
  const state: FieldState = {
    config: json.config,
    dims: json.dims,
    bounds: json.bounds,
    grid: f('grid.f32', json.gridSize),
    weights: w,
    logTemperature: json.logTemperature,
    step: json.step,
    adam: {
      grid: { m: f('grid_m.f32', json.gridSize), v: f('grid_v.f32', json.gridSize) },
      weights: wm.map((m, k) => ({ m, v: wv[k]! })),
      logTemperature: {
        m: new Float32Array([json.adamLogTemperature.m]),
        v: new Float32Array([json.adamLogTemperature.v]),
      },
    },
  };
  return { state, meta: json.meta };
}

/**
 * Only a checkpoint's step and meta (state.json, hash-checked against the manifest) without reading the
 * float arrays: cheap enough for status listings even with the paper preset's multi-GB grids.
 */
export async function readCheckpointMeta(cpDir: string): Promise<{ step: number; meta: CheckpointMeta }> {
  const mfile = path.join(cpDir, 'manifest.json');
  let manifest: { format?: string; files?: Record<string, { sha256: string; bytes: number }> };
  try {
    manifest = JSON.parse(await fs.readFile(mfile, 'utf8')) as typeof manifest;
  } catch (err) {
    throw new CheckpointError(mfile, `unreadable manifest (${(err as Error).message})`);
  }
  const entry = manifest.files?.['state.json'];
  const sfile = path.join(cpDir, 'state.json');
  if (manifest.format !== CHECKPOINT_FORMAT || !entry)
    throw new CheckpointError(mfile, 'not a field checkpoint manifest');
  const buf = await fs.readFile(sfile).catch(() => {
    throw new CheckpointError(sfile, 'missing');
  });
  if (buf.byteLength !== entry.bytes || sha256(buf) !== entry.sha256)
    throw new CheckpointError(sfile, 'sha256 mismatch (corrupt or partially written)');
  const json = JSON.parse(buf.toString('utf8')) as StateJson;
  return { step: json.step, meta: json.meta };
}

/**
 * The newest valid checkpoint in `dir` (the one `latest` names first, then older ones); checkpoints that fail
 * verification are renamed `<step>.bad` and reported through `onBad`. Null when none is valid.
 */
export async function loadLatestCheckpoint(
  dir: string,
  onBad: (cpDir: string, err: Error) => void = () => undefined,
): Promise<{ state: FieldState; meta: CheckpointMeta; dir: string } | null> {
  await cleanStaleTemps(dir); // a crash mid-save leaves .staging-*, .latest.*.tmp or <step>.old-*; only the trainer writes here
  let steps = await listCheckpoints(dir);
  try {
    const latest = Number((await fs.readFile(path.join(dir, 'latest'), 'utf8')).trim());
    if (Number.isInteger(latest) && steps.includes(latest))
      steps = [latest, ...steps.filter((s) => s !== latest)];
  } catch {
    // No pointer: scan the folders.
  }
  for (const step of steps) {
    const cpDir = path.join(dir, String(step));
    try {
      const { state, meta } = await readCheckpoint(cpDir);
      return { state, meta, dir: cpDir };
    } catch (err) {
      onBad(cpDir, err as Error);
      await fs.rename(cpDir, `${cpDir}.bad`).catch(async () => {
        await fs.rm(`${cpDir}.bad`, { recursive: true, force: true });
        await fs.rename(cpDir, `${cpDir}.bad`).catch(() => undefined);
      });
    }
  }
  return null;
}
