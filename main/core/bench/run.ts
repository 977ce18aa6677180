/**
 * `npm run bench` = `clip-fields bench`: runs every registered benchmark, prints one table (median, min, max
 * over repeated runs and the ratio of the median to the newest previous results file) and writes
 * `bench/results/<date>-<machine>.json` with machine information.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/atomic';

export interface BenchSample {
  name: string;
  unit: string;
  samples: number[];
  /** Higher is better (throughput) unless false (latency, memory). */
  higherIsBetter?: boolean;
  meta?: Record<string, unknown>;
}

export interface BenchSuite {
  id: string;
  run: (opts: { repeats: number; quick: boolean }) => Promise<BenchSample[]>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gb: Math.round(os.totalmem() / 1e9),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    hostname: os.hostname(),
  };
}

export async function registeredSuites(): Promise<BenchSuite[]> {
  const suites: BenchSuite[] = [
    { id: 'lzfse', run: async (o) => (await import('../capture/lzfse/bench')).benchLzfse(o) },
    {
      id: 'import',
      run: async (o) =>
        (await import('../map/bench')).benchImport({
          repeats: o.quick ? 1 : Math.min(o.repeats, 3),
          ...(o.quick ? { frames: 60 } : {}),
        }),
    },
    { id: 'labeling', run: async (o) => (await import('../labeling/bench')).benchLabeling(o) },
    { id: 'training', run: async (o) => (await import('../field/bench')).benchTraining(o) },
    { id: 'query', run: async (o) => (await import('../query/bench')).benchQuery(o) },
  ];
  return suites;
}

export interface BenchRow {
  suite: string;
  name: string;
  unit: string;
  median: number;
  min: number;
  max: number;
  runs: number;
  ratio_to_previous: number | null;
  meta?: Record<string, unknown>;
}

async function previousResults(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    const last = files.at(-1);
    if (!last) return out;
    const raw = JSON.parse(await fs.readFile(path.join(dir, last), 'utf8')) as { rows?: BenchRow[] };
    for (const r of raw.rows ?? []) out.set(`${r.suite}/${r.name}`, r.median);
  } catch {
    // no previous results
  }
  return out;
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(3);
}

export async function runBench(opts: {
  quick: boolean;
  repeats?: number;
  only?: string[];
  outDir: string;
  print: (line: string) => void;
  /** Suites registered by a caller outside the core (the CLI adds the web host's studio suite). */
  extraSuites?: BenchSuite[];
}): Promise<{ rows: BenchRow[]; file: string }> {
  const repeats = opts.repeats ?? (opts.quick ? 3 : 7);
  const suites = [...(await registeredSuites()), ...(opts.extraSuites ?? [])].filter(
    (s) => !opts.only?.length || opts.only.includes(s.id),
  );
  const prev = await previousResults(opts.outDir);
  const rows: BenchRow[] = [];
  for (const s of suites) {
    opts.print(`running ${s.id}…`);
    let results: BenchSample[];
    try {
      results = await s.run({ repeats, quick: opts.quick });
    } catch (err) {
      opts.print(`  ${s.id} failed: ${(err as Error).message}`);
      continue;
    }
    for (const r of results) {
      const m = median(r.samples);
      const p = prev.get(`${s.id}/${r.name}`);
      rows.push({
        suite: s.id,
        name: r.name,
        unit: r.unit,
        median: m,
        min: Math.min(...r.samples),
        max: Math.max(...r.samples),
        runs: r.samples.length,
        ratio_to_previous: p !== undefined && p !== 0 ? m / p : null,
        ...(r.meta ? { meta: r.meta } : {}),
      });
    }
  }
  const header = ['suite', 'benchmark', 'median', 'min', 'max', 'unit', 'runs', 'vs prev'];
  const table = rows.map((r) => [
    r.suite,
    r.name,
    fmt(r.median),
    fmt(r.min),
    fmt(r.max),
    r.unit,
    String(r.runs),
    r.ratio_to_previous === null ? '-' : `${r.ratio_to_previous.toFixed(2)}x`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ');
  opts.print('');
  opts.print(line(header));
  opts.print(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of table) opts.print(line(row));
  await fs.mkdir(opts.outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(opts.outDir, `${stamp}-${os.hostname().replace(/[^a-zA-Z0-9_-]/g, '_')}.json`);
  await writeJsonAtomic(file, {
    created_at: new Date().toISOString(),
    quick: opts.quick,
    repeats,
    machine: machineInfo(),
    rows,
  });
  opts.print('');
  opts.print(`wrote ${file}`);
  return { rows, file };
}
