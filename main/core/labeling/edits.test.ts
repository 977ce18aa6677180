import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NO_GT, emptyRaw, type RawLabels } from '../dataset/raw';
import { lexicalEmbed } from './text/lexical';
import { LabelingError } from './types';
import {
  activeEdits,
  appendEdit,
  applyEdits,
  describeObject,
  editsPathOf,
  groupObjects,
  labelQuality,
  labelsNeedingEmbeddings,
  parseEdits,
  readEdits,
  type Edit,
} from './edits';

let n = 0;
const E = (e: Record<string, unknown>): Edit => ({ v: 1, id: `e${++n}`, at: '', ...e }) as Edit;

/**
 * Raw: 3 detections over 2 frames. det0 (frame 0): chair .9, sofa .4; det1 (frame 0): sofa .6; det2 (frame 1): chair .3.
 * Points: det0 -> 4 points near x=0 (gt chair), det1 -> 2 points near x=5 (gt sofa), det2 -> 2 points near x=0 (gt chair).
 */
function raw(): RawLabels {
  const r = emptyRaw('test', { language: 'lexical-384', vision: null });
  r.classes = ['chair', 'sofa'];
  r.classEmbeddings = lexicalEmbed(r.classes);
  r.dim = 384;
  r.gtClasses = ['chair', 'sofa'];
  r.gtPointCounts = [8, 4];
  r.detections = {
    count: 3,
    frame: Uint32Array.of(0, 0, 1),
    indexInFrame: Uint32Array.of(0, 1, 0),
    box: new Float32Array(12),
    maskArea: Uint32Array.of(10, 5, 8),
    scoreOffset: Uint32Array.of(0, 2, 3, 4),
    scoreClass: Uint32Array.of(0, 1, 1, 0),
    scoreValue: Float32Array.of(0.9, 0.4, 0.6, 0.3),
    clipEmbeddings: null,
    clipDim: 0,
  };
  const xs = [0, 0.01, 0.02, 0.03, 5, 5.01, 0.01, 0.02];
  r.points = {
    count: 8,
    xyz: Float32Array.from(xs.flatMap((x) => [x, 1, 1])),
    rgb: new Uint8Array(24),
    detectionId: Uint32Array.of(0, 0, 0, 0, 1, 1, 2, 2),
    distance_m: new Float32Array(8).fill(2),
    gtClass: Uint16Array.of(0, 0, 0, 0, 1, 1, 0, NO_GT),
  };
  return r;
}
const labelsOf = (r: ReturnType<typeof applyEdits>) =>
  Array.from(r.dataset.labelId, (l) => r.dataset.labels.texts[l]);

describe('edit log', () => {
  it('parses valid lines and names the line of a bad one', () => {
    const ok = JSON.stringify(E({ op: 'reject-class', label: 'wall' }));
    expect(parseEdits(`${ok}\n`, 'edits.jsonl').edits).toHaveLength(1);
    expect(() => parseEdits(`${ok}\n{"v":1}\n`, 'edits.jsonl')).toThrow(/edits.jsonl:2: invalid edit/);
    expect(() => parseEdits(`nope\n${ok}\n`, 'edits.jsonl')).toThrow(/edits.jsonl:1: not valid JSON/);
  });
  it('ignores a torn last line with a warning', () => {
    const ok = JSON.stringify(E({ op: 'reject-class', label: 'wall' }));
    const r = parseEdits(`${ok}\n{"v":1,"id":"x`, 'edits.jsonl');
    expect(r.edits).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/incomplete last line/);
  });
  it('parses or throws LabelingError for any text', () => {
    const line = fc.oneof(
      fc.string(),
      fc.json(),
      fc
        .record({
          v: fc.constant(1),
          id: fc.string(),
          at: fc.string(),
          op: fc.constantFrom('undo', 'reject-class', 'rename-class', 'score-threshold'),
          label: fc.string(),
          target: fc.string(),
          threshold: fc.double(),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
        try {
          parseEdits(lines.join('\n'), 'f');
        } catch (err) {
          expect(err).toBeInstanceOf(LabelingError);
        }
      }),
      { numRuns: 1000, seed: 17 },
    );
  });
  it('appends normalised entries and continues after a torn line', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'edits-'));
    await appendEdit(dir, { op: 'rename-class', from: 'Trash_Can', to: 'bin' });
    await fs.appendFile(editsPathOf(dir), '{"v":1,"id":"torn');
    await appendEdit(dir, { op: 'score-threshold', threshold: 0.5 });
    await expect(readEdits(dir)).rejects.toThrow(/edits.jsonl:2/); // the torn line is no longer the last one
    await fs.rm(dir, { recursive: true });
    const dir2 = await fs.mkdtemp(path.join(os.tmpdir(), 'edits-'));
    const e = await appendEdit(dir2, { op: 'rename-class', from: 'Trash_Can', to: 'bin' });
    expect(e).toMatchObject({ from: 'trash can', to: 'bin' });
    expect((await readEdits(dir2)).edits).toEqual([e]);
    await expect(appendEdit(dir2, { op: 'score-threshold', threshold: 3 })).rejects.toBeInstanceOf(
      LabelingError,
    );
    await fs.rm(dir2, { recursive: true });
  });
  it('undo cancels an entry and undoing the undo restores it', () => {
    const a = E({ op: 'reject-class', label: 'chair' });
    const u = E({ op: 'undo', target: a.id });
    expect(activeEdits([a, u])).toEqual([]);
    expect(activeEdits([a, u, E({ op: 'undo', target: u.id })])).toEqual([a]);
  });
});

