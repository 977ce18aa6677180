/**
 * The evaluation report: one self-contained HTML page (no scripts, no external resources, CSP-safe).
 * Charts are vega-lite specs rendered to inline SVG in Node (headless vega View, renderer 'none'); images
 * (query heatmaps, label overlays) are inlined as PNG data: URIs. Every chart sits in
 * `<figure data-chart="<id>">` (ids: CHART_IDS) so tests and readers can find it.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { EvalResult } from '../eval/types';
import { writeFileAtomic } from '../util/atomic';

export const CHART_IDS = [
  'loss-curve',
  'per-class-accuracy',
  'label-quality',
  'noise-robustness',
  'few-shot',
  'baselines',
  'baseline-cost',
] as const;
export type ChartId = (typeof CHART_IDS)[number];

/** One benchmark row (shape of bench/run.ts BenchRow; extra fields are ignored). */
export interface BenchResultRow {
  suite: string;
  name: string;
  unit: string;
  median: number;
  min?: number;
  max?: number;
  runs?: number;
  ratio_to_previous?: number | null;
}

export interface ReportImage {
  title: string;
  png: Uint8Array;
}

export interface ReportInput {
  /** Where visual_files of the result live (default `<projectDir>/eval`). */
  projectDir?: string;
  visualsDir?: string;
  evalResult: EvalResult;
  benchResults?: BenchResultRow[];
  /** Overrides evalResult.training.curve. */
  trainingCurve?: { step: number; loss: number }[];
  /** Extra images (besides the result's visual_files). */
  images?: { heatmaps?: ReportImage[]; overlays?: ReportImage[] };
  title?: string;
  out: string;
}

