/**
 * LZFSE decoder (Apple's LZ77 + finite-state-entropy format), written from the public format description.
 *
 * Format as implemented (all integers little-endian):
 * A stream is a sequence of blocks, each starting with a 4-byte magic, and ends with `bvx$`.
 * The decoded output of every block is appended to one output buffer; LZ matches in any block may
 * reach back into the output of earlier blocks (the whole output so far is the window).
 *
 * - `bvx$` (end of stream): 4 bytes. Decoding stops here. Bytes after it are ACCEPTED AND IGNORED,
 *   exactly like the reference decoder (which stops at `bvx$` and reports success).
 * - `bvx-` (raw): u32 n_raw_bytes, then n_raw_bytes literal bytes.
 * - `bvxn` (LZVN): u32 n_raw_bytes, u32 n_payload_bytes, then an LZVN opcode stream that must end
 *   with the 8-byte end-of-stream opcode (06 00..00) exactly at the end of the payload and must produce
 *   exactly n_raw_bytes. Opcodes (L = literal count copied from the stream first, M = match length,
 *   D = match distance; "prev" reuses the previous D of this block):
 *   sml_d `LLMMMDDD DDDDDDDD` (M+3, 11-bit D), med_d `101LLMMM DDDDDDMM DDDDDDDD` (M+3 5 bits, 14-bit D),
 *   lrg_d `LLMMM111 D16`, pre_d `LLMMM110` (D=prev), sml_m `1111MMMM`, lrg_m `11110000 M8` (M+16),
 *   sml_l `1110LLLL`, lrg_l `11100000 L8` (L+16), nop 0x0E/0x16, eos 0x06, undefined 0x1E,0x26,0x2E,0x36,
 *   0x3E,0x70-0x7F,0xD0-0xDF.
 * - `bvx1` (LZFSE, uncompressed tables): 772-byte header: n_raw_bytes@4, n_payload_bytes@8,
 *   n_literals@12, n_matches@16, n_literal_payload_bytes@20, n_lmd_payload_bytes@24,
 *   literal_bits(i32)@28, literal_state[4](u16)@32, lmd_bits(i32)@40, l/m/d_state(u16)@44/46/48,
 *   l_freq[20]@50, m_freq[20]@90, d_freq[64]@130, literal_freq[256]@258 (all u16), 2 pad bytes.
 * - `bvx2` (LZFSE, compressed tables): u32 n_raw_bytes, three u64 packed words:
 *   w0 = n_literals:20 | n_literal_payload_bytes:20 | n_matches:20 | literal_bits+7:3,
 *   w1 = literal_state[0..3]:10 each | n_lmd_payload_bytes:20 | lmd_bits+7:3,
 *   w2 = header_size:32 | l_state:10 | m_state:10 | d_state:10,
 *   then (from byte 32 up to header_size) the 360 frequencies (l 20, m 20, d 64, literal 256) in a
 *   prefix code read LSB-first (2/3/5-bit codes for 0..7, 8-bit `....0111` for 8..23,
 *   14-bit `..1111` for 24..1047); the code must end exactly at header_size with < 8 bits left over.
 * - An LZFSE block payload is the literal FSE stream (n_literal_payload_bytes), then the L/M/D FSE stream
 *   (n_lmd_payload_bytes). Each FSE stream is read BACKWARDS from its end: it is a little-endian bit
 *   string of 8*n_bytes + bits (bits in -7..0; the unused top bits must be 0) and each read takes the
 *   most significant remaining bits. Literals: 4 interleaved FSE states (1024 states, 256 symbols),
 *   n_literals decoded in groups of 4. Then n_matches (L, M, D) triples are decoded with 3 FSE states
 *   (64/64/256 states) whose symbols carry extra value bits (state bits and value bits are read in one
 *   pull, the value bits being the low bits); D = 0 means "repeat the previous D" (no previous D: corrupt).
 *   Each triple copies L literals and then an M-byte match from D bytes back (overlap allowed).
 *   Block limits: n_literals <= 40000, n_matches <= 10000, states < table size, sum(freq) <= table size.
 *
 * Robustness: every length is checked against the remaining input before use; the output never grows
 * beyond `maxOutputBytes` (default 64 MiB); every failure is an `LzfseError` with a code and the input
 * byte offset where it was detected. This decoder is stricter than the reference where the reference
 * would read memory outside the block (differential fuzzing against the reference library found only
 * these differences, never a different output): an L/M/D triple using more literals than the block
 * decoded, an FSE stream that needs bits before the start of its payload, and an LZFSE/LZVN block whose
 * output is not exactly n_raw_bytes. Such streams are rejected as CORRUPT; the reference encoder never
 * produces them.
 */

