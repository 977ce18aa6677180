/**
 * Test helpers: a small CLIP-Fields model trained for a few hundred steps on a synthetic dataset (Gaussian
 * class clusters, field/synthetic.ts), so query tests run against a real trained field in seconds.
 */
import type { LabeledPointDataset } from '../dataset/types';
import type { FieldState } from '../field/backend';
import { makeConfig } from '../field/config';
import { OnnxBackend } from '../field/engine-onnx';
import { Rng } from '../field/rng';
import { syntheticDataset } from '../field/synthetic';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { computeBounds, writeMap } from '../map/format';
import type { TextEncoder } from '../labeling/types';
import { fnv1a, mulberry32 } from '../labeling/types';
import { writeDataset, datasetDirOf } from '../dataset/format';
import { buildQueryCache } from './build-cache';
import { queryCacheDir, writeQueryCache } from './cache';
import type { QueryEncoders } from './encoders';

export interface TrainedField {
  state: FieldState;
  dataset: LabeledPointDataset;
}

export async function trainSyntheticField(
  o: {
    points?: number;
    classes?: number;
    steps?: number;
    seed?: number;
    languageDim?: number;
    visionDim?: number;
    width?: number;
  } = {},
): Promise<TrainedField> {
  const dataset = syntheticDataset({
    points: o.points ?? 20000,
    classes: o.classes ?? 6,
    detectionsPerClass: 3,
    seed: o.seed ?? 7,
    languageDim: o.languageDim ?? 64,
    visionDim: o.visionDim ?? 32,
    box_m: 4,
    sigma_m: 0.2,
  });
  const cfg = makeConfig('custom', {
    grid: { levels: 8, log2TableSize: 14, maxResolution: 128 },
    mlp: { width: o.width ?? 64, depth: 1 },
    batchSize: 512,
    optimizer: { lr: 1e-2, weightDecay: 0 },
  });
  const be = new OnnxBackend({ threads: 2 });
  try {
    await be.init(cfg, dataset, o.seed ?? 7);
    const rng = new Rng((o.seed ?? 7) + 1);
    for (let s = 0; s < (o.steps ?? 150); s++)
      await be.step(Int32Array.from({ length: cfg.batchSize }, () => rng.int(dataset.points)));
    return { state: be.getState(), dataset };
  } finally {
    await be.dispose();
  }
}

