import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryCacheDir, readQueryCache } from './cache';
import { QueryEngine, autoMode } from './engine';
import { evaluateUnitOutputs } from './field-eval';
import { runQuerySet } from './query-set';
import { exactScores, fastScoresJs, codeQuery, scoresFromUnitOutputs, spearman, stackQuery } from './scoring';
import { type QueryProject, makeQueryProject, tableEncoders } from './testing';
import { instantiateKernel, quantizeQuery, wasm } from './wasm-kernel';
import { QueryError } from './errors';

let p: QueryProject;
let engine: QueryEngine;

beforeAll(async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cfs-query-'));
  p = await makeQueryProject(dir);
  engine = await QueryEngine.open(dir, { encoders: tableEncoders(p.dataset) });
}, 60_000);

afterAll(async () => {
  await engine?.dispose();
  if (p) await fs.rm(p.dir, { recursive: true, force: true });
});

describe('WASM SIMD scoring kernel', () => {
  it('matches the TypeScript loop for every rank it supports', () => {
    for (const rank of [8, 16, 24, 32]) {
      const n = 1000;
      const mem = new wasm.Memory({ initial: 2, maximum: 2, shared: true });
      const codes = new Int8Array(mem.buffer, 0, n * rank);
      for (let i = 0; i < codes.length; i++) codes[i] = ((i * 7919) % 255) - 127;
      const qz = Float64Array.from({ length: rank }, (_, j) => Math.sin(j + 1));
      const { q16, scale } = quantizeQuery(qz);
      const qPtr = Math.ceil((n * rank) / 16) * 16;
      new Int16Array(mem.buffer, qPtr, rank).set(q16);
      const outPtr = qPtr + 256;
      instantiateKernel(rank, mem).score(0, n, qPtr, outPtr, scale, 0.25);
      const ref = new Float32Array(n);
      fastScoresJs(codes, rank, qz, 0.25, 0, n, ref);
      const got = new Float32Array(mem.buffer, outPtr, n);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-4 * 127 * rank);
    }
  });
});

describe('query cache', () => {
  it('exact tier reproduces the field scores up to 8-bit quantisation; fast tier keeps the ranking', async () => {
    const cache = await readQueryCache(queryCacheDir(p.dir));
    const map = engine.geometry.map;
    const idx = Int32Array.from({ length: 3000 }, (_, k) => Math.floor((k * map.count) / 3000));
    const xyz = new Float32Array(idx.length * 3);
    idx.forEach((i, k) => xyz.set(map.positions.subarray(3 * i, 3 * i + 3), 3 * k));
    const y = await evaluateUnitOutputs(p.state, xyz);
    const { language: Dl, vision: Dv } = cache.manifest.heads;
    const L = p.dataset.labels;
    for (const c of [0, 3]) {
      const ql = L.embeddings.subarray(c * Dl, (c + 1) * Dl);
      const qv = L.clipEmbeddings!.subarray(c * Dv, (c + 1) * Dv);
      const w = { language: 10, vision: 1 };
      const Q = stackQuery(ql, qv, Dl, Dv, w);
      const ref = scoresFromUnitOutputs(y, Dl + Dv, Q);
      const ex = exactScores(cache.exact, ql, qv, w, idx);
      let maxErr = 0;
      for (let k = 0; k < idx.length; k++) maxErr = Math.max(maxErr, Math.abs(ex[k]! - ref[k]!));
      expect(maxErr).toBeLessThan(0.02);
      const { qz, bias } = codeQuery(cache.fast, Q);
      const all = new Float32Array(cache.manifest.points_padded);
      fastScoresJs(cache.fast.codes, cache.fast.rank, qz, bias, 0, cache.manifest.points, all);
      expect(
        spearman(
          ref,
          Float32Array.from(idx, (i) => all[i]!),
        ),
      ).toBeGreaterThan(0.97);
    }
    const ag = cache.manifest.agreement!;
    expect(ag.exact.spearman_min).toBeGreaterThan(0.999);
    expect(ag.reranked.top1pct_overlap_mean).toBeGreaterThan(0.9);
  });

  it('rejects a truncated cache file with a typed error naming it', async () => {
    const copy = path.join(p.dir, 'broken-cache');
    await fs.cp(queryCacheDir(p.dir), copy, { recursive: true });
    const f = path.join(copy, 'norms.f32');
    const st = await fs.stat(f);
    await fs.truncate(f, st.size - 4);
    await expect(readQueryCache(copy)).rejects.toThrow(/norms\.f32.*bytes/);
    await expect(readQueryCache(path.join(p.dir, 'nope'))).rejects.toBeInstanceOf(QueryError);
  });
});