export type LzfseErrorCode =
  'BAD_MAGIC' | 'TRUNCATED' | 'CORRUPT' | 'OUTPUT_LIMIT' | 'NO_END' | 'SIZE_MISMATCH';

export class LzfseError extends Error {
  readonly code: LzfseErrorCode;
  /** Byte offset in the compressed input where the problem was detected. */
  readonly offset: number;
  constructor(code: LzfseErrorCode, offset: number, message: string) {
    super(`LZFSE ${code} at input byte ${offset}: ${message}`);
    this.name = 'LzfseError';
    this.code = code;
    this.offset = offset;
  }
}

export interface LzfseDecodeOptions {
  /** Hard cap on the decoded size (default 64 MiB). Exceeding it throws OUTPUT_LIMIT. */
  maxOutputBytes?: number;
  /** When known, the output is preallocated and any other decoded size throws SIZE_MISMATCH. */
  expectedBytes?: number;
}

export const LZFSE_DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

const MAGIC_EOS = 0x24787662; // 'bvx$'
const MAGIC_RAW = 0x2d787662; // 'bvx-'
const MAGIC_V1 = 0x31787662; // 'bvx1'
const MAGIC_V2 = 0x32787662; // 'bvx2'
const MAGIC_LZVN = 0x6e787662; // 'bvxn'

const L_SYMBOLS = 20;
const M_SYMBOLS = 20;
const D_SYMBOLS = 64;
const LITERAL_SYMBOLS = 256;
const L_STATES = 64;
const M_STATES = 64;
const D_STATES = 256;
const LITERAL_STATES = 1024;
const MATCHES_PER_BLOCK = 10000;
const LITERALS_PER_BLOCK = 40000;
const N_FREQ = L_SYMBOLS + M_SYMBOLS + D_SYMBOLS + LITERAL_SYMBOLS; // 360
const V1_HEADER_BYTES = 772;
const V2_FIXED_HEADER_BYTES = 32;

function extraBitsAndBase(extra: readonly number[]): { bits: Uint8Array; base: Int32Array } {
  const bits = Uint8Array.from(extra);
  const base = new Int32Array(extra.length);
  let v = 0;
  for (let i = 0; i < extra.length; i++) {
    base[i] = v;
    v += 1 << extra[i]!;
  }
  return { bits, base };
}

const L_EXTRA = extraBitsAndBase([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 5, 8]);
const M_EXTRA = extraBitsAndBase([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 5, 8, 11]);
const D_EXTRA = extraBitsAndBase(Array.from({ length: D_SYMBOLS }, (_, i) => i >> 2));

/** Prefix code for the compressed frequency tables of `bvx2` (index = low 5 bits of the accumulator). */
const FREQ_NBITS = Uint8Array.from([
  2, 3, 2, 5, 2, 3, 2, 8, 2, 3, 2, 5, 2, 3, 2, 14, 2, 3, 2, 5, 2, 3, 2, 8, 2, 3, 2, 5, 2, 3, 2, 14,
]);
const FREQ_VALUE = Uint8Array.from([
  0, 2, 1, 4, 0, 3, 1, 0, 0, 2, 1, 5, 0, 3, 1, 0, 0, 2, 1, 6, 0, 3, 1, 0, 0, 2, 1, 7, 0, 3, 1, 0,
]);

// LZVN opcode classes.
const OP_SML_D = 0;
const OP_MED_D = 1;
const OP_LRG_D = 2;
const OP_PRE_D = 3;
const OP_SML_M = 4;
const OP_LRG_M = 5;
const OP_SML_L = 6;
const OP_LRG_L = 7;
const OP_NOP = 8;
const OP_EOS = 9;
const OP_UDEF = 10;

const LZVN_OPCLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let op = 0; op < 256; op++) {
    let c: number;
    if (op >= 0xf0) c = op === 0xf0 ? OP_LRG_M : OP_SML_M;
    else if (op >= 0xe0) c = op === 0xe0 ? OP_LRG_L : OP_SML_L;
    else if ((op >= 0x70 && op <= 0x7f) || (op >= 0xd0 && op <= 0xdf)) c = OP_UDEF;
    else if (op >= 0xa0 && op <= 0xbf) c = OP_MED_D;
    else if ((op & 7) === 7) c = OP_LRG_D;
    else if ((op & 7) === 6) {
      if (op === 0x06) c = OP_EOS;
      else if (op === 0x0e || op === 0x16) c = OP_NOP;
      else if (op < 0x40) c = OP_UDEF;
      else c = OP_PRE_D;
    } else c = OP_SML_D;
    t[op] = c;
  }
  return t;
})();

