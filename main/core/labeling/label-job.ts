/**
 * The label job: selected frames -> detections -> labeled 3D points -> `<project>/labels/dataset/`.
 *
 * - `labeler: 'auto'` uses the installed models (detector + CLIP + sentence encoder), else the ground-truth
 *   labeler when the capture is annotated, else fails saying what to install.
 * - Per frame: detections (all class scores >= 0.05 kept), masks (ground-truth masks, or box ∩ depth-consistent
 *   foreground), points back-projected and subsampled with `point_probability` (seeded per frame).
 * - Resumable: each frame's raw result is cached in `<project>/labels/cache/<key>.bin`, keyed by (capture,
 *   frame, labeler, model ids, vocabulary for models, noise, seed, point probability). A re-run after a crash or
 *   a vocabulary change redoes only the frames whose key changed.
 * - At the end the raw detections are merged, the QA edit log is applied (edits.ts), and the dataset folder
 *   (with raw.bin beside it) is replaced atomically: a cancelled or failed run leaves the previous one intact.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import type { CaptureSource, RgbImage } from '../capture/types';
import { CaptureError } from '../capture/types';
import { JobError, type JobContext } from '../jobs/types';
import { cleanStaleTemps, writeFileAtomic } from '../util/atomic';
import { DatasetError, datasetDirOf, loadDatasetDir, writeDataset } from '../dataset/format';
import { RAW_FILE, concatRaw, decodeRaw, encodeRaw, type RawLabels } from '../dataset/raw';
import { DEFAULT_DEPTH_FILTER, type DepthFilter } from '../map/backproject';
import { frameToRaw } from './frame-points';
import { groundTruthDetections, parseNoiseSpec, formatNoiseSpec, type NoiseSpec } from './ground-truth';
import {
  applyEdits,
  classPointCounts,
  labelQuality,
  labelsNeedingEmbeddings,
  readEdits,
  type QualityReport,
  type TextEmbeddingRows,
} from './edits';
import {
  LabelingError,
  fnv1a,
  mulberry32,
  type Detection,
  type ImageCropEncoder,
  type TextEncoder,
} from './types';
import { DEFAULT_VOCABULARY, normalizeLabel, validateVocabulary } from './vocab';
import { LexicalTextEncoder } from './text/lexical';
import type { LabelingPipeline } from './pipeline';

export { LabelParamsSchema, type LabelParams } from '../../../preload/contract';
import { LabelParamsSchema, type LabelParams } from '../../../preload/contract';

export interface LabelJobResult {
  labeler: 'models' | 'ground-truth';
  frames: number;
  detections: number;
  points: number;
  classes: Record<string, number>;
  encoders: { language: string; vision: string | null };
  /** Frames taken from the cache (not recomputed). */
  cached_frames: number;
  /** Against the annotations, when the capture has them. */
  quality: QualityReport | null;
}

export interface OpenedProjectCapture {
  source: CaptureSource;
  /** Frame indices selected at import (before `every`). */
  frames: number[];
  /** Depth range and confidence filter (default: the import's, else 0.1..3 m). */
  filter?: DepthFilter;
}

export interface LabelJobDeps {
  /** Open the project's capture (default: frames/index.json or project.json -> openCapture). */
  openProjectCapture?: (projectDir: string) => Promise<OpenedProjectCapture>;
  /** Load the installed models (default: the model registry's cache dir); null = not installed. */
  loadModels?: (opts: { needDetector: boolean }) => Promise<LabelingPipeline | null>;
}

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw abortError();
}

