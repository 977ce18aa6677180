/**
 * Label QA for the studio: overview (classes, counts, scores, quality), per-frame detections with runner-up
 * classes, edits (append-only log + re-apply without models), object grouping, and the labeled points as a
 * binary buffer for colouring the 3D view. Runs in the compute worker (see main/core/compute).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { datasetDirOf, loadDatasetDir } from '../dataset/format';
import { RAW_FILE, decodeRaw, type RawLabels } from '../dataset/raw';
import {
  activeEdits,
  appendEdit,
  describeObject,
  groupObjects,
  readEdits,
  resolveEditState,
  type Edit,
  type NewEdit,
} from './edits';
import { reapplyLabelEdits } from './label-job';
import { LabelingError } from './types';
import type { LabeledPointDataset } from '../dataset/types';

export interface ClassRow {
  name: string;
  points: number;
  detections: number;
  mean_score: number;
  weight: number;
}

export interface LabelsOverview {
  labeler: string;
  encoders: { language: string; vision: string | null };
  threshold: number;
  frames: number[];
  classes: ClassRow[];
  rejected_classes: string[];
  edits: { id: string; op: string; text: string; at: string }[];
  quality: { label: string; precision: number | null; recall: number | null; labeled: number }[] | null;
  point_accuracy: number | null;
  points: number;
  detections: number;
}

export interface FrameDetectionRow {
  frame: number;
  index: number;
  box: [number, number, number, number];
  mask_area: number;
  class: string | null;
  raw_class: string;
  score: number;
  runner_up: { class: string; score: number }[];
  rejected: boolean;
  reason: 'detection' | 'class' | 'threshold' | null;
  points: number;
}

interface Loaded {
  dataset: LabeledPointDataset;
  raw: RawLabels;
  edits: Edit[];
  threshold: number;
  key: string;
}

let cache: Loaded | null = null;

async function load(projectDir: string): Promise<Loaded> {
  const dir = datasetDirOf(projectDir);
  const manifestFile = path.join(dir, 'dataset.json');
  let stamp: string;
  try {
    const [m, e] = await Promise.all([
      fs.stat(manifestFile),
      fs.stat(path.join(projectDir, 'labels', 'edits.jsonl')).catch(() => null),
    ]);
    stamp = `${dir}:${m.mtimeMs}:${e?.mtimeMs ?? 0}:${e?.size ?? 0}`;
  } catch {
    throw new LabelingError(
      'NOT_FOUND',
      manifestFile,
      'no labels yet: run labeling first (Labels ▸ Run labeling)',
    );
  }
  if (cache && cache.key === stamp) return cache;
  const { dataset, manifest } = await loadDatasetDir(dir);
  const rawFile = path.join(dir, RAW_FILE);
  const raw = decodeRaw(new Uint8Array(await fs.readFile(rawFile)), rawFile);
  const { edits } = await readEdits(projectDir);
  const threshold = typeof manifest.meta['threshold'] === 'number' ? manifest.meta['threshold'] : 0.1;
  cache = { dataset, raw, edits, threshold, key: stamp };
  return cache;
}

function describeEdit(e: Edit): string {
  switch (e.op) {
    case 'reject-detection':
      return `reject detection ${e.index} in frame ${e.frame}`;
    case 'reject-class':
      return `reject class "${e.label}"`;
    case 'rename-class':
      return `rename "${e.from}" → "${e.to}"`;
    case 'class-weight':
      return `weight of "${e.label}" = ${e.weight}`;
    case 'score-threshold':
      return `score threshold = ${e.threshold}`;
    case 'undo':
      return `undo ${e.target}`;
  }
}

export async function labelsOverview(projectDir: string): Promise<LabelsOverview> {
  const { dataset: ds, raw, edits, threshold } = await load(projectDir);
  const state = resolveEditState(raw, edits, threshold);
  const rows = new Map<string, ClassRow & { scoreSum: number }>();
  for (const name of ds.labels.texts)
    rows.set(name, {
      name,
      points: 0,
      detections: 0,
      mean_score: 0,
      weight: state.weights.get(name) ?? 1,
      scoreSum: 0,
    });
  for (let i = 0; i < ds.points; i++) {
    const r = rows.get(ds.labels.texts[ds.labelId[i] as number] as string);
    if (r) r.points++;
  }
  for (let d = 0; d < ds.detections.count; d++) {
    const r = rows.get(ds.labels.texts[ds.detections.labelId[d] as number] as string);
    if (r) {
      r.detections++;
      r.scoreSum += ds.detections.score[d] as number;
    }
  }
  const classes = [...rows.values()]
    .map(({ scoreSum, ...r }) => ({ ...r, mean_score: r.detections ? scoreSum / r.detections : 0 }))
    .sort((a, b) => b.points - a.points || a.name.localeCompare(b.name));
  const rejected = [...new Set(raw.classes.filter((_, i) => state.classMap[i] === null))];
  const frames = [...new Set(Array.from(raw.detections.frame))].sort((a, b) => a - b);
  let quality: LabelsOverview['quality'] = null;
  let pointAccuracy: number | null = null;
  if (raw.gtClasses.length > 0) {
    const { labelQuality, applyEdits } = await import('./edits');
    const q = labelQuality(raw, applyEdits(raw, edits, { threshold }));
    quality = q.classes.map((c) => ({
      label: c.label,
      precision: c.precision,
      recall: c.recall,
      labeled: c.labeledPoints,
    }));
    pointAccuracy = q.pointAccuracy;
  }
  return {
    labeler: raw.labeler,
    encoders: ds.encoders,
    threshold: state.threshold,
    frames,
    classes,
    rejected_classes: rejected,
    edits: activeEdits(edits).map((e) => ({ id: e.id, op: e.op, text: describeEdit(e), at: e.at })),
    quality,
    point_accuracy: pointAccuracy,
    points: ds.points,
    detections: ds.detections.count,
  };
}

export async function frameDetections(projectDir: string, frame: number): Promise<FrameDetectionRow[]> {
  const { raw, edits, threshold } = await load(projectDir);
  const state = resolveEditState(raw, edits, threshold);
  const det = raw.detections;
  const pointsPerDet = new Map<number, number>();
  for (let i = 0; i < raw.points.count; i++) {
    const d = raw.points.detectionId[i] as number;
    pointsPerDet.set(d, (pointsPerDet.get(d) ?? 0) + 1);
  }
  const out: FrameDetectionRow[] = [];
  for (let d = 0; d < det.count; d++) {
    if (det.frame[d] !== frame) continue;
    const s0 = det.scoreOffset[d] as number;
    const s1 = det.scoreOffset[d + 1] as number;
    const scores: { class: string; score: number; final: string | null }[] = [];
    for (let k = s0; k < s1; k++) {
      const ci = det.scoreClass[k] as number;
      scores.push({
        class: raw.classes[ci] as string,
        score: det.scoreValue[k] as number,
        final: state.classMap[ci] ?? null,
      });
    }
    const index = det.indexInFrame[d] as number;
    const rejectedDet = state.rejectedDetections.has(`${frame}:${index}`);
    const best = scores.find((s) => s.final !== null);
    const top = scores[0];
    let reason: FrameDetectionRow['reason'] = null;
    if (rejectedDet) reason = 'detection';
    else if (!best) reason = 'class';
    else if (best.score < state.threshold) reason = 'threshold';
    out.push({
      frame,
      index,
      box: [
        det.box[d * 4] as number,
        det.box[d * 4 + 1] as number,
        det.box[d * 4 + 2] as number,
        det.box[d * 4 + 3] as number,
      ],
      mask_area: det.maskArea[d] as number,
      class: best?.final ?? null,
      raw_class: top?.class ?? '',
      score: best?.score ?? top?.score ?? 0,
      runner_up: scores
        .filter((s) => s !== best)
        .slice(0, 3)
        .map((s) => ({ class: s.final ?? s.class, score: s.score })),
      rejected: reason !== null,
      reason,
      points: pointsPerDet.get(d) ?? 0,
    });
  }
  return out;
}

/** Append an edit and re-apply the log to the dataset (no models run). */
export async function addLabelEdit(projectDir: string, edit: NewEdit): Promise<LabelsOverview> {
  await appendEdit(projectDir, edit);
  await reapplyWithEncoders(projectDir);
  cache = null;
  return labelsOverview(projectDir);
}