function readU32(src: Uint8Array, pos: number): number {
  return (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
}

function readU16(src: Uint8Array, pos: number): number {
  return src[pos]! | (src[pos + 1]! << 8);
}

function readI32(src: Uint8Array, pos: number): number {
  return src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24);
}

/** Parsed LZFSE (bvx1/bvx2) block header. */
interface LzfseBlockHeader {
  nRaw: number;
  nLiterals: number;
  nMatches: number;
  nLiteralPayload: number;
  nLmdPayload: number;
  literalBits: number;
  literalState: [number, number, number, number];
  lmdBits: number;
  lState: number;
  mState: number;
  dState: number;
  headerBytes: number;
}

/**
 * Fill an FSE literal decoder table. Entry layout: bits 0-7 = number of state bits k,
 * bits 8-15 = symbol, bits 16-31 = signed delta (next state = delta + k bits).
 */
function buildLiteralTable(
  freq: Uint16Array,
  freqOffset: number,
  nSymbols: number,
  nStates: number,
  table: Int32Array,
): boolean {
  const log2States = 31 - Math.clz32(nStates);
  let t = 0;
  for (let s = 0; s < nSymbols; s++) {
    const f = freq[freqOffset + s]!;
    if (f === 0) continue;
    if (t + f > nStates) return false;
    const k = log2States - (31 - Math.clz32(f));
    const j0 = ((2 * nStates) >> k) - f;
    for (let j = 0; j < f; j++) {
      let e: number;
      if (j < j0) e = k | (s << 8) | ((((f + j) << k) - nStates) << 16);
      else e = (k - 1) | (s << 8) | (((j - j0) << (k - 1)) << 16);
      table[t++] = e;
    }
  }
  // Reference leaves unreached entries uninitialised; make them deterministic.
  table.fill(0, t, nStates);
  return true;
}

/**
 * Fill an FSE value decoder table (L, M or D). `bitsDelta` entry: bits 0-7 total bits to pull
 * (state bits + value bits), bits 8-15 value bits, bits 16-31 signed delta. `vbase` holds the value base.
 */
function buildValueTable(
  freq: Uint16Array,
  freqOffset: number,
  nSymbols: number,
  nStates: number,
  extra: { bits: Uint8Array; base: Int32Array },
  bitsDelta: Int32Array,
  vbase: Int32Array,
): boolean {
  const log2States = 31 - Math.clz32(nStates);
  let t = 0;
  for (let s = 0; s < nSymbols; s++) {
    const f = freq[freqOffset + s]!;
    if (f === 0) continue;
    if (t + f > nStates) return false;
    const k = log2States - (31 - Math.clz32(f));
    const j0 = ((2 * nStates) >> k) - f;
    const vbits = extra.bits[s]!;
    const base = extra.base[s]!;
    for (let j = 0; j < f; j++) {
      if (j < j0) bitsDelta[t] = (k + vbits) | (vbits << 8) | ((((f + j) << k) - nStates) << 16);
      else bitsDelta[t] = (k - 1 + vbits) | (vbits << 8) | (((j - j0) << (k - 1)) << 16);
      vbase[t] = base;
      t++;
    }
  }
  bitsDelta.fill(0, t, nStates);
  vbase.fill(0, t, nStates);
  return true;
}

interface LmdTables {
  lBD: Int32Array;
  lBase: Int32Array;
  mBD: Int32Array;
  mBase: Int32Array;
  dBD: Int32Array;
  dBase: Int32Array;
}

/**
 * Decode `n` (a multiple of 4) literals from the FSE stream src[start, end) read backwards.
 * Bits below `start` read as zeros and are counted in `over`; consuming any of them is an error,
 * checked once at the end (the count of real bits left only decreases once padding began).
 */
