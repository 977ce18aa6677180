import { describe, expect, it } from 'vitest';
import type { FrameDetection } from '../../../../preload/contract';
import {
  cropRect,
  DEFAULT_LABEL_RUN_FORM,
  editFrom,
  filterDetections,
  labelParamsFrom,
  parseVocabulary,
} from './forms';

describe('parseVocabulary', () => {
  it('normalises, skips blanks and comments', () => {
    expect(parseVocabulary('Trash_Can\n\n# comment\n  office-chair  ')).toEqual({
      vocab: ['trash can', 'office chair'],
    });
  });
  it('reports a duplicate after normalisation with both line numbers', () => {
    const r = parseVocabulary('mug\nsofa\nMUG');
    expect('error' in r && r.error).toMatch(/Line 3.*line 1/);
  });
});

describe('labelParamsFrom', () => {
  it('omits the vocabulary when the textarea is empty (project default)', () => {
    const r = labelParamsFrom(DEFAULT_LABEL_RUN_FORM);
    expect(r).toEqual({ params: { labeler: 'auto', every: 1, threshold: 0.1, seed: 0 } });
  });
  it('passes the noise spec for ground truth', () => {
    const r = labelParamsFrom({
      ...DEFAULT_LABEL_RUN_FORM,
      labeler: 'ground-truth',
      noise: 'drop=0.2,confuse=0.15',
      vocabText: 'chair\nsofa',
    });
    expect(r).toEqual({
      params: {
        labeler: 'ground-truth',
        every: 1,
        threshold: 0.1,
        seed: 0,
        noise: 'drop=0.2,confuse=0.15',
        vocab: ['chair', 'sofa'],
      },
    });
  });
  it('refuses noise for the model labeler', () => {
    expect(
      labelParamsFrom({ ...DEFAULT_LABEL_RUN_FORM, labeler: 'models', noise: 'drop=0.2' }),
    ).toHaveProperty('error');
  });
  it('refuses a threshold above 1', () => {
    expect(labelParamsFrom({ ...DEFAULT_LABEL_RUN_FORM, threshold: '1.5' })).toHaveProperty('error');
  });
});

describe('editFrom', () => {
  it('turns a rename into a normalised rename edit', () => {
    expect(editFrom({ op: 'rename-class', from: 'couch', to: '  Sofa ' })).toEqual({
      edit: { op: 'rename-class', from: 'couch', to: 'sofa' },
    });
  });
  it('refuses renaming a class to itself', () => {
    expect(editFrom({ op: 'rename-class', from: 'sofa', to: 'SOFA' })).toHaveProperty('error');
  });
  it('parses a class weight and bounds it', () => {
    expect(editFrom({ op: 'class-weight', label: 'wall', weight: '0.5' })).toEqual({
      edit: { op: 'class-weight', label: 'wall', weight: 0.5 },
    });
    expect(editFrom({ op: 'class-weight', label: 'wall', weight: '101' })).toHaveProperty('error');
    expect(editFrom({ op: 'class-weight', label: 'wall', weight: '' })).toHaveProperty('error');
  });
  it('parses a score threshold', () => {
    expect(editFrom({ op: 'score-threshold', threshold: '0.35' })).toEqual({
      edit: { op: 'score-threshold', threshold: 0.35 },
    });
    expect(editFrom({ op: 'score-threshold', threshold: 'x' })).toHaveProperty('error');
  });
  it('builds a reject-detection edit', () => {
    expect(editFrom({ op: 'reject-detection', frame: 4, index: 2 })).toEqual({
      edit: { op: 'reject-detection', frame: 4, index: 2 },
    });
  });
});

const det = (over: Partial<FrameDetection>): FrameDetection => ({
  frame: 0,
  index: 0,
  box: [0, 0, 10, 10],
  mask_area: 1,
  class: 'chair',
  raw_class: 'chair',
  score: 0.5,
  runner_up: [],
  rejected: false,
  reason: null,
  points: 1,
  ...over,
});

describe('filterDetections', () => {
  it('filters by class, score and rejection', () => {
    const dets = [
      det({ index: 0 }),
      det({ index: 1, class: 'sofa', raw_class: 'sofa' }),
      det({ index: 2, score: 0.1 }),
      det({ index: 3, rejected: true, class: null }),
    ];
    expect(
      filterDetections(dets, { classes: new Set(['chair']), minScore: 0.2, showRejected: false }).map(
        (d) => d.index,
      ),
    ).toEqual([0]);
    expect(
      filterDetections(dets, { classes: null, minScore: 0, showRejected: true }).map((d) => d.index),
    ).toEqual([0, 1, 2, 3]);
  });
});

describe('cropRect', () => {
  it('pads and clamps to the image', () => {
    expect(cropRect([0, 10, 100, 110], 100, 100, 0.1)).toEqual({ x: 0, y: 0, w: 100, h: 100 });
    expect(cropRect([40, 40, 60, 60], 100, 100, 0.5)).toEqual({ x: 30, y: 30, w: 40, h: 40 });
  });
  it('returns null for a box outside the image', () => {
    expect(cropRect([200, 200, 300, 300], 100, 100)).toBeNull();
  });
});
