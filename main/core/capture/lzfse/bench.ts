/**
 * LZFSE decode/encode throughput on the Record3D-sized fixtures (256x192 float32 depth, uint8 confidence).
 * MB = 1e6 bytes of DECODED (raw) data per second, for both decode and encode.
 *
 * Run directly: `npx tsx main/core/capture/lzfse/bench.ts [repeats]`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeLzfse } from './decode';
import { encodeLzfse } from './encode';

export interface BenchSeries {
  name: string;
  unit: string;
  samples: number[];
}

const FIXTURE_DIR = path.join(__dirname, '__fixtures__');
/** Each sample runs the operation repeatedly for at least this long (timer resolution, JIT noise). */
const MIN_SAMPLE_MS = 40;

function loadFixture(name: string): { compressed: Uint8Array; raw: Uint8Array } {
  return {
    compressed: new Uint8Array(readFileSync(path.join(FIXTURE_DIR, `${name}.lzfse`))),
    raw: new Uint8Array(readFileSync(path.join(FIXTURE_DIR, `${name}.bin`))),
  };
}

function sampleMBps(rawBytes: number, op: () => void): number {
  let iterations = 0;
  const t0 = performance.now();
  let elapsed: number;
  do {
    op();
    iterations++;
    elapsed = performance.now() - t0;
  } while (elapsed < MIN_SAMPLE_MS);
  return (rawBytes * iterations) / 1e6 / (elapsed / 1000);
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function benchLzfse(opts: { repeats: number }): Promise<BenchSeries[]> {
  const repeats = Math.max(1, Math.floor(opts.repeats));
  const depth = loadFixture('depth-256x192-f32');
  const conf = loadFixture('conf-256x192-u8');
  const depthEncoded = encodeLzfse(depth.raw);
  const confEncoded = encodeLzfse(conf.raw);
  const cases: { name: string; rawBytes: number; op: () => void }[] = [
    {
      name: 'lzfse.decode.depth-256x192-f32',
      rawBytes: depth.raw.length,
      op: () => void decodeLzfse(depth.compressed, { expectedBytes: depth.raw.length }),
    },
    {
      name: 'lzfse.decode.conf-256x192-u8',
      rawBytes: conf.raw.length,
      op: () => void decodeLzfse(conf.compressed, { expectedBytes: conf.raw.length }),
    },
    {
      name: 'lzfse.encode.depth-256x192-f32',
      rawBytes: depth.raw.length,
      op: () => void encodeLzfse(depth.raw),
    },
    { name: 'lzfse.encode.conf-256x192-u8', rawBytes: conf.raw.length, op: () => void encodeLzfse(conf.raw) },
    // Decoding our own encoder's output (LZVN for conf, raw for noisy depth).
    {
      name: 'lzfse.decode-own.conf-256x192-u8',
      rawBytes: conf.raw.length,
      op: () => void decodeLzfse(confEncoded),
    },
    {
      name: 'lzfse.decode-own.depth-256x192-f32',
      rawBytes: depth.raw.length,
      op: () => void decodeLzfse(depthEncoded),
    },
  ];
  const results: BenchSeries[] = [];
  for (const c of cases) {
    sampleMBps(c.rawBytes, c.op); // warm-up (JIT)
    const samples: number[] = [];
    for (let r = 0; r < repeats; r++) {
      samples.push(sampleMBps(c.rawBytes, c.op));
      await yieldToEventLoop();
    }
    results.push({ name: c.name, unit: 'MB/s', samples });
  }
  return results;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

if (require.main === module) {
  const repeats = Number(process.argv[2] ?? 9) || 9;
  benchLzfse({ repeats })
    .then((series) => {
      for (const s of series) {
        console.log(
          `${s.name.padEnd(38)} median ${median(s.samples).toFixed(1).padStart(8)} ${s.unit}  (n=${s.samples.length})`,
        );
      }
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