/** Default project capture resolution: `frames/index.json` (selected frames + capture block) or project.json. */
export async function openProjectCaptureDefault(projectDir: string): Promise<OpenedProjectCapture> {
  const { openCapture } = await import('../capture/open');
  const indexFile = path.join(projectDir, 'frames', 'index.json');
  let source: string | null = null;
  let selected: number[] | null = null;
  let filter: DepthFilter | undefined;
  try {
    const idx = JSON.parse(await fs.readFile(indexFile, 'utf8')) as {
      capture?: { source?: unknown; params?: { min_depth_m?: unknown; max_depth_m?: unknown } };
      frames?: { index?: unknown; selected?: unknown }[];
    };
    if (typeof idx.capture?.source === 'string') source = idx.capture.source;
    const lo = idx.capture?.params?.min_depth_m,
      hi = idx.capture?.params?.max_depth_m;
    if (typeof lo === 'number' && typeof hi === 'number' && lo >= 0 && hi > lo)
      filter = { min_depth_m: lo, max_depth_m: hi };
    if (Array.isArray(idx.frames)) {
      selected = idx.frames
        .filter((f) => f.selected === true && typeof f.index === 'number')
        .map((f) => f.index as number);
    }
  } catch {
    // fall back to project.json
  }
  if (source === null) {
    const projectFile = path.join(projectDir, 'project.json');
    try {
      const p = JSON.parse(await fs.readFile(projectFile, 'utf8')) as {
        capture?: { source?: unknown } | null;
      };
      if (typeof p.capture?.source === 'string') source = p.capture.source;
    } catch (err) {
      throw new JobError('NO_PROJECT', `${projectFile}: cannot read the project (${(err as Error).message})`);
    }
  }
  if (source === null)
    throw new JobError('INVALID_INPUT', 'the project has no capture yet: import one first');
  const src = await openCapture(path.resolve(projectDir, source));
  const frames = selected ?? Array.from({ length: src.info.frameCount }, (_, i) => i);
  return { source: src, frames, ...(filter ? { filter } : {}) };
}

async function defaultLoadModels(opts: { needDetector: boolean }): Promise<LabelingPipeline | null> {
  const { loadInstalledPipeline } = await import('./pipeline');
  return loadInstalledPipeline({ needDetector: opts.needDetector });
}

function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

function toJobError(err: unknown): unknown {
  if (err instanceof JobError) return err;
  if (err instanceof LabelingError || err instanceof DatasetError) return new JobError(err.code, err.message);
  if (err instanceof CaptureError)
    return new JobError(err.code === 'TOO_LARGE' ? 'INVALID_INPUT' : err.code, err.message);
  return err;
}

export async function runLabelJob(
  ctx: JobContext<LabelParams>,
  deps: LabelJobDeps = {},
): Promise<LabelJobResult> {
  try {
    return await runLabelJobInner(ctx, deps);
  } catch (err) {
    throw toJobError(err);
  }
}

