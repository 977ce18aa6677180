/**
 * OWL-ViT B/32 (768 px, stretched) and OWLv2 B/16 (960 px, padded to a square) open-vocabulary detector
 * adapters. Text-conditioned: the vocabulary becomes prompts "a photo of a <label>" tokenised with the model's
 * CLIP BPE tokenizer (16 tokens), the image is preprocessed like the HF processors, and
 * `logits` [1, patches, queries] / `pred_boxes` [1, patches, 4] (cx, cy, w, h relative to the model's square
 * input) become detections: patches whose best sigmoid score reaches `detectThreshold`, class-agnostic NMS,
 * every class score >= CLASS_SCORE_FLOOR kept. `class_embeds` rows are attached as embeddings when exported.
 *
 * Text tower once per vocabulary: HF/optimum exports also output `text_embeds`. When they do, load() splits the
 * model once (wire-level extraction, ../../onnx/extract) into a text model (input_ids, attention_mask -> the
 * text-embedding value the class head reads) and an image model (pixel_values + that value + whatever the
 * kept nodes still read, e.g. input_ids for HF's query mask -> logits, pred_boxes[, class_embeds]), caches both
 * next to the model (`<modelDir>/.derived/<file>.<size>-<mtime>.v1.{text,image}.onnx`), and detect() runs the
 * text model only when the vocabulary changes. Otherwise (no text_embeds, or no clean cut) the whole model runs
 * per frame; `mode` / `modeReason` say which.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { RgbImage } from '../../capture/types';
import {
  OnnxExtractError,
  extractModel,
  inspectGraph,
  requiredNodes,
  type GraphSummary,
} from '../../onnx/extract';
import { writeFileAtomic } from '../../util/atomic';
import type { ModelSpec } from '../../models/manifest';
import {
  CLASS_SCORE_FLOOR,
  LabelingError,
  l2NormalizeRows,
  type Box,
  type DepthImage,
  type Detection,
  type Detector,
} from '../types';
import { loadModel, type LoadOptions, type LoadedModel } from '../onnx/session';
import { TextTokenizer } from '../onnx/tokenize';
import { owlPreprocess } from './preprocess';

export interface OwlOptions extends LoadOptions {
  detectThreshold?: number;
  nmsIou?: number;
  maxDetections?: number;
  prompt?: (label: string) => string;
  /** 'auto' (default): split off the text tower when the export allows it; 'combined': run the whole model per frame. */
  textTower?: 'auto' | 'combined';
  /** Folder for the split sub-models (default `<modelDir>/.derived`; null = derive in memory on every load). */
  derivedDir?: string | null;
}

export type OwlMode = 'split' | 'combined';

/** Where to cut an OWL-ViT export into a text part and an image part. */
export interface OwlSplitPlan {
  /** The text-embedding value the image part reads (the text model's only output). */
  cut: string;
  textInputs: string[];
  imageInputs: string[];
  imageOutputs: string[];
}

const TEXT_INPUTS = ['input_ids', 'attention_mask'];
const PIXELS = 'pixel_values';
const DETECTION_OUTPUTS = ['logits', 'pred_boxes', 'class_embeds'];
/** Ops through which `text_embeds` may alias the value the class head reads (HF reshapes to [batch, Q, D]). */
const PASSTHROUGH = new Set(['Identity', 'Reshape', 'Squeeze', 'Unsqueeze', 'Flatten', 'Cast']);
/**
 * Cheap ops the image part may still run on text inputs (HF's query mask: input_ids[..., 0] > 0, reshapes,
 * where). Anything else that reads text data per frame means the cut did not separate the text tower.
 */