function decodeLiterals(
  src: Uint8Array,
  start: number,
  end: number,
  bits: number,
  states: readonly [number, number, number, number],
  table: Int32Array,
  literals: Uint8Array,
  n: number,
): void {
  let bp = end;
  let acc = 0;
  let nb = 0;
  let over = 0;
  if (end === start) {
    if (bits !== 0) throw new LzfseError('CORRUPT', start, 'literal FSE stream is empty but has bits');
  } else {
    const last = src[--bp]!;
    nb = 8 + bits;
    if (last >>> nb !== 0)
      throw new LzfseError('CORRUPT', bp, 'literal FSE stream has non-zero padding bits');
    acc = last;
  }
  let s0 = states[0];
  let s1 = states[1];
  let s2 = states[2];
  let s3 = states[3];
  let i = 0;
  // Fast path: at least 6 input bytes left, so the (at most 6) refills of one group need no bounds check.
  for (; i < n && bp - start >= 6; i += 4) {
    while (nb <= 24) {
      acc = (acc << 8) | src[--bp]!;
      nb += 8;
    }
    let e = table[s0]!;
    let k = e & 0xff;
    nb -= k;
    literals[i] = e >>> 8;
    s0 = (e >> 16) + ((acc >>> nb) & ((1 << k) - 1));
    e = table[s1]!;
    k = e & 0xff;
    nb -= k;
    literals[i + 1] = e >>> 8;
    s1 = (e >> 16) + ((acc >>> nb) & ((1 << k) - 1));
    while (nb <= 24) {
      acc = (acc << 8) | src[--bp]!;
      nb += 8;
    }
    e = table[s2]!;
    k = e & 0xff;
    nb -= k;
    literals[i + 2] = e >>> 8;
    s2 = (e >> 16) + ((acc >>> nb) & ((1 << k) - 1));
    e = table[s3]!;
    k = e & 0xff;
    nb -= k;
    literals[i + 3] = e >>> 8;
    s3 = (e >> 16) + ((acc >>> nb) & ((1 << k) - 1));
  }
  // Tail: bits below `start` read as zeros (counted in `over`).
  for (; i < n; i += 4) {
    for (let j = 0; j < 4; j++) {
      while (nb <= 24) {
        if (bp > start) acc = (acc << 8) | src[--bp]!;
        else {
          acc <<= 8;
          over += 8;
        }
        nb += 8;
      }
      const s = j === 0 ? s0 : j === 1 ? s1 : j === 2 ? s2 : s3;
      const e = table[s]!;
      const k = e & 0xff;
      nb -= k;
      literals[i + j] = e >>> 8;
      const next = (e >> 16) + ((acc >>> nb) & ((1 << k) - 1));
      if (j === 0) s0 = next;
      else if (j === 1) s1 = next;
      else if (j === 2) s2 = next;
      else s3 = next;
    }
  }
  if (nb < over)
    throw new LzfseError('CORRUPT', start, 'literal FSE stream ends before all literals were decoded');
}

/**
 * Decode the block's L/M/D triples from the FSE stream src[start, end) (read backwards) and expand
 * literals + matches into out[outStart, outEnd). Returns the output position reached.
 */
function expandMatches(
  src: Uint8Array,
  start: number,
  end: number,
  h: LzfseBlockHeader,
  literals: Uint8Array,
  nLiterals: number,
  out: Uint8Array,
  outStart: number,
  outEnd: number,
  t: LmdTables,
): number {
  const lBD = t.lBD;
  const lBase = t.lBase;
  const mBD = t.mBD;
  const mBase = t.mBase;
  const dBD = t.dBD;
  const dBase = t.dBase;
  let bp = end;
  let acc = 0;
  let nb = 0;
  let over = 0;
  if (end === start) {
    if (h.lmdBits !== 0) throw new LzfseError('CORRUPT', start, 'L/M/D FSE stream is empty but has bits');
  } else {
    const last = src[--bp]!;
    nb = 8 + h.lmdBits;
    if (last >>> nb !== 0) throw new LzfseError('CORRUPT', bp, 'L/M/D FSE stream has non-zero padding bits');
    acc = last;
  }
  let ls = h.lState;
  let ms = h.mState;
  let ds = h.dState;
  let D = -1;
  let o = outStart;
  let lit = 0;
  for (let n = h.nMatches; n > 0; n--) {
    // L: <= 14 bits
    while (nb <= 24) {
      if (bp > start) acc = (acc << 8) | src[--bp]!;
      else {
        acc <<= 8;
        over += 8;
      }
      nb += 8;
    }
    let e = lBD[ls]!;
    let tb = e & 0xff;
    nb -= tb;
    let v = (acc >>> nb) & ((1 << tb) - 1);
    let vb = (e >>> 8) & 0xff;
    const L = lBase[ls]! + (v & ((1 << vb) - 1));
    ls = (e >> 16) + (v >>> vb);
    // M: <= 17 bits
    while (nb <= 24) {
      if (bp > start) acc = (acc << 8) | src[--bp]!;
      else {
        acc <<= 8;
        over += 8;
      }
      nb += 8;
    }
    e = mBD[ms]!;
    tb = e & 0xff;
    nb -= tb;
    v = (acc >>> nb) & ((1 << tb) - 1);
    vb = (e >>> 8) & 0xff;
    const M = mBase[ms]! + (v & ((1 << vb) - 1));
    ms = (e >> 16) + (v >>> vb);
    // D: <= 23 bits
    while (nb <= 24) {
      if (bp > start) acc = (acc << 8) | src[--bp]!;
      else {
        acc <<= 8;
        over += 8;
      }
      nb += 8;
    }
    e = dBD[ds]!;
    tb = e & 0xff;
    nb -= tb;
    v = (acc >>> nb) & ((1 << tb) - 1);
    vb = (e >>> 8) & 0xff;
    const newD = dBase[ds]! + (v & ((1 << vb) - 1));
    ds = (e >> 16) + (v >>> vb);
    if (newD !== 0) D = newD;

    if (nb < over)
      throw new LzfseError('CORRUPT', start, 'L/M/D FSE stream ends before all matches were decoded');
    if (L > nLiterals - lit)
      throw new LzfseError('CORRUPT', start, 'L/M/D literal count exceeds the block literals');
    if (L + M > outEnd - o)
      throw new LzfseError('CORRUPT', start, 'LZFSE block output exceeds its declared size');
    if (D < 0 || D > o + L) throw new LzfseError('CORRUPT', start, `match distance ${D} is out of range`);
    if (L > 0) {
      if (L < 32) {
        for (let i = 0; i < L; i++) out[o + i] = literals[lit + i]!;
      } else {
        out.set(literals.subarray(lit, lit + L), o);
      }
      o += L;
      lit += L;
    }
    if (M > 0) {
      let s = o - D;
      if (D >= M && M >= 32) {
        out.copyWithin(o, s, s + M);
        o += M;
      } else {
        const stop = o + M;
        while (o < stop) out[o++] = out[s++]!;
      }
    }
  }
  return o;
}