async function runLabelJobInner(ctx: JobContext<LabelParams>, deps: LabelJobDeps): Promise<LabelJobResult> {
  const parsed = LabelParamsSchema.safeParse(ctx.params ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new JobError(
      'BAD_ARGS',
      `label parameters: ${issue ? `${issue.path.join('.')}: ${issue.message}` : parsed.error.message}`,
    );
  }
  const params = parsed.data;
  const noise: NoiseSpec = parseNoiseSpec(params.noise ?? '');
  const seed = noise.seed ?? params.seed;
  const vocab = params.vocab ? validateVocabulary(params.vocab, 'vocab') : [...DEFAULT_VOCABULARY];
  const { signal } = ctx;
  checkAbort(signal);

  const opened = await (deps.openProjectCapture ?? openProjectCaptureDefault)(ctx.projectDir);
  const src = opened.source;
  let pipeline: LabelingPipeline | null = null;
  try {
    const info = src.info;
    const frames = opened.frames
      .filter((_, i) => i % params.every === 0)
      .filter((f) => f >= 0 && f < info.frameCount);
    if (frames.length === 0) throw new JobError('INVALID_INPUT', 'no frames selected to label');
    const hasGt = info.hasAnnotations && info.instances !== null;
    const depthFilter = opened.filter ?? DEFAULT_DEPTH_FILTER;

    // Choose the labeler.
    let labeler: 'models' | 'ground-truth';
    const loadModels = deps.loadModels ?? defaultLoadModels;
    if (params.labeler === 'ground-truth') {
      if (!hasGt)
        throw new JobError(
          'INVALID_INPUT',
          `${info.path}: the capture has no annotations (labels/N.png + labels/instances.json); use labeler "models"`,
        );
      labeler = 'ground-truth';
      pipeline = await loadModels({ needDetector: false }).catch(() => null);
    } else {
      pipeline = await loadModels({ needDetector: true }).catch((err: unknown) => {
        if (params.labeler === 'models') throw err;
        ctx.log('warn', `models unavailable: ${(err as Error).message}`);
        return null;
      });
      if (pipeline?.detector) {
        labeler = 'models';
        // Whether the detector's text tower runs once per vocabulary or on every frame (see vision/owl.ts).
        if (pipeline.detector.modeReason)
          ctx.log('info', `detector ${pipeline.detector.name}: ${pipeline.detector.modeReason}`);
      } else if (params.labeler === 'models') {
        throw new JobError(
          'UNSUPPORTED',
          'labeling models are not installed: run `clip-fields models pull --set fast` (OWL-ViT B/32, CLIP ViT-B/32, all-MiniLM-L6-v2) or `clip-fields models add DIR` with the ONNX files',
        );
      } else if (hasGt) {
        labeler = 'ground-truth';
        ctx.log('info', "no detector installed; using the capture's ground-truth annotations");
      } else {
        throw new JobError(
          'UNSUPPORTED',
          'cannot label: no labeling models are installed and the capture has no ground-truth annotations. Install the models with `clip-fields models pull --set fast` (or `clip-fields models add DIR` offline), or import an annotated capture (e.g. the synthetic demo).',
        );
      }
    }
    const textEncoder: TextEncoder = pipeline?.textEncoder ?? new LexicalTextEncoder();
    const clipText: TextEncoder | null = pipeline?.clipText ?? null;
    const cropEncoder: ImageCropEncoder | null = pipeline?.cropEncoder ?? null;
    const detectorEmbeds =
      labeler === 'models' && !cropEncoder && pipeline?.detector ? pipeline.detector.name : null;
    const encoders = { language: textEncoder.name, vision: cropEncoder ? cropEncoder.name : detectorEmbeds };
    const modelIds =
      labeler === 'models'
        ? [...(pipeline?.detector?.modelIds ?? []), ...(cropEncoder ? [cropEncoder.name] : [])]
        : cropEncoder
          ? [cropEncoder.name]
          : [];
    const instances = info.instances ?? new Map();
    const gtClassPool = [...new Set([...instances.values()].map((v) => normalizeLabel(v.class)))].filter(
      (c) => c.length > 0,
    );

    const cacheDir = path.join(ctx.projectDir, 'labels', 'cache');
    await fs.mkdir(cacheDir, { recursive: true });
    await cleanStaleTemps(cacheDir); // temp files of a run whose host or worker died mid-write
    const captureId = `${info.format}:${path.basename(info.path)}:${info.frameCount}`;
    const parts: RawLabels[] = [];
    let cached = 0;
    const t0 = Date.now();
    let computed = 0;
    for (let k = 0; k < frames.length; k++) {
      checkAbort(signal);
      const frame = frames[k]!;
      const key = cacheKey({
        v: 1,
        captureId,
        frame,
        labeler,
        modelIds,
        vocab: labeler === 'models' ? vocab : null,
        noise: labeler === 'ground-truth' ? formatNoiseSpec(noise) : null,
        seed,
        p: params.point_probability,
        filter: depthFilter,
      });
      const cacheFile = path.join(cacheDir, `${key}.bin`);
      let part: RawLabels | null = null;
      try {
        part = decodeRaw(new Uint8Array(await fs.readFile(cacheFile)), cacheFile);
        cached++;
      } catch {
        part = null; // missing or damaged: recompute
      }
      if (!part) {
        part = await labelFrame(frame);
        await writeFileAtomic(cacheFile, encodeRaw(part));
        computed++;
      }
      parts.push(part);
      const elapsed_s = (Date.now() - t0) / 1000;
      const fps = computed > 0 && elapsed_s > 0 ? computed / elapsed_s : 0;
      ctx.progress('label frames', k + 1, frames.length);
      if (fps > 0) ctx.metrics({ frames_per_s: fps, eta_s: (frames.length - k - 1) / fps });
    }

    async function labelFrame(frame: number): Promise<RawLabels> {
      const [rgb, depth_m, confidence] = await Promise.all([
        src.readRgb(frame),
        src.readDepth(frame),
        src.readConfidence(frame),
      ]);
      checkAbort(signal);
      const gtLabels = hasGt ? await src.readLabels(frame) : null;
      const di = info.depthIntrinsics;
      let detections: Detection[];
      if (labeler === 'ground-truth') {
        if (!gtLabels)
          throw new LabelingError(
            'INVALID_INPUT',
            `${info.path} frame ${frame}`,
            'annotated capture has no label image for this frame',
          );
        const rng = mulberry32(fnv1a(`gt:${seed}:${frame}`));
        detections = groundTruthDetections(
          {
            labels: gtLabels,
            depth_m,
            depthIntrinsics: di,
            rgbWidth: rgb.width,
            rgbHeight: rgb.height,
            instances,
          },
          noise,
          rng,
          gtClassPool,
        );
      } else {
        detections = await pipeline!.detector!.detect(
          rgb,
          { width: di.width, height: di.height, depth_m },
          vocab,
        );
        checkAbort(signal);
      }
      if (cropEncoder) await addCropEmbeddings(cropEncoder, rgb, detections);
      checkAbort(signal);
      return frameToRaw({
        frame,
        detections,
        depth_m,
        confidence,
        depthIntrinsics: di,
        world_from_camera: src.poses[frame]!.world_from_camera,
        rgb,
        gtLabels,
        instances: hasGt ? instances : null,
        pointProbability: params.point_probability,
        rng: mulberry32(fnv1a(`pts:${seed}:${frame}`)),
        filter: depthFilter,
        labeler,
        encoders,
      });
    }

    // Merge, embed label texts, apply QA edits, write atomically.
    checkAbort(signal);
    ctx.progress('write dataset', 0, 1);
    const raw = concatRaw(parts, labeler, encoders);
    // Models (or an explicit vocabulary): every vocabulary class gets a label row, with or without points.
    if (labeler === 'models' || params.vocab)
      for (const c of vocab) if (!raw.classes.includes(c)) raw.classes.push(c);
    await embedClasses(raw, textEncoder, clipText);
    const { edits, warnings } = await readEdits(ctx.projectDir);
    for (const w of warnings) ctx.problem('warning', path.join(ctx.projectDir, 'labels', 'edits.jsonl'), w);
    const extra = await embedExtra(labelsNeedingEmbeddings(raw, edits), textEncoder, clipText);
    const applied = applyEdits(raw, edits, { threshold: params.threshold, extraEmbeddings: extra });
    checkAbort(signal);
    await writeDataset(datasetDirOf(ctx.projectDir), applied.dataset, {
      extraFiles: { [RAW_FILE]: encodeRaw(raw) },
      meta: {
        labeler,
        threshold: params.threshold,
        vocabulary: labeler === 'models' ? vocab : null,
        noise: formatNoiseSpec(noise),
        seed,
        point_probability: params.point_probability,
        frames: frames.length,
      },
    });
    const quality = hasGt ? labelQuality(raw, applied) : null;
    const result: LabelJobResult = {
      labeler,
      frames: frames.length,
      detections: applied.dataset.detections.count,
      points: applied.dataset.points,
      classes: classPointCounts(applied.dataset),
      encoders: applied.dataset.encoders,
      cached_frames: cached,
      quality,
    };
    ctx.progress('write dataset', 1, 1);
    ctx.log(
      'info',
      `labeled ${result.frames} frames (${cached} from cache): ${result.detections} detections, ${result.points} points, ${Object.keys(result.classes).length} classes`,
    );
    return result;
  } finally {
    await pipeline?.dispose().catch(() => undefined);
    await src.close().catch(() => undefined);
  }
}