const CHEAP_TEXT_OPS = new Set(
  [
    'Identity Reshape Squeeze Unsqueeze Flatten Transpose Gather GatherElements GatherND Slice Concat',
    'Split Cast CastLike Equal Greater GreaterOrEqual Less LessOrEqual Not And Or Xor Where Expand Tile',
    'Add Sub Mul Div Neg Abs Min Max Clip ArgMax ArgMin ReduceMax ReduceMin Constant ConstantOfShape',
    'Range Shape Size Mod Floor Ceil Sign',
  ]
    .join(' ')
    .split(' '),
);
/** Ops whose output carries only shape information (not the data of their input). */
const SHAPE_ONLY = new Set(['Shape', 'Size']);
/** Bump when the split rule changes so cached derived files are rebuilt. */
const SPLIT_VERSION = 'v1';

/**
 * Find where to split an OWL-ViT export, or say why it cannot be split. Candidates: `text_embeds`, then the
 * values it aliases through Identity/Reshape/... (the class head reads the internal value). The first candidate
 * that the text inputs alone compute, that the image part reads, and after which the image part runs no
 * text-dependent work beyond cheap mask/reshape ops, wins.
 */
export function planOwlSplit(g: GraphSummary): OwlSplitPlan | { reason: string } {
  if (!g.outputs.includes('text_embeds')) return { reason: 'the model has no text_embeds output' };
  if (!g.inputs.includes(PIXELS) || !g.inputs.includes('input_ids'))
    return { reason: `the model lacks a ${PIXELS} or input_ids input` };
  const textInputs = TEXT_INPUTS.filter((n) => g.inputs.includes(n));
  const imageOutputs = DETECTION_OUTPUTS.filter((n) => g.outputs.includes(n));
  if (!imageOutputs.includes('logits') || !imageOutputs.includes('pred_boxes'))
    return { reason: 'the model lacks logits or pred_boxes outputs' };
  const candidates: string[] = [];
  for (let v: string | undefined = 'text_embeds'; v && candidates.length < 16 && !g.inputs.includes(v);) {
    candidates.push(v);
    const p = g.producer.get(v);
    const node = p === undefined ? undefined : g.nodes[p];
    v = node && PASSTHROUGH.has(node.opType) && node.domain === '' ? node.inputs[0] : undefined;
  }
  const why: string[] = [];
  for (const cut of candidates) {
    let text, image;
    try {
      text = requiredNodes(g, [cut], textInputs);
      image = requiredNodes(g, imageOutputs, [PIXELS, cut, ...textInputs]);
    } catch (err) {
      if (!(err instanceof OnnxExtractError)) throw err;
      why.push(`"${cut}": ${err.reason}`);
      continue;
    }
    if (!image.usedInputs.includes(cut)) {
      why.push(`"${cut}": the class head does not read it`);
      continue;
    }
    // Data that still flows from the text inputs into the image part (shape reads excluded).
    const textData = new Set(textInputs);
    const costly = new Set<string>();
    for (const n of image.nodes) {
      const node = g.nodes[n]!;
      if (SHAPE_ONLY.has(node.opType)) continue;
      if (![...node.inputs, ...node.implicitInputs].some((i) => textData.has(i))) continue;
      for (const o of node.outputs) if (o !== '') textData.add(o);
      if (node.domain !== '' || !CHEAP_TEXT_OPS.has(node.opType)) costly.add(node.opType);
    }
    if (costly.size > 0) {
      why.push(
        `"${cut}": the image part would still run text-dependent ${[...costly].slice(0, 4).join(', ')}`,
      );
      continue;
    }
    return { cut, textInputs: text.usedInputs, imageInputs: image.usedInputs, imageOutputs };
  }
  return { reason: `no clean cut for the text tower (${why.join('; ')})` };
}

/** Split OWL-ViT bytes into the text and image sub-models (null + reason when it cannot be split). */
export function splitOwlModel(
  bytes: Uint8Array,
  file: string,
): { plan: OwlSplitPlan; text: Uint8Array; image: Uint8Array } | { reason: string } {
  const plan = planOwlSplit(inspectGraph(bytes, file));
  if ('reason' in plan) return plan;
  const text = extractModel(bytes, { inputs: plan.textInputs, outputs: [plan.cut] }, file);
  const image = extractModel(
    bytes,
    {
      inputs: [PIXELS, { name: plan.cut, elem: 'float32' }, ...plan.textInputs],
      outputs: plan.imageOutputs,
      dropUnusedInputs: true,
    },
    file,
  );
  return { plan, text: text.bytes, image: image.bytes };
}

