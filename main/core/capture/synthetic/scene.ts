/**
 * Deterministic synthetic apartment: two rooms (kitchen-dining and a living/bed/office room) joined by
 * a doorway, furnished with objects built from boxes, vertical/horizontal cylinders and ellipsoids.
 *
 * World frame (ARKit-like): +y up, metres. The floor is at `FLOOR_Y` (-1.35), so a handheld camera at
 * ~1.35-1.5 m above the floor sits near y = 0. All boxes are axis-aligned in the world (objects are only
 * turned in 90-degree steps), cylinders run along a world axis, ellipsoids are axis-aligned.
 *
 * Instances: every object gets an id 1..N and a class name. Walls, floor, ceiling and skirting boards are
 * structure with instance id 0 (= background in the label images); the door, windows, pictures and the
 * clock that sit on walls are objects with their own ids.
 */
import { Rng, seedFrom } from './rng';

export type Vec3 = [number, number, number];
export type Axis = 0 | 1 | 2;
export type PrimKind = 'box' | 'cylinder' | 'ellipsoid';
export type Pattern =
  'solid' | 'stripes' | 'checker' | 'noise' | 'wood' | 'screen' | 'sky' | 'fabric' | 'tiles';

export const FLOOR_Y = -1.35;
export const CEILING_HEIGHT_M = 2.6;
/** Bump when the generated geometry changes (it is part of the demo-capture cache key). */
export const SCENE_GENERATOR_VERSION = 1;

/** Every class the generator can produce (a given seed may leave out a few optional ones). */
export const SYNTHETIC_CLASSES = [
  'bed',
  'bookshelf',
  'bottle',
  'cabinet',
  'chair',
  'clock',
  'desk',
  'door',
  'fridge',
  'keyboard',
  'lamp',
  'laptop',
  'microwave',
  'monitor',
  'mug',
  'oven',
  'picture',
  'plant',
  'rug',
  'sink',
  'sofa',
  'table',
  'trash can',
  'tv',
  'window',
] as const;

export interface Material {
  /** sRGB 0..1. */
  color: Vec3;
  color2: Vec3;
  pattern: Pattern;
  /** World axis the pattern runs along (stripes, wood grain). */
  patternAxis: Axis;
  /** Pattern period in metres. */
  scale: number;
  /** 0..1 specular highlight strength. */
  gloss: number;
  /** 0..1: how much the surface lights itself (screens, windows, lamp shades). */
  emissive: number;
}

export interface Primitive {
  kind: PrimKind;
  center: Vec3;
  /** Half extents along x, y, z (for a cylinder: radius on the two cross axes, half length on `axis`). */
  half: Vec3;
  /** Cylinder axis (ignored for boxes and ellipsoids). */
  axis: Axis;
  /** 0 = structure (walls, floor, ceiling). */
  instanceId: number;
  material: Material;
}

export interface SceneInstance {
  id: number;
  className: string;
  /** Index into `Scene.rooms`. */
  room: number;
  /** Indices into `Scene.primitives`. */
  primitives: number[];
}

export interface RoomRect {
  name: string;
  kind: 'kitchen' | 'living';
  /** Interior (inner wall faces), world metres. */
  minX: number;
  maxX: number;
  minZ: number;
  maxZ: number;
}

export interface Rect2 {
  minX: number;
  maxX: number;
  minZ: number;
  maxZ: number;
}

/** Something the camera path should look at (a furniture group). */
export interface ViewTarget {
  name: string;
  center: Vec3;
  /** Rough size of the group, metres. */
  radius: number;
  /** Horizontal direction the group faces (unit x, z) or null when it can be seen from all sides. */
  facing: [number, number] | null;
  room: number;
  instanceIds: number[];
}

export interface SceneLight {
  position: Vec3;
  intensity: number;
  /** Index of the room this light illuminates. */
  room: number;
}

export interface Scene {
  seed: number;
  floorY: number;
  ceilingY: number;
  rooms: RoomRect[];
  /** The opening between the two rooms (spans the interior wall). */
  doorway: Rect2;
  primitives: Primitive[];
  instances: SceneInstance[];
  /** Sorted class names present in this scene. */
  classes: string[];
  viewTargets: ViewTarget[];
  lights: SceneLight[];
}

// ---------------------------------------------------------------------------------------------------------
// Materials and colours

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function hsv(h: number, s: number, v: number): Vec3 {
  const hh = (((h % 360) + 360) % 360) / 60;
  const c = v * s;
  const x = c * (1 - Math.abs((hh % 2) - 1));
  const m = v - c;
  let r: number, g: number, b: number;
  if (hh < 1) [r, g, b] = [c, x, 0];
  else if (hh < 2) [r, g, b] = [x, c, 0];
  else if (hh < 3) [r, g, b] = [0, c, x];
  else if (hh < 4) [r, g, b] = [0, x, c];
  else if (hh < 5) [r, g, b] = [x, 0, c];
  else [r, g, b] = [c, 0, x];
  return [clamp01(r + m), clamp01(g + m), clamp01(b + m)];
}

function scaleColor(c: Vec3, f: number): Vec3 {
  return [clamp01(c[0] * f), clamp01(c[1] * f), clamp01(c[2] * f)];
}

