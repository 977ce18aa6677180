/**
 * Training metric series per job, in growable typed arrays at module level (never React state):
 * one shared x column (the step, or the arrival index when a sample has no step) and one column per
 * metric name, NaN where a sample lacked that metric. Appends are amortised O(1).
 */
export const MAX_ROWS = 2_000_000;

export class MetricSeries {
  length = 0;
  private cap: number;
  x: Float64Array;
  readonly columns = new Map<string, Float64Array>();
  /** The newest value of each metric (including non-plotted ones such as eta_s). */
  readonly latest: Record<string, number> = {};

  constructor(initialCapacity = 256) {
    this.cap = Math.max(1, initialCapacity);
    this.x = new Float64Array(this.cap);
  }

  private grow(): void {
    if (this.cap >= MAX_ROWS) {
      // Keep every second row: bounded memory for arbitrarily long runs.
      const half = Math.floor(this.length / 2);
      for (let i = 0; i < half; i++) this.x[i] = this.x[i * 2 + 1]!;
      for (const col of this.columns.values()) for (let i = 0; i < half; i++) col[i] = col[i * 2 + 1]!;
      this.length = half;
      return;
    }
    this.cap = Math.min(MAX_ROWS, this.cap * 2);
    const nx = new Float64Array(this.cap);
    nx.set(this.x.subarray(0, this.length));
    this.x = nx;
    for (const [k, col] of this.columns) {
      const nc = new Float64Array(this.cap).fill(Number.NaN);
      nc.set(col.subarray(0, this.length));
      this.columns.set(k, nc);
    }
  }

  push(metrics: Record<string, number>): void {
    if (this.length >= this.cap) this.grow();
    const i = this.length;
    const step = metrics.step;
    this.x[i] = typeof step === 'number' && Number.isFinite(step) ? step : i > 0 ? this.x[i - 1]! + 1 : 0;
    for (const [k, v] of Object.entries(metrics)) {
      if (!Number.isFinite(v)) continue;
      this.latest[k] = v;
      if (k === 'step') continue;
      let col = this.columns.get(k);
      if (!col) {
        col = new Float64Array(this.cap).fill(Number.NaN);
        this.columns.set(k, col);
      }
      col[i] = v;
    }
    for (const [k, col] of this.columns)
      if (!(k in metrics) || !Number.isFinite(metrics[k]!)) col[i] = Number.NaN;
    this.length = i + 1;
  }

  column(name: string): Float64Array | null {
    const c = this.columns.get(name);
    return c ? c.subarray(0, this.length) : null;
  }
}

const series = new Map<string, MetricSeries>();
const listeners = new Set<(jobId: string) => void>();

export function seriesFor(jobId: string): MetricSeries | null {
  return series.get(jobId) ?? null;
}

export function appendMetrics(jobId: string, metrics: Record<string, number>): void {
  let s = series.get(jobId);
  if (!s) {
    s = new MetricSeries();
    series.set(jobId, s);
  }
  s.push(metrics);
  for (const l of listeners) l(jobId);
}

export function onMetrics(listener: (jobId: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function clearMetrics(): void {
  series.clear();
}
