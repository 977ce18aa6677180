import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { downsample } from './downsample';
import { onMetrics, seriesFor } from './metrics-buffer';

export interface ChartSeries {
  key: string;
  label: string;
  color: string;
}

/** Most buckets drawn (each up to 2 points): hours of 2 Hz metrics stay smooth. */
const MAX_BUCKETS = 600;
/** Redraws at most this often while metrics stream. */
const MIN_REDRAW_MS = 400;

/**
 * One uPlot chart over a job's metric buffer. Data never passes through React: the chart
 * subscribes to the buffer and redraws (downsampled) at most every MIN_REDRAW_MS.
 */
export function MetricChart({
  jobId,
  title,
  series,
  testid,
  yRange,
}: {
  jobId: string | null;
  title: string;
  series: ChartSeries[];
  testid: string;
  yRange?: [number, number];
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const empty = useRef<HTMLDivElement>(null);
  const fig = useRef<HTMLElement>(null);
  const key = series.map((s) => s.key).join(',');
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: 180,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: false }, ...(yRange ? { y: { range: yRange } } : {}) },
      axes: [
        { label: 'step', stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, size: 55 },
      ],
      series: [
        { label: 'step' },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
        })),
      ],
    };
    const plot = new uPlot(opts, [[], ...series.map(() => [])] as uPlot.AlignedData, el);
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const draw = () => {
      timer = null;
      last = performance.now();
      const s = jobId ? seriesFor(jobId) : null;
      const cols = s ? series.map((c) => s.column(c.key) ?? new Float64Array(s.length).fill(Number.NaN)) : [];
      const has = !!s && cols.some((c) => c.some(Number.isFinite));
      if (empty.current) empty.current.style.display = has ? 'none' : '';
      if (!s || !has) {
        plot.setData([[], ...series.map(() => [])] as uPlot.AlignedData);
        if (fig.current) fig.current.dataset.points = '0';
        return;
      }
      const d = downsample(s.x, cols, s.length, MAX_BUCKETS);
      plot.setData([d.x, ...d.ys] as uPlot.AlignedData);
      // Points drawn (rows with a finite value in any series), for tests and diagnostics.
      if (fig.current) {
        let n = 0;
        for (let i = 0; i < d.x.length; i++) if (d.ys.some((y) => Number.isFinite(y[i]))) n++;
        fig.current.dataset.points = String(n);
      }
    };
    const schedule = (id: string) => {
      if (id !== jobId || timer) return;
      timer = setTimeout(draw, Math.max(0, MIN_REDRAW_MS - (performance.now() - last)));
    };
    draw();
    const off = onMetrics(schedule);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
    ro.observe(el);
    return () => {
      off();
      ro.disconnect();
      if (timer) clearTimeout(timer);
      plot.destroy();
    };
    // `series` is identified by its keys.
  }, [jobId, key, yRange?.[0], yRange?.[1]]);
  return (
    <figure ref={fig} className="tp-chart" data-testid={testid} data-points="0">
      <figcaption>{title}</figcaption>
      <div ref={wrap} className="tp-chart-plot" />
      <div ref={empty} className="tp-chart-empty muted">
        No data yet
      </div>
    </figure>
  );
}