/** Encodes "class k" as the synthetic dataset's label k embedding, anything else as a seeded random unit vector. */
export class TableEncoder implements TextEncoder {
  constructor(
    readonly name: string,
    readonly dim: number,
    private readonly table: Float32Array | null,
    private readonly texts: string[],
  ) {}
  encode(texts: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    texts.forEach((t, i) => {
      const k = this.texts.indexOf(t);
      if (k >= 0 && this.table) {
        out.set(this.table.subarray(k * this.dim, (k + 1) * this.dim), i * this.dim);
        return;
      }
      const rnd = mulberry32(fnv1a(t) ^ this.dim);
      let s = 0;
      for (let d = 0; d < this.dim; d++) {
        const v = rnd() * 2 - 1;
        out[i * this.dim + d] = v;
        s += v * v;
      }
      for (let d = 0; d < this.dim; d++) out[i * this.dim + d]! /= Math.sqrt(s);
    });
    return Promise.resolve(out);
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}

export function tableEncoders(ds: LabeledPointDataset): QueryEncoders {
  const L = ds.labels;
  return {
    language: new TableEncoder('synthetic', L.dim, L.embeddings, L.texts),
    clipText: L.clipEmbeddings
      ? new TableEncoder('synthetic-clip', L.clipDim, L.clipEmbeddings, L.texts)
      : null,
    image: null,
    dispose: () => Promise.resolve(),
  };
}

export interface QueryProject extends TrainedField {
  dir: string;
  /** Class centres (world metres). */
  centres: [number, number, number][];
  floorY: number;
}

/**
 * A project folder with map/map.bin (the dataset's points on a 5 cm lattice + a floor plane at y = floorY,
 * ARKit y-up), frames/index.json (one frame per class, camera outside the room), the labeled dataset and the
 * query cache.
 */
export async function makeQueryProject(dir: string, field?: TrainedField): Promise<QueryProject> {
  const tf = field ?? (await trainSyntheticField());
  const ds = tf.dataset;
  const C = ds.labels.texts.length;
  const centres: [number, number, number][] = Array.from({ length: C }, () => [0, 0, 0]);
  const cnt = new Array<number>(C).fill(0);
  for (let i = 0; i < ds.points; i++) {
    const c = ds.labelId[i]!;
    for (let a = 0; a < 3; a++) centres[c]![a]! += ds.xyz[3 * i + a]!;
    cnt[c]!++;
  }
  centres.forEach((c, k) => c.forEach((_, a) => (c[a] = c[a]! / Math.max(1, cnt[k]!))));
  // Voxelise the dataset at 5 cm (first point per voxel), then add a floor below everything.
  const seen = new Set<string>();
  const pos: number[] = [];
  const frame: number[] = [];
  for (let i = 0; i < ds.points; i++) {
    const k = `${Math.floor(ds.xyz[3 * i]! / 0.05)},${Math.floor(ds.xyz[3 * i + 1]! / 0.05)},${Math.floor(ds.xyz[3 * i + 2]! / 0.05)}`;
    if (seen.has(k)) continue;
    seen.add(k);
    pos.push(ds.xyz[3 * i]!, ds.xyz[3 * i + 1]!, ds.xyz[3 * i + 2]!);
    frame.push(ds.labelId[i]!);
  }
  let minY = Infinity;
  for (let i = 1; i < pos.length; i += 3) minY = Math.min(minY, pos[i]!);
  const floorY = minY - 0.3;
  for (let x = -1; x <= 5; x += 0.05)
    for (let z = -1; z <= 5; z += 0.05) {
      pos.push(x, floorY, z);
      frame.push(C);
    }
  const count = pos.length / 3;
  const positions = Float32Array.from(pos);
  const frameOffsets = Uint32Array.from({ length: count + 1 }, (_, i) => i);
  await fs.mkdir(path.join(dir, 'map'), { recursive: true });
  await writeMap(path.join(dir, 'map', 'map.bin'), {
    voxel_m: 0.05,
    count,
    frames_total: C + 1,
    bounds_m: computeBounds(positions, count),
    floor: { up: [0, 1, 0], height: floorY },
    positions,
    colors: new Uint8Array(count * 3).fill(128),
    frameCounts: new Uint16Array(count).fill(1),
    frameOffsets,
    frameIds: Uint16Array.from(frame),
  });
  // Cameras at the room's -x side, 1.5 m above the floor.
  const frames = Array.from({ length: C + 1 }, (_, i) => ({
    index: i,
    timestamp_s: i,
    selected: true,
    world_from_camera: [1, 0, 0, -0.8, 0, 1, 0, floorY + 1.5, 0, 0, 1, 2 + 0.01 * i, 0, 0, 0, 1],
    thumb: null,
    valid_depth_fraction: 1,
    problems: [],
  }));
  await fs.mkdir(path.join(dir, 'frames'), { recursive: true });
  await fs.writeFile(
    path.join(dir, 'frames', 'index.json'),
    JSON.stringify({ rgb_size: [64, 48], depth_size: [64, 48], depth_intrinsics: [50, 50, 32, 24], frames }),
  );
  await writeDataset(datasetDirOf(dir), ds);
  const cache = await buildQueryCache(tf.state, positions, {
    labels: ds.labels,
    encoders: ds.encoders,
    mapVoxel_m: 0.05,
    instanceMinPoints: 10,
  });
  await writeQueryCache(queryCacheDir(dir), cache);
  return { ...tf, dir, centres, floorY };
}
