/**
 * The cached-query scoring kernel as a tiny WebAssembly SIMD module, generated at run time for one PCA rank
 * (a multiple of 8). It computes, for `n` points with int8 codes `z` (rank bytes each):
 *
 *   out[i] = bias + scale * sum_j z[i, j] * q16[j]          (q16: the query quantised to int16)
 *
 * with `i16x8.load8x8_s` (8 codes sign-extended to i16) and `i32x4.dot_i16x8_s` per 8 codes, a shuffle-based
 * horizontal sum and one f32 store per point. Integer accumulation is exact: |z| <= 127, |q16| <= 32767, so a
 * 64-code dot stays below 2^31. The memory is imported, so several worker threads can share one
 * `WebAssembly.Memory({shared: true})` holding the codes and score the points in slices.
 *
 * Export: `score(zPtr, n, qPtr, outPtr, scale: f32, bias: f32)`; pointers are byte offsets, `qPtr` 16-aligned.
 */

import { F32, I32, V128, lanes32, singleFunctionModule, simd, sleb, uleb, vec } from './wasm-encode';

/** The WebAssembly API (typed here: the node tsconfig has no DOM lib, and @types/node declares only part of it). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
export type WasmModule = object;
interface WasmApi {
  Memory: new (d: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

const OP = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Shl: 0x74,
  f32Store: 0x38,
  f32Add: 0x92,
  f32Mul: 0x94,
  f32ConvertI32S: 0xb2,
};
const SIMD = {
  load: 0x00,
  load8x8s: 0x01,
  store: 0x0b,
  shuffle: 0x0d,
  f32x4Splat: 0x13,
  i32x4Add: 0xae,
  i32x4DotI16x8S: 0xba,
  f32x4Add: 0xe4,
  f32x4Mul: 0xe6,
  f32x4ConvertI32x4S: 0xfa,
};

/** Bytes of the scoring module for `rank` codes per point (rank % 8 === 0, 8..128); `n` must be a multiple of 4. */
export function scoreModuleBytes(rank: number): Uint8Array {
  if (!Number.isInteger(rank) || rank % 8 !== 0 || rank < 8 || rank > 128)
    throw new RangeError(`kernel rank ${rank} must be a multiple of 8 in [8, 128]`);
  const blocks = rank / 8;
  // params: 0 zPtr, 1 n, 2 qPtr, 3 outPtr, 4 scale f32, 5 bias f32
  // locals: 6 end i32, 7 scale4, 8 bias4, 9..12 acc0..3, 13.. q_k (v128)
  const SCALE4 = 7;
  const BIAS4 = 8;
  const ACC = (p: number) => 9 + p;
  const Q = (k: number) => 13 + k;
  const code: number[] = [];
  const get = (l: number) => code.push(OP.localGet, ...uleb(l));
  const set = (l: number) => code.push(OP.localSet, ...uleb(l));
  const sop = (op: number, ...imm: number[]) => code.push(...simd(op), ...imm);
  // end = outPtr + (n << 2)
  get(3);
  get(1);
  code.push(OP.i32Const, ...sleb(2), OP.i32Shl, OP.i32Add);
  set(6);
  get(4);
  sop(SIMD.f32x4Splat);
  set(SCALE4);
  get(5);
  sop(SIMD.f32x4Splat);
  set(BIAS4);
  for (let k = 0; k < blocks; k++) {
    get(2);
    sop(SIMD.load, 4, ...uleb(16 * k));
    set(Q(k));
  }
  code.push(OP.block, 0x40, OP.loop, 0x40);
  get(3);
  get(6);
  code.push(OP.i32GeU, OP.brIf, 1);
  // Four points per iteration: four independent accumulators.
  for (let k = 0; k < blocks; k++) {
    for (let p = 0; p < 4; p++) {
      get(0);
      sop(SIMD.load8x8s, 0, ...uleb(p * rank + 8 * k));
      get(Q(k));
      sop(SIMD.i32x4DotI16x8S);
      if (k > 0) {
        get(ACC(p));
        sop(SIMD.i32x4Add);
      }
      set(ACC(p));
    }
  }
  // Transpose-reduce: s01 = [a0_0+a0_2, a0_1+a0_3, a1_0+a1_2, a1_1+a1_3], s23 likewise, then pairwise.
  const pairSum = (a: number, b: number) => {
    get(ACC(a));
    get(ACC(b));
    sop(SIMD.shuffle, ...lanes32([0, 1, 4, 5]));
    get(ACC(a));
    get(ACC(b));
    sop(SIMD.shuffle, ...lanes32([2, 3, 6, 7]));
    sop(SIMD.i32x4Add);
  };
  pairSum(0, 1);
  set(ACC(0));
  pairSum(2, 3);
  set(ACC(2));
  get(3);
  get(ACC(0));
  get(ACC(2));
  sop(SIMD.shuffle, ...lanes32([0, 2, 4, 6]));
  get(ACC(0));
  get(ACC(2));
  sop(SIMD.shuffle, ...lanes32([1, 3, 5, 7]));
  sop(SIMD.i32x4Add);
  sop(SIMD.f32x4ConvertI32x4S);
  get(SCALE4);
  sop(SIMD.f32x4Mul);
  get(BIAS4);
  sop(SIMD.f32x4Add);
  sop(SIMD.store, 2, 0);
  // z += 4 * rank; out += 16
  get(0);
  code.push(OP.i32Const, ...sleb(4 * rank), OP.i32Add);
  set(0);
  get(3);
  code.push(OP.i32Const, ...sleb(16), OP.i32Add);
  set(3);
  code.push(OP.br, 0, OP.end, OP.end, OP.end);
  const locals = vec([
    [...uleb(1), I32],
    [...uleb(6 + blocks), V128],
  ]);
  return singleFunctionModule({
    name: 'score',
    params: [I32, I32, I32, I32, F32, F32],
    locals,
    code,
    sharedMemory: true,
  });
}

export interface ScoreKernel {
  score(zPtr: number, n: number, qPtr: number, outPtr: number, scale: number, bias: number): void;
}

/** Whether this runtime compiles the SIMD kernel (Node >= 16 does). */
export function wasmSimdAvailable(): boolean {
  try {
    return wasm.validate(scoreModuleBytes(8));
  } catch {
    return false;
  }
}

export function instantiateKernel(rank: number, memory: WasmMemory): ScoreKernel {
  const mod = new wasm.Module(scoreModuleBytes(rank));
  const inst = new wasm.Instance(mod, { env: { mem: memory } });
  return inst.exports as unknown as ScoreKernel;
}

/** Quantise a float query (in code space) to int16: returns the int16 values and the scale back to floats. */
export function quantizeQuery(q: Float32Array | Float64Array): { q16: Int16Array; scale: number } {
  let m = 0;
  for (let j = 0; j < q.length; j++) m = Math.max(m, Math.abs(q[j]!));
  const q16 = new Int16Array(q.length);
  if (m === 0) return { q16, scale: 0 };
  const s = m / 32767;
  for (let j = 0; j < q.length; j++) q16[j] = Math.round(q[j]! / s);
  return { q16, scale: s };
}
