/**
 * Raw labels: what the labelers produced before QA edits, kept so edits re-apply without re-running models.
 *
 * `raw.bin` (beside the dataset, and one per frame in the label cache) holds:
 * - the class names referenced by the detections, with their text embeddings when known;
 * - every detection: frame, index within the frame, RGB box, mask area and ALL class scores >= the floor
 *   (sparse: offsets + (class, score) pairs), plus an optional CLIP image embedding;
 * - every sampled point: world xyz, rgb, the detection it came from, its distance to the camera and (for
 *   annotated captures) its ground-truth class (0xFFFF = none), for the label quality report;
 * - per ground-truth class, how many reference points were seen (sampled with the same probability) so recall
 *   counts objects the labeler missed.
 *
 * File: 32-byte header 'CFRW' (a = detections, b = points, c = meta JSON bytes, d = total class scores), then
 * the meta JSON and the columns in a fixed order, each padded to 4 bytes (binary.ts).
 */
import { z } from 'zod';
import { DatasetError, PayloadReader, PayloadWriter, checkBelow, checkFinite, readHeader } from './binary';

export const RAW_FILE = 'raw.bin';
export const RAW_VERSION = 1;
export const NO_GT = 0xffff;

export interface RawDetections {
  count: number;
  frame: Uint32Array;
  /** Index of the detection within its frame (stable id `frame:index` for QA edits). */
  indexInFrame: Uint32Array;
  box: Float32Array;
  maskArea: Uint32Array;
  /** `count + 1` offsets into scoreClass/scoreValue. Scores of a detection are sorted best first. */
  scoreOffset: Uint32Array;
  scoreClass: Uint32Array;
  scoreValue: Float32Array;
  clipEmbeddings: Float32Array | null;
  clipDim: number;
}

export interface RawPoints {
  count: number;
  xyz: Float32Array;
  rgb: Uint8Array;
  detectionId: Uint32Array;
  distance_m: Float32Array;
  /** Index into `gtClasses`, or NO_GT. */
  gtClass: Uint16Array;
}

export interface RawLabels {
  classes: string[];
  /** Language embeddings of `classes` (`classes.length * dim`), or null when not computed yet. */
  classEmbeddings: Float32Array | null;
  dim: number;
  classClipEmbeddings: Float32Array | null;
  clipDim: number;
  encoders: { language: string; vision: string | null };
  labeler: string;
  detections: RawDetections;
  points: RawPoints;
  gtClasses: string[];
  /** Expected reference point count per gtClass (annotated valid pixels x the point sampling probability). */
  gtPointCounts: number[];
}

const MetaSchema = z.object({
  classes: z.array(z.string().max(400)).max(65535),
  dim: z.number().int().min(0).max(8192),
  hasClassEmbeddings: z.boolean(),
  clipDim: z.number().int().min(0).max(8192),
  hasClassClip: z.boolean(),
  hasDetectionClip: z.boolean(),
  detectionClipDim: z.number().int().min(0).max(8192),
  encoders: z.object({ language: z.string().max(200), vision: z.string().max(200).nullable() }),
  labeler: z.string().max(200),
  gtClasses: z.array(z.string().max(400)).max(65534),
  gtPointCounts: z.array(z.number().min(0).max(1e15)),
});

export function emptyRaw(
  labeler: string,
  encoders: RawLabels['encoders'] = { language: '', vision: null },
): RawLabels {
  return {
    classes: [],
    classEmbeddings: null,
    dim: 0,
    classClipEmbeddings: null,
    clipDim: 0,
    encoders,
    labeler,
    detections: {
      count: 0,
      frame: new Uint32Array(0),
      indexInFrame: new Uint32Array(0),
      box: new Float32Array(0),
      maskArea: new Uint32Array(0),
      scoreOffset: new Uint32Array(1),
      scoreClass: new Uint32Array(0),
      scoreValue: new Float32Array(0),
      clipEmbeddings: null,
      clipDim: 0,
    },
    points: {
      count: 0,
      xyz: new Float32Array(0),
      rgb: new Uint8Array(0),
      detectionId: new Uint32Array(0),
      distance_m: new Float32Array(0),
      gtClass: new Uint16Array(0),
    },
    gtClasses: [],
    gtPointCounts: [],
  };
}

