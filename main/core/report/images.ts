/**
 * Raster images of the report, encoded as PNG with sharp:
 * - query heatmaps: scored map points rasterised top-down (the floor plane; ARKit worlds are y-up), coloured by
 *   score (dark blue -> yellow), ground-truth boxes of the queried class outlined, the look-at point marked;
 * - label overlays: a held-out frame's colour, ground-truth classes and the field's classes side by side.
 */
import sharp from 'sharp';

export type Rgb = [number, number, number];

/** A distinct colour per class index (golden-angle hues). */
export function classColour(i: number): Rgb {
  const h = (i * 137.508) % 360;
  const s = 0.65,
    v = 0.95;
  const c = v * s;
  const hh = h / 60;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  const [r, g, b] =
    hh < 1
      ? [c, x, 0]
      : hh < 2
        ? [x, c, 0]
        : hh < 3
          ? [0, c, x]
          : hh < 4
            ? [0, x, c]
            : hh < 5
              ? [x, 0, c]
              : [c, 0, x];
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** Score ramp: 0 -> dark blue, 0.5 -> teal, 1 -> yellow (viridis-like). */
export function rampColour(t: number): Rgb {
  const stops: Rgb[] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const u = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const a = stops[i]!,
    b = stops[i + 1]!;
  return [
    Math.round(a[0] + (b[0] - a[0]) * f),
    Math.round(a[1] + (b[1] - a[1]) * f),
    Math.round(a[2] + (b[2] - a[2]) * f),
  ];
}

export interface HeatmapInput {
  xyz: Float32Array;
  score: Float32Array;
  look_at: readonly number[] | null;
  /** World axis that points up (ARKit: 1 = y); the image shows the other two. */
  upAxis: 0 | 1 | 2;
  boxes?: { min: readonly number[]; max: readonly number[] }[];
}

async function png(data: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  const buf = await sharp(data, { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Top-down heatmap PNG (longest side `size` px). Scores are min-max normalised per image. */
export async function renderHeatmapPng(h: HeatmapInput, size = 360): Promise<Uint8Array> {
  const n = h.score.length;
  const [ax, ay] = h.upAxis === 1 ? [0, 2] : h.upAxis === 2 ? [0, 1] : [1, 2];
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity,
    lo = Infinity,
    hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = h.xyz[3 * i + ax]!,
      y = h.xyz[3 * i + ay]!;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    const s = h.score[i]!;
    if (s < lo) lo = s;
    if (s > hi) hi = s;
  }
  if (n === 0) {
    minX = minY = 0;
    maxX = maxY = 1;
    lo = 0;
    hi = 1;
  }
  const spanX = Math.max(1e-3, maxX - minX),
    spanY = Math.max(1e-3, maxY - minY);
  const scale = (size - 8) / Math.max(spanX, spanY);
  const W = Math.max(8, Math.ceil(spanX * scale) + 8),
    H = Math.max(8, Math.ceil(spanY * scale) + 8);
  const img = new Uint8Array(W * H * 3).fill(24);
  const best = new Float32Array(W * H).fill(-Infinity);
  const toPx = (x: number, y: number): [number, number] => [
    Math.round(4 + (x - minX) * scale),
    Math.round(4 + (y - minY) * scale),
  ];
  const range = hi - lo > 1e-9 ? hi - lo : 1;
  for (let i = 0; i < n; i++) {
    const [px, py] = toPx(h.xyz[3 * i + ax]!, h.xyz[3 * i + ay]!);
    const s = (h.score[i]! - lo) / range;
    for (let dy = 0; dy <= 1; dy++) {
      for (let dx = 0; dx <= 1; dx++) {
        const x = px + dx,
          y = py + dy;
        if (x < 0 || y < 0 || x >= W || y >= H) continue;
        const p = y * W + x;
        if (s <= best[p]!) continue;
        best[p] = s;
        const c = rampColour(s);
        img.set(c, p * 3);
      }
    }
  }
  const put = (x: number, y: number, c: Rgb) => {
    if (x >= 0 && y >= 0 && x < W && y < H) img.set(c, (y * W + x) * 3);
  };
  for (const b of h.boxes ?? []) {
    const [x0, y0] = toPx(b.min[ax]!, b.min[ay]!);
    const [x1, y1] = toPx(b.max[ax]!, b.max[ay]!);
    for (let x = x0; x <= x1; x++) {
      put(x, y0, [255, 255, 255]);
      put(x, y1, [255, 255, 255]);
    }
    for (let y = y0; y <= y1; y++) {
      put(x0, y, [255, 255, 255]);
      put(x1, y, [255, 255, 255]);
    }
  }
  if (h.look_at) {
    const [cx, cy] = toPx(h.look_at[ax]!, h.look_at[ay]!);
    for (let d = -6; d <= 6; d++) {
      for (const t of [-1, 0, 1]) {
        put(cx + d, cy + d + t, [230, 30, 30]);
        put(cx + d, cy - d + t, [230, 30, 30]);
      }
    }
  }
  return png(img, W, H);
}

export interface OverlayInput {
  width: number;
  height: number;
  rgb: Uint8Array;
  /** Class index per pixel (-1 = none) for the ground truth and the prediction. */
  gt: Int16Array;
  pred: Int16Array;
}

/** Three panels (colour | ground truth | prediction), classes blended over the colour, upscaled to `minWidth`. */
export async function renderOverlayPng(
  o: OverlayInput,
  _classes: readonly string[],
  minPanelWidth = 192,
): Promise<Uint8Array> {
  const { width: w, height: h } = o;
  if (o.rgb.length < w * h * 3 || o.gt.length !== w * h || o.pred.length !== w * h)
    throw new RangeError(`overlay arrays do not match ${w}x${h}`);
  const k = Math.max(1, Math.ceil(minPanelWidth / w));
  const gap = 4;
  const W = 3 * w * k + 2 * gap,
    H = h * k;
  const img = new Uint8Array(W * H * 3).fill(255);
  for (let panel = 0; panel < 3; panel++) {
    const cls = panel === 1 ? o.gt : panel === 2 ? o.pred : null;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = y * w + x;
        let r = o.rgb[3 * p]!,
          g = o.rgb[3 * p + 1]!,
          b = o.rgb[3 * p + 2]!;
        if (cls) {
          const c = cls[p]!;
          // Dim what has no class so the labeled objects stand out.
          if (c >= 0) {
            const col = classColour(c);
            r = Math.round(0.35 * r + 0.65 * col[0]);
            g = Math.round(0.35 * g + 0.65 * col[1]);
            b = Math.round(0.35 * b + 0.65 * col[2]);
          } else {
            r = Math.round(r * 0.4);
            g = Math.round(g * 0.4);
            b = Math.round(b * 0.4);
          }
        }
        for (let dy = 0; dy < k; dy++) {
          const row = (y * k + dy) * W + panel * (w * k + gap) + x * k;
          for (let dx = 0; dx < k; dx++) img.set([r, g, b], (row + dx) * 3);
        }
      }
    }
  }
  return png(img, W, H);
}
