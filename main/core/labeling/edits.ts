/**
 * QA edits of labels, re-applied to the raw detections without running models.
 *
 * `<project>/labels/edits.jsonl` is an append-only log, one JSON object per line:
 *   {"v":1,"id":"e-…","at":"…","op":"reject-detection","frame":12,"index":3}
 *   {"v":1,"id":"…","at":"…","op":"reject-class","label":"wall"}
 *   {"v":1,"id":"…","at":"…","op":"rename-class","from":"couch","to":"sofa"}   (merge when "sofa" exists)
 *   {"v":1,"id":"…","at":"…","op":"class-weight","label":"mug","weight":2}
 *   {"v":1,"id":"…","at":"…","op":"score-threshold","threshold":0.3}
 *   {"v":1,"id":"…","at":"…","op":"undo","target":"<id>"}                      (undo of an undo = redo)
 *
 * Semantics (applied in log order to the classes of the raw detections):
 * - rename X -> Y: every class currently called X is called Y (merging score by max when both occur);
 * - reject X: every class currently called X is removed from all detections; a detection then takes its best
 *   remaining class, or is dropped when none is left above the threshold;
 * - class weight: multiplies the weight of the points labeled with that (final) class;
 * - score threshold: the last one wins (default: the label job's threshold);
 * - reject detection `frame:index`: the detection and its points are dropped.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { LabeledPointDataset } from '../dataset/types';
import { NO_GT, type RawLabels } from '../dataset/raw';
import { LabelingError } from './types';
import { normalizeLabel } from './vocab';
import { LEXICAL_DIM, lexicalEmbed } from './text/lexical';

export const EDITS_FILE = 'edits.jsonl';

export function editsPathOf(projectDir: string): string {
  return path.join(projectDir, 'labels', EDITS_FILE);
}

const label = z.string().min(1).max(200);
const base = { v: z.literal(1), id: z.string().min(1).max(64), at: z.string().max(64) };
export const EditSchema = z.discriminatedUnion('op', [
  z
    .object({
      ...base,
      op: z.literal('reject-detection'),
      frame: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
      index: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
    })
    .strict(),
  z.object({ ...base, op: z.literal('reject-class'), label }).strict(),
  z.object({ ...base, op: z.literal('rename-class'), from: label, to: label }).strict(),
  z.object({ ...base, op: z.literal('class-weight'), label, weight: z.number().min(0).max(100) }).strict(),
  z.object({ ...base, op: z.literal('score-threshold'), threshold: z.number().min(0).max(1) }).strict(),
  z.object({ ...base, op: z.literal('undo'), target: z.string().min(1).max(64) }).strict(),
]);
export type Edit = z.infer<typeof EditSchema>;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type NewEdit = DistributiveOmit<Edit, 'v' | 'id' | 'at'>;

/**
 * Parse the edit log. A torn last line (no trailing newline, not valid JSON: a crash mid-append) is ignored
 * and reported in `warnings`; any other bad line is an error naming the file and line.
 */
export function parseEdits(text: string, file: string): { edits: Edit[]; warnings: string[] } {
  const edits: Edit[] = [];
  const warnings: string[] = [];
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.length === 0) continue;
    const isLast = i === lines.length - 1;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      if (isLast && !endsWithNewline) {
        warnings.push(`${file}:${i + 1}: ignoring an incomplete last line (interrupted write)`);
        continue;
      }
      throw new LabelingError(
        'INVALID_INPUT',
        `${file}:${i + 1}`,
        `not valid JSON (${(err as Error).message})`,
      );
    }
    const r = EditSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new LabelingError(
        'INVALID_INPUT',
        `${file}:${i + 1}`,
        `invalid edit: ${issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'unknown'}`,
      );
    }
    edits.push(r.data);
  }
  return { edits, warnings };
}

export async function readEdits(projectDir: string): Promise<{ edits: Edit[]; warnings: string[] }> {
  const file = editsPathOf(projectDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { edits: [], warnings: [] };
    throw new LabelingError('IO', file, `cannot read (${(err as Error).message})`);
  }
  return parseEdits(text, file);
}