/** Undo the most recent edit in effect. */
export async function undoLabelEdit(projectDir: string): Promise<LabelsOverview> {
  const { edits } = await readEdits(projectDir);
  const last = activeEdits(edits).at(-1);
  if (!last) throw new LabelingError('CONFLICT', null, 'nothing to undo');
  return addLabelEdit(projectDir, { op: 'undo', target: last.id });
}

async function reapplyWithEncoders(projectDir: string): Promise<void> {
  const { manifest } = await loadDatasetDir(datasetDirOf(projectDir));
  const language = manifest.encoders.language;
  if (language && !language.startsWith('lexical')) {
    // Renamed classes must be embedded by the same encoder as the rest of the dataset.
    const { loadInstalledPipeline } = await import('./pipeline');
    const pipeline = await loadInstalledPipeline({ needDetector: false });
    if (pipeline) {
      try {
        await reapplyLabelEdits(projectDir, {
          textEncoder: pipeline.textEncoder,
          clipText: pipeline.clipText,
        });
        return;
      } finally {
        await pipeline.dispose();
      }
    }
  }
  await reapplyLabelEdits(projectDir);
}

export async function labelObjects(projectDir: string): Promise<
  {
    id: number;
    text: string;
    frames: number;
    points: number;
    center_m: [number, number, number];
    classes: { label: string; frames: number }[];
  }[]
> {
  const { dataset } = await load(projectDir);
  return groupObjects(dataset).map((o) => ({
    id: o.id,
    text: describeObject(o),
    frames: o.frames,
    points: o.points,
    center_m: o.center_m,
    classes: o.classes,
  }));
}

/**
 * The labeled points for the 3D view: header (u32 count, u32 label count) then Float32 xyz (3n),
 * Uint16 label id (n, padded to 4 bytes), and the label texts as UTF-8 JSON at the end.
 */
export async function labeledPointsBinary(projectDir: string): Promise<Uint8Array> {
  const { dataset: ds } = await load(projectDir);
  const n = ds.points;
  const labels = new TextEncoder().encode(JSON.stringify(ds.labels.texts));
  const idsBytes = Math.ceil((n * 2) / 4) * 4;
  const total = 8 + n * 12 + idsBytes + labels.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n, true);
  dv.setUint32(4, labels.length, true);
  new Float32Array(out.buffer, 8, n * 3).set(ds.xyz.subarray(0, n * 3));
  new Uint16Array(out.buffer, 8 + n * 12, n).set(ds.labelId.subarray(0, n));
  out.set(labels, 8 + n * 12 + idsBytes);
  return out;
}
