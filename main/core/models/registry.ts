/**
 * The model registry: which labeling models are installed in the user's model cache, and how they get there.
 *
 * Cache dir: `$CLIP_FIELDS_MODELS_DIR`, else `$XDG_CACHE_HOME/clip-fields/models`, else `~/.cache/clip-fields/models`.
 * Layout: `<cache>/<model id>/<path in the HF repo>` (e.g. `all-minilm-l6-v2/onnx/model.onnx`) plus
 * `<cache>/<model id>/installed.json` recording the sha256 and size of every installed file (a model is installed
 * only once that record is written, after all checks passed).
 *
 * - `pullModels` downloads `<baseUrl>/<repo>/resolve/<revision>/<path>` (the Hugging Face layout) into
 *   `<file>.part`, resuming with an HTTP Range request when a partial file exists, checks size and sha256 against
 *   the manifest (where it has them), and renames into place atomically.
 * - `addModelFromDir` installs from a local folder (offline): HF layout or files side by side.
 * - Every ONNX file is refused when it references external data or its inputs/outputs differ from the manifest.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { fsyncDir, writeJsonAtomic } from '../util/atomic';
import { ModelError } from './errors';
import { loadModelManifest, type ModelFile, type ModelManifest, type ModelSpec } from './manifest';
import { openCheckedSession } from './onnx-check';

export { ModelError } from './errors';

export const DEFAULT_BASE_URL = 'https://huggingface.co';
export const INSTALLED_FILE = 'installed.json';

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const override = env['CLIP_FIELDS_MODELS_DIR'];
  if (override) return path.resolve(override);
  const xdg = env['XDG_CACHE_HOME'];
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'clip-fields', 'models');
}

export interface RegistryOptions {
  /** Cache dir (default modelsDir()). */
  dir?: string;
  /** Manifest (default resources/models/manifest.json). */
  manifest?: ModelManifest;
}

const InstalledSchema = z.object({
  id: z.string(),
  repo: z.string(),
  revision: z.string(),
  installed_at: z.string(),
  files: z.array(
    z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().min(0) }),
  ),
});
export type InstalledRecord = z.infer<typeof InstalledSchema>;

async function ctx(opts: RegistryOptions): Promise<{ dir: string; manifest: ModelManifest }> {
  return { dir: opts.dir ?? modelsDir(), manifest: opts.manifest ?? (await loadModelManifest()) };
}

function specOf(manifest: ModelManifest, id: string): ModelSpec {
  const s = manifest.models.find((m) => m.id === id);
  if (!s)
    throw new ModelError(
      'NOT_FOUND',
      id,
      `unknown model (known: ${manifest.models.map((m) => m.id).join(', ')})`,
    );
  return s;
}

export function modelDirOf(dir: string, id: string): string {
  return path.join(dir, id);
}

async function readInstalled(dir: string, id: string): Promise<InstalledRecord | null> {
  const file = path.join(modelDirOf(dir, id), INSTALLED_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const r = InstalledSchema.safeParse(JSON.parse(text));
    return r.success && r.data.id === id ? r.data : null;
  } catch {
    return null;
  }
}

export async function sha256File(file: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    h.update(chunk);
    size += chunk.length;
  }
  return { sha256: h.digest('hex'), size };
}

export interface ModelStatus {
  id: string;
  task: ModelSpec['task'];
  sets: ModelSpec['sets'];
  repo: string;
  embeddingDim: number;
  installed: boolean;
  dir: string;
  files: { path: string; role: ModelFile['role']; size: number | null; sha256: string | null }[];
}

/** Every model in the manifest with whether it is installed (installed.json present and every file there). */
export async function listModels(opts: RegistryOptions = {}): Promise<ModelStatus[]> {
  const { dir, manifest } = await ctx(opts);
  const out: ModelStatus[] = [];
  for (const m of manifest.models) {
    const rec = await readInstalled(dir, m.id);
    let installed = rec !== null;
    if (rec) {
      for (const f of m.files) {
        const st = await fs.stat(path.join(modelDirOf(dir, m.id), f.path)).catch(() => null);
        const r = rec.files.find((x) => x.path === f.path);
        if (!st || !r || st.size !== r.size) installed = false;
      }
    }
    out.push({
      id: m.id,
      task: m.task,
      sets: m.sets,
      repo: m.repo,
      embeddingDim: m.embeddingDim,
      installed,
      dir: modelDirOf(dir, m.id),
      files: m.files.map((f) => {
        const r = rec?.files.find((x) => x.path === f.path);
        return {
          path: f.path,
          role: f.role,
          size: f.size ?? r?.size ?? null,
          sha256: f.sha256 ?? r?.sha256 ?? null,
        };
      }),
    });
  }
  return out;
}

