/**
 * Colour maps as 256-entry RGB lookup tables, and helpers that turn scalar rasters (depth_m,
 * confidence, instance ids) into RGBA pixels for a canvas. Pure functions: no DOM.
 */

export type ColormapName = 'turbo' | 'viridis';

/** 256 * 3 bytes, RGB. */
export type Lut = Uint8Array;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
const toByte = (x: number): number => Math.round(clamp01(x) * 255);

/** Turbo as a degree-5 polynomial per channel (a smooth fit of the published map). */
function turboRgb(t: number): [number, number, number] {
  const x = clamp01(t);
  const r =
    0.13572138 +
    x * (4.6153926 + x * (-42.66032258 + x * (132.13108234 + x * (-152.94239396 + x * 59.28637943))));
  const g =
    0.09140261 + x * (2.19418839 + x * (4.84296658 + x * (-14.18503333 + x * (4.27729857 + x * 2.82956604))));
  const b =
    0.1066733 +
    x * (12.64194608 + x * (-60.58204836 + x * (110.36276771 + x * (-89.90310912 + x * 27.34824973))));
  return [toByte(r), toByte(g), toByte(b)];
}

/** Viridis at 11 evenly spaced stops; linear interpolation between them. */
const VIRIDIS_STOPS = [
  0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151, 0xbddf26,
  0xfde725,
];

function viridisRgb(t: number): [number, number, number] {
  const x = clamp01(t) * (VIRIDIS_STOPS.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS_STOPS.length - 2);
  const f = x - i;
  const a = VIRIDIS_STOPS[i] ?? 0;
  const b = VIRIDIS_STOPS[i + 1] ?? 0;
  const ch = (c: number, shift: number) => ((c >> shift) & 0xff) as number;
  const mix = (shift: number) => Math.round(ch(a, shift) * (1 - f) + ch(b, shift) * f);
  return [mix(16), mix(8), mix(0)];
}

const lutCache = new Map<ColormapName, Lut>();

export function colormapLut(name: ColormapName): Lut {
  const cached = lutCache.get(name);
  if (cached) return cached;
  const lut = new Uint8Array(256 * 3);
  const fn = name === 'turbo' ? turboRgb : viridisRgb;
  for (let i = 0; i < 256; i++) {
    const [r, g, b] = fn(i / 255);
    lut[i * 3] = r;
    lut[i * 3 + 1] = g;
    lut[i * 3 + 2] = b;
  }
  lutCache.set(name, lut);
  return lut;
}

/** CSS linear-gradient stops for a legend bar. */
export function colormapCssGradient(name: ColormapName, stops = 9): string {
  const lut = colormapLut(name);
  const parts: string[] = [];
  for (let i = 0; i < stops; i++) {
    const k = Math.round((i / (stops - 1)) * 255);
    parts.push(
      `rgb(${lut[k * 3]}, ${lut[k * 3 + 1]}, ${lut[k * 3 + 2]}) ${((i / (stops - 1)) * 100).toFixed(1)}%`,
    );
  }
  return `linear-gradient(to right, ${parts.join(', ')})`;
}

/**
 * depth_m -> RGBA. Pixels with depth 0, NaN or +-Inf (no measurement) are fully transparent;
 * valid depths are clamped to [min_m, max_m] and looked up in the colour map.
 */
export function depthToRgba(
  depth_m: Float32Array,
  range_m: readonly [number, number],
  name: ColormapName,
  out: Uint8ClampedArray = new Uint8ClampedArray(depth_m.length * 4),
): Uint8ClampedArray {
  const lut = colormapLut(name);
  const [min_m, max_m] = range_m;
  const span = max_m > min_m ? max_m - min_m : 1;
  for (let i = 0; i < depth_m.length; i++) {
    const d = depth_m[i] ?? 0;
    const o = i * 4;
    if (!(d > 0) || !Number.isFinite(d)) {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = 0;
      out[o + 3] = 0;
      continue;
    }
    const t = (d - min_m) / span;
    const k = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
    out[o] = lut[k * 3] ?? 0;
    out[o + 1] = lut[k * 3 + 1] ?? 0;
    out[o + 2] = lut[k * 3 + 2] ?? 0;
    out[o + 3] = 255;
  }
  return out;
}

/** Confidence 0 (low), 1 (medium), 2 (high) -> red / amber / clear overlay. */
export const CONFIDENCE_COLORS: readonly (readonly [number, number, number, number])[] = [
  [230, 40, 40, 170],
  [245, 170, 30, 110],
  [40, 200, 90, 0],
];

export function confidenceToRgba(
  conf: Uint8Array,
  out: Uint8ClampedArray = new Uint8ClampedArray(conf.length * 4),
): Uint8ClampedArray {
  for (let i = 0; i < conf.length; i++) {
    const c = CONFIDENCE_COLORS[Math.min(conf[i] ?? 0, 2)] ?? CONFIDENCE_COLORS[0]!;
    out.set(c, i * 4);
  }
  return out;
}

/** A stable, well-separated colour for an instance id (golden-ratio hue walk). Id 0 = none. */
export function labelColor(id: number): [number, number, number] {
  const h = (id * 0.618033988749895) % 1;
  const s = 0.65 + ((id * 7) % 3) * 0.1;
  const v = 0.95 - ((id * 13) % 4) * 0.08;
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const rgb: [number, number, number][] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ];
  const [r, g, b] = rgb[i % 6] ?? [v, t, p];
  return [toByte(r), toByte(g), toByte(b)];
}

export function labelsToRgba(
  labels: Uint16Array,
  alpha = 150,
  out: Uint8ClampedArray = new Uint8ClampedArray(labels.length * 4),
): Uint8ClampedArray {
  let lastId = -1;
  let last: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < labels.length; i++) {
    const id = labels[i] ?? 0;
    const o = i * 4;
    if (id === 0) {
      out[o + 3] = 0;
      continue;
    }
    if (id !== lastId) {
      last = labelColor(id);
      lastId = id;
    }
    out[o] = last[0];
    out[o + 1] = last[1];
    out[o + 2] = last[2];
    out[o + 3] = alpha;
  }
  return out;
}

/** Evenly spaced legend ticks in metres, e.g. [0.2, 0.9, 1.6, 2.3, 3.0]. */
export function legendTicks(range_m: readonly [number, number], count = 5): number[] {
  const [a, b] = range_m;
  if (!(Number.isFinite(a) && Number.isFinite(b))) return [];
  if (count < 2 || a === b) return [a];
  const ticks: number[] = [];
  for (let i = 0; i < count; i++) ticks.push(a + ((b - a) * i) / (count - 1));
  return ticks;
}