interface SplitSessions {
  text: ort.InferenceSession;
  image: ort.InferenceSession;
  cut: string;
  reason: string;
}

async function releaseAll(...s: (ort.InferenceSession | null | undefined)[]): Promise<void> {
  for (const x of s) await x?.release().catch(() => undefined);
}

/** Sessions of a split pair that look like one (else null, sessions released). */
async function openPair(
  text: string | Uint8Array,
  image: string | Uint8Array,
  opts: ort.InferenceSession.SessionOptions,
): Promise<{ text: ort.InferenceSession; image: ort.InferenceSession; cut: string } | null> {
  let t: ort.InferenceSession | null = null,
    i: ort.InferenceSession | null = null;
  try {
    const open = (src: string | Uint8Array) =>
      typeof src === 'string'
        ? ort.InferenceSession.create(src, opts)
        : ort.InferenceSession.create(src, opts);
    t = await open(text);
    i = await open(image);
    const cut = t.outputNames[0];
    const ok =
      cut !== undefined &&
      t.outputNames.length === 1 &&
      t.inputNames.every((n) => TEXT_INPUTS.includes(n)) &&
      i.inputNames.includes(cut) &&
      i.inputNames.includes(PIXELS) &&
      i.inputNames.every((n) => n === cut || n === PIXELS || TEXT_INPUTS.includes(n)) &&
      i.outputNames.includes('logits') &&
      i.outputNames.includes('pred_boxes');
    if (ok) return { text: t, image: i, cut };
  } catch {
    // fall through: not a usable pair
  }
  await releaseAll(t, i);
  return null;
}