/** Size/sha256 of `file` vs the manifest (when known) and the install record; throws naming the file. */
async function checkFileIntegrity(
  file: string,
  spec: ModelFile,
  rec: InstalledRecord['files'][number] | undefined,
): Promise<{ sha256: string; size: number }> {
  const st = await fs.stat(file).catch(() => null);
  if (!st || !st.isFile()) throw new ModelError('NOT_FOUND', file, 'missing');
  const wantSize = spec.size ?? rec?.size ?? null;
  if (wantSize !== null && st.size !== wantSize)
    throw new ModelError('INVALID_INPUT', file, `wrong size: ${st.size} bytes, expected ${wantSize}`);
  const got = await sha256File(file);
  const wantSha = spec.sha256 ?? rec?.sha256 ?? null;
  if (wantSha !== null && got.sha256 !== wantSha)
    throw new ModelError('INVALID_INPUT', file, `sha256 mismatch: ${got.sha256}, expected ${wantSha}`);
  return got;
}

async function checkOnnx(spec: ModelSpec, file: string): Promise<void> {
  const session = await openCheckedSession(
    file,
    { inputs: spec.inputs, outputs: spec.outputs },
    { intraOpNumThreads: 1 },
  );
  await session.release();
}

async function checkTokenizerJson(file: string): Promise<void> {
  try {
    const v: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
  } catch (err) {
    throw new ModelError('INVALID_INPUT', file, `not a valid tokenizer JSON (${(err as Error).message})`);
  }
}

async function checkFileContent(spec: ModelSpec, f: ModelFile, file: string): Promise<void> {
  if (f.role === 'model') await checkOnnx(spec, file);
  else if (f.role === 'tokenizer' || f.role === 'tokenizer_config') await checkTokenizerJson(file);
}

export interface VerifiedModel {
  id: string;
  dir: string;
  files: Record<string, string>;
}

/**
 * Verify an installed model: every file present with the recorded/manifest size and sha256, ONNX files
 * self-contained with the manifest's signature. Returns absolute paths by file path.
 */
export async function verifyModel(
  id: string,
  opts: RegistryOptions & { quick?: boolean } = {},
): Promise<VerifiedModel> {
  const { dir, manifest } = await ctx(opts);
  const spec = specOf(manifest, id);
  const mdir = modelDirOf(dir, id);
  const rec = await readInstalled(dir, id);
  if (!rec)
    throw new ModelError(
      'NOT_FOUND',
      path.join(mdir, INSTALLED_FILE),
      `model "${id}" is not installed (run \`clip-fields models pull\` or \`models add DIR\`)`,
    );
  const files: Record<string, string> = {};
  for (const f of spec.files) {
    const file = path.join(mdir, f.path);
    const r = rec.files.find((x) => x.path === f.path);
    if (opts.quick) {
      const st = await fs.stat(file).catch(() => null);
      const want = f.size ?? r?.size ?? null;
      if (!st) throw new ModelError('NOT_FOUND', file, 'missing');
      if (want !== null && st.size !== want)
        throw new ModelError('INVALID_INPUT', file, `wrong size: ${st.size} bytes, expected ${want}`);
    } else {
      await checkFileIntegrity(file, f, r);
      await checkFileContent(spec, f, file);
    }
    files[f.path] = file;
  }
  return { id, dir: mdir, files };
}

async function writeInstalled(dir: string, spec: ModelSpec, files: InstalledRecord['files']): Promise<void> {
  const rec: InstalledRecord = {
    id: spec.id,
    repo: spec.repo,
    revision: spec.revision,
    installed_at: new Date().toISOString(),
    files,
  };
  await writeJsonAtomic(path.join(modelDirOf(dir, spec.id), INSTALLED_FILE), rec);
}

async function copyAtomic(src: string, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  try {
    await fs.copyFile(src, tmp);
    const h = await fs.open(tmp, 'r');
    await h.sync().finally(() => h.close());
    await fs.rename(tmp, dest);
    await fsyncDir(path.dirname(dest));
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw new ModelError('IO', dest, `cannot install (${(err as Error).message})`);
  }
}