export function encodeRaw(r: RawLabels): Uint8Array {
  const d = r.detections,
    p = r.points;
  const S = d.scoreOffset[d.count] ?? 0;
  const meta = {
    classes: r.classes,
    dim: r.classEmbeddings ? r.dim : 0,
    hasClassEmbeddings: r.classEmbeddings !== null,
    clipDim: r.classClipEmbeddings ? r.clipDim : 0,
    hasClassClip: r.classClipEmbeddings !== null,
    hasDetectionClip: d.clipEmbeddings !== null,
    detectionClipDim: d.clipEmbeddings ? d.clipDim : 0,
    encoders: r.encoders,
    labeler: r.labeler,
    gtClasses: r.gtClasses,
    gtPointCounts: r.gtPointCounts,
  };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const w = new PayloadWriter()
    .add(json)
    .add(d.frame)
    .add(d.indexInFrame)
    .add(d.box)
    .add(d.maskArea)
    .add(d.scoreOffset)
    .add(d.scoreClass.subarray(0, S))
    .add(d.scoreValue.subarray(0, S));
  if (d.clipEmbeddings) w.add(d.clipEmbeddings);
  if (r.classEmbeddings) w.add(r.classEmbeddings);
  if (r.classClipEmbeddings) w.add(r.classClipEmbeddings);
  w.add(p.xyz).add(p.rgb).add(p.detectionId).add(p.distance_m).add(p.gtClass);
  return w.finish({ magic: 'CFRW', version: RAW_VERSION, a: d.count, b: p.count, c: json.byteLength, d: S });
}