export class ReportError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ReportError';
  }
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const pct = (v: number | null | undefined): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(1)} %`;
const fmt = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

type Spec = Record<string, unknown>;

/** Render a vega-lite spec to an SVG string, headlessly. */
export async function renderChartSvg(spec: Spec): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...spec,
  } as never);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 520;
/** A quantitative encoding of a fraction shown as a percentage over [0, 1]. */
const FRACTION = { type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' } };

/** Horizontal bars per class, one bar per metric (rows `{class, metric, value}` with values in [0, 1]). */
function perClassBars(title: string, rows: { class: string; metric: string; value: number }[]): Spec {
  return {
    width: WIDTH,
    title,
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'class', type: 'nominal', sort: 'ascending' },
      x: { field: 'value', ...FRACTION, title: null },
      yOffset: { field: 'metric' },
      color: { field: 'metric', type: 'nominal' },
    },
  };
}

function chartSpecs(
  r: EvalResult,
  curve: { step: number; loss: number; heldout_accuracy?: number }[],
): Record<ChartId, Spec> {
  const lossRows = curve
    .filter((c) => Number.isFinite(c.loss))
    .map((c) => ({ step: c.step, value: c.loss, series: 'training loss' }));
  const accRows = curve
    .filter((c) => typeof c.heldout_accuracy === 'number')
    .map((c) => ({ step: c.step, value: c.heldout_accuracy!, series: 'held-out point accuracy' }));
  const perClass = Object.entries(r.segmentation.per_class).flatMap(([cls, s]) => [
    { class: cls, metric: 'accuracy (recall)', value: s.accuracy ?? 0 },
    { class: cls, metric: 'IoU', value: s.iou ?? 0 },
  ]);
  const labelRows = Object.entries(r.labels.per_class).flatMap(([cls, s]) => [
    { class: cls, metric: 'precision', value: s.precision ?? 0 },
    { class: cls, metric: 'recall', value: s.recall ?? 0 },
  ]);
  const noiseRows = r.denoising.flatMap((d) => [
    { noise: d.noise, series: 'field (held-out frames)', value: d.field_accuracy },
    ...(d.label_accuracy !== null
      ? [{ noise: d.noise, series: 'weak labels', value: d.label_accuracy }]
      : []),
  ]);
  const fewRows = r.few_shot
    .map((f) => ({ fraction: f.fraction, value: f.field_accuracy, series: 'field accuracy' }))
    .concat(r.few_shot.map((f) => ({ fraction: f.fraction, value: f.field_miou, series: 'field mIoU' })));
  const methods = Object.values(r.baselines);
  const baseRows = methods.flatMap((m) => [
    { method: m.method, metric: 'seg. accuracy', value: m.accuracy },
    { method: m.method, metric: 'mIoU', value: m.miou },
    { method: m.method, metric: 'query success', value: m.present_success },
    { method: m.method, metric: 'absent rejected', value: m.absent_success },
  ]);
  const costRows = methods.flatMap((m) => [
    { method: m.method, metric: 'memory (MiB)', value: m.memory_bytes / (1 << 20) },
    { method: m.method, metric: 'query latency (ms)', value: m.query_ms },
  ]);
  const frac = FRACTION;
  return {
    'loss-curve': {
      width: WIDTH,
      height: 220,
      title: 'Training (main run)',
      data: { values: [...lossRows, ...accRows] },
      mark: { type: 'line', point: false },
      encoding: {
        x: { field: 'step', type: 'quantitative' },
        y: { field: 'value', type: 'quantitative' },
        color: { field: 'series', type: 'nominal' },
      },
    },
    'per-class-accuracy': perClassBars('Held-out segmentation per class', perClass),
    'label-quality': perClassBars('Weak labels vs ground truth', labelRows),
    'noise-robustness': {
      width: WIDTH,
      height: 220,
      title: 'Denoising: accuracy vs label noise',
      data: { values: noiseRows },
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'noise',
          type: 'quantitative',
          title: 'noise level (confuse fraction)',
          axis: { format: '%' },
        },
        y: { field: 'value', ...frac, title: 'accuracy' },
        color: { field: 'series', type: 'nominal' },
      },
    },
    'few-shot': {
      width: WIDTH,
      height: 220,
      title: 'Few-shot: field vs fraction of labeled frames',
      data: { values: fewRows },
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'fraction',
          type: 'quantitative',
          scale: { type: 'log' },
          axis: { format: '%' },
          title: 'labeled frames',
        },
        y: { field: 'value', ...frac, title: null },
        color: { field: 'series', type: 'nominal' },
      },
    },
    baselines: {
      width: WIDTH,
      title: 'Field vs baselines (same labels, same held-out points)',
      data: { values: baseRows },
      mark: 'bar',
      encoding: {
        y: { field: 'metric', type: 'nominal' },
        x: { field: 'value', ...frac, title: null },
        yOffset: { field: 'method' },
        color: { field: 'method', type: 'nominal' },
      },
    },
    'baseline-cost': {
      width: WIDTH,
      title: 'Memory and query latency',
      data: { values: costRows },
      mark: 'bar',
      encoding: {
        y: { field: 'method', type: 'nominal' },
        x: { field: 'value', type: 'quantitative', title: null },
        row: { field: 'metric', type: 'nominal', title: null },
        color: { field: 'method', type: 'nominal' },
      },
      resolve: { scale: { x: 'independent' } },
    },
  };
}

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function dataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

async function loadVisuals(
  r: EvalResult,
  dir: string | null,
): Promise<{ heatmaps: ReportImage[]; overlays: ReportImage[] }> {
  const out = { heatmaps: [] as ReportImage[], overlays: [] as ReportImage[] };
  if (!dir || !r.visual_files) return out;
  for (const v of r.visual_files) {
    const file = path.resolve(dir, v.file);
    if (!file.startsWith(path.resolve(dir) + path.sep))
      throw new ReportError(file, 'visual file lies outside the evaluation folder');
    let png: Uint8Array;
    try {
      png = new Uint8Array(await fs.readFile(file));
    } catch (err) {
      throw new ReportError(file, `cannot read the evaluation image (${(err as Error).message})`);
    }
    (v.kind === 'heatmap' ? out.heatmaps : out.overlays).push({ title: v.title, png });
  }
  return out;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0}td,th{border:1px solid #ddd;padding:.25rem .55rem;text-align:right}
td:first-child,th:first-child{text-align:left}figure{margin:1rem 0}figcaption{color:#555;font-size:.9rem}
.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}
.kpi b{display:block;font-size:1.4rem}.ok{color:#1a7f37}.bad{color:#b42318}.imgs{display:flex;flex-wrap:wrap;gap:1rem}
.imgs img{max-width:100%;image-rendering:pixelated;border:1px solid #ccc}`;

