/**
 * Display downsampling for long metric series sharing one x column: rows are grouped into at most
 * `maxBuckets` equal buckets and each bucket becomes up to two rows, at the x of its minimum and of
 * its maximum of the `key` column (min/max envelope), so spikes survive while the point count stays
 * bounded. Other columns take their (NaN-skipping) mean over the bucket. NaN becomes null (a gap).
 */
export type Column = ArrayLike<number>;

export interface Downsampled {
  x: number[];
  ys: (number | null)[][];
}

const toNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

export function downsample(
  x: Column,
  ys: readonly Column[],
  length: number,
  maxBuckets: number,
  key = 0,
): Downsampled {
  const n = Math.min(length, x.length);
  if (n <= maxBuckets * 2 || maxBuckets < 1) {
    const outX: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) outX[i] = x[i]!;
    return { x: outX, ys: ys.map((c) => Array.from({ length: n }, (_, i) => toNull(c[i]!))) };
  }
  const outX: number[] = [];
  const outYs: (number | null)[][] = ys.map(() => []);
  const keyCol = ys[key];
  for (let b = 0; b < maxBuckets; b++) {
    const lo = Math.floor((b * n) / maxBuckets);
    const hi = Math.floor(((b + 1) * n) / maxBuckets);
    if (hi <= lo) continue;
    let iMin = -1;
    let iMax = -1;
    if (keyCol) {
      for (let i = lo; i < hi; i++) {
        const v = keyCol[i]!;
        if (!Number.isFinite(v)) continue;
        if (iMin < 0 || v < keyCol[iMin]!) iMin = i;
        if (iMax < 0 || v > keyCol[iMax]!) iMax = i;
      }
    }
    const rows = iMin < 0 ? [lo] : iMin === iMax ? [iMin] : [Math.min(iMin, iMax), Math.max(iMin, iMax)];
    // Means of the other columns over the bucket (so each series stays representative).
    const means = ys.map((c) => {
      let s = 0;
      let k = 0;
      for (let i = lo; i < hi; i++) {
        const v = c[i]!;
        if (Number.isFinite(v)) {
          s += v;
          k++;
        }
      }
      return k > 0 ? s / k : Number.NaN;
    });
    for (const r of rows) {
      outX.push(x[r]!);
      ys.forEach((c, j) => outYs[j]!.push(j === key ? toNull(c[r]!) : toNull(means[j]!)));
    }
  }
  return { x: outX, ys: outYs };
}
