/**
 * Random labeled-point datasets for tests and benchmarks: `classes` Gaussian clusters of points (one per
 * class) in a box; each class's label embedding is a random unit vector; each class has
 * `detectionsPerClass` detections (cluster centres sit on a lattice, so classes are separable) whose CLIP embedding is the class's CLIP direction plus noise.
 */
import type { LabeledPointDataset } from '../dataset/types';
import { Rng } from './rng';

export interface SyntheticOptions {
  points: number;
  classes: number;
  detectionsPerClass?: number;
  languageDim?: number;
  /** 0 = no CLIP embeddings (no vision head). */
  visionDim?: number;
  seed?: number;
  box_m?: number;
  sigma_m?: number;
}

function unitVectors(rng: Rng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const v = rng.normal();
      out[r * dim + d] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) out[r * dim + d]! *= inv;
  }
  return out;
}

export function syntheticDataset(o: SyntheticOptions): LabeledPointDataset {
  const rng = new Rng(o.seed ?? 1);
  const C = o.classes;
  const dpc = o.detectionsPerClass ?? 4;
  const ld = o.languageDim ?? 384;
  const vd = o.visionDim ?? 512;
  const box = o.box_m ?? 5;
  const sigma = o.sigma_m ?? 0.15;
  // Cluster centres on a shuffled lattice inside the box (well separated for sigma << box / side).
  const side = Math.max(1, Math.ceil(Math.cbrt(C)));
  const cells = Array.from({ length: side ** 3 }, (_, k) => k);
  for (let i = cells.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [cells[i], cells[j]] = [cells[j]!, cells[i]!];
  }
  const centres = new Float32Array(C * 3);
  for (let c = 0; c < C; c++) {
    const k = cells[c]!;
    const ijk = [k % side, Math.floor(k / side) % side, Math.floor(k / side ** 2)];
    for (let a = 0; a < 3; a++) centres[c * 3 + a] = ((ijk[a]! + 0.5) / side) * box;
  }
  const labelEmb = unitVectors(rng, C, ld);
  const clipText = vd > 0 ? unitVectors(rng, C, vd) : null;
  const D = C * dpc;
  const detLabel = new Uint16Array(D);
  const detClip = vd > 0 ? new Float32Array(D * vd) : null;
  for (let d = 0; d < D; d++) {
    const c = d % C;
    detLabel[d] = c;
    if (detClip && clipText) {
      let s = 0;
      for (let k = 0; k < vd; k++) {
        const v = clipText[c * vd + k]! + 0.03 * rng.normal();
        detClip[d * vd + k] = v;
        s += v * v;
      }
      const inv = 1 / Math.sqrt(s);
      for (let k = 0; k < vd; k++) detClip[d * vd + k]! *= inv;
    }
  }
  const n = o.points;
  const xyz = new Float32Array(n * 3);
  const labelId = new Uint16Array(n);
  const detectionId = new Uint32Array(n);
  const weight = new Float32Array(n);
  const distance = new Float32Array(n);
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = rng.int(C);
    labelId[i] = c;
    detectionId[i] = c + C * rng.int(dpc);
    for (let a = 0; a < 3; a++) xyz[i * 3 + a] = centres[c * 3 + a]! + sigma * rng.normal();
    weight[i] = rng.uniform(0.5, 1);
    distance[i] = rng.uniform(0.3, 3);
    rgb[i * 3] = (c * 53) & 255;
    rgb[i * 3 + 1] = (c * 97) & 255;
    rgb[i * 3 + 2] = (c * 193) & 255;
  }
  return {
    points: n,
    xyz,
    rgb,
    labelId,
    detectionId,
    weight,
    distance_m: distance,
    labels: {
      texts: Array.from({ length: C }, (_, c) => `class ${c}`),
      embeddings: labelEmb,
      dim: ld,
      clipEmbeddings: clipText,
      clipDim: vd,
    },
    detections: {
      count: D,
      frame: Uint32Array.from({ length: D }, (_, d) => Math.floor(d / C)),
      labelId: detLabel,
      score: new Float32Array(D).fill(0.9),
      box: new Float32Array(D * 4),
      maskArea: new Uint32Array(D).fill(100),
      clipEmbeddings: detClip,
      clipDim: vd,
    },
    encoders: { language: 'synthetic', vision: vd > 0 ? 'synthetic' : null },
  };
}