describe('applyEdits', () => {
  it('without edits labels each detection with its best class above the threshold', () => {
    const r = applyEdits(raw(), [], { threshold: 0.1 });
    expect(labelsOf(r)).toEqual(['chair', 'chair', 'chair', 'chair', 'sofa', 'sofa', 'chair', 'chair']);
    expect(Array.from(r.dataset.weight.subarray(0, 1))[0]).toBeCloseTo(0.9);
  });
  it('drops detections below the score threshold (last threshold edit wins)', () => {
    const r = applyEdits(
      raw(),
      [E({ op: 'score-threshold', threshold: 0.2 }), E({ op: 'score-threshold', threshold: 0.5 })],
      { threshold: 0.1 },
    );
    expect(r.dataset.detections.count).toBe(2);
    expect(r.dataset.points).toBe(6);
  });
  it('reject class falls back to the next class, or drops the detection', () => {
    const r = applyEdits(raw(), [E({ op: 'reject-class', label: 'chair' })]);
    expect(r.dataset.labels.texts).toEqual(['sofa']);
    expect(labelsOf(r)).toEqual(['sofa', 'sofa', 'sofa', 'sofa', 'sofa', 'sofa']);
    expect(r.dataset.weight[0]).toBeCloseTo(0.4);
  });
  it('rename merges into an existing class with the max score; class weight scales point weights', () => {
    const r = applyEdits(raw(), [
      E({ op: 'rename-class', from: 'sofa', to: 'chair' }),
      E({ op: 'class-weight', label: 'chair', weight: 2 }),
    ]);
    expect(r.dataset.labels.texts).toEqual(['chair']);
    expect(r.dataset.weight[4]).toBeCloseTo(1.2);
  });
  it('rejects single detections by frame:index', () => {
    const r = applyEdits(raw(), [E({ op: 'reject-detection', frame: 0, index: 1 })]);
    expect(r.dataset.points).toBe(6);
    expect(Array.from(r.detectionSource)).toEqual([0, 2]);
  });
  it('embeds new lexical names itself, and asks for embeddings otherwise', () => {
    const edits = [E({ op: 'rename-class', from: 'sofa', to: 'couch' })];
    expect(labelsNeedingEmbeddings(raw(), edits)).toEqual(['couch']);
    const r = applyEdits(raw(), edits);
    expect(Array.from(r.dataset.labels.embeddings.subarray(384, 768))).toEqual(
      Array.from(lexicalEmbed(['couch'])),
    );
    const other = { ...raw(), encoders: { language: 'all-minilm-l6-v2', vision: null } };
    expect(() => applyEdits(other, edits)).toThrow(/needs embeddings from all-minilm-l6-v2/);
    const extra = new Map([['couch', { language: new Float32Array(384).fill(0.05), clip: null }]]);
    expect(applyEdits(other, edits, { extraEmbeddings: extra }).dataset.labels.embeddings[384]).toBeCloseTo(
      0.05,
    );
  });
});

describe('groupObjects and quality', () => {
  it('groups detections whose points overlap in 3D across frames', () => {
    const r = applyEdits(raw(), []);
    const objs = groupObjects(r.dataset, { voxel_m: 0.1 });
    expect(objs).toHaveLength(2);
    expect(objs[0]!.frames).toBe(2);
    expect(describeObject(objs[0]!)).toBe('object #1: chair in 2 frames');
    const merged = applyEdits(raw(), [E({ op: 'reject-class', label: 'chair' })]);
    expect(describeObject(groupObjects(merged.dataset, { voxel_m: 0.1 })[0]!)).toBe(
      'object #1: sofa in 1 frame',
    );
  });
  it('describes mixed labels like "chair in 14 frames, sofa in 3"', () => {
    expect(
      describeObject({
        id: 12,
        detections: [],
        frames: 17,
        classes: [
          { label: 'chair', frames: 14 },
          { label: 'sofa', frames: 3 },
        ],
        points: 1,
        center_m: [0, 0, 0],
      }),
    ).toBe('object #12: chair in 14 frames, sofa in 3');
  });
  it('reports per-class precision and recall of labeled points', () => {
    const r = applyEdits(raw(), [E({ op: 'rename-class', from: 'chair', to: 'sofa' })]);
    const q = labelQuality(raw(), r);
    const sofa = q.classes.find((c) => c.label === 'sofa')!;
    const chair = q.classes.find((c) => c.label === 'chair')!;
    expect(sofa.precision).toBeCloseTo(2 / 7);
    expect(sofa.recall).toBeCloseTo(2 / 4);
    expect(chair.recall).toBe(0);
    expect(chair.precision).toBeNull();
    expect(labelQuality(raw(), applyEdits(raw(), [])).pointAccuracy).toBe(1);
  });
});