async function addCropEmbeddings(enc: ImageCropEncoder, rgb: RgbImage, dets: Detection[]): Promise<void> {
  // Always the crop encoder's space (a detector's own embeddings, e.g. OWL class_embeds, live in another space).
  const need = dets;
  if (need.length === 0) return;
  const rows = await enc.encodeCrops(
    rgb,
    need.map((d) => d.box),
  );
  need.forEach((d, i) => (d.embedding = rows.slice(i * enc.dim, (i + 1) * enc.dim)));
}

async function embedClasses(raw: RawLabels, text: TextEncoder, clip: TextEncoder | null): Promise<void> {
  raw.classEmbeddings = raw.classes.length > 0 ? await text.encode(raw.classes) : new Float32Array(0);
  raw.dim = text.dim;
  raw.classClipEmbeddings = clip && raw.detections.clipEmbeddings ? await clip.encode(raw.classes) : null;
  raw.clipDim = raw.classClipEmbeddings && clip ? clip.dim : 0;
  raw.encoders = { ...raw.encoders, language: text.name };
}

async function embedExtra(
  names: string[],
  text: TextEncoder,
  clip: TextEncoder | null,
): Promise<Map<string, TextEmbeddingRows>> {
  const out = new Map<string, TextEmbeddingRows>();
  if (names.length === 0) return out;
  const lang = await text.encode(names);
  const clipRows = clip ? await clip.encode(names) : null;
  names.forEach((n, i) =>
    out.set(n, {
      language: lang.slice(i * text.dim, (i + 1) * text.dim),
      clip: clipRows && clip ? clipRows.slice(i * clip.dim, (i + 1) * clip.dim) : null,
    }),
  );
  return out;
}

