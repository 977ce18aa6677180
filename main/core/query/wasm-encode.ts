/**
 * Writing WebAssembly binaries by hand, for the query kernels (wasm-kernel.ts, exact-kernel.ts): LEB128
 * integers, sections, vectors, names, SIMD opcodes, and a one-function module that imports its memory.
 */

export const uleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};

export const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
/** A SIMD instruction prefix and opcode. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** Byte lanes of i8x16.shuffle taking 32-bit lanes `l` (0-3 from a, 4-7 from b). */
export const lanes32 = (l: number[]): number[] => l.flatMap((x) => [4 * x, 4 * x + 1, 4 * x + 2, 4 * x + 3]);

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/**
 * A module with one exported function `name(params) -> ()` whose body is `locals` (already encoded) then
 * `code`, importing `env.mem` (min 1, max 65536 pages; shared or not).
 */
export function singleFunctionModule(o: {
  name: string;
  params: number[];
  locals: number[];
  code: number[];
  sharedMemory: boolean;
}): Uint8Array {
  const body = [...o.locals, ...o.code];
  const funcType = [0x60, ...vec(o.params.map((p) => [p])), ...uleb(0)];
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([funcType])),
    ...section(
      2,
      vec([[...str('env'), ...str('mem'), 0x02, o.sharedMemory ? 0x03 : 0x01, ...uleb(1), ...uleb(65536)]]),
    ),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...str(o.name), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}