describe('text queries', () => {
  it('finds a trained class at its location, with instance, frames and detections as evidence', async () => {
    const { result, scores } = await engine.query('class 2', { goal: false });
    expect(result.not_found).toBe(false);
    expect(scores.length).toBe(engine.geometry.map.count);
    const hit = result.hits[0]!;
    const c = p.centres[2]!;
    expect(Math.hypot(hit.world_m[0] - c[0], hit.world_m[1] - c[1], hit.world_m[2] - c[2])).toBeLessThan(0.3);
    expect(hit.instance_label).toBe('class 2');
    expect(hit.support_frames[0]!.frame).toBe(2);
    expect(hit.detections.length).toBeGreaterThan(0);
    expect(hit.detections.every((d) => d.label === 'class 2')).toBe(true);
    expect(result.look_at!.world_m).toEqual(hit.world_m);
  });

  it('re-ranks with the WebAssembly kernel to the same hits as the plain loop', async () => {
    const plain = await QueryEngine.open(p.dir, { encoders: tableEncoders(p.dataset), exactKernel: false });
    try {
      expect(plain.cache.exact.kernel ?? null).toBeNull();
      expect(engine.cache.exact.kernel).toBeTruthy();
      for (const text of ['class 1', 'class 2', 'class 3']) {
        const a = await plain.query(text, { goal: false });
        const b = await engine.query(text, { goal: false });
        expect(b.result.hits.map((h) => h.instance_id)).toEqual(a.result.hits.map((h) => h.instance_id));
        expect(b.result.hits.map((h) => h.points)).toEqual(a.result.hits.map((h) => h.points));
        for (let i = 0; i < a.scores.length; i += 97)
          expect(Math.abs(b.scores[i]! - a.scores[i]!)).toBeLessThan(1e-3);
      }
    } finally {
      await plain.dispose();
    }
  });

  it('answers not_found for a made-up class', async () => {
    const { result } = await engine.query('zebra unicorn spaceship', { goal: false });
    expect(result.not_found).toBe(true);
    expect(result.hits).toEqual([]);
    expect(result.reason).toMatch(/null texts/);
  });

  it('keeps instance ids stable across queries of the same field', async () => {
    const a = (await engine.query('class 4', { goal: false, mode: 'semantic' })).result.hits[0]!;
    const b = (await engine.query('class 4', { goal: false, weight: 0.5 })).result.hits[0]!;
    expect(a.instance_id).not.toBeNull();
    expect(b.instance_id).toBe(a.instance_id);
  });

  it('auto mode picks visual weights for appearance words', () => {
    expect(autoMode('red mug')).toBe('visual');
    expect(autoMode('coffee mug')).toBe('semantic');
  });

  it('rejects a weight outside [0, 1]', async () => {
    await expect(engine.query('class 1', { weight: 2 })).rejects.toThrow(/weight/);
  });
});

describe('image queries and query sets', () => {
  it('localises an image embedding and the view that saw it', async () => {
    const D = p.dataset.detections;
    const det = Array.from({ length: D.count }, (_, d) => d).find((d) => D.labelId[d] === 1)!;
    const emb = D.clipEmbeddings!.subarray(det * D.clipDim, (det + 1) * D.clipDim);
    const { result, views } = await engine.queryImage(emb, { goal: false });
    expect(result.not_found).toBe(false);
    const c = p.centres[1]!;
    expect(
      Math.hypot(
        result.hits[0]!.world_m[0] - c[0],
        result.hits[0]!.world_m[1] - c[1],
        result.hits[0]!.world_m[2] - c[2],
      ),
    ).toBeLessThan(0.3);
    expect(views[0]!.frame).toBe(1);
    expect(views[0]!.world_from_camera).toHaveLength(16);
  });

  it('reports the success rate of a query set', async () => {
    const file = path.join(p.dir, 'set.json');
    const c = p.centres;
    await fs.writeFile(
      file,
      JSON.stringify({
        format: 'clip-fields-query-set',
        version: 1,
        name: 'synthetic',
        queries: [
          { text: 'class 0', expected_world_m: c[0] },
          { text: 'class 5', expected_world_m: c[5] },
          { text: 'class 3', expected_world_m: c[0] },
          { text: 'purple dragon', expect_absent: true },
        ],
      }),
    );
    const r = await runQuerySet(p.dir, file, { encoders: tableEncoders(p.dataset) });
    expect(r.items.map((i) => i.success)).toEqual([true, true, false, true]);
    expect(r.success_rate).toBe(0.75);
  });
});