function mat(color: Vec3, opts: Partial<Omit<Material, 'color'>> = {}): Material {
  return {
    color,
    color2: opts.color2 ?? scaleColor(color, 0.8),
    pattern: opts.pattern ?? 'solid',
    patternAxis: opts.patternAxis ?? 0,
    scale: opts.scale ?? 0.1,
    gloss: opts.gloss ?? 0,
    emissive: opts.emissive ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Local part builder: objects are built in a local frame (origin at the bottom centre of the footprint,
// +y up, the object's front facing +z), then turned by k * 90 degrees about y and moved.

interface Part {
  kind: PrimKind;
  c: Vec3;
  h: Vec3;
  axis: Axis;
  mat: Material;
}

class Parts {
  readonly list: Part[] = [];

  /** Box from its min and max corners. */
  box(x0: number, y0: number, z0: number, x1: number, y1: number, z1: number, m: Material): this {
    this.list.push({
      kind: 'box',
      c: [(x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2],
      h: [Math.abs(x1 - x0) / 2, Math.abs(y1 - y0) / 2, Math.abs(z1 - z0) / 2],
      axis: 0,
      mat: m,
    });
    return this;
  }

  /** Cylinder along `axis` centred at (cx, cy, cz). */
  cyl(axis: Axis, cx: number, cy: number, cz: number, r: number, halfLen: number, m: Material): this {
    const h: Vec3 = [r, r, r];
    h[axis] = halfLen;
    this.list.push({ kind: 'cylinder', c: [cx, cy, cz], h, axis, mat: m });
    return this;
  }

  ell(cx: number, cy: number, cz: number, rx: number, ry: number, rz: number, m: Material): this {
    this.list.push({ kind: 'ellipsoid', c: [cx, cy, cz], h: [rx, ry, rz], axis: 1, mat: m });
    return this;
  }
}

function swapAxisXZ(a: Axis): Axis {
  return a === 0 ? 2 : a === 2 ? 0 : 1;
}

/** Turn a point about +y by k * 90 degrees (k=1 maps local +z to world +x). */
function rotXZ(x: number, z: number, k: number): [number, number] {
  switch (((k % 4) + 4) % 4) {
    case 0:
      return [x, z];
    case 1:
      return [z, -x];
    case 2:
      return [-x, -z];
    default:
      return [-z, x];
  }
}

function transformPart(p: Part, k: number, dx: number, dy: number, dz: number): Part {
  const [x, z] = rotXZ(p.c[0], p.c[2], k);
  const odd = ((k % 4) + 4) % 2 === 1;
  const h: Vec3 = odd ? [p.h[2], p.h[1], p.h[0]] : [p.h[0], p.h[1], p.h[2]];
  const axis = odd ? swapAxisXZ(p.axis) : p.axis;
  const m = odd && p.mat.patternAxis !== 1 ? { ...p.mat, patternAxis: swapAxisXZ(p.mat.patternAxis) } : p.mat;
  return { kind: p.kind, c: [x + dx, p.c[1] + dy, z + dz], h, axis, mat: m };
}

/** A sub-object of an item: one future instance. */
interface Sub {
  className: string;
  parts: Part[];
  /** Top surfaces other objects may stand on (local coordinates). */
  supports?: { rect: Rect2; y: number }[];
}

interface Item {
  name: string;
  subs: Sub[];
}

function moveSub(s: Sub, k: number, dx: number, dy: number, dz: number): Sub {
  return {
    className: s.className,
    parts: s.parts.map((p) => transformPart(p, k, dx, dy, dz)),
    supports: s.supports?.map((sp) => ({ rect: transformRect(sp.rect, k, dx, dz), y: sp.y + dy })),
  };
}

function transformRect(r: Rect2, k: number, dx: number, dz: number): Rect2 {
  const a = rotXZ(r.minX, r.minZ, k);
  const b = rotXZ(r.maxX, r.maxZ, k);
  return {
    minX: Math.min(a[0], b[0]) + dx,
    maxX: Math.max(a[0], b[0]) + dx,
    minZ: Math.min(a[1], b[1]) + dz,
    maxZ: Math.max(a[1], b[1]) + dz,
  };
}

function itemBounds(subs: Sub[]): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const s of subs) {
    for (const p of s.parts) {
      for (let a = 0; a < 3; a++) {
        min[a] = Math.min(min[a]!, p.c[a]! - p.h[a]!);
        max[a] = Math.max(max[a]!, p.c[a]! + p.h[a]!);
      }
    }
  }
  return { min, max };
}

// ---------------------------------------------------------------------------------------------------------
// Object builders (local frame, front = +z, base on y = 0)

function buildFridge(r: Rng): Sub {
  const w = r.range(0.62, 0.78);
  const d = r.range(0.62, 0.72);
  const h = r.range(1.7, 1.95);
  const body = r.pick<Vec3>([
    [0.92, 0.92, 0.93],
    [0.72, 0.74, 0.76],
    [0.15, 0.15, 0.17],
    hsv(r.range(180, 220), 0.25, 0.85),
    hsv(r.range(0, 30), 0.45, 0.85),
  ]);
  const m = mat(body, { gloss: 0.5, pattern: 'noise', scale: 0.5, color2: scaleColor(body, 0.93) });
  const dark = mat([0.08, 0.08, 0.09]);
  const handle = mat([0.55, 0.56, 0.58], { gloss: 0.8 });
  const split = h * r.range(0.32, 0.4);
  const p = new Parts()
    .box(-w / 2, 0.02, -d / 2, w / 2, h, d / 2 - 0.02, m)
    .box(-w / 2 + 0.01, 0.02, d / 2 - 0.02, w / 2 - 0.01, split - 0.005, d / 2, m)
    .box(-w / 2 + 0.01, split + 0.005, d / 2 - 0.02, w / 2 - 0.01, h - 0.01, d / 2, m)
    .box(-w / 2 + 0.01, split - 0.005, d / 2 - 0.021, w / 2 - 0.01, split + 0.005, d / 2 - 0.005, dark)
    .box(-w / 2 + 0.02, 0, -d / 2 + 0.04, w / 2 - 0.02, 0.02, d / 2 - 0.05, dark);
  const hx = w / 2 - 0.07;
  p.cyl(1, hx, split * 0.6, d / 2 + 0.03, 0.012, split * 0.25, handle);
  p.cyl(1, hx, split + (h - split) * 0.35, d / 2 + 0.03, 0.012, (h - split) * 0.22, handle);
  return { className: 'fridge', parts: p.list };
}

function counterMaterials(r: Rng): { base: Material; top: Material; front: Material; knob: Material } {
  const c = r.pick<Vec3>([
    [0.95, 0.95, 0.93],
    hsv(r.range(190, 230), 0.35, 0.55),
    hsv(r.range(90, 140), 0.25, 0.55),
    hsv(r.range(25, 40), 0.5, 0.6),
    [0.3, 0.3, 0.33],
  ]);
  const topC = r.pick<Vec3>([[0.86, 0.85, 0.82], [0.25, 0.25, 0.27], hsv(r.range(25, 40), 0.5, 0.62)]);
  return {
    base: mat(c),
    front: mat(c, {
      pattern: 'stripes',
      patternAxis: 0,
      scale: r.range(0.4, 0.6),
      color2: scaleColor(c, 0.72),
    }),
    top: mat(topC, { pattern: 'noise', scale: 0.05, color2: scaleColor(topC, 0.82), gloss: 0.35 }),
    knob: mat([0.6, 0.6, 0.62], { gloss: 0.7 }),
  };
}

function buildCabinetUnit(w: number, m: ReturnType<typeof counterMaterials>): Sub {
  const d = 0.6;
  const h = 0.9;
  const p = new Parts()
    .box(-w / 2, 0.08, -d / 2, w / 2, h - 0.04, d / 2 - 0.02, m.base)
    .box(-w / 2 + 0.005, 0.1, d / 2 - 0.02, w / 2 - 0.005, h - 0.06, d / 2, m.front)
    .box(-w / 2, 0, -d / 2, w / 2, 0.08, d / 2 - 0.06, mat(scaleColor(m.base.color, 0.45)))
    .box(-w / 2, h - 0.04, -d / 2, w / 2, h, d / 2 + 0.02, m.top);
  const doors = Math.max(1, Math.round(w / 0.45));
  for (let i = 0; i < doors; i++) {
    const x = -w / 2 + ((i + 0.5) * w) / doors;
    p.box(x - 0.05, h - 0.17, d / 2, x + 0.05, h - 0.15, d / 2 + 0.02, m.knob);
  }
  return {
    className: 'cabinet',
    parts: p.list,
    supports: [
      { rect: { minX: -w / 2 + 0.03, maxX: w / 2 - 0.03, minZ: -d / 2 + 0.03, maxZ: d / 2 - 0.02 }, y: h },
    ],
  };
}

function buildSink(r: Rng, y: number): Sub {
  const w = r.range(0.5, 0.7);
  const d = r.range(0.38, 0.45);
  const steel = mat([0.74, 0.75, 0.78], {
    gloss: 0.9,
    pattern: 'noise',
    scale: 0.03,
    color2: [0.66, 0.67, 0.7],
  });
  const inner = mat([0.42, 0.43, 0.46], { gloss: 0.6 });
  const p = new Parts()
    .box(-w / 2, y, -d / 2 + 0.02, w / 2, y + 0.015, d / 2 + 0.02, steel)
    .box(-w / 2 + 0.04, y + 0.015, -d / 2 + 0.06, w / 2 - 0.04, y + 0.017, d / 2 - 0.02, inner)
    .cyl(1, 0, y + 0.17, -d / 2 - 0.01, 0.015, 0.16, steel)
    .cyl(2, 0, y + 0.32, -d / 2 + 0.08, 0.013, 0.09, steel)
    .cyl(1, 0.1, y + 0.045, -d / 2 - 0.01, 0.02, 0.03, steel);
  return { className: 'sink', parts: p.list };
}

function buildOven(r: Rng): Sub {
  const w = 0.6;
  const d = 0.6;
  const h = 0.9;
  const body = r.pick<Vec3>([
    [0.85, 0.86, 0.88],
    [0.6, 0.62, 0.65],
    [0.18, 0.18, 0.2],
  ]);
  const m = mat(body, { gloss: 0.5 });
  const glass = mat([0.05, 0.05, 0.06], {
    gloss: 1,
    emissive: 0.05,
    color2: [0.25, 0.12, 0.05],
    pattern: 'noise',
    scale: 0.2,
  });
  const top = mat([0.06, 0.06, 0.07], { gloss: 0.9 });
  const burner = mat([0.3, 0.3, 0.32], { pattern: 'checker', scale: 0.03, color2: [0.15, 0.15, 0.16] });
  const knob = mat([0.75, 0.75, 0.78], { gloss: 0.6 });
  const p = new Parts()
    .box(-w / 2, 0, -d / 2, w / 2, h - 0.02, d / 2, m)
    .box(-w / 2, h - 0.02, -d / 2, w / 2, h, d / 2 + 0.01, top)
    .box(-w / 2 + 0.06, 0.15, d / 2, w / 2 - 0.06, 0.6, d / 2 + 0.01, glass)
    .cyl(0, 0, 0.66, d / 2 + 0.04, 0.012, w / 2 - 0.08, knob)
    .box(-w / 2 + 0.03, 0.72, d / 2, w / 2 - 0.03, h - 0.04, d / 2 + 0.008, mat(scaleColor(body, 0.7)));
  for (const [bx, bz, br] of [
    [-0.14, -0.13, 0.09],
    [0.14, -0.13, 0.07],
    [-0.14, 0.13, 0.07],
    [0.14, 0.13, 0.09],
  ] as const) {
    p.cyl(1, bx, h + 0.008, bz, br, 0.008, burner);
  }
  for (let i = 0; i < 4; i++) p.cyl(2, -0.2 + i * 0.133, 0.8, d / 2 + 0.02, 0.022, 0.014, knob);
  return { className: 'oven', parts: p.list };
}

function buildMicrowave(r: Rng): Sub {
  const w = r.range(0.45, 0.55);
  const d = r.range(0.33, 0.4);
  const h = r.range(0.26, 0.32);
  const body = r.pick<Vec3>([
    [0.9, 0.9, 0.9],
    [0.2, 0.2, 0.22],
    [0.65, 0.66, 0.68],
    hsv(r.range(0, 360), 0.5, 0.75),
  ]);
  const p = new Parts()
    .box(-w / 2, 0.01, -d / 2, w / 2, h, d / 2, mat(body, { gloss: 0.4 }))
    .box(
      -w / 2 + 0.03,
      0.04,
      d / 2,
      w / 2 - 0.13,
      h - 0.04,
      d / 2 + 0.006,
      mat([0.04, 0.04, 0.05], { gloss: 1, pattern: 'checker', scale: 0.012, color2: [0.12, 0.12, 0.13] }),
    )
    .box(
      w / 2 - 0.11,
      0.04,
      d / 2,
      w / 2 - 0.03,
      h - 0.04,
      d / 2 + 0.006,
      mat([0.25, 0.25, 0.27], { pattern: 'stripes', patternAxis: 1, scale: 0.03, color2: [0.5, 0.5, 0.52] }),
    )
    .box(-w / 2 + 0.03, 0, -d / 2 + 0.03, w / 2 - 0.03, 0.01, d / 2 - 0.03, mat([0.1, 0.1, 0.1]));
  return { className: 'microwave', parts: p.list };
}

function woodColor(r: Rng): Vec3 {
  return hsv(r.range(20, 38), r.range(0.4, 0.65), r.range(0.35, 0.75));
}

function buildTable(r: Rng, w: number, d: number, className = 'table'): Sub {
  const h = r.range(0.72, 0.77);
  const wc = woodColor(r);
  const top = r.chance(0.7)
    ? mat(wc, { pattern: 'wood', patternAxis: 0, scale: 0.12, color2: scaleColor(wc, 0.75), gloss: 0.2 })
    : mat(
        r.pick<Vec3>([
          [0.92, 0.92, 0.9],
          [0.2, 0.2, 0.22],
        ]),
        { gloss: 0.3 },
      );
  const legM = mat(r.chance(0.5) ? scaleColor(wc, 0.7) : [0.15, 0.15, 0.16]);
  const p = new Parts().box(-w / 2, h - 0.035, -d / 2, w / 2, h, d / 2, top);
  const round = r.chance(0.5);
  for (const sx of [-1, 1]) {
    for (const sz of [-1, 1]) {
      const x = sx * (w / 2 - 0.07);
      const z = sz * (d / 2 - 0.07);
      if (round) p.cyl(1, x, (h - 0.035) / 2, z, 0.025, (h - 0.035) / 2, legM);
      else p.box(x - 0.025, 0, z - 0.025, x + 0.025, h - 0.035, z + 0.025, legM);
    }
  }
  p.box(-w / 2 + 0.08, h - 0.11, -d / 2 + 0.08, w / 2 - 0.08, h - 0.035, d / 2 - 0.08, legM);
  return {
    className,
    parts: p.list,
    supports: [
      { rect: { minX: -w / 2 + 0.04, maxX: w / 2 - 0.04, minZ: -d / 2 + 0.04, maxZ: d / 2 - 0.04 }, y: h },
    ],
  };
}

function buildChair(r: Rng, style: { seat: Material; frame: Material; office: boolean }): Sub {
  const w = 0.46;
  const d = 0.46;
  const sh = 0.46;
  const p = new Parts();
  if (style.office) {
    p.cyl(1, 0, 0.03, 0, 0.3, 0.03, style.frame).cyl(1, 0, 0.24, 0, 0.03, 0.18, style.frame);
    p.box(-w / 2, sh - 0.08, -d / 2, w / 2, sh, d / 2, style.seat);
    p.box(-w / 2 + 0.02, sh + 0.1, -d / 2, w / 2 - 0.02, sh + 0.55, -d / 2 + 0.07, style.seat);
    p.box(-0.03, sh, -d / 2 + 0.01, 0.03, sh + 0.12, -d / 2 + 0.05, style.frame);
  } else {
    p.box(-w / 2, sh - 0.05, -d / 2, w / 2, sh, d / 2, style.seat);
    for (const sx of [-1, 1]) {
      for (const sz of [-1, 1]) {
        const x = sx * (w / 2 - 0.03);
        const z = sz * (d / 2 - 0.03);
        p.box(x - 0.02, 0, z - 0.02, x + 0.02, sh - 0.05, z + 0.02, style.frame);
      }
      p.box(
        sx * (w / 2 - 0.03) - 0.02,
        sh,
        -d / 2 + 0.01,
        sx * (w / 2 - 0.03) + 0.02,
        sh + 0.45,
        -d / 2 + 0.05,
        style.frame,
      );
    }
    p.box(-w / 2 + 0.01, sh + 0.2, -d / 2 + 0.01, w / 2 - 0.01, sh + 0.43, -d / 2 + 0.045, style.seat);
  }
  void r;
  return { className: 'chair', parts: p.list };
}

function chairStyle(r: Rng, office: boolean): { seat: Material; frame: Material; office: boolean } {
  const seatC = r.chance(0.5) ? woodColor(r) : hsv(r.range(0, 360), r.range(0.35, 0.7), r.range(0.35, 0.8));
  return {
    seat: mat(seatC, { pattern: office ? 'fabric' : 'noise', scale: 0.02, color2: scaleColor(seatC, 0.85) }),
    frame: mat(r.chance(0.5) ? scaleColor(seatC, 0.6) : [0.12, 0.12, 0.13], { gloss: 0.3 }),
    office,
  };
}

function buildMug(r: Rng): Sub {
  const c = hsv(r.range(0, 360), r.range(0.5, 0.9), r.range(0.6, 0.95));
  const m = mat(c, {
    gloss: 0.6,
    pattern: r.chance(0.4) ? 'stripes' : 'solid',
    patternAxis: 1,
    scale: 0.03,
    color2: [0.95, 0.95, 0.95],
  });
  const rad = r.range(0.037, 0.045);
  const h = r.range(0.09, 0.11);
  const p = new Parts()
    .cyl(1, 0, h / 2, 0, rad, h / 2, m)
    .box(rad - 0.004, h * 0.25, -0.006, rad + 0.028, h * 0.8, 0.006, m);
  p.cyl(1, 0, h - 0.004, 0, rad - 0.006, 0.005, mat([0.25, 0.15, 0.08]));
  return { className: 'mug', parts: p.list };
}

function buildBottle(r: Rng): Sub {
  const c = hsv(r.pick([120, 140, 30, 200, 0]), r.range(0.5, 0.9), r.range(0.35, 0.8));
  const m = mat(c, { gloss: 0.9 });
  const rad = r.range(0.035, 0.045);
  const h = r.range(0.22, 0.3);
  const p = new Parts()
    .cyl(1, 0, h * 0.35, 0, rad, h * 0.35, m)
    .cyl(1, 0, h * 0.7 + 0.01, 0, rad * 0.7, h * 0.1 + 0.01, m)
    .cyl(1, 0, h * 0.88, 0, rad * 0.35, h * 0.1, m)
    .cyl(1, 0, h * 0.98 + 0.005, 0, rad * 0.4, 0.012, mat(hsv(r.range(0, 360), 0.8, 0.8)))
    .cyl(
      1,
      0,
      h * 0.35,
      0,
      rad + 0.001,
      h * 0.14,
      mat([0.95, 0.93, 0.85], {
        pattern: 'stripes',
        patternAxis: 1,
        scale: 0.02,
        color2: hsv(r.range(0, 360), 0.7, 0.7),
      }),
    );
  return { className: 'bottle', parts: p.list };
}

function buildLaptop(r: Rng): Sub {
  const w = r.range(0.31, 0.36);
  const d = r.range(0.21, 0.24);
  const body = r.pick<Vec3>([
    [0.75, 0.76, 0.78],
    [0.2, 0.2, 0.22],
    [0.55, 0.56, 0.6],
  ]);
  const m = mat(body, { gloss: 0.5 });
  const screenH = d * 0.95;
  const p = new Parts()
    .box(-w / 2, 0, -d / 2, w / 2, 0.018, d / 2, m)
    .box(
      -w / 2 + 0.02,
      0.018,
      -d / 2 + 0.02,
      w / 2 - 0.02,
      0.0195,
      d / 2 - 0.08,
      mat([0.08, 0.08, 0.09], { pattern: 'checker', scale: 0.018, color2: [0.18, 0.18, 0.2] }),
    )
    .box(-w / 2, 0.018, -d / 2 - 0.008, w / 2, 0.018 + screenH, -d / 2, m)
    .box(
      -w / 2 + 0.012,
      0.03,
      -d / 2,
      w / 2 - 0.012,
      0.006 + screenH,
      -d / 2 + 0.002,
      mat(hsv(r.range(180, 260), 0.5, 0.9), {
        pattern: 'screen',
        scale: 0.05,
        emissive: 0.75,
        color2: hsv(r.range(0, 360), 0.6, 0.8),
      }),
    );
  return { className: 'laptop', parts: p.list };
}

function buildPlant(r: Rng, big: boolean): Sub {
  const potR = big ? r.range(0.16, 0.22) : r.range(0.08, 0.11);
  const potH = big ? r.range(0.3, 0.4) : r.range(0.12, 0.16);
  const potC = r.pick<Vec3>([
    hsv(18, 0.65, 0.65),
    [0.92, 0.92, 0.9],
    [0.2, 0.2, 0.22],
    hsv(r.range(180, 220), 0.4, 0.6),
  ]);
  const leaf = hsv(r.range(95, 135), r.range(0.5, 0.75), r.range(0.35, 0.6));
  const lm = mat(leaf, { pattern: 'noise', scale: 0.04, color2: scaleColor(leaf, 0.55) });
  const p = new Parts().cyl(1, 0, potH / 2, 0, potR, potH / 2, mat(potC, { gloss: 0.3 }));
  p.cyl(1, 0, potH - 0.01, 0, potR - 0.015, 0.012, mat([0.25, 0.17, 0.1], { pattern: 'noise', scale: 0.02 }));
  if (big) {
    const fh = r.range(0.6, 1.1);
    p.cyl(1, 0, potH + fh * 0.3, 0, 0.02, fh * 0.3, mat([0.35, 0.25, 0.15]));
    p.ell(0, potH + fh * 0.65, 0, potR * 1.7, fh * 0.4, potR * 1.7, lm);
    p.ell(potR * 0.6, potH + fh * 0.45, potR * 0.3, potR * 1.2, fh * 0.25, potR * 1.2, lm);
  } else {
    p.ell(0, potH + potR * 0.9, 0, potR * 1.4, potR * 1.2, potR * 1.4, lm);
  }
  return { className: 'plant', parts: p.list };
}

function buildTrashCan(r: Rng): Sub {
  const rad = r.range(0.14, 0.19);
  const h = r.range(0.4, 0.6);
  const c = r.pick<Vec3>([
    [0.7, 0.71, 0.73],
    [0.15, 0.15, 0.16],
    hsv(r.range(0, 360), 0.6, 0.7),
    [0.9, 0.9, 0.9],
  ]);
  const p = new Parts()
    .cyl(
      1,
      0,
      h / 2,
      0,
      rad,
      h / 2,
      mat(c, { gloss: 0.6, pattern: 'stripes', patternAxis: 0, scale: 0.04, color2: scaleColor(c, 0.85) }),
    )
    .cyl(1, 0, h + 0.015, 0, rad + 0.01, 0.015, mat(scaleColor(c, 0.6), { gloss: 0.5 }))
    .box(-0.04, h + 0.03, -0.01, 0.04, h + 0.05, 0.01, mat([0.1, 0.1, 0.1]));
  return { className: 'trash can', parts: p.list };
}

function buildSofa(r: Rng, w: number): Sub {
  const d = r.range(0.85, 0.95);
  const c = hsv(r.range(0, 360), r.range(0.25, 0.6), r.range(0.35, 0.7));
  const fab = mat(c, { pattern: 'fabric', scale: 0.015, color2: scaleColor(c, 0.82) });
  const dark = mat(scaleColor(c, 0.75), { pattern: 'fabric', scale: 0.015, color2: scaleColor(c, 0.6) });
  const legs = mat([0.2, 0.14, 0.08]);
  const arm = 0.18;
  const p = new Parts()
    .box(-w / 2, 0.08, -d / 2, w / 2, 0.42, d / 2, dark)
    .box(-w / 2, 0.42, -d / 2, w / 2, 0.85, -d / 2 + 0.2, dark)
    .box(-w / 2, 0.42, -d / 2, -w / 2 + arm, 0.62, d / 2, dark)
    .box(w / 2 - arm, 0.42, -d / 2, w / 2, 0.62, d / 2, dark);
  const n = w > 1.9 ? 3 : 2;
  const cw = (w - 2 * arm) / n;
  for (let i = 0; i < n; i++) {
    const x0 = -w / 2 + arm + i * cw;
    p.box(x0 + 0.005, 0.42, -d / 2 + 0.2, x0 + cw - 0.005, 0.52, d / 2 - 0.01, fab);
  }
  const pc = hsv(r.range(0, 360), 0.6, 0.85);
  p.ell(
    -w / 2 + arm + 0.22,
    0.7,
    -d / 2 + 0.3,
    0.2,
    0.17,
    0.07,
    mat(pc, { pattern: 'checker', scale: 0.06, color2: scaleColor(pc, 0.6) }),
  );
  p.ell(
    w / 2 - arm - 0.22,
    0.7,
    -d / 2 + 0.3,
    0.2,
    0.17,
    0.07,
    mat(pc, { pattern: 'checker', scale: 0.06, color2: scaleColor(pc, 0.6) }),
  );
  for (const sx of [-1, 1])
    for (const sz of [-1, 1])
      p.box(
        sx * (w / 2 - 0.06) - 0.03,
        0,
        sz * (d / 2 - 0.06) - 0.03,
        sx * (w / 2 - 0.06) + 0.03,
        0.08,
        sz * (d / 2 - 0.06) + 0.03,
        legs,
      );
  return { className: 'sofa', parts: p.list };
}

function buildTvStand(r: Rng, w: number): Sub {
  const d = 0.42;
  const h = r.range(0.45, 0.55);
  const wc = woodColor(r);
  const m = r.chance(0.5)
    ? mat(wc, { pattern: 'wood', patternAxis: 0, scale: 0.1, color2: scaleColor(wc, 0.75) })
    : mat(
        r.pick<Vec3>([
          [0.9, 0.9, 0.88],
          [0.15, 0.15, 0.16],
        ]),
        { gloss: 0.3 },
      );
  const front = {
    ...m,
    pattern: 'stripes' as Pattern,
    patternAxis: 0 as Axis,
    scale: w / 3,
    color2: scaleColor(m.color, 0.7),
  };
  const p = new Parts()
    .box(-w / 2, 0.06, -d / 2, w / 2, h, d / 2 - 0.02, m)
    .box(-w / 2 + 0.01, 0.08, d / 2 - 0.02, w / 2 - 0.01, h - 0.02, d / 2, front)
    .box(-w / 2 + 0.05, 0, -d / 2 + 0.05, w / 2 - 0.05, 0.06, d / 2 - 0.05, mat([0.1, 0.1, 0.1]));
  return {
    className: 'cabinet',
    parts: p.list,
    supports: [
      { rect: { minX: -w / 2 + 0.03, maxX: w / 2 - 0.03, minZ: -d / 2 + 0.03, maxZ: d / 2 - 0.03 }, y: h },
    ],
  };
}

function buildTv(r: Rng, y: number, w: number): Sub {
  const h = w * 0.58;
  const bezel = mat([0.05, 0.05, 0.06], { gloss: 0.8 });
  const screen = mat(hsv(r.range(0, 360), 0.6, 0.8), {
    pattern: 'screen',
    scale: w / 4,
    emissive: 0.85,
    color2: hsv(r.range(0, 360), 0.7, 0.7),
    gloss: 0.5,
  });
  const p = new Parts()
    .box(-0.15, y, -0.12, 0.15, y + 0.02, 0.08, bezel)
    .box(-0.03, y + 0.02, -0.06, 0.03, y + 0.12, -0.02, bezel)
    .box(-w / 2, y + 0.1, -0.07, w / 2, y + 0.1 + h, -0.02, bezel)
    .box(-w / 2 + 0.015, y + 0.115, -0.02, w / 2 - 0.015, y + 0.085 + h, -0.017, screen);
  return { className: 'tv', parts: p.list };
}

function buildBookshelf(r: Rng): Sub {
  const w = r.range(0.75, 1.0);
  const d = r.range(0.28, 0.35);
  const h = r.range(1.6, 2.0);
  const wc = r.chance(0.6)
    ? woodColor(r)
    : r.pick<Vec3>([
        [0.92, 0.92, 0.9],
        [0.15, 0.15, 0.16],
      ]);
  const m = mat(wc, { pattern: 'wood', patternAxis: 1, scale: 0.1, color2: scaleColor(wc, 0.8) });
  const p = new Parts()
    .box(-w / 2, 0, -d / 2, -w / 2 + 0.025, h, d / 2, m)
    .box(w / 2 - 0.025, 0, -d / 2, w / 2, h, d / 2, m)
    .box(-w / 2, h - 0.025, -d / 2, w / 2, h, d / 2, m)
    .box(-w / 2, 0, -d / 2, w / 2, 0.06, d / 2, m)
    .box(-w / 2, 0, -d / 2, w / 2, h, -d / 2 + 0.01, mat(scaleColor(wc, 0.7)));
  const shelves = Math.max(3, Math.floor(h / 0.38));
  const gap = (h - 0.085) / shelves;
  for (let s = 0; s < shelves; s++) {
    const y0 = 0.06 + s * gap;
    if (s > 0) p.box(-w / 2 + 0.025, y0 - 0.02, -d / 2 + 0.01, w / 2 - 0.025, y0, d / 2, m);
    let x = -w / 2 + 0.03;
    const end = w / 2 - 0.03;
    while (x < end - 0.05) {
      if (r.chance(0.12)) {
        x += r.range(0.05, 0.15);
        continue;
      }
      const bw = r.range(0.02, 0.05);
      if (x + bw > end) break;
      const bh = Math.min(gap - 0.05, r.range(0.18, 0.3));
      const bd = r.range(0.15, d - 0.04);
      const bc = hsv(
        r.pick([0, 30, 50, 120, 210, 260, 330]) + r.range(-15, 15),
        r.range(0.3, 0.85),
        r.range(0.3, 0.85),
      );
      p.box(
        x,
        y0,
        -d / 2 + 0.015,
        x + bw,
        y0 + bh,
        -d / 2 + 0.015 + bd,
        mat(bc, { pattern: 'stripes', patternAxis: 1, scale: bh / 1.5, color2: scaleColor(bc, 0.6) }),
      );
      x += bw + 0.002;
    }
  }
  return { className: 'bookshelf', parts: p.list };
}

function buildLamp(r: Rng): Sub {
  const h = r.range(1.45, 1.75);
  const metal = mat(
    r.pick<Vec3>([
      [0.15, 0.15, 0.16],
      [0.75, 0.7, 0.55],
      [0.8, 0.8, 0.82],
    ]),
    { gloss: 0.8 },
  );
  const shadeC = hsv(r.range(30, 50), r.range(0.15, 0.4), 0.95);
  const p = new Parts()
    .cyl(1, 0, 0.015, 0, 0.16, 0.015, metal)
    .cyl(1, 0, h / 2, 0, 0.015, h / 2 - 0.02, metal)
    .cyl(
      1,
      0,
      h - 0.05,
      0,
      r.range(0.17, 0.22),
      0.14,
      mat(shadeC, { emissive: 0.55, pattern: 'fabric', scale: 0.01, color2: scaleColor(shadeC, 0.9) }),
    );
  return { className: 'lamp', parts: p.list };
}

function buildRug(r: Rng, w: number, d: number): Sub {
  const c = hsv(r.range(0, 360), r.range(0.3, 0.7), r.range(0.35, 0.75));
  const c2 = hsv(r.range(0, 360), r.range(0.2, 0.5), r.range(0.6, 0.9));
  const pattern = r.pick<Pattern>(['stripes', 'checker', 'noise']);
  const p = new Parts().box(
    -w / 2,
    0,
    -d / 2,
    w / 2,
    0.012,
    d / 2,
    mat(c, { pattern, patternAxis: 0, scale: r.range(0.15, 0.35), color2: c2 }),
  );
  return { className: 'rug', parts: p.list };
}

function buildBed(r: Rng): Sub {
  const w = r.range(1.4, 1.65);
  const len = r.range(2.0, 2.1);
  const wc = woodColor(r);
  const frame = mat(wc, { pattern: 'wood', patternAxis: 2, scale: 0.1, color2: scaleColor(wc, 0.8) });
  const sheet = mat([0.93, 0.93, 0.9], { pattern: 'fabric', scale: 0.01, color2: [0.85, 0.85, 0.83] });
  const bc = hsv(r.range(0, 360), r.range(0.3, 0.7), r.range(0.45, 0.8));
  const blanket = mat(bc, {
    pattern: r.pick<Pattern>(['stripes', 'checker', 'fabric']),
    patternAxis: 0,
    scale: r.range(0.08, 0.2),
    color2: scaleColor(bc, 0.65),
  });
  const z0 = -len / 2;
  const p = new Parts()
    .box(-w / 2, 0.05, z0, w / 2, 0.3, len / 2, frame)
    .box(-w / 2, 0, z0, w / 2, 1.0, z0 + 0.06, frame)
    .box(-w / 2 + 0.03, 0.3, z0 + 0.06, w / 2 - 0.03, 0.52, len / 2 - 0.02, sheet)
    .box(-w / 2 + 0.01, 0.3, z0 + 0.7, w / 2 - 0.01, 0.55, len / 2, blanket);
  const pw = (w - 0.2) / 2;
  for (const sx of [-1, 1])
    p.ell(
      sx * (pw / 2 + 0.04),
      0.58,
      z0 + 0.3,
      pw / 2,
      0.07,
      0.17,
      mat([0.97, 0.97, 0.95], { pattern: 'fabric', scale: 0.01 }),
    );
  return { className: 'bed', parts: p.list };
}

function buildDesk(r: Rng, w: number): Sub {
  const d = r.range(0.6, 0.7);
  const h = 0.74;
  const c = r.chance(0.5)
    ? woodColor(r)
    : r.pick<Vec3>([
        [0.93, 0.93, 0.92],
        [0.2, 0.2, 0.22],
      ]);
  const m = mat(c, { pattern: 'wood', patternAxis: 0, scale: 0.15, color2: scaleColor(c, 0.85), gloss: 0.2 });
  const side = mat(scaleColor(c, 0.8));
  const p = new Parts()
    .box(-w / 2, h - 0.03, -d / 2, w / 2, h, d / 2, m)
    .box(-w / 2, 0, -d / 2 + 0.02, -w / 2 + 0.03, h - 0.03, d / 2 - 0.02, side)
    .box(w / 2 - 0.03, 0, -d / 2 + 0.02, w / 2, h - 0.03, d / 2 - 0.02, side)
    .box(-w / 2 + 0.03, h - 0.4, -d / 2 + 0.02, w / 2 - 0.03, h - 0.03, -d / 2 + 0.04, side);
  if (r.chance(0.6))
    p.box(
      w / 2 - 0.45,
      0.02,
      -d / 2 + 0.05,
      w / 2 - 0.03,
      h - 0.03,
      d / 2 - 0.05,
      mat(scaleColor(c, 0.9), {
        pattern: 'stripes',
        patternAxis: 1,
        scale: 0.22,
        color2: scaleColor(c, 0.6),
      }),
    );
  return {
    className: 'desk',
    parts: p.list,
    supports: [
      { rect: { minX: -w / 2 + 0.03, maxX: w / 2 - 0.03, minZ: -d / 2 + 0.03, maxZ: d / 2 - 0.03 }, y: h },
    ],
  };
}

function buildMonitor(r: Rng, y: number, z: number): Sub {
  const w = r.range(0.5, 0.62);
  const h = w * 0.58;
  const black = mat([0.06, 0.06, 0.07], { gloss: 0.6 });
  const p = new Parts()
    .box(-0.11, y, z - 0.08, 0.11, y + 0.015, z + 0.08, black)
    .box(-0.025, y + 0.015, z - 0.05, 0.025, y + 0.15, z - 0.03, black)
    .box(-w / 2, y + 0.11, z - 0.03, w / 2, y + 0.11 + h, z, black)
    .box(
      -w / 2 + 0.01,
      y + 0.12,
      z,
      w / 2 - 0.01,
      y + 0.1 + h,
      z + 0.002,
      mat(hsv(r.range(180, 240), 0.4, 0.9), {
        pattern: 'screen',
        scale: 0.08,
        emissive: 0.8,
        color2: [0.95, 0.95, 0.95],
      }),
    );
  return { className: 'monitor', parts: p.list };
}

function buildKeyboard(r: Rng, y: number, z: number): Sub {
  const c = r.pick<Vec3>([
    [0.12, 0.12, 0.13],
    [0.9, 0.9, 0.9],
  ]);
  const p = new Parts()
    .box(-0.22, y, z - 0.07, 0.22, y + 0.018, z + 0.07, mat(c))
    .box(
      -0.21,
      y + 0.018,
      z - 0.06,
      0.21,
      y + 0.022,
      z + 0.06,
      mat(scaleColor(c, 1.3), { pattern: 'checker', scale: 0.019, color2: scaleColor(c, 0.5) }),
    );
  return { className: 'keyboard', parts: p.list };
}

// ---------------------------------------------------------------------------------------------------------
// Layout

type Side = 'N' | 'S' | 'W' | 'E';

interface Wall {
  room: number;
  side: Side;
  /** Inward normal. */
  n: [number, number];
  /** Yaw step turning local +z onto the inward normal. */
  k: number;
  exterior: boolean;
}

interface Footprint extends Rect2 {
  top: number;
  low: boolean;
}

interface Support {
  rect: Rect2;
  y: number;
  room: number;
  k: number;
  taken: Rect2[];
}

function overlaps(a: Rect2, b: Rect2, margin: number): boolean {
  return (
    a.minX < b.maxX + margin &&
    b.minX < a.maxX + margin &&
    a.minZ < b.maxZ + margin &&
    b.minZ < a.maxZ + margin
  );
}

function wallK(side: Side): number {
  // Inward normal: N wall (min z) -> +z, S -> -z, W (min x) -> +x, E -> -x.
  return side === 'N' ? 0 : side === 'W' ? 1 : side === 'S' ? 2 : 3;
}

function wallNormal(side: Side): [number, number] {
  return side === 'N' ? [0, 1] : side === 'S' ? [0, -1] : side === 'W' ? [1, 0] : [-1, 0];
}

class Layout {
  readonly prims: Primitive[] = [];
  readonly instances: SceneInstance[] = [];
  readonly footprints: Footprint[] = [];
  readonly reserved: Rect2[] = [];
  readonly supports: Support[] = [];
  readonly targets: ViewTarget[] = [];
  /** Occupied wall intervals for wall decor: key room:side -> [lo, hi, bottomY, topY]. */
  readonly wallUse = new Map<string, [number, number, number, number][]>();

  constructor(
    readonly rooms: RoomRect[],
    readonly floorY: number,
    readonly rng: Rng,
  ) {}

  addStructure(parts: Part[]): void {
    for (const p of parts)
      this.prims.push({ kind: p.kind, center: p.c, half: p.h, axis: p.axis, instanceId: 0, material: p.mat });
  }

  /** Add already-placed subs as instances; returns their ids. */
  commit(subs: Sub[], room: number, k: number): number[] {
    const ids: number[] = [];
    for (const s of subs) {
      const id = this.instances.length + 1;
      const idx: number[] = [];
      for (const p of s.parts) {
        idx.push(this.prims.length);
        this.prims.push({
          kind: p.kind,
          center: p.c,
          half: p.h,
          axis: p.axis,
          instanceId: id,
          material: p.mat,
        });
      }
      this.instances.push({ id, className: s.className, room, primitives: idx });
      for (const sp of s.supports ?? []) this.supports.push({ rect: sp.rect, y: sp.y, room, k, taken: [] });
      ids.push(id);
    }
    return ids;
  }

  walls(room: number): Wall[] {
    const out: Wall[] = [];
    for (const side of ['N', 'S', 'W', 'E'] as Side[]) {
      const exterior = !((room === 0 && side === 'E') || (room === 1 && side === 'W'));
      out.push({ room, side, n: wallNormal(side), k: wallK(side), exterior });
    }
    return out;
  }

  /** World footprint and a world placement of `subs` (local frame) turned by k and moved to (x, z). */
  placed(subs: Sub[], k: number, x: number, z: number, y: number): { subs: Sub[]; fp: Rect2; top: number } {
    const moved = subs.map((s) => moveSub(s, k, x, y, z));
    const b = itemBounds(moved);
    return {
      subs: moved,
      fp: { minX: b.min[0], maxX: b.max[0], minZ: b.min[2], maxZ: b.max[2] },
      top: b.max[1],
    };
  }

  fits(fp: Rect2, room: number, margin: number, ignoreLow = false): boolean {
    const r = this.rooms[room]!;
    if (
      fp.minX < r.minX + 0.005 ||
      fp.maxX > r.maxX - 0.005 ||
      fp.minZ < r.minZ + 0.005 ||
      fp.maxZ > r.maxZ - 0.005
    )
      return false;
    for (const f of this.footprints) if ((!ignoreLow || !f.low) && overlaps(fp, f, margin)) return false;
    for (const z of this.reserved) if (overlaps(fp, z, 0)) return false;
    return true;
  }

  /** Doorway between the rooms (set once the structure is built); used by the walkability check. */
  doorway: Rect2 | null = null;

  /**
   * Would the room's free floor (what a person of radius ~0.33 m can reach) stay in one piece, connected to the
   * doorway, with `fp` added as an obstacle? Keeps every layout walkable for the camera path.
   */
  keepsWalkable(room: number, fp: Rect2): boolean {
    const r = this.rooms[room]!;
    const cell = 0.1;
    const inset = 0.37;
    const dil = 0.33;
    const nx = Math.max(1, Math.floor((r.maxX - r.minX - 2 * inset) / cell) + 1);
    const nz = Math.max(1, Math.floor((r.maxZ - r.minZ - 2 * inset) / cell) + 1);
    const free = new Uint8Array(nx * nz);
    const obs = [...this.footprints.filter((f) => !f.low && f.maxX > r.minX && f.minX < r.maxX), fp];
    let total = 0;
    for (let iz = 0; iz < nz; iz++) {
      for (let ix = 0; ix < nx; ix++) {
        const x = r.minX + inset + ix * cell,
          z = r.minZ + inset + iz * cell;
        const blocked = obs.some(
          (o) => x > o.minX - dil && x < o.maxX + dil && z > o.minZ - dil && z < o.maxZ + dil,
        );
        if (!blocked) {
          free[iz * nx + ix] = 1;
          total++;
        }
      }
    }
    if (!this.doorway) return true;
    // start next to the doorway
    const dzMid = (this.doorway.minZ + this.doorway.maxZ) / 2;
    const sx = Math.abs(r.minX - this.doorway.maxX) < Math.abs(r.maxX - this.doorway.minX) ? 0 : nx - 1;
    const sz = Math.min(nz - 1, Math.max(0, Math.round((dzMid - r.minZ - inset) / cell)));
    const start = sz * nx + sx;
    if (!free[start]) return false;
    const stack = [start];
    free[start] = 2;
    let seen = 1;
    while (stack.length > 0) {
      const c = stack.pop()!;
      const cx = c % nx,
        cz = (c - cx) / nx;
      const nbrs = [
        cx > 0 ? c - 1 : -1,
        cx < nx - 1 ? c + 1 : -1,
        cz > 0 ? c - nx : -1,
        cz < nz - 1 ? c + nx : -1,
      ];
      for (const n of nbrs) {
        if (n >= 0 && free[n] === 1) {
          free[n] = 2;
          seen++;
          stack.push(n);
        }
      }
    }
    return seen >= total * 0.97;
  }

  /** Point on a wall (inner face) at tangent parameter t in [0, 1], plus the wall length. */
  wallFrame(w: Wall): { x0: number; z0: number; tx: number; tz: number; len: number } {
    const r = this.rooms[w.room]!;
    switch (w.side) {
      case 'N':
        return { x0: r.minX, z0: r.minZ, tx: 1, tz: 0, len: r.maxX - r.minX };
      case 'S':
        return { x0: r.minX, z0: r.maxZ, tx: 1, tz: 0, len: r.maxX - r.minX };
      case 'W':
        return { x0: r.minX, z0: r.minZ, tx: 0, tz: 1, len: r.maxZ - r.minZ };
      default:
        return { x0: r.maxX, z0: r.minZ, tx: 0, tz: 1, len: r.maxZ - r.minZ };
    }
  }

  /** Try to place `item` against wall `w` with its centre at tangent parameter `t`; commits on success. */
  tryWall(
    item: Item,
    room: number,
    w: Wall,
    t: number,
    opts: { margin?: number; low?: boolean; target?: boolean },
  ): { ids: number[]; wall: Wall; fp: Rect2 } | null {
    const b = itemBounds(item.subs);
    const back = -b.min[2] + 0.01;
    const f = this.wallFrame(w);
    const x = f.x0 + f.tx * t + w.n[0] * back;
    const z = f.z0 + f.tz * t + w.n[1] * back;
    const pl = this.placed(item.subs, w.k, x, z, this.floorY);
    if (!this.fits(pl.fp, room, opts.margin ?? 0.04, opts.low)) return null;
    if (!opts.low && !this.keepsWalkable(room, pl.fp)) return null;
    const ids = this.commit(pl.subs, room, w.k);
    this.footprints.push({ ...pl.fp, top: pl.top, low: opts.low ?? false });
    const lo = f.tx !== 0 ? pl.fp.minX - f.x0 : pl.fp.minZ - f.z0;
    const hi = f.tx !== 0 ? pl.fp.maxX - f.x0 : pl.fp.maxZ - f.z0;
    this.useWall(w, lo, hi, this.floorY, pl.top);
    if (opts.target !== false) this.addTarget(item.name, pl.subs, ids, room, w.n);
    return { ids, wall: w, fp: pl.fp };
  }

  /**
   * Place an item with its back against a wall of `room`: tries the walls in `walls` order (default: all,
   * shuffled) at random positions. Returns the committed ids or null when nothing fits.
   */
  placeAgainstWall(
    item: Item,
    room: number,
    opts: { walls?: Wall[]; margin?: number; low?: boolean; target?: boolean } = {},
  ): { ids: number[]; wall: Wall; fp: Rect2 } | null {
    const walls = opts.walls ?? this.rng.shuffled(this.walls(room));
    for (const w of walls) {
      const f = this.wallFrame(w);
      for (let attempt = 0; attempt < 60; attempt++) {
        const got = this.tryWall(item, room, w, this.rng.range(0, f.len), opts);
        if (got) return got;
      }
    }
    return null;
  }

  /** Like placeAgainstWall but falls back to the other room. */
  placeAnyRoom(
    item: Item,
    room: number,
    opts: { margin?: number } = {},
  ): { ids: number[]; wall: Wall; fp: Rect2 } | null {
    return this.placeAgainstWall(item, room, opts) ?? this.placeAgainstWall(item, 1 - room, opts);
  }

  /** Place an item free-standing in the room (random yaw step). */
  placeFree(
    item: Item,
    room: number,
    margin: number,
    k?: number,
    low = false,
    target = true,
  ): { ids: number[]; fp: Rect2 } | null {
    const r = this.rooms[room]!;
    for (const m of [margin, margin * 0.75, margin * 0.5]) {
      for (let attempt = 0; attempt < 120; attempt++) {
        const kk = k ?? this.rng.int(0, 3);
        const x = this.rng.range(r.minX, r.maxX);
        const z = this.rng.range(r.minZ, r.maxZ);
        const pl = this.placed(item.subs, kk, x, z, this.floorY);
        if (!this.fits(pl.fp, room, m, low)) continue;
        // keep a walkway to the walls too
        if (
          !low &&
          (pl.fp.minX - r.minX < m ||
            r.maxX - pl.fp.maxX < m ||
            pl.fp.minZ - r.minZ < m ||
            r.maxZ - pl.fp.maxZ < m)
        )
          continue;
        if (!low && !this.keepsWalkable(room, pl.fp)) continue;
        const ids = this.commit(pl.subs, room, kk);
        this.footprints.push({ ...pl.fp, top: pl.top, low });
        if (target) this.addTarget(item.name, pl.subs, ids, room, null);
        return { ids, fp: pl.fp };
      }
    }
    return null;
  }

  useWall(w: Wall, lo: number, hi: number, y0: number, y1: number): void {
    const key = `${w.room}:${w.side}`;
    const list = this.wallUse.get(key) ?? [];
    list.push([lo, hi, y0, y1]);
    this.wallUse.set(key, list);
  }

  wallFree(w: Wall, lo: number, hi: number, y0: number, y1: number): boolean {
    for (const [a, b, c, d] of this.wallUse.get(`${w.room}:${w.side}`) ?? []) {
      if (lo < b + 0.05 && a < hi + 0.05 && y0 < d + 0.05 && c < y1 + 0.05) return false;
    }
    return true;
  }

  /** Something mounted on a wall (decor): `build` gives parts with back at z=0; placed at height y0..y1. */
  placeOnWall(sub: Sub, room: number, walls: Wall[], y0: number, y1: number, name: string): number[] | null {
    const b = itemBounds([sub]);
    const halfW = (b.max[0] - b.min[0]) / 2;
    for (const w of walls) {
      const f = this.wallFrame(w);
      for (let attempt = 0; attempt < 40; attempt++) {
        const t = this.rng.range(halfW + 0.15, f.len - halfW - 0.15);
        if (!(t > 0)) break;
        if (!this.wallFree(w, t - halfW, t + halfW, y0, y1)) continue;
        const x = f.x0 + f.tx * t;
        const z = f.z0 + f.tz * t;
        const pl = this.placed([sub], w.k, x, z, 0);
        if (this.footprints.some((fp) => !fp.low && fp.top > y0 && overlaps(pl.fp, fp, 0.01))) continue;
        const ids = this.commit(pl.subs, room, w.k);
        this.useWall(w, t - halfW, t + halfW, y0, y1);
        this.addTarget(name, pl.subs, ids, room, w.n);
        return ids;
      }
    }
    return null;
  }

  /** Does any part of `subs` overlap (by more than -margin) a primitive of an existing object? */
  collides(subs: Sub[], margin: number): boolean {
    for (const sub of subs) {
      for (const p of sub.parts) {
        for (const q of this.prims) {
          if (q.instanceId === 0) continue;
          if (
            Math.abs(p.c[0] - q.center[0]) < p.h[0] + q.half[0] + margin &&
            Math.abs(p.c[1] - q.center[1]) < p.h[1] + q.half[1] + margin &&
            Math.abs(p.c[2] - q.center[2]) < p.h[2] + q.half[2] + margin
          ) {
            return true;
          }
        }
      }
    }
    return false;
  }

  addTarget(name: string, subs: Sub[], ids: number[], room: number, facing: [number, number] | null): void {
    const b = itemBounds(subs);
    const center: Vec3 = [(b.min[0] + b.max[0]) / 2, (b.min[1] + b.max[1]) / 2, (b.min[2] + b.max[2]) / 2];
    const radius = 0.5 * Math.hypot(b.max[0] - b.min[0], b.max[1] - b.min[1], b.max[2] - b.min[2]);
    this.targets.push({ name, center, radius, facing, room, instanceIds: ids });
  }

  /** Put a small object on a free spot of a support surface in `room` (any support when `room` < 0). */
  placeOnSupport(sub: Sub, pred: (s: Support) => boolean, faceK?: number, name?: string): number[] | null {
    const cands = this.rng.shuffled(this.supports.filter(pred));
    for (const s of cands) {
      for (let attempt = 0; attempt < 30; attempt++) {
        const k = faceK ?? (this.rng.chance(0.6) ? s.k : this.rng.int(0, 3));
        const probe = this.placed([sub], k, 0, 0, 0);
        const hw = (probe.fp.maxX - probe.fp.minX) / 2;
        const hd = (probe.fp.maxZ - probe.fp.minZ) / 2;
        const cx0 = (probe.fp.maxX + probe.fp.minX) / 2;
        const cz0 = (probe.fp.maxZ + probe.fp.minZ) / 2;
        if (s.rect.maxX - s.rect.minX < 2 * hw || s.rect.maxZ - s.rect.minZ < 2 * hd) break;
        const cx = this.rng.range(s.rect.minX + hw, s.rect.maxX - hw);
        const cz = this.rng.range(s.rect.minZ + hd, s.rect.maxZ - hd);
        const pl = this.placed([sub], k, cx - cx0, cz - cz0, s.y + 0.001);
        if (s.taken.some((t) => overlaps(pl.fp, t, 0.03))) continue;
        if (this.collides(pl.subs, 0)) continue;
        s.taken.push(pl.fp);
        const ids = this.commit(pl.subs, s.room, k);
        if (name) this.addTarget(name, pl.subs, ids, s.room, null);
        return ids;
      }
    }
    return null;
  }
}

function kitchenRun(r: Rng): { item: Item; sinkX: number; counterY: number; cabXs: [number, number][] } {
  const cm = counterMaterials(r);
  const fridge = buildFridge(r);
  const fb = itemBounds([fridge]);
  const fw = fb.max[0] - fb.min[0];
  const wA = r.pick([0.8, 1.0, 1.2]);
  const wB = r.pick([0.8, 1.0, 1.2]);
  const cabA = buildCabinetUnit(wA, cm);
  const oven = buildOven(r);
  const cabB = buildCabinetUnit(wB, cm);
  const middle = r.shuffled([
    { sub: cabA, w: wA, tag: 'A' },
    { sub: oven, w: 0.6, tag: 'O' },
    { sub: cabB, w: wB, tag: 'B' },
  ]);
  const seq = r.chance(0.5)
    ? [{ sub: fridge, w: fw, tag: 'F' }, ...middle]
    : [...middle, { sub: fridge, w: fw, tag: 'F' }];
  const total = seq.reduce((s, u) => s + u.w + 0.005, 0);
  let x = -total / 2;
  const subs: Sub[] = [];
  let sinkX = 0;
  const cabXs: [number, number][] = [];
  for (const u of seq) {
    const cx = x + u.w / 2;
    // align every unit's back at local z = -0.3 (fridge is deeper at the front only)
    const bz = itemBounds([u.sub]).min[2];
    subs.push(moveSub(u.sub, 0, cx, 0, -0.3 - bz));
    if (u.tag === 'A') sinkX = cx;
    if (u.tag === 'A' || u.tag === 'B') cabXs.push([cx - u.w / 2, cx + u.w / 2]);
    x += u.w + 0.005;
  }
  const sink = moveSub(buildSink(r, 0.9), 0, sinkX, 0, -0.3 + 0.3);
  subs.push(sink);
  return { item: { name: 'kitchen', subs }, sinkX, counterY: 0.9, cabXs };
}

function diningGroup(r: Rng, chairs: number): Item {
  const w = r.range(1.2, 1.7);
  const d = r.range(0.75, 0.9);
  const table = buildTable(r, w, d);
  const subs: Sub[] = [table];
  const style = chairStyle(r, false);
  const slots: { x: number; z: number; k: number }[] = [];
  const pull = () => r.range(0.0, 0.12);
  // two chairs per long side only when they fit between the table legs
  const two = w >= 1.5;
  const xs = two ? w / 4 : 0;
  slots.push({ x: -xs, z: d / 2 + 0.12 + pull(), k: 2 });
  slots.push({ x: xs, z: -d / 2 - 0.12 - pull(), k: 0 });
  if (two) {
    slots.push({ x: xs, z: d / 2 + 0.12 + pull(), k: 2 });
    slots.push({ x: -xs, z: -d / 2 - 0.12 - pull(), k: 0 });
  }
  slots.push({ x: w / 2 + 0.12 + pull(), z: 0, k: 3 });
  slots.push({ x: -w / 2 - 0.12 - pull(), z: 0, k: 1 });
  for (let i = 0; i < chairs && i < slots.length; i++) {
    const s = slots[i]!;
    const jx = s.k === 1 || s.k === 3 ? 0 : r.range(-0.03, 0.03);
    subs.push(moveSub(buildChair(r, style), s.k, s.x + jx, 0, s.z));
  }
  return { name: 'dining', subs };
}

function deskGroup(r: Rng): Item {
  const w = r.range(1.1, 1.5);
  const desk = buildDesk(r, w);
  const db = itemBounds([desk]);
  const y = 0.74;
  const monitor = buildMonitor(r, y + 0.001, db.min[2] + 0.12);
  const keyboard = moveSub(buildKeyboard(r, y + 0.001, 0), 0, r.range(-0.1, 0.1), 0, db.max[2] - 0.15);
  const chair = moveSub(buildChair(r, chairStyle(r, true)), 2, r.range(-0.15, 0.15), 0, db.max[2] + 0.28);
  // the monitor and keyboard take part of the desk top
  desk.supports = [
    { rect: { minX: db.min[0] + 0.03, maxX: -0.38, minZ: db.min[2] + 0.05, maxZ: db.max[2] - 0.05 }, y },
    { rect: { minX: 0.38, maxX: db.max[0] - 0.03, minZ: db.min[2] + 0.05, maxZ: db.max[2] - 0.05 }, y },
  ];
  return { name: 'desk', subs: [desk, monitor, keyboard, chair] };
}

function buildDoor(r: Rng): Sub {
  const w = 0.9;
  const h = 2.05;
  const c = r.pick<Vec3>([
    [0.93, 0.93, 0.9],
    woodColor(r),
    [0.45, 0.47, 0.5],
    hsv(r.range(190, 230), 0.35, 0.5),
  ]);
  const panel = mat(c, { pattern: 'noise', scale: 0.2, color2: scaleColor(c, 0.9), gloss: 0.2 });
  const trim = mat(scaleColor(c, 0.85));
  const metal = mat([0.78, 0.76, 0.7], { gloss: 0.9 });
  const p = new Parts()
    .box(-w / 2, 0, 0, w / 2, h, 0.035, panel)
    .box(-w / 2 - 0.07, 0, 0, -w / 2, h + 0.07, 0.025, trim)
    .box(w / 2, 0, 0, w / 2 + 0.07, h + 0.07, 0.025, trim)
    .box(-w / 2, h, 0, w / 2, h + 0.07, 0.025, trim)
    .box(-w / 2 + 0.1, 1.15, 0.035, w / 2 - 0.1, 1.9, 0.045, mat(scaleColor(c, 0.92)))
    .box(-w / 2 + 0.1, 0.15, 0.035, w / 2 - 0.1, 0.95, 0.045, mat(scaleColor(c, 0.92)))
    .cyl(2, w / 2 - 0.09, 1.02, 0.05, 0.03, 0.015, metal)
    .ell(w / 2 - 0.09, 1.02, 0.09, 0.022, 0.022, 0.03, metal);
  return { className: 'door', parts: p.list };
}

function buildWindow(r: Rng, w: number, h: number): Sub {
  const frameC = r.pick<Vec3>([[0.95, 0.95, 0.95], [0.2, 0.2, 0.22], woodColor(r)]);
  const fm = mat(frameC, { gloss: 0.3 });
  const sky = mat(hsv(r.range(195, 215), r.range(0.25, 0.5), 1), {
    pattern: 'sky',
    scale: h,
    emissive: 0.9,
    color2: hsv(r.range(90, 130), 0.4, 0.6),
  });
  const p = new Parts()
    .box(-w / 2, 0, 0, w / 2, h, 0.01, sky)
    .box(-w / 2 - 0.05, -0.05, 0, w / 2 + 0.05, 0, 0.06, fm)
    .box(-w / 2 - 0.05, h, 0, w / 2 + 0.05, h + 0.05, 0.04, fm)
    .box(-w / 2 - 0.05, 0, 0, -w / 2, h, 0.04, fm)
    .box(w / 2, 0, 0, w / 2 + 0.05, h, 0.04, fm)
    .box(-0.02, 0, 0, 0.02, h, 0.035, fm)
    .box(-w / 2, h * 0.6 - 0.02, 0, w / 2, h * 0.6 + 0.02, 0.035, fm);
  return { className: 'window', parts: p.list };
}

function buildPicture(r: Rng, w: number, h: number): Sub {
  const frame = mat(r.pick<Vec3>([[0.1, 0.1, 0.1], [0.9, 0.88, 0.85], woodColor(r)]), { gloss: 0.4 });
  const art = mat(hsv(r.range(0, 360), r.range(0.5, 0.9), r.range(0.5, 0.9)), {
    pattern: r.pick<Pattern>(['noise', 'checker', 'stripes', 'screen']),
    patternAxis: 1,
    scale: r.range(0.06, 0.2),
    color2: hsv(r.range(0, 360), r.range(0.4, 0.9), r.range(0.3, 0.9)),
  });
  const p = new Parts()
    .box(-w / 2, 0, 0, w / 2, h, 0.03, frame)
    .box(-w / 2 + 0.04, 0.04, 0.03, w / 2 - 0.04, h - 0.04, 0.032, art);
  return { className: 'picture', parts: p.list };
}

function buildClock(r: Rng): Sub {
  const rad = r.range(0.13, 0.18);
  const rim = mat(
    r.pick<Vec3>([
      [0.1, 0.1, 0.1],
      [0.75, 0.2, 0.15],
      [0.8, 0.8, 0.82],
    ]),
    { gloss: 0.6 },
  );
  const hand = mat([0.05, 0.05, 0.05]);
  const p = new Parts()
    .cyl(2, 0, rad, 0.02, rad, 0.02, rim)
    .cyl(2, 0, rad, 0.041, rad - 0.015, 0.001, mat([0.97, 0.97, 0.95]))
    .box(-0.006, rad, 0.042, 0.006, rad + rad * 0.7, 0.045, hand)
    .box(0, rad - 0.006, 0.042, rad * 0.5, rad + 0.006, 0.046, hand);
  return { className: 'clock', parts: p.list };
}

function buildStructure(L: Layout, r: Rng, wallT: number, ceilingY: number, doorway: Rect2): void {
  const [A, B] = [L.rooms[0]!, L.rooms[1]!];
  const fy = L.floorY;
  const wallCs = [
    hsv(r.range(30, 60), r.range(0.05, 0.2), r.range(0.85, 0.95)),
    hsv(r.range(0, 360), r.range(0.08, 0.3), r.range(0.75, 0.93)),
  ];
  const wallM = wallCs.map((c) => mat(c, { pattern: 'noise', scale: 0.3, color2: scaleColor(c, 0.95) }));
  const tileC = r.pick<Vec3>([[0.85, 0.85, 0.82], [0.6, 0.62, 0.65], hsv(r.range(20, 40), 0.25, 0.75)]);
  const floorA = mat(tileC, {
    pattern: 'tiles',
    scale: r.pick([0.3, 0.4, 0.6]),
    color2: scaleColor(tileC, 0.7),
  });
  const woodC = woodColor(r);
  const floorB = mat(woodC, {
    pattern: 'wood',
    patternAxis: r.chance(0.5) ? 0 : 2,
    scale: 0.18,
    color2: scaleColor(woodC, 0.72),
  });
  const skirt = mat([0.95, 0.95, 0.94]);
  const ceil = mat([0.96, 0.96, 0.95]);
  const y0 = fy - 0.1;
  const y1 = ceilingY + 0.1;
  const p = new Parts();
  const zN = A.minZ;
  const zS = A.maxZ;
  for (const [room, m] of [
    [A, wallM[0]!],
    [B, wallM[1]!],
  ] as const) {
    p.box(room.minX - wallT, y0, zN - wallT, room.maxX + wallT, y1, zN, m);
    p.box(room.minX - wallT, y0, zS, room.maxX + wallT, y1, zS + wallT, m);
  }
  p.box(A.minX - wallT, y0, zN, A.minX, y1, zS, wallM[0]!);
  p.box(B.maxX, y0, zN, B.maxX + wallT, y1, zS, wallM[1]!);
  // interior wall with the doorway: A's side coloured as A, B's side as B
  for (const [x0, x1, m] of [
    [A.maxX, 0, wallM[0]!],
    [0, B.minX, wallM[1]!],
  ] as const) {
    p.box(x0, y0, zN, x1, y1, doorway.minZ, m);
    p.box(x0, y0, doorway.maxZ, x1, y1, zS, m);
    p.box(x0, fy + 2.1, doorway.minZ, x1, y1, doorway.maxZ, m);
  }
  // floors, ceiling
  p.box(A.minX, y0, A.minZ, A.maxX, fy, A.maxZ, floorA);
  p.box(B.minX, y0, B.minZ, B.maxX, fy, B.maxZ, floorB);
  p.box(A.maxX, y0, doorway.minZ, B.minX, fy, doorway.maxZ, floorB);
  p.box(A.minX - wallT, ceilingY, zN - wallT, B.maxX + wallT, y1, zS + wallT, ceil);
  // skirting boards
  const sk = 0.015;
  const sh = fy + 0.08;
  for (const room of [A, B]) {
    p.box(room.minX, fy, room.minZ, room.maxX, sh, room.minZ + sk, skirt);
    p.box(room.minX, fy, room.maxZ - sk, room.maxX, sh, room.maxZ, skirt);
  }
  p.box(A.minX, fy, A.minZ, A.minX + sk, sh, A.maxZ, skirt);
  p.box(B.maxX - sk, fy, B.minZ, B.maxX, sh, B.maxZ, skirt);
  for (const [x0, x1] of [
    [A.maxX - sk, A.maxX],
    [B.minX, B.minX + sk],
  ] as const) {
    p.box(x0, fy, A.minZ, x1, sh, doorway.minZ, skirt);
    p.box(x0, fy, doorway.maxZ, x1, sh, A.maxZ, skirt);
  }
  L.addStructure(p.list);
}

/** Generate the apartment for `seed` (any finite number; the same seed always gives the same scene). */
export function generateScene(seed: number): Scene {
  if (!Number.isFinite(seed))
    throw new RangeError(`generateScene: seed must be a finite number, got ${seed}`);
  const r = new Rng(seedFrom(seed, 0x5ce4e));
  const wallT = 0.12;
  const WA = r.range(4.4, 5.2);
  const WB = r.range(5.4, 6.4);
  const D = r.range(4.6, 5.4);
  const floorY = FLOOR_Y;
  const ceilingY = floorY + CEILING_HEIGHT_M;
  const rooms: RoomRect[] = [
    { name: 'kitchen', kind: 'kitchen', minX: -wallT / 2 - WA, maxX: -wallT / 2, minZ: -D / 2, maxZ: D / 2 },
    { name: 'living room', kind: 'living', minX: wallT / 2, maxX: wallT / 2 + WB, minZ: -D / 2, maxZ: D / 2 },
  ];
  const dw = 1.0;
  const dz0 = r.range(-D / 2 + 0.4, D / 2 - 0.4 - dw);
  const doorway: Rect2 = { minX: -wallT / 2, maxX: wallT / 2, minZ: dz0, maxZ: dz0 + dw };
  const L = new Layout(rooms, floorY, r);
  L.doorway = doorway;
  buildStructure(L, r, wallT, ceilingY, doorway);
  // keep the doorway passage clear on both sides, and nothing may hang across the opening
  for (const w of [...L.walls(0), ...L.walls(1)].filter((ww) => !ww.exterior)) {
    const f = L.wallFrame(w);
    L.useWall(w, dz0 - f.z0 - 0.1, dz0 + dw - f.z0 + 0.1, floorY, ceilingY);
  }
  L.reserved.push({
    minX: doorway.minX - 1.0,
    maxX: doorway.maxX + 1.0,
    minZ: dz0 - 0.15,
    maxZ: dz0 + dw + 0.15,
  });

  // entrance door on an exterior wall of either room
  const doorRoom = r.int(0, 1);
  const doorWalls = L.walls(doorRoom).filter((w) => w.exterior);
  const doorSub = buildDoor(r);
  for (const w of r.shuffled(doorWalls)) {
    const f = L.wallFrame(w);
    const t = r.range(0.75, f.len - 0.75);
    const x = f.x0 + f.tx * t;
    const z = f.z0 + f.tz * t;
    const pl = L.placed([doorSub], w.k, x, z, floorY);
    const ids = L.commit(pl.subs, doorRoom, w.k);
    L.addTarget('door', pl.subs, ids, doorRoom, w.n);
    L.useWall(w, t - 0.55, t + 0.55, floorY, floorY + 2.2);
    const cx = x + w.n[0] * 0.55;
    const cz = z + w.n[1] * 0.55;
    L.reserved.push({ minX: cx - 0.6, maxX: cx + 0.6, minZ: cz - 0.6, maxZ: cz + 0.6 });
    break;
  }

  // ---- kitchen (room 0)
  const kr = kitchenRun(r);
  const kitchenWalls = r.shuffled(L.walls(0).filter((w) => w.side !== 'E'));
  const placedRun = L.placeAgainstWall(kr.item, 0, { walls: kitchenWalls });
  if (placedRun) {
    // microwave on a cabinet counter, facing out; maybe a bottle and a mug on the counter
    const counterPred = (s: Support) => s.room === 0 && Math.abs(s.y - (floorY + 0.9)) < 0.01;
    // keep the sink area free
    const sinkPrim = L.instances.find((i) => i.className === 'sink');
    if (sinkPrim) {
      for (const s of L.supports) {
        if (!counterPred(s)) continue;
        const ps = sinkPrim.primitives.map((i) => L.prims[i]!);
        const sr: Rect2 = {
          minX: Math.min(...ps.map((p) => p.center[0] - p.half[0])),
          maxX: Math.max(...ps.map((p) => p.center[0] + p.half[0])),
          minZ: Math.min(...ps.map((p) => p.center[2] - p.half[2])),
          maxZ: Math.max(...ps.map((p) => p.center[2] + p.half[2])),
        };
        s.taken.push(sr);
      }
    }
    const mw = buildMicrowave(r);
    if (!L.placeOnSupport(mw, counterPred, placedRun.wall.k)) L.placeOnSupport(mw, (s) => s.y < floorY + 1.0);
    if (r.chance(0.7)) L.placeOnSupport(buildBottle(r), counterPred);
  }
  const nChairs = r.int(2, 4);
  L.placeFree(diningGroup(r, nChairs), 0, 0.75);
  L.placeAnyRoom({ name: 'trash can', subs: [buildTrashCan(r)] }, 0, { margin: 0.05 });
  L.placeAnyRoom({ name: 'plant', subs: [buildPlant(r, true)] }, r.int(0, 1), { margin: 0.1 });

  // ---- living room (room 1)
  const tvW = r.range(1.2, 1.6);
  const stand = buildTvStand(r, tvW);
  const standH = itemBounds([stand]).max[1];
  const tvItem: Item = {
    name: 'tv',
    subs: [stand, buildTv(r, standH + 0.001, r.range(0.9, Math.min(1.3, tvW)))],
  };
  const livingWalls = r.shuffled(L.walls(1).filter((w) => w.side !== 'W'));
  const tvPlaced = L.placeAgainstWall(tvItem, 1, { walls: livingWalls });
  const opposite = (s: Side): Side => (s === 'N' ? 'S' : s === 'S' ? 'N' : s === 'W' ? 'E' : 'W');
  const sofaW = r.range(1.7, 2.2);
  const sofaWalls = tvPlaced
    ? [L.walls(1).find((w) => w.side === opposite(tvPlaced.wall.side))!, ...r.shuffled(L.walls(1))]
    : undefined;
  const sofaPlaced = L.placeAgainstWall({ name: 'sofa', subs: [buildSofa(r, sofaW)] }, 1, {
    walls: sofaWalls,
  });
  if (sofaPlaced) {
    // rug in front of the sofa
    const w = sofaPlaced.wall;
    const rugW = r.range(1.6, 2.2);
    const rugD = r.range(1.1, 1.5);
    const fp = sofaPlaced.fp;
    const cx = (fp.minX + fp.maxX) / 2 + w.n[0] * ((fp.maxX - fp.minX) / 2 + rugD / 2 + 0.05);
    const cz = (fp.minZ + fp.maxZ) / 2 + w.n[1] * ((fp.maxZ - fp.minZ) / 2 + rugD / 2 + 0.05);
    const pl = L.placed([buildRug(r, rugW, rugD)], w.k, cx, cz, floorY);
    if (L.fits(pl.fp, 1, 0.02)) {
      const ids = L.commit(pl.subs, 1, w.k);
      L.footprints.push({ ...pl.fp, top: floorY + 0.012, low: true });
      L.addTarget('rug', pl.subs, ids, 1, null);
    }
    // floor lamp beside the sofa when there is room, else anywhere
    const f = L.wallFrame(w);
    const along = f.tx !== 0 ? [fp.minX - f.x0, fp.maxX - f.x0] : [fp.minZ - f.z0, fp.maxZ - f.z0];
    const lamp: Item = { name: 'lamp', subs: [buildLamp(r)] };
    const ends = r.chance(0.5) ? [along[0]! - 0.3, along[1]! + 0.3] : [along[1]! + 0.3, along[0]! - 0.3];
    if (
      !L.tryWall(lamp, 1, w, ends[0]!, { margin: 0.02 }) &&
      !L.tryWall(lamp, 1, w, ends[1]!, { margin: 0.02 })
    ) {
      L.placeAnyRoom(lamp, 1, { margin: 0.03 });
    }
  } else {
    L.placeAnyRoom({ name: 'lamp', subs: [buildLamp(r)] }, 1, { margin: 0.03 });
  }
  L.placeAnyRoom({ name: 'bed', subs: [buildBed(r)] }, 1, { margin: 0.1 });
  L.placeAnyRoom(deskGroup(r), 1, { margin: 0.08 });
  L.placeAnyRoom({ name: 'bookshelf', subs: [buildBookshelf(r)] }, r.chance(0.7) ? 1 : 0, { margin: 0.05 });
  L.placeAnyRoom({ name: 'plant', subs: [buildPlant(r, true)] }, 1, { margin: 0.05 });

  // small objects: mugs, laptop
  const nMugs = r.int(1, 3);
  for (let i = 0; i < nMugs; i++) L.placeOnSupport(buildMug(r), (s) => s.room === 0 && s.y < floorY + 0.8);
  if (r.chance(0.5)) L.placeOnSupport(buildMug(r), (s) => s.room === 1 && s.y < floorY + 0.8);
  L.placeOnSupport(buildLaptop(r), (s) => s.y > floorY + 0.65 && s.y < floorY + 0.8);
  if (r.chance(0.6)) L.placeOnSupport(buildPlant(r, false), (s) => s.y < floorY + 1.0);

  // wall decor: windows on exterior walls, pictures, a clock
  for (let room = 0; room < 2; room++) {
    const nWin = r.int(1, 2);
    for (let i = 0; i < nWin; i++) {
      const ww = r.range(0.9, 1.4);
      const wh = r.range(1.1, 1.3);
      const sill = floorY + 0.9;
      const sub = moveSub(buildWindow(r, ww, wh), 0, 0, sill, 0);
      L.placeOnWall(
        sub,
        room,
        r.shuffled(L.walls(room).filter((w) => w.exterior)),
        sill,
        sill + wh,
        'window',
      );
    }
  }
  const nPics = r.int(1, 2);
  for (let i = 0; i < nPics; i++) {
    const room = r.int(0, 1);
    const pw = r.range(0.4, 0.8);
    const ph = r.range(0.3, 0.6);
    const y = floorY + r.range(1.35, 1.6);
    L.placeOnWall(
      moveSub(buildPicture(r, pw, ph), 0, 0, y, 0),
      room,
      r.shuffled(L.walls(room)),
      y,
      y + ph,
      'picture',
    );
  }
  if (r.chance(0.8)) {
    const room = r.int(0, 1);
    const y = floorY + r.range(1.85, 2.05);
    L.placeOnWall(moveSub(buildClock(r), 0, 0, y, 0), room, r.shuffled(L.walls(room)), y, y + 0.4, 'clock');
  }

  // lights: one ceiling light per room
  const lights: SceneLight[] = rooms.map((rm, i) => ({
    position: [(rm.minX + rm.maxX) / 2, ceilingY - 0.25, (rm.minZ + rm.maxZ) / 2] as Vec3,
    intensity: r.range(0.85, 1.1),
    room: i,
  }));

  // Mirror half of the layouts (kitchen on the right).
  const mirror = r.chance(0.5);
  const sx = mirror ? -1 : 1;
  const mx = (x: number) => x * sx;
  const mRect = <T extends Rect2>(q: T): T => ({
    ...q,
    minX: Math.min(mx(q.minX), mx(q.maxX)),
    maxX: Math.max(mx(q.minX), mx(q.maxX)),
  });
  const prims = L.prims.map((p) => ({ ...p, center: [mx(p.center[0]), p.center[1], p.center[2]] as Vec3 }));
  const outRooms = rooms.map((q) => mRect(q));
  const classes = Array.from(new Set(L.instances.map((i) => i.className))).sort();
  return {
    seed,
    floorY,
    ceilingY,
    rooms: outRooms,
    doorway: mRect(doorway),
    primitives: prims,
    instances: L.instances,
    classes,
    viewTargets: L.targets.map((t) => ({
      ...t,
      center: [mx(t.center[0]), t.center[1], t.center[2]] as Vec3,
      facing: t.facing ? ([t.facing[0] * sx, t.facing[1]] as [number, number]) : null,
    })),
    lights: lights.map((l) => ({
      ...l,
      position: [mx(l.position[0]), l.position[1], l.position[2]] as Vec3,
    })),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Queries (used by tests and by evaluation)

export interface InstanceBox {
  id: number;
  className: string;
  room: string;
  /** Axis-aligned bounding box, world metres. */
  bboxMin: Vec3;
  bboxMax: Vec3;
  /** Centre of the bounding box. */
  bboxCenter: Vec3;
  /** Volume-weighted centroid of the instance's primitives, world metres. */
  centroid: Vec3;
}

function primVolume(p: Primitive): number {
  const [a, b, c] = p.half;
  if (p.kind === 'box') return 8 * a * b * c;
  if (p.kind === 'ellipsoid') return (4 / 3) * Math.PI * a * b * c;
  const r = p.half[p.axis === 0 ? 1 : 0];
  return Math.PI * r * r * 2 * p.half[p.axis];
}

export function describeInstance(scene: Scene, inst: SceneInstance): InstanceBox {
  const min: Vec3 = [Infinity, Infinity, Infinity];
  const max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const acc: Vec3 = [0, 0, 0];
  let vol = 0;
  for (const i of inst.primitives) {
    const p = scene.primitives[i]!;
    const v = primVolume(p);
    for (let a = 0; a < 3; a++) {
      min[a] = Math.min(min[a]!, p.center[a]! - p.half[a]!);
      max[a] = Math.max(max[a]!, p.center[a]! + p.half[a]!);
      acc[a] = acc[a]! + p.center[a]! * v;
    }
    vol += v;
  }
  const centroid: Vec3 =
    vol > 0
      ? [acc[0] / vol, acc[1] / vol, acc[2] / vol]
      : [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2];
  return {
    id: inst.id,
    className: inst.className,
    room: scene.rooms[inst.room]?.name ?? '',
    bboxMin: min,
    bboxMax: max,
    bboxCenter: [(min[0] + max[0]) / 2, (min[1] + max[1]) / 2, (min[2] + max[2]) / 2],
    centroid,
  };
}

/** Every instance of `className` with its world bounding box and centroid (empty when the class is absent). */
export function instancesOf(scene: Scene, className: string): InstanceBox[] {
  return scene.instances.filter((i) => i.className === className).map((i) => describeInstance(scene, i));
}

/** Class names present in the scene (sorted). */
export function classesOf(scene: Scene): string[] {
  return scene.classes.slice();
}

/** id -> class name for every instance (the `labels/instances.json` content). */
export function instanceClassMap(scene: Scene): Map<number, string> {
  return new Map(scene.instances.map((i) => [i.id, i.className]));
}

/** Unsigned distance (metres) from `p` to the surface of one primitive (exact for boxes and cylinders). */
export function distanceToPrimitiveSurface(pr: Primitive, p: Vec3): number {
  const dx = p[0] - pr.center[0];
  const dy = p[1] - pr.center[1];
  const dz = p[2] - pr.center[2];
  if (pr.kind === 'box') {
    const qx = Math.abs(dx) - pr.half[0];
    const qy = Math.abs(dy) - pr.half[1];
    const qz = Math.abs(dz) - pr.half[2];
    const outside = Math.hypot(Math.max(qx, 0), Math.max(qy, 0), Math.max(qz, 0));
    const inside = Math.min(Math.max(qx, qy, qz), 0);
    return Math.abs(outside + inside);
  }
  if (pr.kind === 'cylinder') {
    const d = [dx, dy, dz];
    const a = pr.axis;
    const u = d[(a + 1) % 3]!;
    const v = d[(a + 2) % 3]!;
    const rad = pr.half[(a + 1) % 3]!;
    const qr = Math.hypot(u, v) - rad;
    const qa = Math.abs(d[a]!) - pr.half[a]!;
    const outside = Math.hypot(Math.max(qr, 0), Math.max(qa, 0));
    const inside = Math.min(Math.max(qr, qa), 0);
    return Math.abs(outside + inside);
  }
  // ellipsoid: first-order distance |f| / |grad f| with f = |p/r| - 1 (close to exact near the surface)
  const ux = dx / pr.half[0];
  const uy = dy / pr.half[1];
  const uz = dz / pr.half[2];
  const k0 = Math.hypot(ux, uy, uz);
  const k1 = Math.hypot(ux / pr.half[0], uy / pr.half[1], uz / pr.half[2]);
  if (k1 === 0) return Math.min(...pr.half);
  return Math.abs((k0 * (k0 - 1)) / k1);
}

/** Distance from `p` to the nearest surface of instance `id` (Infinity when there is no such instance). */
export function distanceToInstanceSurface(scene: Scene, id: number, p: Vec3): number {
  const inst = scene.instances[id - 1];
  if (!inst || inst.id !== id) return Infinity;
  let best = Infinity;
  for (const i of inst.primitives) best = Math.min(best, distanceToPrimitiveSurface(scene.primitives[i]!, p));
  return best;
}
