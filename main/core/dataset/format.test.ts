import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DatasetError,
  POINT_BYTES,
  appendDatasetChunk,
  decodeDetections,
  decodeLabelTable,
  decodePoints,
  encodeDetections,
  encodeLabelTable,
  encodePoints,
  loadDataset,
  loadDatasetDir,
  parseManifest,
  writeDataset,
  datasetDirOf,
} from './format';
import type { LabeledPointDataset } from './types';

function makeDataset(n: number, nd = 3, clip = true, seed = 1): LabeledPointDataset {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const texts = ['chair', 'table', 'trash can'];
  const ds: LabeledPointDataset = {
    points: n,
    xyz: Float32Array.from({ length: 3 * n }, () => r() * 10 - 5),
    rgb: Uint8Array.from({ length: 3 * n }, () => Math.floor(r() * 256)),
    labelId: Uint16Array.from({ length: n }, () => Math.floor(r() * texts.length)),
    detectionId: Uint32Array.from({ length: n }, () => Math.floor(r() * nd)),
    weight: Float32Array.from({ length: n }, () => r()),
    distance_m: Float32Array.from({ length: n }, () => r() * 4),
    labels: {
      texts,
      embeddings: Float32Array.from({ length: 3 * 4 }, () => r()),
      dim: 4,
      clipEmbeddings: clip ? Float32Array.from({ length: 3 * 2 }, () => r()) : null,
      clipDim: clip ? 2 : 0,
    },
    detections: {
      count: nd,
      frame: Uint32Array.from({ length: nd }, (_, i) => i * 2),
      labelId: Uint16Array.from({ length: nd }, (_, i) => i % 3),
      score: Float32Array.from({ length: nd }, () => r()),
      box: Float32Array.from({ length: 4 * nd }, () => r() * 100),
      maskArea: Uint32Array.from({ length: nd }, () => 10),
      clipEmbeddings: clip ? Float32Array.from({ length: nd * 2 }, () => r()) : null,
      clipDim: clip ? 2 : 0,
    },
    encoders: { language: 'lexical-384', vision: clip ? 'clip-vit-b32-image' : null },
  };
  return ds;
}

async function tmp(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ds-'));
}

describe('dataset format', () => {
  it('uses 32 bytes per point', () => {
    const ds = makeDataset(10);
    expect(POINT_BYTES).toBe(32);
    expect(encodePoints(ds).byteLength).toBe(32 + 10 * 32);
  });

  it('round-trips through writeDataset/loadDataset, across chunks', async () => {
    const dir = await tmp();
    const ds = makeDataset(1000);
    await writeDataset(datasetDirOf(dir), ds, { chunkPoints: 300, meta: { labeler: 'ground-truth' } });
    const back = await loadDataset(dir);
    expect(back).toEqual(ds);
    const { manifest } = await loadDatasetDir(datasetDirOf(dir));
    expect(manifest.chunks.length).toBe(4);
    expect(manifest.meta).toEqual({ labeler: 'ground-truth' });
    await fs.rm(dir, { recursive: true });
  });

  it('round-trips without CLIP embeddings and with zero points', async () => {
    const dir = await tmp();
    const ds = makeDataset(0, 0, false);
    await writeDataset(path.join(dir, 'd'), ds);
    expect((await loadDatasetDir(path.join(dir, 'd'))).dataset).toEqual(ds);
    await fs.rm(dir, { recursive: true });
  });

  it('replaces an existing dataset atomically and leaves no staging folders', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'dataset');
    await writeDataset(target, makeDataset(50, 3, true, 1));
    const second = makeDataset(70, 3, true, 2);
    await writeDataset(target, second);
    expect((await loadDatasetDir(target)).dataset).toEqual(second);
    expect(await fs.readdir(dir)).toEqual(['dataset']);
    await fs.rm(dir, { recursive: true });
  });

  it('keeps the previous dataset when a write fails', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'dataset');
    const first = makeDataset(20);
    await writeDataset(target, first);
    const bad = { ...makeDataset(20), weight: new Float32Array(3) };
    await expect(writeDataset(target, bad)).rejects.toBeInstanceOf(DatasetError);
    expect((await loadDatasetDir(target)).dataset).toEqual(first);
    expect(await fs.readdir(dir)).toEqual(['dataset']);
    await fs.rm(dir, { recursive: true });
  });

  it('appends chunks with detection ids offset to global ids', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'dataset');
    const base = makeDataset(10, 3);
    await writeDataset(target, base);
    const part = makeDataset(5, 2, true, 9);
    await appendDatasetChunk(target, { ...part, detections: part.detections });
    const back = (await loadDatasetDir(target)).dataset;
    expect(back.points).toBe(15);
    expect(back.detections.count).toBe(5);
    expect(Array.from(back.detectionId.subarray(10))).toEqual(Array.from(part.detectionId, (d) => d + 3));
    expect(back.detections.clipEmbeddings!.length).toBe(5 * 2);
    await fs.rm(dir, { recursive: true });
  });

  it('reports a corrupt chunk naming the file', async () => {
    const dir = await tmp();
    const target = path.join(dir, 'dataset');
    await writeDataset(target, makeDataset(10));
    const f = path.join(target, 'chunk-00000.points.bin');
    const b = await fs.readFile(f);
    b[40] = b[40]! ^ 0xff;
    await fs.writeFile(f, b);
    await expect(loadDatasetDir(target)).rejects.toThrow(/chunk-00000.points.bin: checksum mismatch/);
    await fs.rm(dir, { recursive: true });
  });

  it('refuses a dataset from a newer app', () => {
    expect(() => parseManifest(JSON.stringify({ version: 99 }), 'dataset.json')).toThrow(/newer app/);
  });
});

describe('dataset decoders on hostile bytes', () => {
  const ds = makeDataset(20);
  const files: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
    ['points', encodePoints(ds), (b) => decodePoints(b, 'p.bin', { labels: 3, detections: 3 })],
    ['labels', encodeLabelTable(ds.labels), (b) => decodeLabelTable(b, 'l.bin')],
    ['detections', encodeDetections(ds.detections), (b) => decodeDetections(b, 'd.bin', 3)],
  ];
  for (const [name, good, decode] of files) {
    it(`${name}: mutated or truncated files decode or throw DatasetError`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(good.byteLength - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
          fc.nat(good.byteLength),
          (muts, cut) => {
            const b = good.slice(0, Math.max(cut, 0) === 0 ? good.byteLength : cut);
            for (const [o, v] of muts) if (o < b.length) b[o] = v;
            try {
              decode(b);
            } catch (err) {
              expect(err).toBeInstanceOf(DatasetError);
            }
          },
        ),
        { numRuns: 1000, seed: 11 },
      );
    });
    it(`${name}: random bytes throw DatasetError`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
          expect(() => decode(b)).toThrow(DatasetError);
        }),
        { numRuns: 1000, seed: 12 },
      );
    });
  }
  it('a manifest from arbitrary JSON parses or throws DatasetError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (t) => {
        try {
          parseManifest(t, 'dataset.json');
        } catch (err) {
          expect(err).toBeInstanceOf(DatasetError);
        }
      }),
      { numRuns: 1000, seed: 13 },
    );
  });
});
