/**
 * Pure evaluation metrics: confusion matrices, per-class precision / recall / IoU, and the localisation rule.
 */

/** Row = ground truth, column = prediction; `classes` names the rows. Predictions of -1 mean "no answer". */
export class Confusion {
  readonly counts: Float64Array;
  /** Per ground-truth class: points the method gave no answer for (prediction -1). */
  readonly unanswered: Float64Array;
  constructor(readonly classes: readonly string[]) {
    this.counts = new Float64Array(classes.length * classes.length);
    this.unanswered = new Float64Array(classes.length);
  }

  add(gt: number, pred: number, weight = 1): void {
    const C = this.classes.length;
    if (!(gt >= 0 && gt < C)) throw new RangeError(`ground-truth class ${gt} is outside 0..${C - 1}`);
    if (pred < 0 || pred >= C) this.unanswered[gt]! += weight;
    else this.counts[gt * C + pred]! += weight;
  }

  addAll(gt: ArrayLike<number>, pred: ArrayLike<number>): void {
    if (gt.length !== pred.length)
      throw new RangeError(`${gt.length} ground-truth values but ${pred.length} predictions`);
    for (let i = 0; i < gt.length; i++) this.add(gt[i]!, pred[i]!);
  }

  total(): number {
    let s = 0;
    for (const v of this.counts) s += v;
    for (const v of this.unanswered) s += v;
    return s;
  }
}

export interface PerClassStats {
  support: number;
  predicted: number;
  correct: number;
  precision: number | null;
  recall: number | null;
  iou: number | null;
}

export interface SegmentationMetrics {
  accuracy: number;
  /** Mean IoU over classes with ground-truth support. */
  miou: number;
  per_class: Record<string, PerClassStats>;
  points: number;
}

/** Accuracy, mean IoU and per-class stats of a confusion matrix (classes without support are left out of mIoU). */
export function segmentationMetrics(c: Confusion): SegmentationMetrics {
  const C = c.classes.length;
  const per_class: Record<string, PerClassStats> = {};
  let correctAll = 0;
  const total = c.total();
  let iouSum = 0;
  let iouN = 0;
  for (let k = 0; k < C; k++) {
    let support = c.unanswered[k]!;
    let predicted = 0;
    for (let j = 0; j < C; j++) {
      support += c.counts[k * C + j]!;
      predicted += c.counts[j * C + k]!;
    }
    const correct = c.counts[k * C + k]!;
    correctAll += correct;
    const union = support + predicted - correct;
    const iou = support > 0 ? (union > 0 ? correct / union : 0) : null;
    if (iou !== null) {
      iouSum += iou;
      iouN++;
    }
    if (support === 0 && predicted === 0) continue;
    per_class[c.classes[k]!] = {
      support,
      predicted,
      correct,
      precision: predicted > 0 ? correct / predicted : null,
      recall: support > 0 ? correct / support : null,
      iou,
    };
  }
  return {
    accuracy: total > 0 ? correctAll / total : 0,
    miou: iouN > 0 ? iouSum / iouN : 0,
    per_class,
    points: total,
  };
}

/** Precision and recall from counts (null where undefined). */
export function precisionRecall(
  truePositive: number,
  predicted: number,
  actual: number,
): { precision: number | null; recall: number | null } {
  return {
    precision: predicted > 0 ? truePositive / predicted : null,
    recall: actual > 0 ? Math.min(1, truePositive / actual) : null,
  };
}

/** Mean of the non-null values (null when there are none). */
export function meanOf(values: readonly (number | null | undefined)[]): number | null {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : null;
}

/** Ground-truth geometry of one object instance: points on its observed surface and their axis-aligned box. */
export interface InstanceGeometry {
  id: number;
  className: string;
  /** xyz per point, world metres (voxel-downsampled surface samples). */
  points: Float32Array;
  min: [number, number, number];
  max: [number, number, number];
}

export function insideBox(
  p: readonly number[],
  inst: Pick<InstanceGeometry, 'min' | 'max'>,
  margin_m = 0,
): boolean {
  for (let a = 0; a < 3; a++)
    if (!(p[a]! >= inst.min[a]! - margin_m && p[a]! <= inst.max[a]! + margin_m)) return false;
  return true;
}

/** Distance from `p` to the nearest surface point of `inst` (0 inside its box). */
export function distanceToInstance(p: readonly number[], inst: InstanceGeometry): number {
  if (insideBox(p, inst)) return 0;
  let best = Infinity;
  const q = inst.points;
  for (let i = 0; i + 2 < q.length; i += 3) {
    const dx = q[i]! - p[0]!,
      dy = q[i + 1]! - p[1]!,
      dz = q[i + 2]! - p[2]!;
    const d = dx * dx + dy * dy + dz * dz;
    if (d < best) best = d;
  }
  return Math.sqrt(best);
}

/**
 * The localisation rule: a look-at point localises class `cls` when it lies inside the box of, or within
 * `radius_m` of the surface of, any instance of that class. Returns the distance to the nearest such instance.
 */
export function localisationHit(
  lookAt: readonly number[] | null,
  cls: string,
  instances: readonly InstanceGeometry[],
  radius_m: number,
): { success: boolean; distance_m: number | null } {
  const mine = instances.filter((i) => i.className === cls);
  if (!lookAt || mine.length === 0) return { success: false, distance_m: null };
  let best = Infinity;
  for (const inst of mine) best = Math.min(best, distanceToInstance(lookAt, inst));
  return { success: best <= radius_m, distance_m: Number.isFinite(best) ? best : null };
}