async function openSplit(
  modelFile: string,
  derivedDir: string | null,
  opts: ort.InferenceSession.SessionOptions,
): Promise<SplitSessions | { reason: string }> {
  const st = await fs.stat(modelFile);
  const base = path.basename(modelFile);
  const key = `${base}.${st.size}-${Math.floor(st.mtimeMs)}.${SPLIT_VERSION}`;
  const textPath = derivedDir ? path.join(derivedDir, `${key}.text.onnx`) : null;
  const imagePath = derivedDir ? path.join(derivedDir, `${key}.image.onnx`) : null;
  if (textPath && imagePath) {
    const cached = await Promise.all(
      [textPath, imagePath].map((f) =>
        fs.access(f).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (cached.every(Boolean)) {
      const pair = await openPair(textPath, imagePath, opts);
      if (pair) return { ...pair, reason: `text tower split at "${pair.cut}" (reused from ${derivedDir})` };
    }
  }
  let split;
  try {
    split = splitOwlModel(new Uint8Array(await fs.readFile(modelFile)), modelFile);
  } catch (err) {
    if (err instanceof OnnxExtractError) return { reason: `cannot split: ${err.message}` };
    throw err;
  }
  if ('reason' in split) return split;
  const pair = await openPair(split.text, split.image, opts);
  if (!pair) return { reason: `onnxruntime cannot open the split sub-models of ${modelFile}` };
  let where = 'derived in memory';
  if (derivedDir && textPath && imagePath) {
    try {
      await fs.mkdir(derivedDir, { recursive: true });
      await writeFileAtomic(textPath, split.text);
      await writeFileAtomic(imagePath, split.image);
      where = `derived and cached in ${derivedDir}`;
      // Sub-models of older versions of this file are stale.
      for (const f of await fs.readdir(derivedDir)) {
        if (f.startsWith(`${base}.`) && !f.startsWith(`${key}.`) && /\.(text|image)\.onnx$/.test(f))
          await fs.rm(path.join(derivedDir, f), { force: true });
      }
    } catch (err) {
      where = `derived in memory; cache not written (${(err as Error).message})`;
    }
  }
  return { ...pair, reason: `text tower split at "${pair.cut}" (${where})` };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

export class OwlDetector implements Detector {
  readonly name: string;
  readonly modelIds: readonly string[];
  private cachedVocab: string | null = null;
  private cachedTokens: { ids: BigInt64Array; mask: BigInt64Array; q: number; seq: number } | null = null;
  private textFor: object | null = null;
  private textEmbeds: ort.Tensor | null = null;
  private textRuns = 0;
  private constructor(
    private readonly model: LoadedModel,
    private readonly split: SplitSessions | null,
    /** Why the detector runs in its mode (one line, for the studio/CLI). */
    readonly modeReason: string,
    private readonly tok: TextTokenizer,
    private readonly opts: OwlOptions,
  ) {
    this.name = model.spec.id;
    this.modelIds = [model.spec.id];
  }

  /** 'split': text tower once per vocabulary, image part per frame; 'combined': the whole model per frame. */
  get mode(): OwlMode {
    return this.split ? 'split' : 'combined';
  }

  /** How many times the text tower ran (once per vocabulary in split mode, once per frame in combined mode). */
  get textTowerRuns(): number {
    return this.textRuns;
  }

  static async load(spec: ModelSpec, modelDir: string, opts: OwlOptions = {}): Promise<OwlDetector> {
    const model = await loadModel(spec, modelDir, opts);
    try {
      const tj = model.file('tokenizer');
      if (!tj) throw new LabelingError('INVALID_INPUT', spec.id, 'needs tokenizer.json');
      const tok = await TextTokenizer.load(tj, model.file('tokenizer_config'), spec.maxTokens ?? 16);
      let split: SplitSessions | null = null;
      let reason = 'text tower split disabled (textTower: combined)';
      if (opts.textTower !== 'combined') {
        const modelFile = model.file('model')!;
        const derivedDir = opts.derivedDir === undefined ? path.join(modelDir, '.derived') : opts.derivedDir;
        const r = await openSplit(modelFile, derivedDir, {
          executionProviders: ['cpu'],
          graphOptimizationLevel: 'all',
          intraOpNumThreads: opts.threads ?? 2,
          interOpNumThreads: 1,
        });
        if ('text' in r) split = r;
        reason = r.reason;
      }
      if (split) await model.session.release();
      return new OwlDetector(model, split, reason, tok, opts);
    } catch (err) {
      await model.session.release().catch(() => undefined);
      throw err;
    }
  }

  private tokens(vocab: readonly string[]) {
    const key = JSON.stringify(vocab);
    if (this.cachedVocab !== key || !this.cachedTokens) {
      const prompt = this.opts.prompt ?? ((l: string) => `a photo of a ${l}`);
      const seq = this.model.spec.maxTokens ?? 16;
      const b = this.tok.encodeBatch(vocab.map(prompt), seq);
      this.cachedTokens = { ids: b.inputIds, mask: b.attentionMask, q: b.batch, seq: b.seq };
      this.cachedVocab = key;
    }
    return this.cachedTokens;
  }

  /** Run the model(s) on one preprocessed frame: the text part only when the tokens changed (split mode). */
  private async runModel(
    t: { ids: BigInt64Array; mask: BigInt64Array; q: number; seq: number },
    pixels: Float32Array,
    S: number,
  ): Promise<ort.InferenceSession.ReturnType> {
    const text: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', t.ids, [t.q, t.seq]),
      attention_mask: new ort.Tensor('int64', t.mask, [t.q, t.seq]),
    };
    const px = new ort.Tensor('float32', pixels, [1, 3, S, S]);
    const pick = (names: readonly string[], all: Record<string, ort.Tensor>) =>
      Object.fromEntries(names.map((n) => [n, all[n]!]));
    if (!this.split) {
      this.textRuns++;
      return this.model.session.run(pick(this.model.session.inputNames, { ...text, pixel_values: px }));
    }
    const { cut } = this.split;
    if (this.textFor !== t || !this.textEmbeds) {
      const res = await this.split.text.run(pick(this.split.text.inputNames, text));
      try {
        const e = res[cut];
        if (!e) throw new LabelingError('INVALID_INPUT', this.name, `the text part gave no "${cut}"`);
        this.textEmbeds?.dispose();
        this.textEmbeds = new ort.Tensor(e.type as 'float32', (e.data as Float32Array).slice(), e.dims);
        this.textFor = t;
        this.textRuns++;
      } finally {
        for (const v of Object.values(res)) v.dispose();
      }
    }
    return this.split.image.run(
      pick(this.split.image.inputNames, { ...text, pixel_values: px, [cut]: this.textEmbeds }),
    );
  }

  async detect(rgb: RgbImage, _depth: DepthImage | null, vocab: readonly string[]): Promise<Detection[]> {
    if (vocab.length === 0)
      throw new LabelingError('BAD_ARGS', 'vocab', 'the detector needs at least one label');
    const S = this.model.spec.imageSize ?? 768;
    const { pixels, scaleX, scaleY } = await owlPreprocess(rgb, S, this.model.spec.resize ?? 'stretch');
    const t = this.tokens(vocab);
    const res = await this.runModel(t, pixels, S);
    try {
      const logits = res['logits'],
        boxes = res['pred_boxes'];
      if (
        !logits ||
        !boxes ||
        logits.dims.length !== 3 ||
        logits.dims[2] !== t.q ||
        boxes.dims[1] !== logits.dims[1] ||
        boxes.dims[2] !== 4
      ) {
        throw new LabelingError(
          'INVALID_INPUT',
          this.name,
          `unexpected outputs logits [${logits?.dims.join(', ') ?? ''}], pred_boxes [${boxes?.dims.join(', ') ?? ''}]`,
        );
      }
      const P = Number(logits.dims[1]);
      const L = logits.data as Float32Array,
        B = boxes.data as Float32Array;
      const ce = res['class_embeds'];
      const ceDim = ce && ce.dims.length === 3 && Number(ce.dims[1]) === P ? Number(ce.dims[2]) : 0;
      const thr = this.opts.detectThreshold ?? 0.1;
      const cands: { p: number; best: number; box: Box }[] = [];
      for (let p = 0; p < P; p++) {
        let best = 0;
        for (let q = 0; q < t.q; q++) best = Math.max(best, sigmoid(L[p * t.q + q]!));
        if (best < thr) continue;
        const cx = B[4 * p]!,
          cy = B[4 * p + 1]!,
          w = B[4 * p + 2]!,
          h = B[4 * p + 3]!;
        const box: Box = [
          Math.max(0, (cx - w / 2) * scaleX),
          Math.max(0, (cy - h / 2) * scaleY),
          Math.min(rgb.width, (cx + w / 2) * scaleX),
          Math.min(rgb.height, (cy + h / 2) * scaleY),
        ];
        if (!(box[2] > box[0] && box[3] > box[1])) continue;
        cands.push({ p, best, box });
      }
      cands.sort((a, b) => b.best - a.best);
      const kept: typeof cands = [];
      const nms = this.opts.nmsIou ?? 0.3;
      for (const c of cands) {
        if (kept.length >= (this.opts.maxDetections ?? 50)) break;
        if (kept.every((k) => iou(k.box, c.box) < nms)) kept.push(c);
      }
      return kept.map((c) => {
        const classScores = vocab
          .map((label, q) => ({ label, score: sigmoid(L[c.p * t.q + q]!) }))
          .filter((s) => s.score >= CLASS_SCORE_FLOOR)
          .sort((a, b) => b.score - a.score);
        const d: Detection = { box: c.box, classScores };
        if (ceDim > 0)
          d.embedding = l2NormalizeRows(
            (ce!.data as Float32Array).slice(c.p * ceDim, (c.p + 1) * ceDim),
            ceDim,
          );
        return d;
      });
    } finally {
      for (const v of Object.values(res)) v.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.textEmbeds?.dispose();
    this.textEmbeds = null;
    if (this.split) await releaseAll(this.split.text, this.split.image);
    else await this.model.session.release();
  }
}
