import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_VOCABULARY,
  loadVocabularyFile,
  normalizeLabel,
  parseVocabulary,
  validateVocabulary,
} from './vocab';
import { LabelingError } from './types';

describe('normalizeLabel', () => {
  it('lowercases, turns _ and - into spaces and strips', () => {
    expect(normalizeLabel('  Trash_Can ')).toBe('trash can');
    expect(normalizeLabel('Coffee-Maker')).toBe('coffee maker');
    expect(normalizeLabel('TV   stand')).toBe('tv stand');
  });
  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (s) => normalizeLabel(normalizeLabel(s)) === normalizeLabel(s)),
      { numRuns: 1000, seed: 42 },
    );
  });
});

describe('default vocabulary', () => {
  it('covers the synthetic scene classes and has no duplicates', () => {
    const scene = [
      'fridge',
      'microwave',
      'sink',
      'sofa',
      'chair',
      'table',
      'bed',
      'tv',
      'plant',
      'trash can',
      'bookshelf',
      'lamp',
      'mug',
      'laptop',
      'door',
      'cabinet',
      'oven',
      'monitor',
    ];
    for (const c of scene) expect(DEFAULT_VOCABULARY).toContain(c);
    expect(validateVocabulary(DEFAULT_VOCABULARY, 'default')).toEqual([...DEFAULT_VOCABULARY]);
  });
});

describe('parseVocabulary', () => {
  it('reads one label per line, skipping blanks and comments', () => {
    expect(parseVocabulary('# kitchen\nChair\n\nTrash_can\r\n', 'v.txt')).toEqual(['chair', 'trash can']);
  });
  it('reads a JSON list', () => {
    expect(parseVocabulary(' ["Mug", "bowl"]', 'v.json')).toEqual(['mug', 'bowl']);
  });
  it('rejects an empty vocabulary naming the file', () => {
    expect(() => parseVocabulary('\n# nothing\n', 'empty.txt')).toThrow(/empty.txt: the vocabulary is empty/);
    expect(() => parseVocabulary('[]', 'e.json')).toThrow(/empty/);
  });
  it('rejects duplicates after normalisation', () => {
    expect(() => parseVocabulary('chair\nChair\n', 'd.txt')).toThrow(/duplicate label "chair"/);
  });
  it('rejects non-string JSON entries', () => {
    expect(() => parseVocabulary('["a", 3]', 'x.json')).toThrow(/label 2 is not a string/);
  });
  it('never throws anything but LabelingError on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.array(fc.string()).map((a) => JSON.stringify(a)),
        ),
        (text) => {
          try {
            const v = parseVocabulary(text, 'f');
            expect(v.length).toBeGreaterThan(0);
            expect(new Set(v).size).toBe(v.length);
          } catch (err) {
            expect(err).toBeInstanceOf(LabelingError);
          }
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });
  it('loads a file and reports a missing one as NOT_FOUND', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vocab-'));
    const f = path.join(dir, 'v.txt');
    await fs.writeFile(f, 'lamp\nplant\n');
    expect(await loadVocabularyFile(f)).toEqual(['lamp', 'plant']);
    await expect(loadVocabularyFile(path.join(dir, 'nope.txt'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await fs.rm(dir, { recursive: true });
  });
});
