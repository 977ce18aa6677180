/**
 * The exact tier's per-point dot products (uint8 hidden codes . a projected query) as a WebAssembly SIMD
 * kernel, for re-ranking tens of thousands of points per query in a few milliseconds.
 *
 * The engine moves the exact tier's codes (N x H uint8) into one WebAssembly memory once; `t.codes` then
 * views that memory, so the codes are not held twice. For a list of point indices the kernel computes
 *
 *   out[m] = sum_k codes[idx[m], k] * q16[k]     (int32, exact)
 *
 * with `i16x8.load8x8_u` (8 codes zero-extended) and `i32x4.dot_i16x8_s` per 8 codes, where q16 is the
 * projected query u quantised to int16 with at most QMAX in magnitude so that 255 * QMAX * H < 2^31. The
 * caller rescales by max|u| / QMAX. Against float64 arithmetic the query quantisation adds a relative error
 * of about 1 / (2 * QMAX) of max|u| per term, far below the 8-bit quantisation of the codes themselves.
 *
 * Memory layout: [codes: N*H][pad to 16][q16: H int16][idx: CHUNK int32][out: CHUNK int32].
 */
import { type WasmModule, wasm } from './wasm-kernel';
import { I32, V128, lanes32, simd, singleFunctionModule, sleb, uleb, vec } from './wasm-encode';

/** Points per kernel call (the index and output slots are this big). */
export const EXACT_CHUNK = 65536;
const PAGE = 65536;

interface PlainMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmPlainApi {
  Memory: new (d: { initial: number; maximum: number }) => PlainMemory;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const api = wasm as unknown as WasmPlainApi;

/**
 * Module bytes for hidden width `H` (a multiple of 8, 8..4096). Export
 * `dots(codesPtr, idxPtr, n, qPtr, outPtr)`: byte offsets; `qPtr` 16-aligned.
 */
export function exactModuleBytes(H: number): Uint8Array {
  if (!Number.isInteger(H) || H % 8 !== 0 || H < 8 || H > 4096)
    throw new RangeError(`exact kernel width ${H} must be a multiple of 8 in [8, 4096]`);
  const blocks = H / 8;
  // params: 0 codesPtr, 1 idxPtr, 2 n, 3 qPtr, 4 outPtr; locals: 5 end, 6 p, 7 acc0, 8 acc1
  const END = 5,
    P = 6,
    A0 = 7,
    A1 = 8;
  const code: number[] = [];
  const get = (l: number) => code.push(0x20, ...uleb(l));
  const set = (l: number) => code.push(0x21, ...uleb(l));
  const sop = (op: number, ...imm: number[]) => code.push(...simd(op), ...imm);
  // end = outPtr + 4n
  get(4);
  get(2);
  code.push(0x41, ...sleb(2), 0x74, 0x6a);
  set(END);
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  get(4);
  get(END);
  code.push(0x4f, 0x0d, 1); // i32.ge_u, br_if 1
  // p = codesPtr + idx * H
  get(0);
  get(1);
  code.push(0x28, 2, 0); // i32.load align=4 offset 0
  code.push(0x41, ...sleb(H), 0x6c, 0x6a); // i32.const H, i32.mul, i32.add
  set(P);
  for (let k = 0; k < blocks; k++) {
    const acc = k % 2 === 0 ? A0 : A1;
    get(P);
    sop(0x02, 0, ...uleb(8 * k)); // v128.load8x8_u align=1 offset
    get(3);
    sop(0x00, 4, ...uleb(16 * k)); // v128.load q block
    sop(0xba); // i32x4.dot_i16x8_s
    if (k >= 2) {
      get(acc);
      sop(0xae); // i32x4.add
    }
    set(acc);
  }
  if (blocks === 1) {
    sop(0x0c, ...new Array(16).fill(0)); // v128.const 0
    set(A1);
  }
  // s = acc0 + acc1; horizontal sum via two shuffles.
  get(A0);
  get(A1);
  sop(0xae);
  set(A0);
  get(A0);
  get(A0);
  sop(0x0d, ...lanes32([2, 3, 0, 1]));
  get(A0);
  sop(0xae);
  set(A0);
  get(4);
  get(A0);
  get(A0);
  sop(0x0d, ...lanes32([1, 0, 3, 2]));
  get(A0);
  sop(0xae);
  sop(0x1b, 0); // i32x4.extract_lane 0
  code.push(0x36, 2, 0); // i32.store
  // idx += 4; out += 4
  get(1);
  code.push(0x41, ...sleb(4), 0x6a);
  set(1);
  get(4);
  code.push(0x41, ...sleb(4), 0x6a);
  set(4);
  code.push(0x0c, 0, 0x0b, 0x0b, 0x0b); // br 0, end loop, end block, end func
  const locals = vec([
    [...uleb(2), I32],
    [...uleb(2), V128],
  ]);
  return singleFunctionModule({
    name: 'dots',
    params: [I32, I32, I32, I32, I32],
    locals,
    code,
    sharedMemory: false,
  });
}

export class ExactKernel {
  private readonly q16: Int16Array;
  private readonly idx: Int32Array;
  private readonly out: Int32Array;
  private readonly qmax: number;

