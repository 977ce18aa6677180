/** Property-test helpers for parsers: every input gives a valid result or a TYPED error, fast, without leaking memory. */
import fc from 'fast-check';

export interface ParserCheck<I> {
  /** The parser under test (sync or async). */
  parse: (input: I) => unknown;
  /** True for the parser's own typed errors (which must also name a file/entry and say something). */
  typed: (err: unknown) => boolean;
  /** Most milliseconds one input may take. */
  maxMsPerInput?: number;
  /** Most heap growth over the whole run (after GC), bytes. */
  maxHeapGrowthBytes?: number;
  numRuns?: number;
  seed: number;
}

export interface ParserStats {
  runs: number;
  ok: number;
  typed: number;
  slowestMs: number;
  heapGrowthBytes: number;
}

function heapNow(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Run the property; throws (failing the test) on an untyped throw, a slow input or heap growth. */
export async function checkParser<I>(arb: fc.Arbitrary<I>, c: ParserCheck<I>): Promise<ParserStats> {
  const stats: ParserStats = { runs: 0, ok: 0, typed: 0, slowestMs: 0, heapGrowthBytes: 0 };
  const maxMs = c.maxMsPerInput ?? 250;
  const heap0 = heapNow();
  await fc.assert(
    fc.asyncProperty(arb, async (input) => {
      stats.runs++;
      const t0 = performance.now();
      try {
        await c.parse(input);
        stats.ok++;
      } catch (err) {
        if (!c.typed(err))
          throw new Error(
            `untyped throw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`,
            { cause: err },
          );
        if (!(err instanceof Error) || err.message.length < 5)
          throw new Error('typed error without a message', { cause: err });
        stats.typed++;
      }
      const ms = performance.now() - t0;
      stats.slowestMs = Math.max(stats.slowestMs, ms);
      if (ms > maxMs) throw new Error(`one input took ${ms.toFixed(0)} ms (limit ${maxMs} ms)`);
    }),
    { numRuns: c.numRuns ?? 1000, seed: c.seed, endOnFailure: true },
  );
  stats.heapGrowthBytes = heapNow() - heap0;
  const maxHeap = c.maxHeapGrowthBytes ?? 64 * 1024 * 1024;
  if (stats.heapGrowthBytes > maxHeap)
    throw new Error(
      `heap grew by ${stats.heapGrowthBytes} bytes over ${stats.runs} inputs (limit ${maxHeap})`,
    );
  return stats;
}

/** A JSON-ish value, including the awkward ones (`__proto__` keys, huge and tiny numbers, deep nesting). */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom<unknown>(null, 0, -1, 1e308, -1e-308, '', 'x'.repeat(5000), [], {}, true),
  fc.constant(
    JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    ) as unknown,
  ),
);

type Json = unknown;

/** Paths (key lists) of every node in a JSON value. */
function pathsOf(
  v: Json,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(v)) v.slice(0, 8).forEach((x, i) => pathsOf(x, [...prefix, i], out));
  else if (v && typeof v === 'object')
    for (const k of Object.keys(v)) pathsOf((v as Record<string, Json>)[k], [...prefix, k], out);
  return out;
}

function setAt(root: Json, p: (string | number)[], value: Json | undefined): Json {
  if (p.length === 0) return value;
  const clone = structuredClone(root) as Record<string | number, Json>;
  let node = clone;
  for (const k of p.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  const last = p[p.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(node)) node.splice(Number(last), 1);
    else delete node[last];
  } else node[last] = value;
  return clone;
}

/** Structure-aware mutations of a valid document: replace or delete one node, several times. */
export function mutatedJson(valid: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(valid);
  const one = fc.tuple(fc.integer({ min: 0, max: paths.length - 1 }), fc.option(hostileJson, { freq: 4 }));
  return fc.array(one, { minLength: 1, maxLength: 3 }).map((ops) => {
    let doc = valid;
    for (const [i, v] of ops) {
      const p = paths[i]!;
      try {
        doc = setAt(doc, p, v === null ? undefined : v);
      } catch {
        // the path vanished under an earlier op
      }
    }
    return doc;
  });
}

/** Byte-level damage to a valid encoding: truncation, flipped bytes, inserted garbage. */
export function damagedBytes(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n)),
    fc
      .array(
        fc.tuple(
          fc.integer({ min: 0, max: Math.max(0, valid.length - 1) }),
          fc.integer({ min: 1, max: 255 }),
        ),
        { minLength: 1, maxLength: 8 },
      )
      .map((flips) => {
        const b = valid.slice();
        for (const [i, x] of flips) b[i] = b[i]! ^ x;
        return b;
      }),
    fc
      .tuple(fc.integer({ min: 0, max: valid.length }), fc.uint8Array({ minLength: 1, maxLength: 64 }))
      .map(([i, junk]) => {
        const b = new Uint8Array(valid.length + junk.length);
        b.set(valid.subarray(0, i));
        b.set(junk, i);
        b.set(valid.subarray(i), i + junk.length);
        return b;
      }),
    fc.uint8Array({ maxLength: 2048 }),
  );
}
