/**
 * Categorical colours for label classes. A class's colour depends only on the set of class names
 * (sorted), never on the order a list arrives in, so the class list swatches, the frame boxes and the
 * 3D points agree. Pure functions: no DOM, no THREE.
 */
import { labelColor } from '../../lib/colormap';

export type Rgb = readonly [number, number, number];

/** 20 well-separated colours (hand-picked, readable on dark and light backgrounds). */
export const CATEGORICAL: readonly Rgb[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 200, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [170, 210, 60],
  [250, 170, 190],
  [0, 128, 128],
  [200, 150, 255],
  [170, 110, 40],
  [255, 250, 160],
  [128, 0, 0],
  [120, 255, 195],
  [128, 128, 0],
  [255, 215, 180],
  [0, 0, 128],
  [160, 160, 160],
];

export type Palette = ReadonlyMap<string, Rgb>;

/** Colour per unique name: the first 20 (sorted) take CATEGORICAL, later ones a golden-ratio hue walk. */
export function buildPalette(names: Iterable<string>): Palette {
  const sorted = [...new Set(names)].sort();
  const out = new Map<string, Rgb>();
  sorted.forEach((name, i) => out.set(name, CATEGORICAL[i] ?? labelColor(i + 1)));
  return out;
}

export const UNKNOWN_RGB: Rgb = [128, 128, 128];

export function colorOf(palette: Palette, name: string | null | undefined): Rgb {
  return (name != null ? palette.get(name) : undefined) ?? UNKNOWN_RGB;
}

export function rgbCss(c: Rgb, alpha = 1): string {
  return alpha >= 1 ? `rgb(${c[0]}, ${c[1]}, ${c[2]})` : `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${alpha})`;
}

/** An sRGB byte as a linear-light byte (THREE treats vertex colours as linear and encodes to sRGB on output). */
export function srgbToLinearByte(v: number): number {
  const c = v / 255;
  const l = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  return Math.round(l * 255);
}

const toLinear = (c: Rgb): Rgb => [srgbToLinearByte(c[0]), srgbToLinearByte(c[1]), srgbToLinearByte(c[2])];

/**
 * RGBA per point from label ids. When `only` is given, points of other classes are greyed
 * (`dim` RGB, alpha 255) so the chosen classes stand out; rejected classes are always greyed.
 */
export function pointColors(
  labelIds: Uint16Array,
  texts: readonly string[],
  palette: Palette,
  opts: {
    only?: ReadonlySet<string> | null;
    rejected?: ReadonlySet<string>;
    dim?: Rgb;
    linear?: boolean;
  } = {},
  out: Uint8Array = new Uint8Array(labelIds.length * 4),
): Uint8Array {
  const dim = opts.dim ?? [90, 90, 90];
  const table = texts.map((t) => {
    const c = opts.rejected?.has(t) || (opts.only && !opts.only.has(t)) ? dim : colorOf(palette, t);
    return opts.linear ? toLinear(c) : c;
  });
  for (let i = 0; i < labelIds.length; i++) {
    const c = table[labelIds[i]!] ?? UNKNOWN_RGB;
    const o = i * 4;
    out[o] = c[0];
    out[o + 1] = c[1];
    out[o + 2] = c[2];
    out[o + 3] = 255;
  }
  return out;
}
