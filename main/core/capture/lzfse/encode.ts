/**
 * LZFSE stream encoder that emits LZVN (`bvxn`) blocks, falling back to raw (`bvx-`) blocks when
 * LZVN does not make a block smaller, and ends the stream with `bvx$`.
 *
 * Matching is greedy with a 4-byte hash chain (bounded depth) and a "repeat previous distance" check,
 * which compresses confidence maps and other low-entropy rasters well. Matches never cross block
 * boundaries (each block decodes on its own), so any conforming LZFSE decoder accepts the output.
 * LZVN opcodes are chosen within their exact encodable ranges (see decode.ts for the opcode layout):
 * distance opcodes carry L <= 3 literals and M <= 10 - 2L (sml_d, D < 1536; lrg_d, D < 65536;
 * pre_d needs L >= 1) or M <= 34 (med_d, D < 16384); longer literal runs use sml_l/lrg_l and
 * longer matches continue with sml_m/lrg_m.
 */

const MAGIC_RAW = 0x2d787662; // 'bvx-'
const MAGIC_LZVN = 0x6e787662; // 'bvxn'
const MAGIC_EOS = 0x24787662; // 'bvx$'

/** Raw bytes per block. Blocks are independent (no cross-block matches). */
const BLOCK_BYTES = 1 << 20;
const HASH_BITS = 15;
const MAX_DISTANCE = 0xffff;
const MIN_MATCH = 4;
const MAX_CHAIN = 16;
/** Stop searching once a match this long is found. */
const GOOD_MATCH = 128;

function putU32(out: Uint8Array, pos: number, v: number): void {
  out[pos] = v & 0xff;
  out[pos + 1] = (v >>> 8) & 0xff;
  out[pos + 2] = (v >>> 16) & 0xff;
  out[pos + 3] = (v >>> 24) & 0xff;
}