class Decoder {
  private readonly src: Uint8Array;
  private readonly maxOut: number;
  private readonly expected: number | undefined;
  private out: Uint8Array;
  private outPos = 0;
  // Per-block scratch, allocated lazily once per decode call.
  private literals: Uint8Array | null = null;
  private freq = new Uint16Array(N_FREQ);
  private litTable: Int32Array | null = null;
  private lmdTables: LmdTables | null = null;

  constructor(src: Uint8Array, maxOut: number, expected: number | undefined) {
    this.src = src;
    this.maxOut = maxOut;
    this.expected = expected;
    const initial = expected ?? Math.min(maxOut, Math.max(4096, src.length * 4));
    this.out = new Uint8Array(initial);
  }

  /** Make room for `n` more output bytes (checked against the cap and the expected size). */
  private reserve(n: number, offset: number): void {
    const total = this.outPos + n;
    if (total > this.maxOut) {
      throw new LzfseError(
        'OUTPUT_LIMIT',
        offset,
        `decoded size would exceed the limit of ${this.maxOut} bytes`,
      );
    }
    if (this.expected !== undefined && total > this.expected) {
      throw new LzfseError(
        'SIZE_MISMATCH',
        offset,
        `decoded size would exceed the expected ${this.expected} bytes`,
      );
    }
    if (total > this.out.length) {
      const cap = Math.min(this.maxOut, Math.max(total, this.out.length * 2));
      const grown = new Uint8Array(cap);
      grown.set(this.out.subarray(0, this.outPos));
      this.out = grown;
    }
  }

  run(): Uint8Array {
    const src = this.src;
    const len = src.length;
    let pos = 0;
    for (;;) {
      if (pos + 4 > len) {
        if (pos === len)
          throw new LzfseError('NO_END', pos, 'input ended without the bvx$ end-of-stream block');
        throw new LzfseError('TRUNCATED', pos, 'input ended inside a block magic');
      }
      const magic = readU32(src, pos);
      if (magic === MAGIC_EOS) break;
      if (magic === MAGIC_RAW) pos = this.rawBlock(pos);
      else if (magic === MAGIC_LZVN) pos = this.lzvnBlock(pos);
      else if (magic === MAGIC_V1 || magic === MAGIC_V2) pos = this.lzfseBlock(pos, magic === MAGIC_V2);
      else
        throw new LzfseError(
          'BAD_MAGIC',
          pos,
          `unknown block magic 0x${magic.toString(16).padStart(8, '0')}`,
        );
    }
    const n = this.outPos;
    if (this.expected !== undefined && n !== this.expected) {
      throw new LzfseError('SIZE_MISMATCH', pos, `decoded ${n} bytes, expected ${this.expected}`);
    }
    return n === this.out.length ? this.out : this.out.slice(0, n);
  }

