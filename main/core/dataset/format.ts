/**
 * On-disk format of the labeled-point dataset (`<project>/labels/dataset/`).
 *
 * A dataset is a folder:
 *   dataset.json            manifest (the commit point: files it does not list are ignored)
 *   labels.bin              label table: texts + sentence embeddings (+ CLIP text embeddings), once per label
 *   chunk-00000.points.bin  points, 32 bytes each (see below); one chunk per append (e.g. per frame batch)
 *   chunk-00000.dets.bin    the detections added with that chunk, 32 bytes each + their CLIP embeddings
 *   (other files, e.g. raw.bin with the raw detections, may sit beside them; see raw.ts)
 *
 * Every .bin file starts with a 32-byte header (binary.ts: magic, version, counts, payload length, CRC-32), all
 * little-endian. Point record (32 bytes):
 *   0  f32 x, y, z (world metres)        12 u8 r, g, b, flags(0)
 *   16 u16 labelId   18 u16 reserved(0)  20 u32 detectionId (global)
 *   24 f32 weight    28 f32 distance_m
 * Detection record (32 bytes): u32 frame, u16 labelId, u16 reserved, f32 score, f32 box[4], u32 maskArea.
 *
 * `writeDataset` stages the whole folder beside the target and swaps it in atomically; `appendDatasetChunk`
 * adds one chunk (files first, then the manifest, each written atomically), so an interrupted append leaves the
 * previous manifest and its chunks valid. `loadDataset` reads with typed-array views (no per-point objects).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { writeFileAtomic, writeJsonAtomic, replaceDirAtomic } from '../util/atomic';
import type { DetectionTable, LabelTable, LabeledPointDataset } from './types';
import {
  DatasetError,
  HEADER_BYTES,
  IS_LITTLE_ENDIAN,
  PayloadReader,
  PayloadWriter,
  checkBelow,
  checkFinite,
  readHeader,
  writeHeader,
} from './binary';

export { DatasetError } from './binary';

export const DATASET_FORMAT = 'clip-fields-labeled-points';
export const DATASET_VERSION = 1;
export const POINT_BYTES = 32;
export const DETECTION_BYTES = 32;
export const MANIFEST_FILE = 'dataset.json';
export const LABELS_FILE = 'labels.bin';
const MAX_LABELS = 65535;
const MAX_DIM = 8192;

export function datasetDirOf(projectDir: string): string {
  return path.join(projectDir, 'labels', 'dataset');
}

// ---------------------------------------------------------------------------------------------
// Label table
// ---------------------------------------------------------------------------------------------

export function encodeLabelTable(t: LabelTable): Uint8Array {
  const n = t.texts.length;
  if (n > MAX_LABELS) throw new DatasetError('INVALID_INPUT', LABELS_FILE, `too many labels (${n})`);
  if (t.embeddings.length !== n * t.dim)
    throw new DatasetError(
      'INVALID_INPUT',
      LABELS_FILE,
      `embeddings have ${t.embeddings.length} values, expected ${n} x ${t.dim}`,
    );
  const clipDim = t.clipEmbeddings ? t.clipDim : 0;
  if (t.clipEmbeddings && t.clipEmbeddings.length !== n * clipDim)
    throw new DatasetError(
      'INVALID_INPUT',
      LABELS_FILE,
      'clipEmbeddings length does not match texts x clipDim',
    );
  const json = new TextEncoder().encode(JSON.stringify(t.texts));
  const w = new PayloadWriter().add(json).add(t.embeddings);
  if (t.clipEmbeddings) w.add(t.clipEmbeddings);
  return w.finish({
    magic: 'CFLB',
    version: DATASET_VERSION,
    a: n,
    b: t.dim,
    c: clipDim,
    d: json.byteLength,
  });
}

export function decodeLabelTable(bytes: Uint8Array, file: string): LabelTable {
  const { header, payload } = readHeader(bytes, file, 'CFLB', DATASET_VERSION);
  const { a: n, b: dim, c: clipDim, d: jsonBytes } = header;
  if (n > MAX_LABELS || dim > MAX_DIM || clipDim > MAX_DIM)
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `implausible label table (${n} labels, dim ${dim}, clipDim ${clipDim})`,
    );
  const r = new PayloadReader(payload, file);
  let texts: unknown;
  try {
    texts = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.u8(jsonBytes, 'label texts')));
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `label texts are not valid UTF-8 JSON (${(err as Error).message})`,
    );
  }
  if (!Array.isArray(texts) || texts.length !== n || !texts.every((t) => typeof t === 'string')) {
    throw new DatasetError('INVALID_INPUT', file, `label texts must be a JSON array of ${n} strings`);
  }
  const embeddings = r.f32(n * dim, 'embeddings');
  const clipEmbeddings = clipDim > 0 ? r.f32(n * clipDim, 'CLIP embeddings') : null;
  r.end();
  checkFinite(embeddings, file, 'embeddings');
  if (clipEmbeddings) checkFinite(clipEmbeddings, file, 'clipEmbeddings');
  return { texts: texts as string[], embeddings, dim, clipEmbeddings, clipDim };
}

// ---------------------------------------------------------------------------------------------
// Detections chunk
// ---------------------------------------------------------------------------------------------

export function encodeDetections(d: DetectionTable, start = 0, end = d.count): Uint8Array {
  const n = end - start;
  const rec = new ArrayBuffer(n * DETECTION_BYTES);
  const dv = new DataView(rec);
  for (let i = 0; i < n; i++) {
    const s = start + i;
    const o = i * DETECTION_BYTES;
    dv.setUint32(o, d.frame[s]!, true);
    dv.setUint16(o + 4, d.labelId[s]!, true);
    dv.setUint16(o + 6, 0, true);
    dv.setFloat32(o + 8, d.score[s]!, true);
    for (let k = 0; k < 4; k++) dv.setFloat32(o + 12 + 4 * k, d.box[4 * s + k]!, true);
    dv.setUint32(o + 28, d.maskArea[s]!, true);
  }
  const clipDim = d.clipEmbeddings ? d.clipDim : 0;
  const w = new PayloadWriter().add(new Uint8Array(rec));
  if (d.clipEmbeddings) w.add(d.clipEmbeddings.subarray(start * clipDim, end * clipDim));
  return w.finish({ magic: 'CFDT', version: DATASET_VERSION, a: n, b: clipDim, c: 0, d: 0 });
}

export function decodeDetections(bytes: Uint8Array, file: string, labelCount: number): DetectionTable {
  const { header, payload } = readHeader(bytes, file, 'CFDT', DATASET_VERSION);
  const { a: n, b: clipDim } = header;
  if (clipDim > MAX_DIM) throw new DatasetError('INVALID_INPUT', file, `implausible clipDim ${clipDim}`);
  const r = new PayloadReader(payload, file);
  const rec = r.u8(n * DETECTION_BYTES, 'detection records');
  const clip = clipDim > 0 ? r.f32(n * clipDim, 'detection CLIP embeddings') : null;
  r.end();
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const t: DetectionTable = {
    count: n,
    frame: new Uint32Array(n),
    labelId: new Uint16Array(n),
    score: new Float32Array(n),
    box: new Float32Array(4 * n),
    maskArea: new Uint32Array(n),
    clipEmbeddings: clip,
    clipDim,
  };
  for (let i = 0; i < n; i++) {
    const o = i * DETECTION_BYTES;
    t.frame[i] = dv.getUint32(o, true);
    t.labelId[i] = dv.getUint16(o + 4, true);
    t.score[i] = dv.getFloat32(o + 8, true);
    for (let k = 0; k < 4; k++) t.box[4 * i + k] = dv.getFloat32(o + 12 + 4 * k, true);
    t.maskArea[i] = dv.getUint32(o + 28, true);
  }
  checkBelow(t.labelId, labelCount, file, 'detection labelId');
  checkFinite(t.score, file, 'detection score', 0);
  checkFinite(t.box, file, 'detection box');
  if (clip) checkFinite(clip, file, 'detection CLIP embeddings');
  return t;
}

// ---------------------------------------------------------------------------------------------
// Points chunk
// ---------------------------------------------------------------------------------------------

export interface PointColumns {
  points: number;
  xyz: Float32Array;
  rgb: Uint8Array;
  labelId: Uint16Array;
  detectionId: Uint32Array;
  weight: Float32Array;
  distance_m: Float32Array;
}

function requireLittleEndian(file: string): void {
  if (!IS_LITTLE_ENDIAN) throw new DatasetError('UNSUPPORTED', file, 'big-endian hosts are not supported');
}

export function encodePoints(p: PointColumns, start = 0, end = p.points): Uint8Array {
  requireLittleEndian('points');
  const n = end - start;
  const out = new Uint8Array(HEADER_BYTES + n * POINT_BYTES);
  const buf = out.buffer;
  const f32 = new Float32Array(buf, HEADER_BYTES, n * 8);
  const u32 = new Uint32Array(buf, HEADER_BYTES, n * 8);
  const u16 = new Uint16Array(buf, HEADER_BYTES, n * 16);
  for (let i = 0; i < n; i++) {
    const s = start + i;
    const o = i * 8;
    f32[o] = p.xyz[3 * s]!;
    f32[o + 1] = p.xyz[3 * s + 1]!;
    f32[o + 2] = p.xyz[3 * s + 2]!;
    const b = HEADER_BYTES + i * POINT_BYTES + 12;
    out[b] = p.rgb[3 * s]!;
    out[b + 1] = p.rgb[3 * s + 1]!;
    out[b + 2] = p.rgb[3 * s + 2]!;
    u16[2 * o + 8] = p.labelId[s]!;
    u32[o + 5] = p.detectionId[s]!;
    f32[o + 6] = p.weight[s]!;
    f32[o + 7] = p.distance_m[s]!;
  }
  writeHeader(
    out,
    { magic: 'CFPT', version: DATASET_VERSION, a: n, b: 0, c: 0, d: 0 },
    out.subarray(HEADER_BYTES),
  );
  return out;
}

/** Decode a points chunk into `into` at offset `at` (or fresh columns), checking ids against the tables. */
export function decodePoints(
  bytes: Uint8Array,
  file: string,
  limits: { labels: number; detections: number },
): PointColumns {
  requireLittleEndian(file);
  const { header, payload } = readHeader(bytes, file, 'CFPT', DATASET_VERSION);
  const n = header.a;
  if (payload.byteLength !== n * POINT_BYTES)
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `header says ${n} points (${n * POINT_BYTES} bytes) but the payload has ${payload.byteLength} bytes`,
    );
  const aligned = payload.slice(); // fresh, 4-byte aligned copy
  const f32 = new Float32Array(aligned.buffer, 0, n * 8);
  const u32 = new Uint32Array(aligned.buffer, 0, n * 8);
  const u16 = new Uint16Array(aligned.buffer, 0, n * 16);
  const p: PointColumns = {
    points: n,
    xyz: new Float32Array(3 * n),
    rgb: new Uint8Array(3 * n),
    labelId: new Uint16Array(n),
    detectionId: new Uint32Array(n),
    weight: new Float32Array(n),
    distance_m: new Float32Array(n),
  };
  for (let i = 0; i < n; i++) {
    const o = i * 8;
    const x = f32[o]!,
      y = f32[o + 1]!,
      z = f32[o + 2]!;
    const w = f32[o + 6]!,
      d = f32[o + 7]!;
    const label = u16[2 * o + 8]!,
      det = u32[o + 5]!;
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z))
      throw new DatasetError('INVALID_INPUT', file, `point ${i} has a non-finite position`);
    if (!(w >= 0 && w < Infinity) || !(d >= 0 && d < Infinity))
      throw new DatasetError('INVALID_INPUT', file, `point ${i} has an invalid weight or distance`);
    if (label >= limits.labels)
      throw new DatasetError(
        'INVALID_INPUT',
        file,
        `point ${i} has labelId ${label} but the dataset has ${limits.labels} labels`,
      );
    if (det >= limits.detections)
      throw new DatasetError(
        'INVALID_INPUT',
        file,
        `point ${i} has detectionId ${det} but the dataset has ${limits.detections} detections`,
      );
    p.xyz[3 * i] = x;
    p.xyz[3 * i + 1] = y;
    p.xyz[3 * i + 2] = z;
    const b = i * POINT_BYTES + 12;
    p.rgb[3 * i] = aligned[b]!;
    p.rgb[3 * i + 1] = aligned[b + 1]!;
    p.rgb[3 * i + 2] = aligned[b + 2]!;
    p.labelId[i] = label;
    p.detectionId[i] = det;
    p.weight[i] = w;
    p.distance_m[i] = d;
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------------

const fileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/, 'must be a plain file name inside the dataset folder');
const count = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);

export const DatasetManifestSchema = z.object({
  format: z.literal(DATASET_FORMAT),
  version: z.literal(DATASET_VERSION),
  points: count,
  detections: count,
  labels: z.object({
    file: fileName,
    count: z.number().int().min(0).max(MAX_LABELS),
    dim: z.number().int().min(0).max(MAX_DIM),
    clipDim: z.number().int().min(0).max(MAX_DIM),
  }),
  encoders: z.object({ language: z.string().max(200), vision: z.string().max(200).nullable() }),
  chunks: z
    .array(z.object({ points: fileName, detections: fileName, pointCount: count, detectionCount: count }))
    .max(1_000_000),
  created_at: z.string().max(64),
  /** Free-form metadata (labeler, vocabulary hash, ...). */
  meta: z.record(z.string(), z.unknown()).default({}),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

export function parseManifest(text: string, file: string): DatasetManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new DatasetError('INVALID_INPUT', file, `not valid JSON (${(err as Error).message})`);
  }
  if (
    typeof raw === 'object' &&
    raw !== null &&
    'version' in raw &&
    typeof raw.version === 'number' &&
    raw.version > DATASET_VERSION
  ) {
    throw new DatasetError(
      'UNSUPPORTED',
      file,
      `dataset version ${raw.version} was written by a newer app (this app reads version ${DATASET_VERSION})`,
    );
  }
  const r = DatasetManifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `invalid dataset manifest: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`,
    );
  }
  const m = r.data;
  let pts = 0,
    dets = 0;
  for (const c of m.chunks) {
    pts += c.pointCount;
    dets += c.detectionCount;
  }
  if (pts !== m.points || dets !== m.detections)
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `chunk counts (${pts} points, ${dets} detections) do not add up to the totals (${m.points}, ${m.detections})`,
    );
  return m;
}

