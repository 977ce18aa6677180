/**
 * The query cache `<project>/field/query-cache/`: everything a query needs without running the field.
 *
 *   manifest.json      this schema (format, version, counts, PCA, rank agreement, instances, label texts)
 *   codes.i8           fast tier: int8 PCA codes, `points_padded x rank` (padded to a multiple of 4 points)
 *   hidden.u8          exact tier: uint8 codes of the last hidden activations, `points x hidden`
 *   hidden_affine.f32  per point: offset, scale (h ~= offset + scale * code)
 *   norms.f32          per point: ||o_language||, ||o_vision||
 *   tables.f32         last layer W (hidden x D) and b (D), PCA mean (D), basis (D x rank), code scale (rank)
 *   segment.bin        per point: top label (i16), then instance id (i32; -1 = none), then top-label cosine (f32)
 *
 * All binary files are little-endian raw arrays whose sizes follow from the manifest. The folder is written to
 * a staging folder and swapped in with `replaceDirAtomic`, so readers see the old or the new cache.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { replaceDirAtomic, writeFileAtomic } from '../util/atomic';
import { QueryError } from './errors';
import type { ExactTables, FastTables } from './scoring';

export const CACHE_FORMAT = 'clip-fields-query-cache';
export const CACHE_VERSION = 1;

export function queryCacheDir(projectDir: string): string {
  return path.join(projectDir, 'field', 'query-cache');
}

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

export const InstanceSchema = z.object({
  id: z.number().int(),
  label: z.string(),
  label_id: z.number().int(),
  points: z.number().int(),
  centroid_world_m: vec3,
  min_world_m: vec3,
  max_world_m: vec3,
});
export type Instance = z.infer<typeof InstanceSchema>;

export const AgreementSchema = z.object({
  sample_points: z.number().int(),
  probes: z.number().int(),
  fast: z.object({
    spearman_mean: z.number(),
    spearman_min: z.number(),
    top1pct_overlap_mean: z.number(),
    top1pct_overlap_min: z.number(),
    residual_rms: z.number(),
    residual_max: z.number(),
  }),
  /** Fast tier for candidates, then exact re-scoring of the top 5%: what query hits use. */
  reranked: z.object({ top1pct_overlap_mean: z.number(), top1pct_overlap_min: z.number() }),
  exact: z.object({
    spearman_mean: z.number(),
    spearman_min: z.number(),
    top1pct_overlap_mean: z.number(),
    top1pct_overlap_min: z.number(),
  }),
});
export type Agreement = z.infer<typeof AgreementSchema>;

export const CacheManifestSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  version: z.literal(CACHE_VERSION),
  created_at: z.string(),
  field: z.object({ step: z.number().int(), id: z.string() }),
  map: z.object({ points: z.number().int(), voxel_m: z.number() }),
  points: z.number().int().min(0),
  points_padded: z.number().int().min(0),
  heads: z.object({
    language: z.number().int().min(1),
    vision: z.number().int().min(0),
    hidden: z.number().int().min(1),
  }),
  encoders: z.object({ language: z.string(), vision: z.string().nullable() }),
  pca: z.object({ rank: z.number().int().min(8).max(128), explained_variance: z.number() }),
  agreement: AgreementSchema.nullable(),
  labels: z.array(z.string()),
  instance_voxel_m: z.number(),
  instances: z.array(InstanceSchema),
});
export type CacheManifest = z.infer<typeof CacheManifestSchema>;