  private rawBlock(pos: number): number {
    const src = this.src;
    if (pos + 8 > src.length) throw new LzfseError('TRUNCATED', pos, 'raw block header is truncated');
    const n = readU32(src, pos + 4);
    const start = pos + 8;
    if (n > src.length - start) {
      throw new LzfseError(
        'TRUNCATED',
        pos,
        `raw block declares ${n} bytes but only ${src.length - start} remain`,
      );
    }
    this.reserve(n, pos);
    this.out.set(src.subarray(start, start + n), this.outPos);
    this.outPos += n;
    return start + n;
  }

  private lzvnBlock(pos: number): number {
    const src = this.src;
    if (pos + 12 > src.length) throw new LzfseError('TRUNCATED', pos, 'LZVN block header is truncated');
    const nRaw = readU32(src, pos + 4);
    const nPayload = readU32(src, pos + 8);
    const start = pos + 12;
    if (nPayload > src.length - start) {
      throw new LzfseError(
        'TRUNCATED',
        pos,
        `LZVN block declares ${nPayload} payload bytes but only ${src.length - start} remain`,
      );
    }
    this.reserve(nRaw, pos);
    const end = start + nPayload;
    const out = this.out;
    const outEnd = this.outPos + nRaw;
    let o = this.outPos;
    let p = start;
    let dPrev = 0;
    for (;;) {
      if (p >= end) throw new LzfseError('CORRUPT', p, 'LZVN payload ended without an end-of-stream opcode');
      const op = src[p]!;
      let L = 0;
      let M = 0;
      let D = dPrev;
      let need: number; // opcode bytes
      switch (LZVN_OPCLASS[op]) {
        case OP_SML_D:
          need = 2;
          if (p + 2 > end) throw new LzfseError('CORRUPT', p, 'LZVN opcode runs past the payload');
          L = op >> 6;
          M = ((op >> 3) & 7) + 3;
          D = ((op & 7) << 8) | src[p + 1]!;
          break;
        case OP_MED_D: {
          need = 3;
          if (p + 3 > end) throw new LzfseError('CORRUPT', p, 'LZVN opcode runs past the payload');
          const b1 = src[p + 1]!;
          L = (op >> 3) & 3;
          M = (((op & 7) << 2) | (b1 & 3)) + 3;
          D = (src[p + 2]! << 6) | (b1 >> 2);
          break;
        }
        case OP_LRG_D:
          need = 3;
          if (p + 3 > end) throw new LzfseError('CORRUPT', p, 'LZVN opcode runs past the payload');
          L = op >> 6;
          M = ((op >> 3) & 7) + 3;
          D = src[p + 1]! | (src[p + 2]! << 8);
          break;
        case OP_PRE_D:
          need = 1;
          L = op >> 6;
          M = ((op >> 3) & 7) + 3;
          break;
        case OP_SML_M:
          need = 1;
          M = op & 15;
          break;
        case OP_LRG_M:
          need = 2;
          if (p + 2 > end) throw new LzfseError('CORRUPT', p, 'LZVN opcode runs past the payload');
          M = src[p + 1]! + 16;
          break;
        case OP_SML_L:
          need = 1;
          L = op & 15;
          break;
        case OP_LRG_L:
          need = 2;
          if (p + 2 > end) throw new LzfseError('CORRUPT', p, 'LZVN opcode runs past the payload');
          L = src[p + 1]! + 16;
          break;
        case OP_NOP:
          p += 1;
          continue;
        case OP_EOS:
          if (p + 8 !== end) {
            throw new LzfseError(
              'CORRUPT',
              p,
              'LZVN end-of-stream opcode is not the last 8 bytes of the block payload',
            );
          }
          if (o !== outEnd) {
            throw new LzfseError(
              'CORRUPT',
              p,
              `LZVN block produced ${o - this.outPos} bytes, header says ${nRaw}`,
            );
          }
          this.outPos = o;
          return end;
        default:
          throw new LzfseError('CORRUPT', p, `undefined LZVN opcode 0x${op.toString(16)}`);
      }
      p += need;
      if (L > 0) {
        if (L > end - p) throw new LzfseError('CORRUPT', p, 'LZVN literal run extends past the payload');
        if (L > outEnd - o) throw new LzfseError('CORRUPT', p, 'LZVN block output exceeds its declared size');
        for (let i = 0; i < L; i++) out[o + i] = src[p + i]!;
        o += L;
        p += L;
      }
      if (M > 0) {
        if (D === 0 || D > o) throw new LzfseError('CORRUPT', p, `LZVN match distance ${D} is out of range`);
        if (M > outEnd - o) throw new LzfseError('CORRUPT', p, 'LZVN block output exceeds its declared size');
        let s = o - D;
        if (D >= M) {
          out.copyWithin(o, s, s + M);
          o += M;
        } else {
          const e = o + M;
          while (o < e) out[o++] = out[s++]!;
        }
        dPrev = D;
      }
    }
  }

