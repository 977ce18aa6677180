/**
 * Label normalisation and vocabularies.
 *
 * Normalisation follows CLIP-Fields (lowercase, `_` and `-` become spaces, trimmed); we also collapse runs of
 * whitespace so "Trash   can" and "trash_can" are the same label.
 *
 * The default vocabulary is a curated indoor list in the style of ScanNet-200's class names (the subset that
 * appears in homes, kitchens and offices), chosen over CLIP-Fields' per-scene lists because it is scene-independent.
 * It covers every class the synthetic demo scene places (fridge, microwave, sink, sofa, chair, table, bed, tv,
 * plant, trash can, bookshelf, lamp, mug, laptop, door, cabinet, oven, monitor, ...). `wall`/`floor`/`ceiling`
 * are included so background surfaces get a label rather than being forced onto objects.
 */
import { promises as fs } from 'node:fs';
import { LabelingError } from './types';

export const MAX_VOCAB_SIZE = 4096;
export const MAX_LABEL_LENGTH = 200;

export function normalizeLabel(label: string): string {
  return label.toLowerCase().replace(/[_-]/g, ' ').replace(/\s+/g, ' ').trim();
}

export const DEFAULT_VOCABULARY: readonly string[] = Object.freeze([
  'wall',
  'floor',
  'ceiling',
  'door',
  'window',
  'curtain',
  'blinds',
  'stairs',
  'rug',
  'chair',
  'office chair',
  'sofa',
  'armchair',
  'stool',
  'bench',
  'table',
  'coffee table',
  'desk',
  'bed',
  'pillow',
  'blanket',
  'cabinet',
  'kitchen cabinet',
  'drawer',
  'dresser',
  'nightstand',
  'shelf',
  'bookshelf',
  'wardrobe',
  'fridge',
  'microwave',
  'oven',
  'stove',
  'sink',
  'dishwasher',
  'kettle',
  'toaster',
  'coffee maker',
  'counter',
  'tv',
  'monitor',
  'laptop',
  'keyboard',
  'computer mouse',
  'printer',
  'speaker',
  'telephone',
  'lamp',
  'ceiling light',
  'plant',
  'potted plant',
  'vase',
  'picture',
  'mirror',
  'clock',
  'book',
  'box',
  'bag',
  'backpack',
  'basket',
  'trash can',
  'recycling bin',
  'mug',
  'cup',
  'bowl',
  'plate',
  'bottle',
  'glass',
  'pot',
  'pan',
  'towel',
  'toilet',
  'bathtub',
  'shower',
  'radiator',
  'fan',
  'air conditioner',
  'whiteboard',
  'shoe',
  'coat',
  'toy',
]);

/**
 * Normalise a list of labels and check it: not empty, no label empty after normalisation, no duplicates
 * (after normalisation), at most MAX_VOCAB_SIZE labels. `source` names the file or parameter in errors.
 */
export function validateVocabulary(labels: readonly unknown[], source: string): string[] {
  if (labels.length === 0)
    throw new LabelingError('INVALID_INPUT', source, 'the vocabulary is empty; give at least one label');
  if (labels.length > MAX_VOCAB_SIZE)
    throw new LabelingError(
      'INVALID_INPUT',
      source,
      `the vocabulary has ${labels.length} labels (at most ${MAX_VOCAB_SIZE})`,
    );
  const out: string[] = [];
  const seen = new Map<string, number>();
  labels.forEach((raw, i) => {
    if (typeof raw !== 'string')
      throw new LabelingError('INVALID_INPUT', source, `label ${i + 1} is not a string`);
    const n = normalizeLabel(raw);
    if (n.length === 0) throw new LabelingError('INVALID_INPUT', source, `label ${i + 1} is empty`);
    if (n.length > MAX_LABEL_LENGTH)
      throw new LabelingError(
        'INVALID_INPUT',
        source,
        `label ${i + 1} is longer than ${MAX_LABEL_LENGTH} characters`,
      );
    const prev = seen.get(n);
    if (prev !== undefined) {
      throw new LabelingError(
        'INVALID_INPUT',
        source,
        `duplicate label "${n}" (labels ${prev + 1} and ${i + 1} are the same after normalisation)`,
      );
    }
    seen.set(n, i);
    out.push(n);
  });
  return out;
}

/**
 * Parse a vocabulary file's text: a JSON array of strings (when the text starts with `[`), otherwise one
 * label per line (blank lines and lines starting with `#` are skipped).
 */
export function parseVocabulary(text: string, file: string): string[] {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trimStart();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (err) {
      throw new LabelingError('INVALID_INPUT', file, `not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(parsed))
      throw new LabelingError('INVALID_INPUT', file, 'expected a JSON array of labels');
    return validateVocabulary(parsed, file);
  }
  const lines = body
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  return validateVocabulary(lines, file);
}

/** Load `--vocab FILE`. */
export async function loadVocabularyFile(file: string): Promise<string[]> {
  let text: string;
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) throw new LabelingError('INVALID_INPUT', file, 'not a file');
    if (st.size > 4 * 1024 * 1024)
      throw new LabelingError('INVALID_INPUT', file, 'vocabulary file is larger than 4 MiB');
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof LabelingError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new LabelingError(
      code === 'ENOENT' ? 'NOT_FOUND' : 'IO',
      file,
      code === 'ENOENT' ? 'vocabulary file not found' : `cannot read (${(err as Error).message})`,
    );
  }
  return parseVocabulary(text, file);
}

/** Stable hash of a vocabulary (order-sensitive), part of the label cache key. */
export function vocabularyKey(vocab: readonly string[]): string {
  return JSON.stringify(vocab);
}