/**
 * Install models from a local folder (offline). Every manifest model whose files are all in `srcDir`
 * (at their repo path or side by side by base name) is checked and copied; `ids` restricts the candidates.
 * Returns the installed ids; throws when none matches, naming the files looked for.
 */
export async function addModelFromDir(
  srcDir: string,
  opts: RegistryOptions & { ids?: string[] } = {},
): Promise<string[]> {
  const { dir, manifest } = await ctx(opts);
  const st = await fs.stat(srcDir).catch(() => null);
  if (!st?.isDirectory()) throw new ModelError('NOT_FOUND', srcDir, 'not a folder');
  const candidates = opts.ids ? opts.ids.map((id) => specOf(manifest, id)) : manifest.models;
  const locate = async (f: ModelFile): Promise<string | null> => {
    for (const p of [path.join(srcDir, f.path), path.join(srcDir, path.basename(f.path))]) {
      if ((await fs.stat(p).catch(() => null))?.isFile()) return p;
    }
    return null;
  };
  const matches: { spec: ModelSpec; found: string[] }[] = [];
  for (const spec of candidates) {
    const found: string[] = [];
    for (const f of spec.files) {
      const p = await locate(f);
      if (p) found.push(p);
    }
    if (found.length === spec.files.length) matches.push({ spec, found });
    else if (opts.ids) {
      const missing = spec.files.filter((_, i) => !found[i]).map((f) => f.path);
      throw new ModelError(
        'NOT_FOUND',
        srcDir,
        `model "${spec.id}" needs ${spec.files.map((f) => f.path).join(', ')}; missing ${missing.join(', ')}`,
      );
    }
  }
  // Ambiguity: a folder with a single `model.onnx` would match several models; keep the ones whose signature fits.
  const installed: string[] = [];
  const errors: string[] = [];
  for (const { spec, found } of matches) {
    try {
      const records: InstalledRecord['files'] = [];
      for (let i = 0; i < spec.files.length; i++) {
        const f = spec.files[i]!;
        const src = found[i]!;
        const got = await checkFileIntegrity(src, f, undefined);
        await checkFileContent(spec, f, src);
        records.push({ path: f.path, ...got });
      }
      for (let i = 0; i < spec.files.length; i++)
        await copyAtomic(found[i]!, path.join(modelDirOf(dir, spec.id), spec.files[i]!.path));
      await writeInstalled(dir, spec, records);
      installed.push(spec.id);
    } catch (err) {
      if (opts.ids) throw err;
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (installed.length === 0) {
    if (errors.length > 0)
      throw new ModelError('INVALID_INPUT', srcDir, `no model could be installed: ${errors.join('; ')}`);
    throw new ModelError(
      'NOT_FOUND',
      srcDir,
      `no supported model found; expected e.g. ${candidates
        .slice(0, 3)
        .map((m) => `${m.id} (${m.files.map((f) => f.path).join(', ')})`)
        .join('; ')}`,
    );
  }
  return installed;
}

export interface PullProgress {
  id: string;
  file: string;
  received: number;
  total: number | null;
}

export interface PullOptions extends RegistryOptions {
  set?: 'fast' | 'paper' | 'test';
  ids?: string[];
  baseUrl?: string;
  onProgress?: (p: PullProgress) => void;
  signal?: AbortSignal;
}

async function downloadFile(
  url: string,
  dest: string,
  f: ModelFile,
  id: string,
  o: PullOptions,
): Promise<{ sha256: string; size: number }> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let have = (await fs.stat(part).catch(() => null))?.size ?? 0;
  if (f.size !== null && have > f.size) {
    await fs.rm(part, { force: true });
    have = 0;
  }
  const complete = f.size !== null && have === f.size;
  if (!complete) {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: have > 0 ? { Range: `bytes=${have}-` } : {},
        signal: o.signal ?? null,
        redirect: 'follow',
      });
    } catch (err) {
      throw new ModelError(
        'IO',
        url,
        `download failed (${(err as Error).message}); run the pull again to resume`,
      );
    }
    let append = false;
    let total: number | null = f.size;
    if (res.status === 206) {
      const m = /bytes (\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have)
        throw new ModelError(
          'IO',
          url,
          `server resumed at the wrong offset (${res.headers.get('content-range') ?? 'no Content-Range'})`,
        );
      append = true;
      if (m[2] !== '*' && total === null) total = Number(m[2]);
    } else if (res.status === 416 && have > 0) {
      append = true; // nothing left to send: the part file is complete
    } else if (res.status === 200) {
      have = 0;
      const len = res.headers.get('content-length');
      if (total === null && len !== null && /^\d+$/.test(len)) total = Number(len);
    } else {
      throw new ModelError(
        res.status === 404 ? 'NOT_FOUND' : 'IO',
        url,
        `HTTP ${res.status} ${res.statusText}`,
      );
    }
    if (res.status !== 416 && res.body) {
      let received = have;
      // Write chunk by chunk so everything received before an interruption is on disk for the next resume.
      const h = await fs.open(part, append ? 'a' : 'w');
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          await h.write(chunk);
          received += chunk.byteLength;
          o.onProgress?.({ id, file: f.path, received, total });
        }
      } catch (err) {
        throw new ModelError(
          'IO',
          url,
          `download interrupted after ${received} bytes (${(err as Error).message}); run the pull again to resume`,
        );
      } finally {
        await h.close();
      }
    }
  }
  const got = await sha256File(part);
  if (f.size !== null && got.size !== f.size) {
    if (got.size > f.size) await fs.rm(part, { force: true });
    throw new ModelError(
      'IO',
      dest,
      `downloaded ${got.size} bytes, expected ${f.size}${got.size < f.size ? '; run the pull again to resume' : ''}`,
    );
  }
  if (f.sha256 !== null && got.sha256 !== f.sha256) {
    await fs.rm(part, { force: true });
    throw new ModelError(
      'INVALID_INPUT',
      dest,
      `sha256 mismatch after download: ${got.sha256}, expected ${f.sha256}`,
    );
  }
  const h = await fs.open(part, 'r');
  await h.sync().finally(() => h.close());
  await fs.rename(part, dest);
  await fsyncDir(path.dirname(dest));
  return got;
}