  private parseV1Header(pos: number): LzfseBlockHeader {
    const src = this.src;
    if (pos + V1_HEADER_BYTES > src.length)
      throw new LzfseError('TRUNCATED', pos, 'bvx1 block header is truncated');
    const freq = this.freq;
    for (let i = 0; i < N_FREQ; i++) freq[i] = readU16(src, pos + 50 + 2 * i);
    return {
      nRaw: readU32(src, pos + 4),
      nLiterals: readU32(src, pos + 12),
      nMatches: readU32(src, pos + 16),
      nLiteralPayload: readU32(src, pos + 20),
      nLmdPayload: readU32(src, pos + 24),
      literalBits: readI32(src, pos + 28),
      literalState: [
        readU16(src, pos + 32),
        readU16(src, pos + 34),
        readU16(src, pos + 36),
        readU16(src, pos + 38),
      ],
      lmdBits: readI32(src, pos + 40),
      lState: readU16(src, pos + 44),
      mState: readU16(src, pos + 46),
      dState: readU16(src, pos + 48),
      headerBytes: V1_HEADER_BYTES,
    };
  }

  private parseV2Header(pos: number): LzfseBlockHeader {
    const src = this.src;
    if (pos + V2_FIXED_HEADER_BYTES > src.length)
      throw new LzfseError('TRUNCATED', pos, 'bvx2 block header is truncated');
    const w0lo = readU32(src, pos + 8);
    const w0hi = readU32(src, pos + 12);
    const w1lo = readU32(src, pos + 16);
    const w1hi = readU32(src, pos + 20);
    const headerBytes = readU32(src, pos + 24);
    const w2hi = readU32(src, pos + 28);
    if (headerBytes < V2_FIXED_HEADER_BYTES) {
      throw new LzfseError('CORRUPT', pos + 24, `bvx2 header size ${headerBytes} is smaller than 32`);
    }
    if (headerBytes > src.length - pos)
      throw new LzfseError('TRUNCATED', pos, 'bvx2 frequency tables are truncated');
    // Frequency tables: prefix code read LSB-first.
    const freq = this.freq;
    let p = pos + V2_FIXED_HEADER_BYTES;
    const end = pos + headerBytes;
    let accum = 0;
    let accumBits = 0;
    for (let i = 0; i < N_FREQ; i++) {
      while (p < end && accumBits + 8 <= 32) {
        accum = (accum | (src[p]! << accumBits)) >>> 0;
        accumBits += 8;
        p++;
      }
      const b = accum & 31;
      const nbits = FREQ_NBITS[b]!;
      let value: number;
      if (nbits === 8) value = 8 + ((accum >>> 4) & 0xf);
      else if (nbits === 14) value = 24 + ((accum >>> 4) & 0x3ff);
      else value = FREQ_VALUE[b]!;
      if (nbits > accumBits) throw new LzfseError('CORRUPT', p, 'bvx2 frequency table runs past the header');
      freq[i] = value;
      accum = accum >>> nbits;
      accumBits -= nbits;
    }
    if (accumBits >= 8 || p !== end) {
      throw new LzfseError('CORRUPT', p, 'bvx2 frequency table does not end at the declared header size');
    }
    return {
      nRaw: readU32(src, pos + 4),
      nLiterals: w0lo & 0xfffff,
      nLiteralPayload: (w0lo >>> 20) | ((w0hi & 0xff) << 12),
      nMatches: (w0hi >>> 8) & 0xfffff,
      literalBits: ((w0hi >>> 28) & 7) - 7,
      literalState: [
        w1lo & 0x3ff,
        (w1lo >>> 10) & 0x3ff,
        (w1lo >>> 20) & 0x3ff,
        (w1lo >>> 30) | ((w1hi & 0xff) << 2),
      ],
      nLmdPayload: (w1hi >>> 8) & 0xfffff,
      lmdBits: ((w1hi >>> 28) & 7) - 7,
      lState: w2hi & 0x3ff,
      mState: (w2hi >>> 10) & 0x3ff,
      dState: (w2hi >>> 20) & 0x3ff,
      headerBytes,
    };
  }