// ---------------------------------------------------------------------------------------------
// Folder I/O
// ---------------------------------------------------------------------------------------------

async function readFileTyped(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('NOT_FOUND', file, 'missing');
    throw new DatasetError('IO', file, `cannot read (${(err as Error).message})`);
  }
}

export interface WriteDatasetOptions {
  /** Points per chunk file (default 1,000,000). */
  chunkPoints?: number;
  /** Extra files to place in the folder (e.g. raw.bin), written in the same atomic swap. */
  extraFiles?: Record<string, Uint8Array | string>;
  meta?: Record<string, unknown>;
}

function checkDataset(ds: LabeledPointDataset): void {
  const n = ds.points;
  const bad = (what: string) => {
    throw new DatasetError('INVALID_INPUT', 'dataset', `${what} does not match ${n} points`);
  };
  if (ds.xyz.length !== 3 * n) bad('xyz');
  if (ds.rgb.length !== 3 * n) bad('rgb');
  if (ds.labelId.length !== n) bad('labelId');
  if (ds.detectionId.length !== n) bad('detectionId');
  if (ds.weight.length !== n) bad('weight');
  if (ds.distance_m.length !== n) bad('distance_m');
}

/** Write the files of `ds` into the (existing, empty) folder `dir` and return the manifest. */
async function writeDatasetFiles(
  dir: string,
  ds: LabeledPointDataset,
  opts: WriteDatasetOptions,
): Promise<DatasetManifest> {
  checkDataset(ds);
  const chunkPoints = Math.max(1, opts.chunkPoints ?? 1_000_000);
  await fs.writeFile(path.join(dir, LABELS_FILE), encodeLabelTable(ds.labels));
  const chunks: DatasetManifest['chunks'] = [];
  const nChunks = Math.max(1, Math.ceil(ds.points / chunkPoints));
  for (let c = 0; c < nChunks; c++) {
    const start = c * chunkPoints;
    const end = Math.min(ds.points, start + chunkPoints);
    const pf = `chunk-${String(c).padStart(5, '0')}.points.bin`;
    const df = `chunk-${String(c).padStart(5, '0')}.dets.bin`;
    await fs.writeFile(path.join(dir, pf), encodePoints(ds, start, end));
    await fs.writeFile(
      path.join(dir, df),
      c === 0 ? encodeDetections(ds.detections) : encodeDetections(ds.detections, 0, 0),
    );
    chunks.push({
      points: pf,
      detections: df,
      pointCount: end - start,
      detectionCount: c === 0 ? ds.detections.count : 0,
    });
  }
  for (const [name, data] of Object.entries(opts.extraFiles ?? {})) {
    if (!fileName.safeParse(name).success || name === MANIFEST_FILE)
      throw new DatasetError('INVALID_INPUT', name, 'not a valid extra file name');
    await fs.writeFile(path.join(dir, name), data);
  }
  const manifest: DatasetManifest = {
    format: DATASET_FORMAT,
    version: DATASET_VERSION,
    points: ds.points,
    detections: ds.detections.count,
    labels: {
      file: LABELS_FILE,
      count: ds.labels.texts.length,
      dim: ds.labels.dim,
      clipDim: ds.labels.clipEmbeddings ? ds.labels.clipDim : 0,
    },
    encoders: ds.encoders,
    chunks,
    created_at: new Date().toISOString(),
    meta: opts.meta ?? {},
  };
  await writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest);
  return manifest;
}

