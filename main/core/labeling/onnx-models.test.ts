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
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/builder';
import { inspectGraph } from '../onnx/extract';
import { OwlDetector, planOwlSplit, splitOwlModel } from './vision/owl';
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
    const det = await OwlDetector.load(spec('tiny-owlvit'), dirOf('tiny-owlvit'), {
      detectThreshold: 0.05,
      derivedDir: path.join(root, 'owl-derived'),
    });
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

describe('OwlDetector text tower split', () => {
  const OWL_IMG = () =>
    image(96, 64, (x, y) => (x < 48 ? [250, 20, 20] : y < 32 ? [20, 250, 20] : [20, 20, 250]));
  /** A private copy of the tiny OWL-ViT folder (the default cache folder is <modelDir>/.derived). */
  async function owlCopy(): Promise<string> {
    const dir = await fs.mkdtemp(path.join(root, 'owl-'));
    await fs.cp(dirOf('tiny-owlvit'), dir, { recursive: true });
    return dir;
  }

  it('split and combined give the same logits, also for a padded query (first token 0)', async () => {
    const file = path.join(dirOf('tiny-owlvit'), 'onnx', 'model.onnx');
    const bytes = new Uint8Array(await fs.readFile(file));
    const split = splitOwlModel(bytes, file);
    if ('reason' in split) throw new Error(split.reason);
    // HF-like graph: text_embeds is an Identity of a Reshape that needs the image batch; the cut is its source.
    expect(split.plan.cut).not.toBe('text_embeds');
    expect(split.plan.textInputs).toEqual(['input_ids', 'attention_mask']);
    expect(split.plan.imageInputs).toEqual(['pixel_values', split.plan.cut, 'input_ids']);
    const Q = 3;
    const ids = new BigInt64Array(Q * 16).fill(0n);
    const mask = new BigInt64Array(Q * 16).fill(0n);
    for (let q = 1; q < Q; q++)
      for (let k = 0; k < 4 + q; k++) {
        ids[q * 16 + k] = BigInt(3 + q * 7 + k);
        mask[q * 16 + k] = 1n;
      }
    const px = Float32Array.from({ length: 3 * 768 * 768 }, (_, i) => Math.sin(i * 0.001));
    const feeds = {
      input_ids: new ort.Tensor('int64', ids, [Q, 16]),
      attention_mask: new ort.Tensor('int64', mask, [Q, 16]),
      pixel_values: new ort.Tensor('float32', px, [1, 3, 768, 768]),
    };
    const open = (b: Uint8Array) => ort.InferenceSession.create(b, { intraOpNumThreads: 1 });
    const [full, text, img] = await Promise.all([open(bytes), open(split.text), open(split.image)]);
    try {
      const ref = await full.run(feeds);
      const te = await text.run({ input_ids: feeds.input_ids, attention_mask: feeds.attention_mask });
      const got = await img.run({
        pixel_values: feeds.pixel_values,
        input_ids: feeds.input_ids,
        [split.plan.cut]: te[split.plan.cut]!,
      });
      const a = ref['logits']!.data as Float32Array,
        b = got['logits']!.data as Float32Array;
      expect(got['logits']!.dims).toEqual([1, 576, Q]);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-6);
      // Query 0 starts with token 0: masked to the float32 minimum in both.
      expect(b[0]).toBe(-3.4028234663852886e38);
      expect(a[0]).toBe(b[0]);
      expect(Array.from(got['pred_boxes']!.data as Float32Array)).toEqual(
        Array.from(ref['pred_boxes']!.data as Float32Array),
      );
      // The image part does not touch the text tower's weights.
      expect(Buffer.from(split.image).includes(Buffer.from('text_projection'))).toBe(false);
      expect(Buffer.from(split.image).includes(Buffer.from('query_embedding'))).toBe(false);
    } finally {
      await Promise.all([full.release(), text.release(), img.release()]);
    }
  });

  it('detects the same boxes and scores in split and combined mode; the text tower runs once per vocabulary', async () => {
    const dir = await owlCopy();
    const split = await OwlDetector.load(spec('tiny-owlvit'), dir, { detectThreshold: 0.05 });
    const combined = await OwlDetector.load(spec('tiny-owlvit'), dir, {
      detectThreshold: 0.05,
      textTower: 'combined',
    });
    try {
      expect(split.mode).toBe('split');
      expect(split.modeReason).toMatch(/^text tower split at ".+" \(derived and cached in /);
      expect(combined.mode).toBe('combined');
      expect(combined.modeReason).toMatch(/disabled/);
      const img = OWL_IMG();
      const vocab = ['chair', 'lamp', 'plant'];
      for (let k = 0; k < 3; k++) {
        const a = await split.detect(img, null, vocab);
        const b = await combined.detect(img, null, vocab);
        expect(a.length).toBeGreaterThan(0);
        expect(a.length).toBe(b.length);
        a.forEach((d, i) => {
          expect(d.box).toEqual(b[i]!.box);
          expect(d.classScores.map((c) => c.label)).toEqual(b[i]!.classScores.map((c) => c.label));
          d.classScores.forEach((c, j) =>
            expect(Math.abs(c.score - b[i]!.classScores[j]!.score)).toBeLessThan(1e-6),
          );
        });
      }
      expect(split.textTowerRuns).toBe(1);
      expect(combined.textTowerRuns).toBe(3);
      await split.detect(img, null, ['sofa', 'table']);
      await split.detect(img, null, ['sofa', 'table']);
      expect(split.textTowerRuns).toBe(2);
    } finally {
      await split.dispose();
      await combined.dispose();
    }
  });

  it('reuses the cached sub-models, rebuilds a damaged cache, and drops stale ones', async () => {
    const dir = await owlCopy();
    const derived = path.join(dir, '.derived');
    const first = await OwlDetector.load(spec('tiny-owlvit'), dir);
    await first.dispose();
    const files = (await fs.readdir(derived)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^model\.onnx\.\d+-\d+\.v1\.image\.onnx$/);
    expect(files[1]).toMatch(/^model\.onnx\.\d+-\d+\.v1\.text\.onnx$/);
    const again = await OwlDetector.load(spec('tiny-owlvit'), dir);
    expect(again.mode).toBe('split');
    expect(again.modeReason).toMatch(/\(reused from .*\.derived\)$/);
    await again.dispose();
    await fs.writeFile(path.join(derived, files[1]!), 'garbage');
    const repaired = await OwlDetector.load(spec('tiny-owlvit'), dir);
    expect(repaired.mode).toBe('split');
    expect(repaired.modeReason).toMatch(/derived and cached/);
    await repaired.dispose();
    // A new version of the model file (other mtime): new cache entries, the old ones are removed.
    const later = new Date(Date.now() + 60_000);
    await fs.utimes(path.join(dir, 'onnx', 'model.onnx'), later, later);
    const updated = await OwlDetector.load(spec('tiny-owlvit'), dir);
    await updated.dispose();
    const now = await fs.readdir(derived);
    expect(now).toHaveLength(2);
    expect(now.some((f) => files.includes(f))).toBe(false);
  });

  it('still splits (in memory) when the cache folder cannot be written', async () => {
    const blocker = path.join(root, 'not-a-dir');
    await fs.writeFile(blocker, 'x');
    const det = await OwlDetector.load(spec('tiny-owlvit'), dirOf('tiny-owlvit'), {
      derivedDir: path.join(blocker, 'derived'),
    });
    try {
      expect(det.mode).toBe('split');
      expect(det.modeReason).toMatch(/cache not written/);
    } finally {
      await det.dispose();
    }
  });

  it('plans no split, with a reason, without text_embeds or when the head reads text data through heavy ops', () => {
    const base = (withTextEmbeds: boolean, headReadsTower: boolean) => {
      const g = new GraphBuilder('owl_like');
      const ids = g.input('input_ids', 'int64', ['q', 4]);
      g.input('attention_mask', 'int64', ['q', 4]);
      const px = g.input('pixel_values', 'float32', [1, 3, 8, 8]);
      const emb = g.op('Gather', [
        g.constFloat(
          Array.from({ length: 40 }, (_, i) => i / 40),
          [10, 4],
        ),
        ids,
      ]);
      const hidden = g.op('MatMul', [
        emb,
        g.constFloat(
          Array.from({ length: 16 }, (_, i) => i / 16),
          [4, 4],
        ),
      ]);
      const te = g.op('ReduceMean', [hidden], { axes: [1], keepdims: 0 });
      const img = g.op('Reshape', [px, g.constInt64([1, 48, 4])]);
      // The "bad" head reads the hidden states (before text_embeds) instead of text_embeds.
      const q = headReadsTower ? g.op('ReduceMax', [hidden], { axes: [1], keepdims: 0 }) : te;
      g.output(g.op('MatMul', [img, g.op('Transpose', [q], { perm: [1, 0] })]), 'logits', 'float32', [
        1,
        48,
        'q',
      ]);
      g.output(g.op('Identity', [img]), 'pred_boxes', 'float32', [1, 48, 4]);
      if (withTextEmbeds) g.output(te, 'text_embeds', 'float32', ['q', 4]);
      return inspectGraph(g.toBytes(), 'owl_like.onnx');
    };
    expect(planOwlSplit(base(true, false))).toMatchObject({ textInputs: ['input_ids'] });
    expect(planOwlSplit(base(false, false))).toEqual({ reason: 'the model has no text_embeds output' });
    const bad = planOwlSplit(base(true, true));
    expect('reason' in bad && bad.reason).toMatch(/no clean cut.*class head does not read it/);
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