  private lzfseBlock(pos: number, v2: boolean): number {
    const h = v2 ? this.parseV2Header(pos) : this.parseV1Header(pos);
    const src = this.src;
    if (h.nLiterals > LITERALS_PER_BLOCK)
      throw new LzfseError('CORRUPT', pos, `n_literals ${h.nLiterals} exceeds ${LITERALS_PER_BLOCK}`);
    if (h.nMatches > MATCHES_PER_BLOCK)
      throw new LzfseError('CORRUPT', pos, `n_matches ${h.nMatches} exceeds ${MATCHES_PER_BLOCK}`);
    for (const s of h.literalState) {
      if (s >= LITERAL_STATES) throw new LzfseError('CORRUPT', pos, `literal state ${s} out of range`);
    }
    if (h.lState >= L_STATES || h.mState >= M_STATES || h.dState >= D_STATES) {
      throw new LzfseError('CORRUPT', pos, 'L/M/D initial state out of range');
    }
    if (h.literalBits < -7 || h.literalBits > 0 || h.lmdBits < -7 || h.lmdBits > 0) {
      throw new LzfseError('CORRUPT', pos, 'FSE stream bit count out of range');
    }
    const litStart = pos + h.headerBytes;
    if (
      h.nLiteralPayload > src.length - litStart ||
      h.nLmdPayload > src.length - litStart - h.nLiteralPayload
    ) {
      throw new LzfseError('TRUNCATED', pos, 'LZFSE block payload is truncated');
    }
    const lmdStart = litStart + h.nLiteralPayload;
    const blockEnd = lmdStart + h.nLmdPayload;

    // Decoding tables (scratch allocated once per decode call, rebuilt per block).
    const litTable = (this.litTable ??= new Int32Array(LITERAL_STATES));
    const t = (this.lmdTables ??= {
      lBD: new Int32Array(L_STATES),
      lBase: new Int32Array(L_STATES),
      mBD: new Int32Array(M_STATES),
      mBase: new Int32Array(M_STATES),
      dBD: new Int32Array(D_STATES),
      dBase: new Int32Array(D_STATES),
    });
    const freq = this.freq;
    const fOk =
      buildValueTable(freq, 0, L_SYMBOLS, L_STATES, L_EXTRA, t.lBD, t.lBase) &&
      buildValueTable(freq, L_SYMBOLS, M_SYMBOLS, M_STATES, M_EXTRA, t.mBD, t.mBase) &&
      buildValueTable(freq, L_SYMBOLS + M_SYMBOLS, D_SYMBOLS, D_STATES, D_EXTRA, t.dBD, t.dBase) &&
      buildLiteralTable(freq, L_SYMBOLS + M_SYMBOLS + D_SYMBOLS, LITERAL_SYMBOLS, LITERAL_STATES, litTable);
    if (!fOk) throw new LzfseError('CORRUPT', pos, 'frequency table sums exceed the number of FSE states');

    this.reserve(h.nRaw, pos);

    // ---- Literals: 4 interleaved FSE states, stream read backwards from lmdStart.
    const literals = (this.literals ??= new Uint8Array(LITERALS_PER_BLOCK + 4));
    const nLitRounded = (h.nLiterals + 3) & ~3;
    decodeLiterals(src, litStart, lmdStart, h.literalBits, h.literalState, litTable, literals, nLitRounded);

    // ---- L/M/D triples, stream read backwards from blockEnd; expand into the output.
    const outStart = this.outPos;
    const outEnd = outStart + h.nRaw;
    const o = expandMatches(src, lmdStart, blockEnd, h, literals, nLitRounded, this.out, outStart, outEnd, t);
    if (o !== outEnd) {
      throw new LzfseError(
        'CORRUPT',
        pos,
        `LZFSE block produced ${o - outStart} bytes, header says ${h.nRaw}`,
      );
    }
    this.outPos = o;
    return blockEnd;
  }
}

/**
 * Decode a complete LZFSE stream. Throws `LzfseError` for every malformed input.
 * Invalid options (negative or non-integer sizes) throw a RangeError (a programming error, not bad data).
 */
export function decodeLzfse(input: Uint8Array, opts: LzfseDecodeOptions = {}): Uint8Array {
  const maxOut = opts.maxOutputBytes ?? LZFSE_DEFAULT_MAX_OUTPUT_BYTES;
  if (!Number.isSafeInteger(maxOut) || maxOut < 0)
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOut}`);
  const expected = opts.expectedBytes;
  if (expected !== undefined) {
    if (!Number.isSafeInteger(expected) || expected < 0)
      throw new RangeError(`expectedBytes must be a non-negative integer, got ${expected}`);
    if (expected > maxOut) {
      throw new LzfseError(
        'OUTPUT_LIMIT',
        0,
        `expected size ${expected} exceeds the limit of ${maxOut} bytes`,
      );
    }
  }
  return new Decoder(input, maxOut, expected).run();
}