  private constructor(
    private readonly fn: (codes: number, idx: number, n: number, q: number, out: number) => void,
    /** The codes, now in WebAssembly memory. */
    readonly codes: Uint8Array,
    private readonly H: number,
    private readonly ptr: { q: number; idx: number; out: number },
    buffer: ArrayBuffer,
  ) {
    this.q16 = new Int16Array(buffer, ptr.q, H);
    this.idx = new Int32Array(buffer, ptr.idx, EXACT_CHUNK);
    this.out = new Int32Array(buffer, ptr.out, EXACT_CHUNK);
    this.qmax = Math.min(16383, Math.floor((2 ** 31 - 1) / (255 * H)));
  }

  /**
   * Copy `codes` (N x H) into WebAssembly memory and compile the kernel; null where WebAssembly SIMD is
   * missing, H is not a multiple of 8, or the codes do not fit in 32-bit WebAssembly memory.
   */
  static create(codes: Uint8Array, H: number): ExactKernel | null {
    if (H % 8 !== 0 || H < 8 || H > 4096) return null;
    let bytes: Uint8Array;
    try {
      bytes = exactModuleBytes(H);
      if (!wasm.validate(bytes)) return null;
    } catch {
      return null;
    }
    const qPtr = Math.ceil(codes.length / 16) * 16;
    const idxPtr = qPtr + Math.ceil((2 * H) / 16) * 16;
    const outPtr = idxPtr + 4 * EXACT_CHUNK;
    const total = outPtr + 4 * EXACT_CHUNK;
    const pages = Math.ceil(total / PAGE);
    if (pages > 65536) return null;
    let memory: PlainMemory;
    try {
      memory = new api.Memory({ initial: pages, maximum: pages });
    } catch {
      return null; // not enough address space: keep the plain loop
    }
    const inst = new api.Instance(new wasm.Module(bytes), { env: { mem: memory } });
    const view = new Uint8Array(memory.buffer, 0, codes.length);
    view.set(codes);
    const fn = inst.exports['dots'] as (a: number, b: number, c: number, d: number, e: number) => void;
    return new ExactKernel(fn, view, H, { q: qPtr, idx: idxPtr, out: outPtr }, memory.buffer);
  }

  /**
   * dot(codes[indices[m]], u) for every m, into `out` (as float64 from int32 with the query's scale).
   * Indices must be valid point indices (< N).
   */
  dots(u: Float64Array | Float32Array, indices: ArrayLike<number>, out: Float64Array): void {
    const H = this.H;
    let maxAbs = 0;
    for (let k = 0; k < H; k++) maxAbs = Math.max(maxAbs, Math.abs(u[k]!));
    if (maxAbs === 0) {
      out.fill(0, 0, indices.length);
      return;
    }
    const s = maxAbs / this.qmax;
    for (let k = 0; k < H; k++) this.q16[k] = Math.round(u[k]! / s);
    for (let start = 0; start < indices.length; start += EXACT_CHUNK) {
      const n = Math.min(EXACT_CHUNK, indices.length - start);
      for (let m = 0; m < n; m++) this.idx[m] = indices[start + m]!;
      this.fn(0, this.ptr.idx, n, this.ptr.q, this.ptr.out);
      for (let m = 0; m < n; m++) out[start + m] = this.out[m]! * s;
    }
  }
}