/**
 * Download the models of a set (or the given ids) that are not installed yet. Interrupted downloads resume.
 * Returns the ids installed by this call and those already present.
 */
export async function pullModels(
  o: PullOptions = {},
): Promise<{ installed: string[]; alreadyInstalled: string[] }> {
  const { dir, manifest } = await ctx(o);
  const base = (o.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const specs = o.ids
    ? o.ids.map((id) => specOf(manifest, id))
    : manifest.models.filter((m) => m.sets.includes(o.set ?? 'fast'));
  if (specs.length === 0) throw new ModelError('NOT_FOUND', o.set ?? 'fast', 'no models in this set');
  const installed: string[] = [];
  const already: string[] = [];
  for (const spec of specs) {
    o.signal?.throwIfAborted();
    const status = (await listModels({ dir, manifest })).find((s) => s.id === spec.id);
    if (status?.installed) {
      already.push(spec.id);
      continue;
    }
    const records: InstalledRecord['files'] = [];
    for (const f of spec.files) {
      const dest = path.join(modelDirOf(dir, spec.id), f.path);
      const url = `${base}/${spec.repo}/resolve/${encodeURIComponent(spec.revision)}/${f.path.split('/').map(encodeURIComponent).join('/')}`;
      let got: { sha256: string; size: number } | null = null;
      if ((await fs.stat(dest).catch(() => null))?.isFile()) {
        got = await checkFileIntegrity(dest, f, undefined).catch(() => null);
        if (got && (f.sha256 === null || f.size === null)) got = null; // unknown hashes: re-download to be sure
      }
      got ??= await downloadFile(url, dest, f, spec.id, o);
      await checkFileContent(spec, f, dest);
      records.push({ path: f.path, ...got });
    }
    await writeInstalled(dir, spec, records);
    installed.push(spec.id);
  }
  return { installed, alreadyInstalled: already };
}

/** The installed models of each task, best-first by set preference (`fast` first unless `prefer: 'paper'`). */
export async function installedByTask(
  opts: RegistryOptions & { prefer?: 'fast' | 'paper' } = {},
): Promise<Map<ModelSpec['task'], ModelSpec[]>> {
  const { dir, manifest } = await ctx(opts);
  const status = await listModels({ dir, manifest });
  const prefer = opts.prefer ?? 'fast';
  const out = new Map<ModelSpec['task'], ModelSpec[]>();
  for (const m of manifest.models) {
    if (!status.find((s) => s.id === m.id)?.installed) continue;
    const arr = out.get(m.task) ?? [];
    arr.push(m);
    out.set(m.task, arr);
  }
  for (const arr of out.values())
    arr.sort((a, b) => Number(b.sets.includes(prefer)) - Number(a.sets.includes(prefer)));
  return out;
}