/** Growable output byte buffer. */
class ByteSink {
  buf: Uint8Array;
  len = 0;
  constructor(initial: number) {
    this.buf = new Uint8Array(Math.max(64, initial));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.len + n, this.buf.length * 2));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }
  u32(v: number): void {
    this.ensure(4);
    putU32(this.buf, this.len, v);
    this.len += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

/**
 * Encode one block as an LZVN payload (ending with the 8-byte end-of-stream opcode) into `dst`.
 * Returns the payload length, or -1 when it would not be smaller than `limit` bytes.
 */
function lzvnEncodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
  limit: number,
  head: Int32Array,
  chain: Int32Array,
): number {
  let q = 0; // write position in dst
  let prevD = 0;
  head.fill(-1);

  // Writes literal bytes src[from, from + count) using sml_l / lrg_l opcodes.
  const emitLiterals = (from: number, count: number): void => {
    while (count > 0) {
      const c = count > 271 ? 271 : count;
      if (c < 16) {
        dst[q++] = 0xe0 | c;
      } else {
        dst[q++] = 0xe0;
        dst[q++] = c - 16;
      }
      for (let i = 0; i < c; i++) dst[q++] = src[from + i]!;
      from += c;
      count -= c;
    }
  };

  // Writes L literals starting at `from`, then a match of length M (>= 3) at distance D.
  const emitMatch = (from: number, L: number, M: number, D: number): void => {
    if (L > 3) {
      emitLiterals(from, L);
      L = 0;
    }
    let m = M;
    if (D === prevD) {
      if (L > 0) {
        const m1 = Math.min(m, 10 - 2 * L);
        dst[q++] = (L << 6) | ((m1 - 3) << 3) | 6; // pre_d
        m -= m1;
      }
    } else if (D < 1536 && m <= 10 - 2 * L) {
      dst[q++] = (L << 6) | ((m - 3) << 3) | (D >> 8); // sml_d
      dst[q++] = D & 0xff;
      m = 0;
    } else if (D < 16384) {
      const m1 = Math.min(m, 34);
      dst[q++] = 0xa0 | (L << 3) | ((m1 - 3) >> 2); // med_d
      dst[q++] = ((D & 63) << 2) | ((m1 - 3) & 3);
      dst[q++] = D >> 6;
      m -= m1;
    } else {
      const m1 = Math.min(m, 10 - 2 * L);
      dst[q++] = (L << 6) | ((m1 - 3) << 3) | 7; // lrg_d
      dst[q++] = D & 0xff;
      dst[q++] = D >> 8;
      m -= m1;
    }
    for (let i = 0; i < L; i++) dst[q++] = src[from + i]!;
    while (m > 0) {
      const c = m > 271 ? 271 : m;
      if (c < 16) {
        dst[q++] = 0xf0 | c; // sml_m
      } else {
        dst[q++] = 0xf0; // lrg_m
        dst[q++] = c - 16;
      }
      m -= c;
    }
    prevD = D;
  };

  const hashAt = (i: number): number => {
    const v = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
    return Math.imul(v, 0x9e3779b1) >>> (32 - HASH_BITS);
  };

  let litStart = start;
  let i = start;
  const lastMatchStart = end - MIN_MATCH; // a match needs MIN_MATCH bytes available
  while (i <= lastMatchStart) {
    // Early exit once the output (including pending literals) can no longer beat the raw block.
    if (q + (i - litStart) > limit) return -1;
    const maxLen = end - i;
    let bestLen = 0;
    let bestD = 0;
    // Repeat distance first: it is the cheapest to encode.
    if (prevD > 0 && i - prevD >= start) {
      let l = 0;
      const s = i - prevD;
      while (l < maxLen && src[s + l] === src[i + l]) l++;
      if (l >= MIN_MATCH) {
        bestLen = l;
        bestD = prevD;
      }
    }
    const h = hashAt(i);
    if (bestLen < GOOD_MATCH) {
      let cand = head[h]!;
      let depth = MAX_CHAIN;
      while (cand >= 0 && depth-- > 0) {
        const d = i - cand;
        if (d > MAX_DISTANCE) break;
        if (src[cand + bestLen] === src[i + bestLen]) {
          let l = 0;
          while (l < maxLen && src[cand + l] === src[i + l]) l++;
          if (l > bestLen) {
            bestLen = l;
            bestD = d;
            if (l >= GOOD_MATCH) break;
          }
        }
        cand = chain[cand - start]!;
      }
    }
    chain[i - start] = head[h]!;
    head[h] = i;
    if (bestLen >= MIN_MATCH) {
      emitMatch(litStart, i - litStart, bestLen, bestD);
      const matchEnd = i + bestLen;
      // Index the positions inside the match (bounded for very long runs to keep encoding fast).
      const indexEnd = Math.min(matchEnd, lastMatchStart + 1, i + 1 + 64);
      for (let j = i + 1; j < indexEnd; j++) {
        const hj = hashAt(j);
        chain[j - start] = head[hj]!;
        head[hj] = j;
      }
      i = matchEnd;
      litStart = i;
    } else {
      i++;
    }
  }
  emitLiterals(litStart, end - litStart);
  // End-of-stream opcode: 0x06 followed by 7 zero bytes.
  dst[q++] = 0x06;
  for (let k = 0; k < 7; k++) dst[q++] = 0;
  return q >= limit ? -1 : q;
}

/** Encode `data` as a complete LZFSE stream (LZVN or raw blocks, then `bvx$`). */
export function encodeLzfse(data: Uint8Array): Uint8Array {
  const sink = new ByteSink(Math.min(data.length, BLOCK_BYTES) + 64);
  const blockCap = Math.min(data.length, BLOCK_BYTES);
  // Worst case LZVN: literal runs cost 2 opcode bytes per 271 literals, plus the 8-byte eos.
  const scratch = new Uint8Array(blockCap + (blockCap >> 6) + 64);
  const head = new Int32Array(1 << HASH_BITS);
  const chain = new Int32Array(blockCap);
  for (let start = 0; start < data.length; start += BLOCK_BYTES) {
    const end = Math.min(data.length, start + BLOCK_BYTES);
    const n = end - start;
    // An LZVN block costs 12 header bytes, a raw one 8: LZVN must be at least 5 bytes smaller.
    const payload = n >= 16 ? lzvnEncodeBlock(data, start, end, scratch, n - 4, head, chain) : -1;
    if (payload >= 0 && payload + 12 < n + 8) {
      sink.u32(MAGIC_LZVN);
      sink.u32(n);
      sink.u32(payload);
      sink.bytes(scratch.subarray(0, payload));
    } else {
      sink.u32(MAGIC_RAW);
      sink.u32(n);
      sink.bytes(data.subarray(start, end));
    }
  }
  sink.u32(MAGIC_EOS);
  return sink.buf.slice(0, sink.len);
}
