/**
 * Query sets: named lists of queries with expected ("golden") locations, re-run against any trained field.
 *
 * File (JSON):
 * { "format": "clip-fields-query-set", "version": 1, "name": "kitchen",
 *   "queries": [ { "text": "chair", "mode": "auto"?, "expected_world_m": [x, y, z], "tolerance_m": 0.3? },
 *                { "text": "unicorn", "expect_absent": true } ] }
 * A query succeeds when its best hit's look-at point is within `tolerance_m` (default 0.3 m) of the expected
 * location, or the expected location lies inside the best hit's bounding box; an `expect_absent` query succeeds
 * when the answer is "not found".
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { QueryError } from './errors';
import { type EngineOptions, QueryEngine, type QueryOptions } from './engine';

const finite = z.number().refine(Number.isFinite, 'must be finite');

export const QuerySetSchema = z.object({
  format: z.literal('clip-fields-query-set'),
  version: z.literal(1),
  name: z.string().min(1).max(200),
  queries: z
    .array(
      z
        .object({
          text: z.string().min(1).max(1000),
          mode: z.enum(['auto', 'semantic', 'visual']).optional(),
          expected_world_m: z.tuple([finite, finite, finite]).optional(),
          tolerance_m: finite.pipe(z.number().positive().max(100)).optional(),
          expect_absent: z.boolean().optional(),
        })
        .strict()
        .refine(
          (q) => (q.expected_world_m !== undefined) !== (q.expect_absent === true),
          'each query needs exactly one of expected_world_m or expect_absent: true',
        ),
    )
    .min(1)
    .max(10000),
});
export type QuerySet = z.infer<typeof QuerySetSchema>;

export function parseQuerySet(text: string, file: string): QuerySet {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new QueryError('INVALID_INPUT', file, `not JSON: ${(err as Error).message}`);
  }
  const r = QuerySetSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new QueryError(
      'INVALID_INPUT',
      file,
      `invalid query set: ${i ? `${i.path.join('.')}: ${i.message}` : 'unknown'}`,
    );
  }
  return r.data;
}

export interface QuerySetItemResult {
  text: string;
  success: boolean;
  not_found: boolean;
  /** Distance from the best hit's look-at point to the expected location (null when absent / not found). */
  distance_m: number | null;
  inside: boolean;
  best_world_m: [number, number, number] | null;
  score: number | null;
}

export interface QuerySetResult {
  name: string;
  total: number;
  succeeded: number;
  success_rate: number;
  items: QuerySetItemResult[];
}

export async function runQuerySet(
  projectDir: string,
  file: string,
  opts: EngineOptions & { query?: QueryOptions } = {},
): Promise<QuerySetResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new QueryError('NOT_FOUND', file, `cannot read query set: ${(err as Error).message}`);
  }
  const set = parseQuerySet(text, file);
  const engine = await QueryEngine.open(projectDir, opts);
  try {
    const items: QuerySetItemResult[] = [];
    for (const q of set.queries) {
      const { result } = await engine.query(q.text, {
        ...opts.query,
        goal: false,
        ...(q.mode ? { mode: q.mode } : {}),
      });
      const best = result.hits[0] ?? null;
      if (q.expect_absent) {
        items.push({
          text: q.text,
          success: result.not_found,
          not_found: result.not_found,
          distance_m: null,
          inside: false,
          best_world_m: best?.world_m ?? null,
          score: best?.score ?? null,
        });
        continue;
      }
      const e = q.expected_world_m!;
      const tol = q.tolerance_m ?? 0.3;
      const distance = best
        ? Math.hypot(best.world_m[0] - e[0], best.world_m[1] - e[1], best.world_m[2] - e[2])
        : null;
      const inside = best
        ? [0, 1, 2].every((a) => e[a]! >= best.bounds_world_m.min[a]! && e[a]! <= best.bounds_world_m.max[a]!)
        : false;
      items.push({
        text: q.text,
        success: best !== null && (distance! <= tol || inside),
        not_found: result.not_found,
        distance_m: distance,
        inside,
        best_world_m: best?.world_m ?? null,
        score: best?.score ?? null,
      });
    }
    const succeeded = items.filter((i) => i.success).length;
    return { name: set.name, total: items.length, succeeded, success_rate: succeeded / items.length, items };
  } finally {
    await engine.dispose();
  }
}
