/**
 * Pure logic behind the Labels pane's forms: labeling parameters, QA edits, detection filters and
 * crop rectangles. Each form parser returns a contract-shaped object or a message for the operator.
 */
import {
  LabelEditSchema,
  LabelParamsSchema,
  type FrameDetection,
  type LabelEdit,
  type LabelParams,
} from '../../../../preload/contract';

/** CLIP-Fields' label normalisation (lowercase, `_`/`-` to spaces, collapsed whitespace), as main applies it. */
export function normalizeLabel(label: string): string {
  return label.toLowerCase().replace(/[_-]/g, ' ').replace(/\s+/g, ' ').trim();
}

/** One label per line; blank lines and `#` comments skipped; duplicates (after normalisation) reported. */
export function parseVocabulary(text: string): { vocab: string[] } | { error: string } {
  const out: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.trim();
    if (!raw || raw.startsWith('#')) continue;
    const n = normalizeLabel(raw);
    if (n.length > 200) return { error: `Line ${i + 1}: a label is at most 200 characters.` };
    const prev = seen.get(n);
    if (prev !== undefined) return { error: `Line ${i + 1}: "${n}" repeats line ${prev + 1}.` };
    seen.set(n, i);
    out.push(n);
  }
  if (out.length > 4096) return { error: `The vocabulary has ${out.length} labels; at most 4096.` };
  return { vocab: out };
}

export type Labeler = 'auto' | 'models' | 'ground-truth';

export interface LabelRunForm {
  labeler: Labeler;
  /** Textarea contents; empty means "the project's default vocabulary". */
  vocabText: string;
  every: string;
  threshold: string;
  /** Ground-truth noise spec, e.g. `drop=0.2,confuse=0.15,jitter=0.1`; empty = none. */
  noise: string;
  seed: string;
}

export const DEFAULT_LABEL_RUN_FORM: LabelRunForm = {
  labeler: 'auto',
  vocabText: '',
  every: '1',
  threshold: '0.1',
  noise: '',
  seed: '0',
};

const NOISE_RE = /^\s*(none|([a-z_]+=[^,=\s]+)(\s*,\s*[a-z_]+=[^,=\s]+)*)\s*$/;

export function labelParamsFrom(f: LabelRunForm): { params: LabelParams } | { error: string } {
  const every = Number(f.every);
  if (!Number.isInteger(every) || every < 1 || every > 1000)
    return { error: 'Every K frames must be a whole number from 1 to 1000.' };
  const threshold = Number(f.threshold);
  if (f.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1)
    return { error: 'Score threshold must be between 0 and 1.' };
  const seed = Number(f.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    return { error: 'Seed must be a whole number ≥ 0.' };
  const params: LabelParams = { labeler: f.labeler, every, threshold, seed };
  const v = parseVocabulary(f.vocabText);
  if ('error' in v) return { error: `Vocabulary: ${v.error}` };
  if (v.vocab.length > 0) params.vocab = v.vocab;
  const noise = f.noise.trim();
  if (noise) {
    if (f.labeler !== 'ground-truth')
      return { error: 'A noise spec only applies to the ground-truth labeler.' };
    if (noise.length > 200 || !NOISE_RE.test(noise))
      return { error: 'Noise must look like drop=0.2,confuse=0.15,jitter=0.1 (or none).' };
    params.noise = noise;
  }
  const checked = LabelParamsSchema.safeParse(params);
  if (!checked.success) return { error: checked.error.issues[0]?.message ?? 'Invalid labeling parameters.' };
  return { params };
}

/** What the edit controls hold (numbers still as typed). */
export type EditInput =
  | { op: 'reject-detection'; frame: number; index: number }
  | { op: 'reject-class'; label: string }
  | { op: 'rename-class'; from: string; to: string }
  | { op: 'class-weight'; label: string; weight: string }
  | { op: 'score-threshold'; threshold: string };

export function editFrom(input: EditInput): { edit: LabelEdit } | { error: string } {
  let edit: LabelEdit;
  switch (input.op) {
    case 'reject-detection':
      edit = { op: 'reject-detection', frame: input.frame, index: input.index };
      break;
    case 'reject-class':
      if (!input.label.trim()) return { error: 'Choose a class to reject.' };
      edit = { op: 'reject-class', label: input.label };
      break;
    case 'rename-class': {
      const to = normalizeLabel(input.to);
      if (!to) return { error: 'Type the new name (an existing class name merges the two).' };
      if (to === input.from) return { error: `"${input.from}" already has that name.` };
      edit = { op: 'rename-class', from: input.from, to };
      break;
    }
    case 'class-weight': {
      const w = Number(input.weight);
      if (input.weight.trim() === '' || !Number.isFinite(w) || w < 0 || w > 100)
        return { error: 'Class weight must be between 0 and 100 (1 = normal, 0 = ignore).' };
      edit = { op: 'class-weight', label: input.label, weight: w };
      break;
    }
    case 'score-threshold': {
      const t = Number(input.threshold);
      if (input.threshold.trim() === '' || !Number.isFinite(t) || t < 0 || t > 1)
        return { error: 'Score threshold must be between 0 and 1.' };
      edit = { op: 'score-threshold', threshold: t };
      break;
    }
  }
  const checked = LabelEditSchema.safeParse(edit);
  if (!checked.success) return { error: checked.error.issues[0]?.message ?? 'Invalid edit.' };
  return { edit: checked.data };
}

export interface DetectionFilter {
  /** Only these classes (null = all). */
  classes: ReadonlySet<string> | null;
  minScore: number;
  showRejected: boolean;
}

export function filterDetections(dets: readonly FrameDetection[], f: DetectionFilter): FrameDetection[] {
  return dets.filter((d) => {
    if (d.rejected && !f.showRejected) return false;
    if (d.score < f.minScore) return false;
    const cls = d.class ?? d.raw_class;
    return !f.classes || f.classes.has(cls);
  });
}

/** Integer pixel rectangle of a box [x0, y0, x1, y1] grown by `pad` of its size, clamped to the image. */
export function cropRect(
  box: readonly [number, number, number, number],
  width: number,
  height: number,
  pad = 0.1,
): { x: number; y: number; w: number; h: number } | null {
  const [a, b, c, d] = box;
  if (![a, b, c, d, width, height].every(Number.isFinite) || width <= 0 || height <= 0) return null;
  const x0 = Math.min(a, c);
  const x1 = Math.max(a, c);
  const y0 = Math.min(b, d);
  const y1 = Math.max(b, d);
  const px = (x1 - x0) * pad;
  const py = (y1 - y0) * pad;
  const l = Math.max(0, Math.floor(x0 - px));
  const t = Math.max(0, Math.floor(y0 - py));
  const r = Math.min(width, Math.ceil(x1 + px));
  const btm = Math.min(height, Math.ceil(y1 + py));
  if (r <= l || btm <= t) return null;
  return { x: l, y: t, w: r - l, h: btm - t };
}