/** Build the report HTML (no file written). */
export async function renderReportHtml(input: Omit<ReportInput, 'out'>): Promise<string> {
  const r = input.evalResult;
  if (!r || typeof r !== 'object' || !r.segmentation || !r.localisation)
    throw new ReportError('evalResult', 'is not an evaluation result (missing segmentation / localisation)');
  const curve = input.trainingCurve ?? r.training?.curve ?? [];
  const specs = chartSpecs(r, curve);
  const svgs = new Map<ChartId, string>();
  for (const id of CHART_IDS) svgs.set(id, await renderChartSvg(specs[id]));
  const fig = (id: ChartId, caption: string) =>
    `<figure data-chart="${id}">${svgs.get(id)!}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
  const visualsDir = input.visualsDir ?? (input.projectDir ? path.join(input.projectDir, 'eval') : null);
  const vis = await loadVisuals(r, visualsDir);
  const heatmaps = [...vis.heatmaps, ...(input.images?.heatmaps ?? [])];
  const overlays = [...vis.overlays, ...(input.images?.overlays ?? [])];
  const imgs = (list: ReportImage[], kind: string) =>
    list.length === 0
      ? `<p>No ${kind} images in this result.</p>`
      : `<div class="imgs">${list.map((i) => `<figure data-image="${kind}"><img alt="${escapeHtml(i.title)}" src="${dataUri(i.png)}"><figcaption>${escapeHtml(i.title)}</figcaption></figure>`).join('')}</div>`;
  const seg = r.segmentation,
    loc = r.localisation;
  const okCls = (v: number, t: number) => (v >= t ? 'ok' : 'bad');
  const seeds = r.seeds ?? [];
  const baselineRows = Object.values(r.baselines).map((m) => [
    m.method,
    pct(m.accuracy),
    pct(m.miou),
    pct(m.present_success),
    pct(m.absent_success),
    pct(m.coverage),
    bytes(m.memory_bytes),
    fmt(m.build_ms, 0),
    fmt(m.query_ms, 1),
    fmt(m.classify_ms_per_1k, 1),
  ]);
  const locRows = Object.entries(loc.per_class).map(([c, v]) => [
    c,
    v.present ? 'present' : 'absent',
    v.found ? 'found' : 'not found',
    v.success ? 'yes' : 'no',
    v.distance_m === null ? '–' : v.distance_m.toFixed(2),
  ]);
  const segRows = Object.entries(seg.per_class).map(([c, v]) => [
    c,
    pct(v.accuracy),
    pct(v.precision),
    pct(v.iou),
    fmt(v.support, 0),
  ]);
  const bench = input.benchResults ?? [];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${escapeHtml(input.title ?? 'CLIP-Fields evaluation report')}</title><style>${STYLE}</style></head><body>
<h1>${escapeHtml(input.title ?? 'CLIP-Fields evaluation report')}</h1>
<p>Created ${escapeHtml(r.created_at)}; ${seeds.length} capture(s)${seeds.some((s) => s.seed !== null) ? ` (seeds ${seeds.map((s) => String(s.seed)).join(', ')})` : ''}. Settings: <code>${escapeHtml(JSON.stringify(r.settings))}</code></p>
<div class="kpi">
<div>Held-out segmentation accuracy<b class="${okCls(seg.accuracy, r.targets.segmentation_accuracy)}">${pct(seg.accuracy)}</b>target ${pct(r.targets.segmentation_accuracy)}</div>
<div>Mean IoU<b>${pct(seg.miou)}</b></div>
<div>Query localisation (present)<b class="${okCls(loc.present_success, r.targets.localisation)}">${pct(loc.present_success)}</b>target ${pct(r.targets.localisation)}</div>
<div>Absent queries rejected<b>${pct(loc.absent_success)}</b></div>
<div>Weak-label accuracy<b>${pct(r.labels.point_accuracy)}</b></div>
</div>
<h2>Training</h2>${fig('loss-curve', `Main run: ${r.training.steps} steps, ${r.training.preset} preset, ${r.training.engine}, ${fmt(r.training.samples_per_s, 0)} samples/s, ${fmt(r.training.train_ms / 1000, 1)} s.`)}
<h2>Weak-label quality</h2>
<p>Point accuracy ${pct(r.labels.point_accuracy)}, mean precision ${pct(r.labels.mean_precision)}, mean recall ${pct(r.labels.mean_recall)} over ${fmt(r.labels.points, 0)} labeled points from ${fmt(r.labels.frames, 0)} frames.</p>
${fig('label-quality', 'Per-class precision and recall of the labeled points against the annotations.')}
<h2>Semantic segmentation of held-out frames</h2>
<p>Accuracy ${pct(seg.accuracy)}, mean IoU ${pct(seg.miou)} on ${fmt(seg.points, 0)} points of ${fmt(seg.frames, 0)} held-out frames.</p>
${fig('per-class-accuracy', 'Per-class accuracy (recall) and IoU of the field on held-out frames.')}
${table(['class', 'accuracy', 'precision', 'IoU', 'points'], segRows)}
<h3>Label overlays</h3>${imgs(overlays, 'overlay')}
<h2>Query localisation</h2>
<p>Present classes localised within ${fmt(loc.radius_m, 2)} m: ${pct(loc.present_success)}; absent queries answered "not found": ${pct(loc.absent_success)} (false-found rate ${pct(loc.false_found_rate)}). Rule: ${escapeHtml(loc.not_found_rule)}.</p>
${table(['query', 'in scene', 'answer', 'success', 'distance (m)'], locRows)}
<h3>Query heatmaps (top-down)</h3>${imgs(heatmaps, 'heatmap')}
<h2>Denoising</h2>${fig('noise-robustness', 'Field accuracy on held-out frames vs the accuracy of the noisy labels it was trained on.')}
${table(
  ['noise', 'spec', 'label accuracy', 'field accuracy', 'field mIoU'],
  r.denoising.map((d) => [
    pct(d.noise),
    d.spec,
    pct(d.label_accuracy),
    pct(d.field_accuracy),
    pct(d.field_miou),
  ]),
)}
<h2>Few-shot</h2>${fig('few-shot', 'Field accuracy when only a fraction of the training frames is labeled.')}
${table(
  ['fraction', 'frames', 'labeled points', 'field accuracy', 'field mIoU'],
  r.few_shot.map((f) => [
    pct(f.fraction),
    fmt(f.frames, 0),
    fmt(f.label_points, 0),
    pct(f.field_accuracy),
    pct(f.field_miou),
  ]),
)}
<h2>Baselines</h2>${fig('baselines', 'Same labels and held-out points for every method.')}${fig('baseline-cost', 'What each method keeps in memory and how long one text query takes.')}
${table(['method', 'accuracy', 'mIoU', 'query success', 'absent rejected', 'coverage', 'memory', 'build (ms)', 'query (ms)', 'classify (ms/1k pts)'], baselineRows)}
<h2>Benchmarks</h2>
${
  bench.length === 0
    ? '<p>No benchmark results given.</p>'
    : table(
        ['suite', 'name', 'median', 'unit', 'runs', 'vs previous'],
        bench.map((b) => [
          b.suite,
          b.name,
          fmt(b.median, 3),
          b.unit,
          fmt(b.runs ?? null, 0),
          b.ratio_to_previous ? `${b.ratio_to_previous.toFixed(2)}x` : '–',
        ]),
      )
}
${
  seeds.length > 1
    ? `<h2>Per seed</h2>${table(
        [
          'seed',
          'frames (train/held-out)',
          'label acc.',
          'seg. accuracy',
          'mIoU',
          'query success',
          'absent rejected',
          'total (s)',
        ],
        seeds.map((s) => [
          String(s.seed),
          `${s.frames.train}/${s.frames.heldout}`,
          pct(s.labels.point_accuracy),
          pct(s.segmentation.accuracy),
          pct(s.segmentation.miou),
          pct(s.localisation.present_success),
          pct(s.localisation.absent_success),
          fmt((s.timings_ms.total ?? 0) / 1000, 0),
        ]),
      )}`
    : ''
}
</body></html>
`;
  return html;
}

/** Render and write the report atomically; `projectDir` without `evalResult` reads `<project>/eval/result.json`. */
export async function writeReport(
  input: Omit<ReportInput, 'evalResult'> & { evalResult?: EvalResult },
): Promise<{ out: string; bytes: number }> {
  let evalResult = input.evalResult;
  if (!evalResult) {
    if (!input.projectDir)
      throw new ReportError(
        'evalResult',
        'give an evaluation result or a project folder with eval/result.json',
      );
    const file = path.join(input.projectDir, 'eval', 'result.json');
    try {
      evalResult = JSON.parse(await fs.readFile(file, 'utf8')) as EvalResult;
    } catch (err) {
      throw new ReportError(
        file,
        `cannot read the evaluation result (${(err as Error).message}); run \`clip-fields eval\` first`,
      );
    }
  }
  const html = await renderReportHtml({ ...input, evalResult });
  const out = path.resolve(input.out);
  await fs.mkdir(path.dirname(out), { recursive: true });
  await writeFileAtomic(out, html);
  return { out, bytes: Buffer.byteLength(html) };
}