/** Append one edit (fsynced). Labels are normalised; returns the stored entry. */
export async function appendEdit(projectDir: string, edit: NewEdit): Promise<Edit> {
  const file = editsPathOf(projectDir);
  const e = {
    v: 1,
    id: `e-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
    at: new Date().toISOString(),
    ...normalizeEdit(edit),
  };
  const r = EditSchema.safeParse(e);
  if (!r.success)
    throw new LabelingError('BAD_ARGS', file, `invalid edit: ${r.error.issues[0]?.message ?? ''}`);
  await fs.mkdir(path.dirname(file), { recursive: true });
  // Terminate a torn last line first so the new entry starts on its own line.
  let prefix = '';
  try {
    const st = await fs.stat(file);
    if (st.size > 0) {
      const h = await fs.open(file, 'r');
      try {
        const b = Buffer.alloc(1);
        await h.read(b, 0, 1, st.size - 1);
        if (b[0] !== 0x0a) prefix = '\n';
      } finally {
        await h.close();
      }
    }
  } catch {
    // no file yet
  }
  const h = await fs.open(file, 'a');
  try {
    await h.appendFile(prefix + JSON.stringify(r.data) + '\n');
    await h.sync();
  } finally {
    await h.close();
  }
  return r.data;
}

function normalizeEdit(e: NewEdit): NewEdit {
  switch (e.op) {
    case 'reject-class':
    case 'class-weight':
      return { ...e, label: normalizeLabel(e.label) };
    case 'rename-class':
      return { ...e, from: normalizeLabel(e.from), to: normalizeLabel(e.to) };
    default:
      return e;
  }
}

/** The edits in effect, in order: undo entries (and what they undo, recursively) are resolved. */
export function activeEdits(edits: readonly Edit[]): Edit[] {
  const cancelled = new Set<string>();
  for (let i = edits.length - 1; i >= 0; i--) {
    const e = edits[i]!;
    if (cancelled.has(e.id)) continue;
    if (e.op === 'undo') cancelled.add(e.target);
  }
  return edits.filter((e) => e.op !== 'undo' && !cancelled.has(e.id));
}

export interface EditState {
  /** raw class index -> final class name, or null when rejected. */
  classMap: (string | null)[];
  weights: Map<string, number>;
  threshold: number;
  rejectedDetections: Set<string>;
}

export function resolveEditState(
  raw: RawLabels,
  edits: readonly Edit[],
  defaultThreshold: number,
): EditState {
  const classMap: (string | null)[] = raw.classes.slice();
  const weights = new Map<string, number>();
  let threshold = defaultThreshold;
  const rejectedDetections = new Set<string>();
  for (const e of activeEdits(edits)) {
    switch (e.op) {
      case 'rename-class': {
        const from = normalizeLabel(e.from),
          to = normalizeLabel(e.to);
        if (from === to || to.length === 0) break;
        for (let i = 0; i < classMap.length; i++) if (classMap[i] === from) classMap[i] = to;
        const w = weights.get(from);
        if (w !== undefined && !weights.has(to)) weights.set(to, w);
        weights.delete(from);
        break;
      }
      case 'reject-class': {
        const l = normalizeLabel(e.label);
        for (let i = 0; i < classMap.length; i++) if (classMap[i] === l) classMap[i] = null;
        break;
      }
      case 'class-weight':
        weights.set(normalizeLabel(e.label), e.weight);
        break;
      case 'score-threshold':
        threshold = e.threshold;
        break;
      case 'reject-detection':
        rejectedDetections.add(`${e.frame}:${e.index}`);
        break;
    }
  }
  return { classMap, weights, threshold, rejectedDetections };
}

/** Final class names that have no embedding in `raw` (they come from renames); embed these before applyEdits. */
export function labelsNeedingEmbeddings(raw: RawLabels, edits: readonly Edit[]): string[] {
  const st = resolveEditState(raw, edits, 0);
  const known = new Set(raw.classes);
  return [...new Set(st.classMap.filter((c): c is string => c !== null && !known.has(c)))];
}

export interface TextEmbeddingRows {
  language: Float32Array;
  clip: Float32Array | null;
}

export interface ApplyEditsOptions {
  /** Score threshold unless an edit sets one (default 0.1 — CLIP-Fields keeps detections above ~0.1). */
  threshold?: number;
  /** Embeddings of labels not in raw.classes (see labelsNeedingEmbeddings). Lexical ones are computed here. */
  extraEmbeddings?: ReadonlyMap<string, TextEmbeddingRows>;
}

export interface AppliedLabels {
  dataset: LabeledPointDataset;
  /** Raw point index of each dataset point (for the quality report). */
  pointSource: Uint32Array;
  /** Raw detection index of each dataset detection. */
  detectionSource: Uint32Array;
  threshold: number;
}

/** Apply the edit log to raw detections: the labeled-point dataset, without running any model. */
export function applyEdits(
  raw: RawLabels,
  edits: readonly Edit[],
  opts: ApplyEditsOptions = {},
): AppliedLabels {
  const st = resolveEditState(raw, edits, opts.threshold ?? 0.1);
  // Final label table: every surviving class name, in order of first appearance.
  const texts: string[] = [];
  const textIdx = new Map<string, number>();
  for (const c of st.classMap) {
    if (c !== null && !textIdx.has(c)) {
      textIdx.set(c, texts.length);
      texts.push(c);
    }
  }
  const hasLanguage = raw.classEmbeddings !== null;
  const dim = hasLanguage ? raw.dim : LEXICAL_DIM;
  const clipDim = raw.classClipEmbeddings ? raw.clipDim : 0;
  const embeddings = new Float32Array(texts.length * dim);
  const clipEmbeddings = clipDim > 0 ? new Float32Array(texts.length * clipDim) : null;
  const rawIdx = new Map(raw.classes.map((c, i) => [c, i] as const));
  texts.forEach((t, i) => {
    const r = rawIdx.get(t);
    if (r !== undefined && raw.classEmbeddings) {
      embeddings.set(raw.classEmbeddings.subarray(r * dim, (r + 1) * dim), i * dim);
      if (clipEmbeddings && raw.classClipEmbeddings)
        clipEmbeddings.set(raw.classClipEmbeddings.subarray(r * clipDim, (r + 1) * clipDim), i * clipDim);
      return;
    }
    const extra = opts.extraEmbeddings?.get(t);
    if (extra && extra.language.length === dim && (!clipEmbeddings || extra.clip?.length === clipDim)) {
      embeddings.set(extra.language, i * dim);
      if (clipEmbeddings && extra.clip) clipEmbeddings.set(extra.clip, i * clipDim);
      return;
    }
    if ((!hasLanguage || raw.encoders.language === 'lexical-384') && !clipEmbeddings) {
      embeddings.set(lexicalEmbed([t]), i * dim);
      return;
    }
    throw new LabelingError(
      'UNSUPPORTED',
      null,
      `label "${t}" (from a rename) needs embeddings from ${raw.encoders.language}${clipEmbeddings ? ` and ${raw.encoders.vision}` : ''}; compute them with labelsNeedingEmbeddings + the text encoders`,
    );
  });

  // Detections.
  const D = raw.detections;
  const keepLabel = new Int32Array(D.count).fill(-1);
  const keepScore = new Float32Array(D.count);
  const best = new Map<number, number>();
  for (let d = 0; d < D.count; d++) {
    if (st.rejectedDetections.has(`${D.frame[d]}:${D.indexInFrame[d]}`)) continue;
    best.clear();
    for (let s = D.scoreOffset[d]!; s < D.scoreOffset[d + 1]!; s++) {
      const name = st.classMap[D.scoreClass[s]!];
      if (name === null || name === undefined) continue;
      const t = textIdx.get(name)!;
      const v = D.scoreValue[s]!;
      if ((best.get(t) ?? -1) < v) best.set(t, v);
    }
    let bt = -1,
      bv = -1;
    for (const [t, v] of best)
      if (v > bv || (v === bv && t < bt)) {
        bt = t;
        bv = v;
      }
    if (bt >= 0 && bv >= st.threshold) {
      keepLabel[d] = bt;
      keepScore[d] = bv;
    }
  }
  const newId = new Int32Array(D.count).fill(-1);
  const detSrc: number[] = [];
  for (let d = 0; d < D.count; d++)
    if (keepLabel[d]! >= 0) {
      newId[d] = detSrc.length;
      detSrc.push(d);
    }
  const nd = detSrc.length;
  const cd = D.clipEmbeddings ? D.clipDim : 0;
  const detections = {
    count: nd,
    frame: new Uint32Array(nd),
    labelId: new Uint16Array(nd),
    score: new Float32Array(nd),
    box: new Float32Array(4 * nd),
    maskArea: new Uint32Array(nd),
    clipEmbeddings: cd > 0 ? new Float32Array(nd * cd) : null,
    clipDim: cd,
  };
  detSrc.forEach((d, i) => {
    detections.frame[i] = D.frame[d]!;
    detections.labelId[i] = keepLabel[d]!;
    detections.score[i] = keepScore[d]!;
    detections.box.set(D.box.subarray(4 * d, 4 * d + 4), 4 * i);
    detections.maskArea[i] = D.maskArea[d]!;
    if (detections.clipEmbeddings && D.clipEmbeddings)
      detections.clipEmbeddings.set(D.clipEmbeddings.subarray(d * cd, (d + 1) * cd), i * cd);
  });
  // Points.
  const P = raw.points;
  let np = 0;
  for (let i = 0; i < P.count; i++) if (newId[P.detectionId[i]!]! >= 0) np++;
  const ds: LabeledPointDataset = {
    points: np,
    xyz: new Float32Array(3 * np),
    rgb: new Uint8Array(3 * np),
    labelId: new Uint16Array(np),
    detectionId: new Uint32Array(np),
    weight: new Float32Array(np),
    distance_m: new Float32Array(np),
    labels: { texts, embeddings, dim, clipEmbeddings, clipDim },
    detections,
    encoders: { language: hasLanguage ? raw.encoders.language : 'lexical-384', vision: raw.encoders.vision },
  };
  const weightOf = texts.map((t) => st.weights.get(t) ?? 1);
  const pointSource = new Uint32Array(np);
  let o = 0;
  for (let i = 0; i < P.count; i++) {
    const rd = P.detectionId[i]!;
    const nid = newId[rd]!;
    if (nid < 0) continue;
    ds.xyz[3 * o] = P.xyz[3 * i]!;
    ds.xyz[3 * o + 1] = P.xyz[3 * i + 1]!;
    ds.xyz[3 * o + 2] = P.xyz[3 * i + 2]!;
    ds.rgb[3 * o] = P.rgb[3 * i]!;
    ds.rgb[3 * o + 1] = P.rgb[3 * i + 1]!;
    ds.rgb[3 * o + 2] = P.rgb[3 * i + 2]!;
    const l = keepLabel[rd]!;
    ds.labelId[o] = l;
    ds.detectionId[o] = nid;
    ds.weight[o] = keepScore[rd]! * weightOf[l]!;
    ds.distance_m[o] = P.distance_m[i]!;
    pointSource[o] = i;
    o++;
  }
  return { dataset: ds, pointSource, detectionSource: Uint32Array.from(detSrc), threshold: st.threshold };
}

/** Points per label name. */
export function classPointCounts(ds: LabeledPointDataset): Record<string, number> {
  const counts = new Array<number>(ds.labels.texts.length).fill(0);
  for (let i = 0; i < ds.points; i++) counts[ds.labelId[i]!]!++;
  const out: Record<string, number> = {};
  ds.labels.texts.forEach((t, i) => {
    if (counts[i]! > 0) out[t] = counts[i]!;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Object grouping across frames
// ---------------------------------------------------------------------------------------------

export interface GroupedObject {
  id: number;
  detections: number[];
  frames: number;
  /** Frames per label, most frequent first. */
  classes: { label: string; frames: number }[];
  points: number;
  center_m: [number, number, number];
}

/**
 * Group detections into objects by 3D overlap of their points: two detections belong to one object when the
 * voxels (`voxel_m`) they occupy overlap by at least `minOverlap` of the smaller one.
 */
export function groupObjects(
  ds: LabeledPointDataset,
  opts: { voxel_m?: number; minOverlap?: number } = {},
): GroupedObject[] {
  const voxel = opts.voxel_m ?? 0.05;
  const minOverlap = opts.minOverlap ?? 0.25;
  const nd = ds.detections.count;
  const voxOf = new Map<string, number[]>();
  const size = new Array<number>(nd).fill(0);
  const seen = new Set<string>();
  for (let i = 0; i < ds.points; i++) {
    const d = ds.detectionId[i]!;
    const key = `${Math.floor(ds.xyz[3 * i]! / voxel)},${Math.floor(ds.xyz[3 * i + 1]! / voxel)},${Math.floor(ds.xyz[3 * i + 2]! / voxel)}`;
    const dk = `${key}|${d}`;
    if (seen.has(dk)) continue;
    seen.add(dk);
    size[d]!++;
    let arr = voxOf.get(key);
    if (!arr) voxOf.set(key, (arr = []));
    arr.push(d);
  }
  const shared = new Map<number, number>();
  for (const arr of voxOf.values()) {
    for (let a = 0; a < arr.length; a++)
      for (let b = a + 1; b < arr.length; b++) {
        const x = Math.min(arr[a]!, arr[b]!),
          y = Math.max(arr[a]!, arr[b]!);
        const k = x * nd + y;
        shared.set(k, (shared.get(k) ?? 0) + 1);
      }
  }
  const parent = Array.from({ length: nd }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (const [k, n] of shared) {
    const x = Math.floor(k / nd),
      y = k % nd;
    if (n / Math.max(1, Math.min(size[x]!, size[y]!)) >= minOverlap) {
      const rx = find(x),
        ry = find(y);
      if (rx !== ry) parent[Math.max(rx, ry)] = Math.min(rx, ry);
    }
  }
  const groups = new Map<number, number[]>();
  for (let d = 0; d < nd; d++) {
    if (size[d] === 0) continue;
    const r = find(d);
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(d);
  }
  const sums = new Map<number, [number, number, number, number]>();
  for (let i = 0; i < ds.points; i++) {
    const r = find(ds.detectionId[i]!);
    let s = sums.get(r);
    if (!s) sums.set(r, (s = [0, 0, 0, 0]));
    s[0] += ds.xyz[3 * i]!;
    s[1] += ds.xyz[3 * i + 1]!;
    s[2] += ds.xyz[3 * i + 2]!;
    s[3]++;
  }
  const out: GroupedObject[] = [];
  for (const [root, dets] of groups) {
    const framesAll = new Set<number>();
    const perClass = new Map<string, Set<number>>();
    for (const d of dets) {
      const f = ds.detections.frame[d]!;
      framesAll.add(f);
      const l = ds.labels.texts[ds.detections.labelId[d]!] ?? '?';
      let s = perClass.get(l);
      if (!s) perClass.set(l, (s = new Set()));
      s.add(f);
    }
    const s = sums.get(root) ?? [0, 0, 0, 1];
    out.push({
      id: 0,
      detections: dets,
      frames: framesAll.size,
      classes: [...perClass]
        .map(([l, fs]) => ({ label: l, frames: fs.size }))
        .sort((a, b) => b.frames - a.frames || a.label.localeCompare(b.label)),
      points: s[3],
      center_m: [s[0] / s[3], s[1] / s[3], s[2] / s[3]],
    });
  }
  out.sort((a, b) => b.points - a.points);
  out.forEach((o, i) => (o.id = i + 1));
  return out;
}

/** "object #12: chair in 14 frames, sofa in 3" */
export function describeObject(o: GroupedObject): string {
  const parts = o.classes.map(
    (c, i) => `${c.label} in ${c.frames}${i === 0 ? (c.frames === 1 ? ' frame' : ' frames') : ''}`,
  );
  return `object #${o.id}: ${parts.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Label quality vs ground truth
// ---------------------------------------------------------------------------------------------

export interface ClassQuality {
  label: string;
  labeledPoints: number;
  correctPoints: number;
  gtPoints: number;
  precision: number | null;
  recall: number | null;
}

export interface QualityReport {
  classes: ClassQuality[];
  /** Fraction of labeled points (with a ground-truth class) whose label is right. */
  pointAccuracy: number | null;
  meanPrecision: number | null;
  meanRecall: number | null;
}

/**
 * Per-class precision/recall of labeled points against the ground-truth class of each point. Recall uses the
 * reference counts of annotated pixels (raw.gtPointCounts), so missed objects count against it.
 */
export function labelQuality(raw: RawLabels, applied: AppliedLabels): QualityReport {
  const ds = applied.dataset;
  const names = new Set<string>([...ds.labels.texts, ...raw.gtClasses]);
  const stat = new Map<string, { labeled: number; correct: number; gt: number }>();
  for (const n of names) stat.set(n, { labeled: 0, correct: 0, gt: 0 });
  raw.gtClasses.forEach((c, i) => (stat.get(c)!.gt += raw.gtPointCounts[i] ?? 0));
  let withGt = 0,
    right = 0;
  for (let i = 0; i < ds.points; i++) {
    const lab = ds.labels.texts[ds.labelId[i]!]!;
    const g = raw.points.gtClass[applied.pointSource[i]!]!;
    if (g === NO_GT) continue;
    const s = stat.get(lab)!;
    s.labeled++;
    withGt++;
    if (raw.gtClasses[g] === lab) {
      s.correct++;
      right++;
    }
  }
  const classes: ClassQuality[] = [...stat]
    .filter(([, s]) => s.labeled > 0 || s.gt > 0)
    .map(([label, s]) => ({
      label,
      labeledPoints: s.labeled,
      correctPoints: s.correct,
      gtPoints: Math.round(s.gt),
      precision: s.labeled > 0 ? s.correct / s.labeled : null,
      recall: s.gt > 0 ? Math.min(1, s.correct / s.gt) : null,
    }))
    .sort((a, b) => a.label.localeCompare(b.label));
  const mean = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    classes,
    pointAccuracy: withGt > 0 ? right / withGt : null,
    meanPrecision: mean(classes.map((c) => c.precision)),
    meanRecall: mean(classes.map((c) => c.recall)),
  };
}