export function decodeRaw(bytes: Uint8Array, file: string): RawLabels {
  const { header, payload } = readHeader(bytes, file, 'CFRW', RAW_VERSION);
  const { a: n, b: np, c: jsonBytes, d: S } = header;
  const r = new PayloadReader(payload, file);
  let metaRaw: unknown;
  try {
    metaRaw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(r.u8(jsonBytes, 'meta')));
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    throw new DatasetError('INVALID_INPUT', file, `meta is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  const mr = MetaSchema.safeParse(metaRaw);
  if (!mr.success)
    throw new DatasetError(
      'INVALID_INPUT',
      file,
      `invalid meta: ${mr.error.issues[0]?.path.join('.') ?? ''} ${mr.error.issues[0]?.message ?? ''}`,
    );
  const meta = mr.data;
  if (meta.gtPointCounts.length !== meta.gtClasses.length)
    throw new DatasetError('INVALID_INPUT', file, 'gtPointCounts and gtClasses differ in length');
  const C = meta.classes.length;
  const frame = r.u32(n, 'frame');
  const indexInFrame = r.u32(n, 'indexInFrame');
  const box = r.f32(4 * n, 'box');
  const maskArea = r.u32(n, 'maskArea');
  const scoreOffset = r.u32(n + 1, 'scoreOffset');
  const scoreClass = r.u32(S, 'scoreClass');
  const scoreValue = r.f32(S, 'scoreValue');
  const clipEmbeddings = meta.hasDetectionClip
    ? r.f32(n * meta.detectionClipDim, 'detection CLIP embeddings')
    : null;
  const classEmbeddings = meta.hasClassEmbeddings ? r.f32(C * meta.dim, 'class embeddings') : null;
  const classClipEmbeddings = meta.hasClassClip ? r.f32(C * meta.clipDim, 'class CLIP embeddings') : null;
  const xyz = r.f32(3 * np, 'xyz');
  const rgb = r.u8(3 * np, 'rgb');
  const detectionId = r.u32(np, 'detectionId');
  const distance_m = r.f32(np, 'distance_m');
  const gtClass = r.u16(np, 'gtClass');
  r.end();
  if (scoreOffset[0] !== 0 || scoreOffset[n] !== S)
    throw new DatasetError('INVALID_INPUT', file, 'score offsets do not span the score table');
  for (let i = 0; i < n; i++) {
    if (scoreOffset[i + 1]! <= scoreOffset[i]!)
      throw new DatasetError(
        'INVALID_INPUT',
        file,
        `detection ${i} has no class scores or decreasing offsets`,
      );
  }
  checkBelow(scoreClass, C, file, 'scoreClass');
  checkFinite(scoreValue, file, 'scoreValue', 0);
  checkFinite(box, file, 'box');
  checkFinite(xyz, file, 'xyz');
  checkFinite(distance_m, file, 'distance_m', 0);
  checkBelow(detectionId, n, file, 'point detectionId');
  checkBelow(gtClass, meta.gtClasses.length, file, 'point gtClass', NO_GT);
  if (clipEmbeddings) checkFinite(clipEmbeddings, file, 'detection CLIP embeddings');
  if (classEmbeddings) checkFinite(classEmbeddings, file, 'class embeddings');
  if (classClipEmbeddings) checkFinite(classClipEmbeddings, file, 'class CLIP embeddings');
  return {
    classes: meta.classes,
    classEmbeddings,
    dim: meta.hasClassEmbeddings ? meta.dim : 0,
    classClipEmbeddings,
    clipDim: meta.hasClassClip ? meta.clipDim : 0,
    encoders: meta.encoders,
    labeler: meta.labeler,
    detections: {
      count: n,
      frame,
      indexInFrame,
      box,
      maskArea,
      scoreOffset,
      scoreClass,
      scoreValue,
      clipEmbeddings,
      clipDim: clipEmbeddings ? meta.detectionClipDim : 0,
    },
    points: { count: np, xyz, rgb, detectionId, distance_m, gtClass },
    gtClasses: meta.gtClasses,
    gtPointCounts: meta.gtPointCounts,
  };
}

/**
 * Concatenate raw parts (e.g. per-frame cache entries) into one, merging class and gt-class tables by name.
 * Class embeddings are dropped (compute them for the merged class list).
 */
export function concatRaw(
  parts: readonly RawLabels[],
  labeler: string,
  encoders: RawLabels['encoders'],
): RawLabels {
  const classes: string[] = [];
  const classIdx = new Map<string, number>();
  const gtClasses: string[] = [];
  const gtIdx = new Map<string, number>();
  const gtCounts: number[] = [];
  let nd = 0,
    np = 0,
    ns = 0;
  let clipDim = -1;
  for (const p of parts) {
    nd += p.detections.count;
    np += p.points.count;
    ns += p.detections.scoreOffset[p.detections.count] ?? 0;
    if (p.detections.count > 0) {
      const cd = p.detections.clipEmbeddings ? p.detections.clipDim : 0;
      if (clipDim === -1) clipDim = cd;
      else if (clipDim !== cd) clipDim = 0; // inconsistent parts: drop detection embeddings
    }
  }
  const out = emptyRaw(labeler, encoders);
  const D = out.detections;
  D.count = nd;
  D.frame = new Uint32Array(nd);
  D.indexInFrame = new Uint32Array(nd);
  D.box = new Float32Array(4 * nd);
  D.maskArea = new Uint32Array(nd);
  D.scoreOffset = new Uint32Array(nd + 1);
  D.scoreClass = new Uint32Array(ns);
  D.scoreValue = new Float32Array(ns);
  const useClip = clipDim > 0;
  D.clipEmbeddings = useClip ? new Float32Array(nd * clipDim) : null;
  D.clipDim = useClip ? clipDim : 0;
  const P = out.points;
  P.count = np;
  P.xyz = new Float32Array(3 * np);
  P.rgb = new Uint8Array(3 * np);
  P.detectionId = new Uint32Array(np);
  P.distance_m = new Float32Array(np);
  P.gtClass = new Uint16Array(np);
  let d0 = 0,
    p0 = 0,
    s0 = 0;
  for (const part of parts) {
    const cmap = part.classes.map((c) => {
      let i = classIdx.get(c);
      if (i === undefined) {
        i = classes.length;
        classes.push(c);
        classIdx.set(c, i);
      }
      return i;
    });
    const gmap = part.gtClasses.map((c, k) => {
      let i = gtIdx.get(c);
      if (i === undefined) {
        i = gtClasses.length;
        gtClasses.push(c);
        gtIdx.set(c, i);
        gtCounts.push(0);
      }
      gtCounts[i] = gtCounts[i]! + (part.gtPointCounts[k] ?? 0);
      return i;
    });
    const pd = part.detections;
    D.frame.set(pd.frame, d0);
    D.indexInFrame.set(pd.indexInFrame, d0);
    D.box.set(pd.box, 4 * d0);
    D.maskArea.set(pd.maskArea, d0);
    if (useClip && pd.clipEmbeddings) D.clipEmbeddings!.set(pd.clipEmbeddings, d0 * clipDim);
    for (let i = 0; i < pd.count; i++) D.scoreOffset[d0 + i] = s0 + pd.scoreOffset[i]!;
    const ps = pd.scoreOffset[pd.count] ?? 0;
    for (let s = 0; s < ps; s++) {
      D.scoreClass[s0 + s] = cmap[pd.scoreClass[s]!]!;
      D.scoreValue[s0 + s] = pd.scoreValue[s]!;
    }
    const pp = part.points;
    P.xyz.set(pp.xyz, 3 * p0);
    P.rgb.set(pp.rgb, 3 * p0);
    P.distance_m.set(pp.distance_m, p0);
    for (let i = 0; i < pp.count; i++) {
      P.detectionId[p0 + i] = pp.detectionId[i]! + d0;
      const g = pp.gtClass[i]!;
      P.gtClass[p0 + i] = g === NO_GT ? NO_GT : gmap[g]!;
    }
    d0 += pd.count;
    p0 += pp.count;
    s0 += ps;
  }
  D.scoreOffset[nd] = s0;
  out.classes = classes;
  out.gtClasses = gtClasses;
  out.gtPointCounts = gtCounts;
  return out;
}