/**
 * Write `ds` as the dataset folder `dir`, atomically: everything is staged in a sibling temp folder, fsynced,
 * and swapped in (a crash leaves either the previous dataset or the new one).
 */
export async function writeDataset(
  dir: string,
  ds: LabeledPointDataset,
  opts: WriteDatasetOptions = {},
): Promise<DatasetManifest> {
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  const staged = path.join(parent, `.${path.basename(dir)}.${randomBytes(4).toString('hex')}.tmp`);
  await fs.mkdir(staged);
  try {
    const manifest = await writeDatasetFiles(staged, ds, opts);
    await syncDirFiles(staged);
    await replaceDirAtomic(staged, dir);
    return manifest;
  } catch (err) {
    await fs.rm(staged, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function syncDirFiles(dir: string): Promise<void> {
  for (const name of await fs.readdir(dir)) {
    const h = await fs.open(path.join(dir, name), 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }
}

/**
 * Append one chunk (points + the detections they reference) to an existing dataset folder. `part.detectionId`
 * is local to `part.detections`; it is offset to global ids here. Labels must use the dataset's label table.
 */
export async function appendDatasetChunk(
  dir: string,
  part: PointColumns & { detections: DetectionTable },
): Promise<DatasetManifest> {
  const mfile = path.join(dir, MANIFEST_FILE);
  const manifest = parseManifest(
    await fs.readFile(mfile, 'utf8').catch((err: Error) => {
      throw new DatasetError('NOT_FOUND', mfile, `cannot read (${err.message})`);
    }),
    mfile,
  );
  for (let i = 0; i < part.points; i++) {
    if (part.labelId[i]! >= manifest.labels.count)
      throw new DatasetError(
        'INVALID_INPUT',
        dir,
        `appended point ${i} has labelId ${part.labelId[i]} outside the label table`,
      );
    if (part.detectionId[i]! >= part.detections.count)
      throw new DatasetError(
        'INVALID_INPUT',
        dir,
        `appended point ${i} references detection ${part.detectionId[i]} of ${part.detections.count}`,
      );
  }
  const offset = manifest.detections;
  const global = { ...part, detectionId: part.detectionId.map((d) => d + offset) };
  const c = manifest.chunks.length;
  const pf = `chunk-${String(c).padStart(5, '0')}.points.bin`;
  const df = `chunk-${String(c).padStart(5, '0')}.dets.bin`;
  await writeFileAtomic(path.join(dir, pf), encodePoints(global));
  await writeFileAtomic(path.join(dir, df), encodeDetections(part.detections));
  const next: DatasetManifest = {
    ...manifest,
    points: manifest.points + part.points,
    detections: manifest.detections + part.detections.count,
    chunks: [
      ...manifest.chunks,
      { points: pf, detections: df, pointCount: part.points, detectionCount: part.detections.count },
    ],
  };
  await writeJsonAtomic(mfile, next);
  return next;
}

/** Load the dataset folder `dir` (see `loadDataset` for a project). */
export async function loadDatasetDir(
  dir: string,
): Promise<{ dataset: LabeledPointDataset; manifest: DatasetManifest }> {
  const mfile = path.join(dir, MANIFEST_FILE);
  const text = new TextDecoder().decode(await readFileTyped(mfile));
  const manifest = parseManifest(text, mfile);
  const labelsFile = path.join(dir, manifest.labels.file);
  const labels = decodeLabelTable(await readFileTyped(labelsFile), labelsFile);
  if (
    labels.texts.length !== manifest.labels.count ||
    labels.dim !== manifest.labels.dim ||
    (labels.clipEmbeddings ? labels.clipDim : 0) !== manifest.labels.clipDim
  ) {
    throw new DatasetError('INVALID_INPUT', labelsFile, 'label table does not match the manifest');
  }
  const n = manifest.points;
  const ds: LabeledPointDataset = {
    points: n,
    xyz: new Float32Array(3 * n),
    rgb: new Uint8Array(3 * n),
    labelId: new Uint16Array(n),
    detectionId: new Uint32Array(n),
    weight: new Float32Array(n),
    distance_m: new Float32Array(n),
    labels,
    detections: {
      count: manifest.detections,
      frame: new Uint32Array(manifest.detections),
      labelId: new Uint16Array(manifest.detections),
      score: new Float32Array(manifest.detections),
      box: new Float32Array(4 * manifest.detections),
      maskArea: new Uint32Array(manifest.detections),
      clipEmbeddings: null,
      clipDim: 0,
    },
    encoders: manifest.encoders,
  };
  let po = 0,
    d0 = 0;
  let clipDim = -1;
  const clipParts: Float32Array[] = [];
  for (const c of manifest.chunks) {
    const df = path.join(dir, c.detections);
    const dets = decodeDetections(await readFileTyped(df), df, labels.texts.length);
    if (dets.count !== c.detectionCount)
      throw new DatasetError(
        'INVALID_INPUT',
        df,
        `has ${dets.count} detections, the manifest says ${c.detectionCount}`,
      );
    const thisClip = dets.clipEmbeddings ? dets.clipDim : 0;
    if (dets.count > 0) {
      if (clipDim === -1) clipDim = thisClip;
      else if (clipDim !== thisClip)
        throw new DatasetError('INVALID_INPUT', df, 'detection chunks disagree on the CLIP embedding size');
      if (dets.clipEmbeddings) clipParts.push(dets.clipEmbeddings);
    }
    const D = ds.detections;
    D.frame.set(dets.frame, d0);
    D.labelId.set(dets.labelId, d0);
    D.score.set(dets.score, d0);
    D.box.set(dets.box, 4 * d0);
    D.maskArea.set(dets.maskArea, d0);
    d0 += dets.count;
    const pf = path.join(dir, c.points);
    const pts = decodePoints(await readFileTyped(pf), pf, { labels: labels.texts.length, detections: d0 });
    if (pts.points !== c.pointCount)
      throw new DatasetError(
        'INVALID_INPUT',
        pf,
        `has ${pts.points} points, the manifest says ${c.pointCount}`,
      );
    ds.xyz.set(pts.xyz, 3 * po);
    ds.rgb.set(pts.rgb, 3 * po);
    ds.labelId.set(pts.labelId, po);
    ds.detectionId.set(pts.detectionId, po);
    ds.weight.set(pts.weight, po);
    ds.distance_m.set(pts.distance_m, po);
    po += pts.points;
  }
  if (clipDim > 0) {
    const all = new Float32Array(ds.detections.count * clipDim);
    let o = 0;
    for (const p of clipParts) {
      all.set(p, o);
      o += p.length;
    }
    if (o !== all.length)
      throw new DatasetError('INVALID_INPUT', dir, 'some detection chunks lack CLIP embeddings');
    ds.detections.clipEmbeddings = all;
    ds.detections.clipDim = clipDim;
  }
  return { dataset: ds, manifest };
}

/** Load `<project>/labels/dataset`. */
export async function loadDataset(projectDir: string): Promise<LabeledPointDataset> {
  return (await loadDatasetDir(datasetDirOf(projectDir))).dataset;
}
