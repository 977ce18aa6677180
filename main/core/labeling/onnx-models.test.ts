/** The whole model path (tokenize, preprocess, onnxruntime session, pooling, normalise) on the tiny fixtures. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModelManifest, type ModelManifest, type ModelSpec } from '../models/manifest';
import { addModelFromDir } from '../models/registry';
import { writeTinyR3d } from '../capture/testing';
import { openCapture } from '../capture/open';
import { loadDataset } from '../dataset/format';
import type { RgbImage } from '../capture/types';
import type { JobContext } from '../jobs/types';
import { SentenceEncoder } from './text/sbert';
import { ClipTextEncoder } from './text/clip-text';
import { ClipImageEncoder } from './vision/clip-image';
import { OwlDetector } from './vision/owl';
import { CLIP_MEAN, CLIP_STD, clipPreprocessCrop } from './vision/preprocess';
import { loadInstalledPipeline } from './pipeline';
import { runLabelJob, type LabelParams } from './label-job';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'resources', 'fixtures', 'models');
let manifest: ModelManifest;
let root: string;
const spec = (id: string): ModelSpec => manifest.models.find((m) => m.id === id)!;
const dirOf = (id: string) => path.join(FIXTURES, id);
const norm = (v: Float32Array, o: number, d: number) => Math.hypot(...v.subarray(o, o + d));

function image(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), 3 * (y * w + x));
  return { width: w, height: h, data };
}

beforeAll(async () => {
  manifest = await loadModelManifest(path.join(FIXTURES, 'manifest.json'));
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'onnx-models-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('SentenceEncoder (MiniLM signature)', () => {
  it('gives unit 384-d rows that do not depend on batch padding', async () => {
    const enc = await SentenceEncoder.load(spec('tiny-minilm'), dirOf('tiny-minilm'));
    try {
      const batch = await enc.encode(['chair', 'a photo of a trash can next to the sofa']);
      const alone = await enc.encode(['chair']);
      expect(norm(batch, 0, 384)).toBeCloseTo(1, 5);
      for (let k = 0; k < 384; k++) expect(batch[k]).toBeCloseTo(alone[k]!, 5);
      const other = await enc.encode(['microwave']);
      expect(Array.from(other)).not.toEqual(Array.from(alone));
    } finally {
      await enc.dispose();
    }
  });
});

describe('ClipTextEncoder', () => {
  it('tokenizes with the BPE tokenizer.json and returns unit 512-d text_embeds', async () => {
    const enc = await ClipTextEncoder.load(spec('tiny-clip-text'), dirOf('tiny-clip-text'));
    try {
      const e = await enc.encode(['a photo of a chair', 'lamp']);
      expect(e.length).toBe(1024);
      expect(norm(e, 0, 512)).toBeCloseTo(1, 5);
      expect(norm(e, 512, 512)).toBeCloseTo(1, 5);
    } finally {
      await enc.dispose();
    }
  });
});

describe('CLIP image preprocessing and encoder', () => {
  it('normalises with CLIP mean/std exactly (constant colour crop)', async () => {
    const img = image(300, 200, () => [200, 100, 50]);
    const out = new Float32Array(3 * 224 * 224);
    await clipPreprocessCrop(img, [10, 20, 250, 180], 224, out, 0);
    const plane = 224 * 224;
    [200, 100, 50].forEach((v, c) => {
      const want = (v / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
      expect(out[c * plane]).toBeCloseTo(want, 5);
      expect(out[c * plane + plane - 1]).toBeCloseTo(want, 5);
    });
  });
  it('resizes the shortest side to 224 and center-crops (left/right halves of a wide crop are cut)', async () => {
    // 400x100 crop: black | white | black in thirds of ~133 px; after resize to 896x224 and a center crop, only
    // the middle part (white) survives.
    const img = image(400, 100, (x) => (x >= 133 && x < 267 ? [255, 255, 255] : [0, 0, 0]));
    const out = new Float32Array(3 * 224 * 224);
    await clipPreprocessCrop(img, null, 224, out, 0);
    const white = (1 - CLIP_MEAN[0]) / CLIP_STD[0];
    expect(out[112 * 224 + 112]).toBeCloseTo(white, 3);
    expect(out[112 * 224 + 5]).toBeCloseTo(white, 1);
  });
  it('embeds crops in batches: same result as one by one, unit length, colour-dependent', async () => {
    const enc = await ClipImageEncoder.load(spec('tiny-clip-image'), dirOf('tiny-clip-image'), {
      batchSize: 2,
    });
    try {
      const img = image(64, 48, (x) => (x < 32 ? [255, 0, 0] : [0, 0, 255]));
      const boxes: [number, number, number, number][] = [
        [0, 0, 30, 48],
        [34, 0, 64, 48],
        [0, 0, 64, 48],
      ];
      const all = await enc.encodeCrops(img, boxes);
      const one = await enc.encodeCrops(img, [boxes[1]!]);
      for (let k = 0; k < 512; k++) expect(all[512 + k]).toBeCloseTo(one[k]!, 5);
      expect(norm(all, 1024, 512)).toBeCloseTo(1, 5);
      expect(Math.abs(all[0]! - all[512]!)).toBeGreaterThan(1e-4);
    } finally {
      await enc.dispose();
    }
  });
});

describe('OwlDetector (OWL-ViT signature)', () => {
  it('turns logits/pred_boxes into boxed detections with all class scores above the floor', async () => {
    const det = await OwlDetector.load(spec('tiny-owlvit'), dirOf('tiny-owlvit'), { detectThreshold: 0.05 });
    try {
      const img = image(96, 64, (x, y) => (x < 48 ? [250, 20, 20] : y < 32 ? [20, 250, 20] : [20, 20, 250]));
      const ds = await det.detect(img, null, ['chair', 'lamp', 'plant']);
      expect(ds.length).toBeGreaterThan(0);
      for (const d of ds) {
        expect(d.box[0]).toBeGreaterThanOrEqual(0);
        expect(d.box[2]).toBeLessThanOrEqual(96);
        expect(d.box[2]).toBeGreaterThan(d.box[0]);
        for (let i = 1; i < d.classScores.length; i++)
          expect(d.classScores[i - 1]!.score).toBeGreaterThanOrEqual(d.classScores[i]!.score);
        for (const s of d.classScores) expect(s.score).toBeGreaterThanOrEqual(0.05);
      }
    } finally {
      await det.dispose();
    }
  });
});

describe('label job with installed (tiny) models', () => {
  it('auto picks the models, stores CLIP embeddings, and names the encoders', async () => {
    const cache = path.join(root, 'cache');
    for (const id of ['tiny-minilm', 'tiny-clip-text', 'tiny-clip-image', 'tiny-owlvit'])
      await addModelFromDir(dirOf(id), { dir: cache, manifest, ids: [id] });
    const capture = path.join(root, 'c.r3d');
    await writeTinyR3d(capture, { frames: 2 });
    const project = path.join(root, 'p');
    await fs.mkdir(project);
    const ctx: JobContext<LabelParams> = {
      jobId: 'j',
      kind: 'label',
      params: { vocab: ['wall', 'chair', 'lamp'], threshold: 0.05 },
      projectDir: project,
      workDir: path.join(project, 'jobs', 'j'),
      attempt: 1,
      signal: new AbortController().signal,
      progress: () => undefined,
      log: () => undefined,
      metrics: () => undefined,
      problem: () => undefined,
    };
    const r = await runLabelJob(ctx, {
      openProjectCapture: async () => {
        const source = await openCapture(capture);
        return { source, frames: [0, 1], filter: { min_depth_m: 0.1, max_depth_m: 10 } };
      },
      loadModels: ({ needDetector }) => loadInstalledPipeline({ needDetector, dir: cache, manifest }),
    });
    expect(r.labeler).toBe('models');
    expect(r.encoders).toEqual({ language: 'tiny-minilm', vision: 'tiny-clip-image' });
    const ds = await loadDataset(project);
    expect(ds.labels.texts).toEqual(expect.arrayContaining(['wall', 'chair', 'lamp']));
    expect(ds.labels.dim).toBe(384);
    expect(ds.labels.clipDim).toBe(512);
    expect(ds.detections.clipEmbeddings!.length).toBe(ds.detections.count * 512);
  });
});