/**
 * Re-apply the QA edit log to the current raw detections and rewrite the dataset atomically (no detector runs).
 * `textEncoder`/`clipText` are only used for labels that renames introduced (lexical when omitted).
 */
export async function reapplyLabelEdits(
  projectDir: string,
  opts: { textEncoder?: TextEncoder; clipText?: TextEncoder | null } = {},
): Promise<{ dataset: Awaited<ReturnType<typeof applyEdits>>['dataset']; quality: QualityReport | null }> {
  const dir = datasetDirOf(projectDir);
  const { manifest } = await loadDatasetDir(dir);
  const rawFile = path.join(dir, RAW_FILE);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(rawFile));
  } catch (err) {
    throw new LabelingError(
      'NOT_FOUND',
      rawFile,
      `raw detections missing (${(err as Error).message}); re-run the label job`,
    );
  }
  const raw = decodeRaw(bytes, rawFile);
  const { edits } = await readEdits(projectDir);
  const threshold = typeof manifest.meta['threshold'] === 'number' ? manifest.meta['threshold'] : 0.1;
  const need = labelsNeedingEmbeddings(raw, edits);
  const extra = opts.textEncoder
    ? await embedExtra(need, opts.textEncoder, opts.clipText ?? null)
    : undefined;
  const applied = applyEdits(raw, edits, { threshold, extraEmbeddings: extra });
  await writeDataset(dir, applied.dataset, { extraFiles: { [RAW_FILE]: bytes }, meta: manifest.meta });
  return { dataset: applied.dataset, quality: raw.gtClasses.length > 0 ? labelQuality(raw, applied) : null };
}
