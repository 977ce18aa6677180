/**
 * Small deterministic random number generators (the synthetic capture must be byte-identical per seed,
 * so nothing here may use Math.random).
 */

/** Mix an integer into a 32-bit hash (a SplitMix/Murmur-style finaliser). */
export function hash32(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Combine several integers into one 32-bit seed. */
export function seedFrom(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = hash32(h ^ hash32(Math.floor(p) | 0) ^ Math.floor(p / 4294967296));
  return h >>> 0;
}

/** Mulberry32: a fast 32-bit PRNG with a 2^32 period, plenty for layouts and sensor noise. */
export class Rng {
  private state: number;
  /** NaN = no spare value (a number field keeps V8 from boxing it on every store). */
  private spareGauss = NaN;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Fisher-Yates shuffle of a copy. */
  shuffled<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }

  /** Standard normal (Box-Muller, caching the second value). */
  gauss(): number {
    if (this.spareGauss === this.spareGauss) {
      const g = this.spareGauss;
      this.spareGauss = NaN;
      return g;
    }
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareGauss = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
