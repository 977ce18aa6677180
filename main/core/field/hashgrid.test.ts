import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { makeConfig } from './config';
import {
  allocCorners,
  computeCorners,
  gatherFeatures,
  gridLayout,
  scatterFeatureGrads,
  makeTouched,
  vertexRow,
  GridStore,
} from './hashgrid';
import { Rng } from './rng';

const small = (over: Partial<ReturnType<typeof makeConfig>['grid']> = {}) =>
  makeConfig('custom', {
    grid: {
      levels: 5,
      featuresPerLevel: 3,
      log2TableSize: 10,
      baseResolution: 4,
      maxResolution: 64,
      ...over,
    },
  }).grid;

describe('hash grid layout', () => {
  it('uses per-level scale b = exp((ln Nmax - ln Nmin)/(L-1)) and dense indexing only while res^3 fits the table', () => {
    const cfg = small();
    const L = gridLayout(cfg);
    const b = Math.exp((Math.log(64) - Math.log(4)) / 4);
    for (let l = 0; l < 5; l++) {
      expect(L.scale[l]).toBeCloseTo(4 * b ** l - 1, 9);
      expect(L.dense[l]).toBe(L.resolution[l]! ** 3 <= 1024);
      expect(L.rows[l]).toBe(L.dense[l] ? L.resolution[l]! ** 3 : 1024);
    }
    expect(L.dense[0]).toBe(true);
    expect(L.dense[4]).toBe(false);
  });

  it('hashes hashed levels with (x*1 ^ y*2654435761 ^ z*805459861) mod 2^T', () => {
    const L = gridLayout(small());
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 70 }),
        (x, y, z) => {
          const h = (BigInt(x) ^ (BigInt(y) * 2654435761n) ^ (BigInt(z) * 805459861n)) & 0xffffffffn;
          expect(vertexRow(L, 4, x, y, z)).toBe(Number(h % 1024n));
        },
      ),
      { numRuns: 1000, seed: 42 },
    );
  });
});

describe('hash grid corners', () => {
  it('trilinear weights are in [0,1] and sum to 1 at every level, rows stay inside their level', () => {
    const L = gridLayout(small());
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -0.2, max: 1.2, noNaN: true }), { minLength: 3, maxLength: 3 }),
        (p) => {
          const c = allocCorners(L, 1);
          computeCorners(L, Float32Array.from(p), 1, c);
          let ok = true;
          for (let l = 0; l < L.levels; l++) {
            let s = 0;
            for (let k = 0; k < 8; k++) {
              const w = c.weights[l * 8 + k]!;
              const r = c.rows[l * 8 + k]!;
              ok &&= w >= 0 && w <= 1 && r >= L.rowOffset[l]! && r < L.rowOffset[l]! + L.rows[l]!;
              s += w;
            }
            ok &&= Math.abs(s - 1) < 1e-5;
          }
          return ok;
        },
      ),
      { numRuns: 1000, seed: 7 },
    );
  });

  it('interpolates an affine function of the vertex coordinates exactly on dense levels', () => {
    const cfg = small({ featuresPerLevel: 1, levels: 2, maxResolution: 8, log2TableSize: 12 });
    const L = gridLayout(cfg);
    expect(L.dense.every(Boolean)).toBe(true);
    const table = new Float32Array(L.totalRows);
    const a = [0.3, -0.7, 1.1];
    for (let l = 0; l < L.levels; l++) {
      const r = L.resolution[l]!;
      for (let z = 0; z < r; z++)
        for (let y = 0; y < r; y++)
          for (let x = 0; x < r; x++)
            table[L.rowOffset[l]! + vertexRow(L, l, x, y, z)] = a[0]! * x + a[1]! * y + a[2]! * z + 0.25;
    }
    const rng = new Rng(3);
    const n = 200;
    const xyz = Float32Array.from({ length: n * 3 }, () => rng.float());
    const c = allocCorners(L, n);
    computeCorners(L, xyz, n, c);
    const out = new Float32Array(n * L.outDim);
    gatherFeatures(L, table, c, out);
    for (let i = 0; i < n; i++) {
      for (let l = 0; l < L.levels; l++) {
        const s = L.scale[l]!;
        const pos = [0, 1, 2].map((k) => xyz[i * 3 + k]! * s + 0.5);
        expect(out[i * L.outDim + l]).toBeCloseTo(
          a[0]! * pos[0]! + a[1]! * pos[1]! + a[2]! * pos[2]! + 0.25,
          3,
        );
      }
    }
  });

  it('scatter-add is the adjoint of gather (<gather(T), dY> = <T, scatter(dY)>), also through the interleaved store', () => {
    const L = gridLayout(small());
    const rng = new Rng(11);
    const n = 300;
    const xyz = Float32Array.from({ length: n * 3 }, () => rng.uniform(-0.1, 1.1));
    const c = allocCorners(L, n);
    computeCorners(L, xyz, n, c);
    const F = L.features;
    const store = new GridStore(L.totalRows, F);
    const T = Float32Array.from({ length: L.totalRows * F }, () => rng.normal());
    store.insert(GridStore.P, T);
    const dY = Float32Array.from({ length: n * L.outDim }, () => rng.normal());
    const Y = new Float32Array(n * L.outDim);
    gatherFeatures(L, store.data, c, Y, store.stride, 0);
    const touched = makeTouched(L, n * L.levels * 8);
    scatterFeatureGrads(L, dY, c, store.data, touched, store.stride, F);
    const G = store.extract(GridStore.G);
    let lhs = 0;
    let rhs = 0;
    for (let i = 0; i < Y.length; i++) lhs += Y[i]! * dY[i]!;
    for (let i = 0; i < T.length; i++) rhs += T[i]! * G[i]!;
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-4);
    // touched lists exactly the rows with a non-zero gradient, once each
    const listed = new Set(Array.from(touched.list.subarray(0, touched.count)));
    expect(listed.size).toBe(touched.count);
    for (let r = 0; r < L.totalRows; r++) {
      const nz = Array.from(G.subarray(r * F, (r + 1) * F)).some((v) => v !== 0);
      if (nz) expect(listed.has(r)).toBe(true);
    }
    // and the plain-table addressing gives the same features
    const Y2 = new Float32Array(n * L.outDim);
    gatherFeatures(L, T, c, Y2);
    expect(Y2).toEqual(Y);
  });
});