export interface QueryCache {
  manifest: CacheManifest;
  fast: FastTables & { codes: Int8Array };
  exact: ExactTables;
  topLabel: Int16Array;
  instance: Int32Array;
  topScore: Float32Array;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Write `cache` to `dir` atomically (staged beside it, then swapped in). */
export async function writeQueryCache(dir: string, cache: QueryCache): Promise<void> {
  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  const stage = path.join(parent, `.${path.basename(dir)}.stage-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(stage);
  try {
    const f = cache.fast;
    const e = cache.exact;
    const tables = new Float32Array(
      e.W.length + e.b.length + f.mean.length + f.basis.length + f.codeScale.length,
    );
    let o = 0;
    for (const t of [e.W, e.b, f.mean, f.basis, f.codeScale]) {
      tables.set(t, o);
      o += t.length;
    }
    const N = cache.manifest.points;
    const seg = new Uint8Array(N * 10);
    seg.set(bytesOf(cache.topLabel), 0);
    seg.set(bytesOf(cache.instance), N * 2);
    seg.set(bytesOf(cache.topScore), N * 6);
    const files: [string, Uint8Array][] = [
      ['codes.i8', bytesOf(f.codes)],
      ['hidden.u8', e.codes],
      ['hidden_affine.f32', bytesOf(e.affine)],
      ['norms.f32', bytesOf(e.norms)],
      ['tables.f32', bytesOf(tables)],
      ['segment.bin', seg],
    ];
    for (const [name, data] of files) await writeFileAtomic(path.join(stage, name), data);
    await writeFileAtomic(path.join(stage, 'manifest.json'), JSON.stringify(cache.manifest, null, 2) + '\n');
    await replaceDirAtomic(stage, dir);
  } catch (err) {
    await fs.rm(stage, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

async function readExact(file: string, bytes: number, into?: Uint8Array): Promise<Uint8Array> {
  let h: fs.FileHandle;
  try {
    h = await fs.open(file, 'r');
  } catch (err) {
    throw new QueryError('NOT_FOUND', file, `cannot open query cache file: ${(err as Error).message}`);
  }
  try {
    const st = await h.stat();
    if (st.size !== bytes)
      throw new QueryError('INVALID_INPUT', file, `has ${st.size} bytes, the manifest implies ${bytes}`);
    const out = into ?? new Uint8Array(new ArrayBuffer(bytes));
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await h.read(out, off, bytes - off, off);
      if (bytesRead === 0) throw new QueryError('INVALID_INPUT', file, 'truncated while reading');
      off += bytesRead;
    }
    return out;
  } finally {
    await h.close();
  }
}

/**
 * Read a cache. `codesInto(bytes)` may supply the buffer for the fast-tier codes (e.g. a view into a shared
 * WebAssembly memory for the worker kernel); it must be exactly `bytes` long.
 */
export async function readQueryCache(
  dir: string,
  codesInto?: (bytes: number) => Uint8Array,
): Promise<QueryCache> {
  const mfile = path.join(dir, 'manifest.json');
  let text: string;
  try {
    text = await fs.readFile(mfile, 'utf8');
  } catch {
    throw new QueryError('NOT_FOUND', mfile, 'no query cache: run the evaluate-field job first');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new QueryError('INVALID_INPUT', mfile, `not JSON: ${(err as Error).message}`);
  }
  const parsed = CacheManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueryError(
      'INVALID_INPUT',
      mfile,
      `invalid query cache manifest: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unknown'}`,
    );
  }
  const m = parsed.data;
  const N = m.points;
  const Np = m.points_padded;
  if (Np < N || Np % 4 !== 0 || m.pca.rank % 8 !== 0)
    throw new QueryError('INVALID_INPUT', mfile, 'points_padded / rank inconsistent');
  const { language: Dl, vision: Dv, hidden: H } = m.heads;
  const D = Dl + Dv;
  const r = m.pca.rank;
  const codeBytes = Np * r;
  const codes = await readExact(path.join(dir, 'codes.i8'), codeBytes, codesInto?.(codeBytes));
  const hidden = await readExact(path.join(dir, 'hidden.u8'), N * H);
  const affine = new Float32Array((await readExact(path.join(dir, 'hidden_affine.f32'), N * 8)).buffer);
  const norms = new Float32Array((await readExact(path.join(dir, 'norms.f32'), N * 8)).buffer);
  const nT = H * D + D + D + D * r + r;
  const tables = new Float32Array((await readExact(path.join(dir, 'tables.f32'), nT * 4)).buffer);
  const seg = await readExact(path.join(dir, 'segment.bin'), N * 10);
  let o = 0;
  const take = (len: number) => tables.subarray(o, (o += len));
  const W = take(H * D);
  const b = take(D);
  const mean = take(D);
  const basis = take(D * r);
  const codeScale = take(r);
  for (let k = 0; k < tables.length; k++)
    if (!Number.isFinite(tables[k]!))
      throw new QueryError('INVALID_INPUT', path.join(dir, 'tables.f32'), 'contains non-finite values');
  const segBuf = seg.buffer.slice(seg.byteOffset, seg.byteOffset + seg.byteLength);
  const cache: QueryCache = {
    manifest: m,
    fast: {
      rank: r,
      dim: D,
      mean,
      basis,
      codeScale,
      codes: new Int8Array(codes.buffer, codes.byteOffset, codeBytes),
    },
    exact: { hidden: H, language: Dl, vision: Dv, codes: hidden, affine, norms, W, b },
    topLabel: new Int16Array(segBuf, 0, N),
    instance: new Int32Array(segBuf.slice(N * 2, N * 6)),
    topScore: new Float32Array(segBuf.slice(N * 6, N * 10)),
  };
  for (let i = 0; i < N; i++) {
    if (cache.instance[i]! >= m.instances.length || cache.instance[i]! < -1)
      throw new QueryError(
        'INVALID_INPUT',
        path.join(dir, 'segment.bin'),
        `point ${i} has instance ${cache.instance[i]} of ${m.instances.length}`,
      );
  }
  return cache;
}
