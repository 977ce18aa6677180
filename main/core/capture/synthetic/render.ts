/**
 * CPU ray caster for the synthetic scene: colour images, ground-truth depth and instance ids, and a LiDAR
 * simulation (noise, quantisation, dropout, confidence) on top of the true depth.
 *
 * Speed: primitives live in flat typed arrays behind a BVH (median split, leaves of <= 4 primitives);
 * rays carry unnormalised directions with camera-space z = -1, so the hit distance t IS the depth z.
 * Nothing is allocated per ray. Colour pixels on object edges are re-shot with 4 sub-samples.
 *
 * Camera conventions (same as the capture readers): `world_from_camera` is 4x4 row-major with ARKit camera
 * axes (x right, y up, z backward). Pixel (i = column, j = row) looks along
 * ((i - cx) / fx, -(j - cy) / fy, -1) in camera axes.
 */
import type { CameraIntrinsics } from '../types';
import type { Axis, Pattern, Scene } from './scene';
import { Rng } from './rng';

const PATTERN_IDS: Record<Pattern, number> = {
  solid: 0,
  stripes: 1,
  checker: 2,
  noise: 3,
  wood: 4,
  screen: 5,
  sky: 6,
  fabric: 7,
  tiles: 8,
};

const KIND_BOX = 0;
const KIND_CYL = 1;
const KIND_ELL = 2;
const T_MIN = 1e-4;

export interface CompiledScene {
  readonly scene: Scene;
  readonly n: number;
  readonly kind: Int32Array;
  /** centre x,y,z and half extents x,y,z per primitive (6 per primitive). */
  readonly geo: Float64Array;
  readonly axis: Int32Array;
  readonly instance: Int32Array;
  /** colour r,g,b, colour2 r,g,b, scale, gloss, emissive per primitive (9 per primitive). */
  readonly matf: Float64Array;
  readonly pattern: Int32Array;
  readonly patternAxis: Int32Array;
  readonly nodeBox: Float64Array;
  /** Inner node: index of the left child (right = left + 1). Leaf: first index into `order`. */
  readonly nodeFirst: Int32Array;
  /** 0 for inner nodes, else the number of primitives in the leaf. */
  readonly nodeCount: Int32Array;
  readonly order: Int32Array;
  /** Primitives tested before the BVH (walls, floor, ceiling). */
  readonly structure: Int32Array;
  /** Lights: x, y, z, intensity per light, and the room rectangle it lights (minX, maxX, minZ, maxZ). */
  readonly lights: Float64Array;
  readonly lightRooms: Float64Array;
}

const compiledCache = new WeakMap<Scene, CompiledScene>();

/** Flatten the scene and build its BVH (cached per scene object). */
export function compileScene(scene: Scene): CompiledScene {
  const hit = compiledCache.get(scene);
  if (hit) return hit;
  const n = scene.primitives.length;
  const kind = new Int32Array(n);
  const geo = new Float64Array(n * 6);
  const axis = new Int32Array(n);
  const instance = new Int32Array(n);
  const matf = new Float64Array(n * 9);
  const pattern = new Int32Array(n);
  const patternAxis = new Int32Array(n);
  scene.primitives.forEach((p, i) => {
    kind[i] = p.kind === 'box' ? KIND_BOX : p.kind === 'cylinder' ? KIND_CYL : KIND_ELL;
    geo.set([...p.center, ...p.half], i * 6);
    axis[i] = p.axis;
    instance[i] = p.instanceId;
    const m = p.material;
    matf.set([...m.color, ...m.color2, m.scale, m.gloss, m.emissive], i * 9);
    pattern[i] = PATTERN_IDS[m.pattern];
    patternAxis[i] = m.patternAxis;
  });
  // Structure (walls, floor, ceiling: big boxes that would bloat every BVH node) is tested first as a flat
  // list, which also gives the BVH a tight tMax. Objects go into a BVH built with the surface area heuristic.
  const structure: number[] = [];
  const objects: number[] = [];
  for (let i = 0; i < n; i++) (instance[i] === 0 && kind[i] === KIND_BOX ? structure : objects).push(i);
  const order = Int32Array.from(objects);
  const boxes: number[] = [];
  const firsts: number[] = [];
  const counts: number[] = [];
  const newNode = (): number => {
    firsts.push(0);
    counts.push(0);
    boxes.push(0, 0, 0, 0, 0, 0);
    return firsts.length - 1;
  };
  const boundsOf = (ids: ArrayLike<number>, from: number, to: number): number[] => {
    const b = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
    for (let k = from; k < to; k++) {
      const o = ids[k]! * 6;
      for (let a = 0; a < 3; a++) {
        b[a] = Math.min(b[a]!, geo[o + a]! - geo[o + 3 + a]!);
        b[a + 3] = Math.max(b[a + 3]!, geo[o + a]! + geo[o + 3 + a]!);
      }
    }
    return b;
  };
  const area = (b: number[]): number => {
    const x = Math.max(0, b[3]! - b[0]!),
      y = Math.max(0, b[4]! - b[1]!),
      z = Math.max(0, b[5]! - b[2]!);
    return x * y + y * z + z * x;
  };
  const build = (node: number, start: number, end: number): void => {
    const nb = boundsOf(order, start, end);
    const b = node * 6;
    for (let a = 0; a < 3; a++) {
      boxes[b + a] = nb[a]! - 1e-6;
      boxes[b + 3 + a] = nb[a + 3]! + 1e-6;
    }
    const count = end - start;
    if (count <= 2) {
      firsts[node] = start;
      counts[node] = count;
      return;
    }
    // SAH: best split over the three axes of primitives sorted by centre
    let bestCost = area(nb) * count;
    let bestAxis = -1;
    let bestMid = -1;
    let bestSorted: number[] = [];
    for (let ax = 0; ax < 3; ax++) {
      const sorted = Array.from(order.subarray(start, end)).sort(
        (p, q) => geo[p * 6 + ax]! - geo[q * 6 + ax]! || p - q,
      );
      const left = new Float64Array(count);
      let acc = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
      for (let k = 0; k < count; k++) {
        const bb = boundsOf(sorted, k, k + 1);
        acc = [
          Math.min(acc[0]!, bb[0]!),
          Math.min(acc[1]!, bb[1]!),
          Math.min(acc[2]!, bb[2]!),
          Math.max(acc[3]!, bb[3]!),
          Math.max(acc[4]!, bb[4]!),
          Math.max(acc[5]!, bb[5]!),
        ];
        left[k] = area(acc);
      }
      acc = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
      for (let k = count - 1; k >= 1; k--) {
        const bb = boundsOf(sorted, k, k + 1);
        acc = [
          Math.min(acc[0]!, bb[0]!),
          Math.min(acc[1]!, bb[1]!),
          Math.min(acc[2]!, bb[2]!),
          Math.max(acc[3]!, bb[3]!),
          Math.max(acc[4]!, bb[4]!),
          Math.max(acc[5]!, bb[5]!),
        ];
        const cost = 0.5 * area(nb) + left[k - 1]! * k + area(acc) * (count - k);
        if (cost < bestCost) {
          bestCost = cost;
          bestAxis = ax;
          bestMid = start + k;
          bestSorted = sorted;
        }
      }
    }
    if (bestAxis < 0) {
      if (count <= 6) {
        firsts[node] = start;
        counts[node] = count;
        return;
      }
      bestSorted = Array.from(order.subarray(start, end));
      bestMid = start + (count >> 1);
    }
    order.set(bestSorted, start);
    const left = newNode();
    newNode();
    firsts[node] = left;
    counts[node] = 0;
    build(left, start, bestMid);
    build(left + 1, bestMid, end);
  };
  build(newNode(), 0, order.length);
  const lights = new Float64Array(scene.lights.length * 4);
  const lightRooms = new Float64Array(scene.lights.length * 4);
  scene.lights.forEach((l, i) => {
    lights.set([...l.position, l.intensity], i * 4);
    const r = scene.rooms[l.room]!;
    lightRooms.set([r.minX - 0.15, r.maxX + 0.15, r.minZ - 0.15, r.maxZ + 0.15], i * 4);
  });
  const cs: CompiledScene = {
    scene,
    n,
    kind,
    geo,
    axis,
    instance,
    matf,
    pattern,
    patternAxis,
    nodeBox: Float64Array.from(boxes),
    nodeFirst: Int32Array.from(firsts),
    nodeCount: Int32Array.from(counts),
    order,
    structure: Int32Array.from(structure),
    lights,
    lightRooms,
  };
  compiledCache.set(scene, cs);
  return cs;
}

/** Result slots of the last `trace` call. */
export interface Tracer {
  /**
   * Nearest hit along o + t d with T_MIN < t < tMax: returns the primitive index or -1; t in `hitT()`.
   * `withStructure` false skips walls/floor/ceiling (shadow rays inside a room).
   */
  trace(
    ox: number,
    oy: number,
    oz: number,
    dx: number,
    dy: number,
    dz: number,
    tMax: number,
    withStructure?: boolean,
  ): number;
  /**
   * Prepare camera rays for one view: bins every primitive's projected bounding box into screen tiles so that
   * `castPixel` only tests the few primitives that can be seen through its tile, nearest first.
   */
  beginView(world_from_camera: ArrayLike<number>, K: CameraIntrinsics): void;
  /** Cast the camera ray through continuous pixel (u, v) of the current view; direction in `rayDir` (z-depth = t). */
  castPixel(u: number, v: number): number;
  readonly rayDir: Float64Array;
  hitT(): number;
  /** hit[0] = t of the last trace/castPixel (reading it does not box a double like hitT() can). */
  readonly hit: Float64Array;
  /** Outward unit normal of primitive `prim` at point p (written to out[0..2]). */
  normal(prim: number, px: number, py: number, pz: number, out: Float64Array): void;
}

export function makeTracer(cs: CompiledScene): Tracer {
  const { kind, geo, axis, nodeBox, nodeFirst, nodeCount, order, structure } = cs;
  const nStructure = structure.length;
  const stack = new Int32Array(128);
  const last = new Float64Array(1);
  const hitSlot = new Float64Array(1);
  const boxSlot = new Float64Array(1);

  /** Hit distance of primitive p (Infinity when missed), written to hitSlot[0] (returning doubles would box them). */
  function intersectPrim(
    p: number,
    ox: number,
    oy: number,
    oz: number,
    dx: number,
    dy: number,
    dz: number,
    ix: number,
    iy: number,
    iz: number,
    tMax: number,
  ): void {
    hitSlot[0] = Infinity;
    const g = p * 6;
    const cx = geo[g]!,
      cy = geo[g + 1]!,
      cz = geo[g + 2]!,
      hx = geo[g + 3]!,
      hy = geo[g + 4]!,
      hz = geo[g + 5]!;
    const k = kind[p]!;
    if (k === KIND_BOX) {
      let t0 = (cx - hx - ox) * ix,
        t1 = (cx + hx - ox) * ix;
      let tn = t0 < t1 ? t0 : t1,
        tf = t0 < t1 ? t1 : t0;
      t0 = (cy - hy - oy) * iy;
      t1 = (cy + hy - oy) * iy;
      tn = Math.max(tn, t0 < t1 ? t0 : t1);
      tf = Math.min(tf, t0 < t1 ? t1 : t0);
      t0 = (cz - hz - oz) * iz;
      t1 = (cz + hz - oz) * iz;
      tn = Math.max(tn, t0 < t1 ? t0 : t1);
      tf = Math.min(tf, t0 < t1 ? t1 : t0);
      if (tn > tf || tn <= T_MIN || tn >= tMax) return;
      hitSlot[0] = tn;
      return;
    }
    const rx = ox - cx,
      ry = oy - cy,
      rz = oz - cz;
    if (k === KIND_ELL) {
      const ax = rx / hx,
        ay = ry / hy,
        az = rz / hz,
        bx = dx / hx,
        by = dy / hy,
        bz = dz / hz;
      const a = bx * bx + by * by + bz * bz;
      const b = ax * bx + ay * by + az * bz;
      const c = ax * ax + ay * ay + az * az - 1;
      const disc = b * b - a * c;
      if (disc < 0) return;
      const t = (-b - Math.sqrt(disc)) / a;
      if (t > T_MIN && t < tMax) hitSlot[0] = t;
      return;
    }
    // cylinder along axis a
    const a = axis[p]!;
    let ru: number, rv: number, du: number, dv: number, ra: number, da: number, rad: number, hl: number;
    if (a === 1) {
      ru = rx;
      rv = rz;
      du = dx;
      dv = dz;
      ra = ry;
      da = dy;
      rad = hx;
      hl = hy;
    } else if (a === 0) {
      ru = ry;
      rv = rz;
      du = dy;
      dv = dz;
      ra = rx;
      da = dx;
      rad = hy;
      hl = hx;
    } else {
      ru = rx;
      rv = ry;
      du = dx;
      dv = dy;
      ra = rz;
      da = dz;
      rad = hx;
      hl = hz;
    }
    let best = Infinity;
    const qa = du * du + dv * dv;
    if (qa > 1e-18) {
      const qb = ru * du + rv * dv;
      const qc = ru * ru + rv * rv - rad * rad;
      const disc = qb * qb - qa * qc;
      if (disc >= 0) {
        const t = (-qb - Math.sqrt(disc)) / qa;
        if (t > T_MIN && t < tMax) {
          const h = ra + t * da;
          if (h >= -hl && h <= hl) best = t;
        }
      }
    }
    if (da !== 0) {
      for (let s = -1; s <= 1; s += 2) {
        const t = (s * hl - ra) / da;
        if (t > T_MIN && t < best && t < tMax) {
          const u = ru + t * du,
            v = rv + t * dv;
          if (u * u + v * v <= rad * rad) best = t;
        }
      }
    }
    hitSlot[0] = best;
  }

  function trace(
    ox: number,
    oy: number,
    oz: number,
    dx: number,
    dy: number,
    dz: number,
    tMax: number,
    withStructure = true,
  ): number {
    const ix = 1 / dx,
      iy = 1 / dy,
      iz = 1 / dz;
    let best = tMax;
    let bestPrim = -1;
    const ns = withStructure ? nStructure : 0;
    for (let k = 0; k < ns; k++) {
      const p = structure[k]!;
      intersectPrim(p, ox, oy, oz, dx, dy, dz, ix, iy, iz, best);
      const t = hitSlot[0]!;
      if (t < best) {
        best = t;
        bestPrim = p;
      }
    }
    if (nodeCount.length === 0 || order.length === 0) {
      last[0] = bestPrim >= 0 ? best : Infinity;
      return bestPrim;
    }
    if (!boxEntry(0, ox, oy, oz, ix, iy, iz, best)) {
      last[0] = bestPrim >= 0 ? best : Infinity;
      return bestPrim;
    }
    let sp = 0;
    stack[sp++] = 0;
    while (sp > 0) {
      const node = stack[--sp]!;
      const cnt = nodeCount[node]!;
      if (cnt > 0) {
        const f = nodeFirst[node]!;
        for (let k = f; k < f + cnt; k++) {
          const p = order[k]!;
          intersectPrim(p, ox, oy, oz, dx, dy, dz, ix, iy, iz, best);
          const t = hitSlot[0]!;
          if (t < best) {
            best = t;
            bestPrim = p;
          }
        }
        continue;
      }
      const l = nodeFirst[node]!;
      const hl = boxEntry(l, ox, oy, oz, ix, iy, iz, best);
      const tl = boxSlot[0]!;
      const hr = boxEntry(l + 1, ox, oy, oz, ix, iy, iz, best);
      const tr = boxSlot[0]!;
      if (!hl) {
        if (hr) stack[sp++] = l + 1;
      } else if (!hr) {
        stack[sp++] = l;
      } else if (tl <= tr) {
        stack[sp++] = l + 1;
        stack[sp++] = l;
      } else {
        stack[sp++] = l;
        stack[sp++] = l + 1;
      }
    }
    // children pushed with a stale `best` may be visited after a closer hit; intersectPrim rejects t >= best
    last[0] = bestPrim >= 0 ? best : Infinity;
    return bestPrim;
  }

  /** Entry distance of the ray into node box `node`, or Infinity when it misses or enters beyond tMax. */
  function boxEntry(
    node: number,
    ox: number,
    oy: number,
    oz: number,
    ix: number,
    iy: number,
    iz: number,
    tMax: number,
  ): boolean {
    const b = node * 6;
    let t0 = (nodeBox[b]! - ox) * ix,
      t1 = (nodeBox[b + 3]! - ox) * ix;
    let tn = t0 < t1 ? t0 : t1,
      tf = t0 < t1 ? t1 : t0;
    t0 = (nodeBox[b + 1]! - oy) * iy;
    t1 = (nodeBox[b + 4]! - oy) * iy;
    if (t0 > t1) {
      const s = t0;
      t0 = t1;
      t1 = s;
    }
    if (t0 > tn) tn = t0;
    if (t1 < tf) tf = t1;
    t0 = (nodeBox[b + 2]! - oz) * iz;
    t1 = (nodeBox[b + 5]! - oz) * iz;
    if (t0 > t1) {
      const s = t0;
      t0 = t1;
      t1 = s;
    }
    if (t0 > tn) tn = t0;
    if (t1 < tf) tf = t1;
    if (tn > tf || tf < T_MIN || tn >= tMax) return false;
    boxSlot[0] = tn;
    return true;
  }

  function normal(p: number, px: number, py: number, pz: number, out: Float64Array): void {
    const g = p * 6;
    const cx = geo[g]!,
      cy = geo[g + 1]!,
      cz = geo[g + 2]!,
      hx = geo[g + 3]!,
      hy = geo[g + 4]!,
      hz = geo[g + 5]!;
    const rx = px - cx,
      ry = py - cy,
      rz = pz - cz;
    const k = kind[p]!;
    let nx = 0,
      ny = 0,
      nz = 0;
    if (k === KIND_BOX) {
      const ax = Math.abs(rx) - hx,
        ay = Math.abs(ry) - hy,
        az = Math.abs(rz) - hz;
      if (ax >= ay && ax >= az) nx = rx >= 0 ? 1 : -1;
      else if (ay >= az) ny = ry >= 0 ? 1 : -1;
      else nz = rz >= 0 ? 1 : -1;
    } else if (k === KIND_ELL) {
      nx = rx / (hx * hx);
      ny = ry / (hy * hy);
      nz = rz / (hz * hz);
      const l = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
      nx /= l;
      ny /= l;
      nz /= l;
    } else {
      const a = axis[p]!;
      const hl = a === 0 ? hx : a === 1 ? hy : hz;
      const ra = a === 0 ? rx : a === 1 ? ry : rz;
      if (Math.abs(ra) >= hl - 1e-5) {
        if (a === 0) nx = ra > 0 ? 1 : -1;
        else if (a === 1) ny = ra > 0 ? 1 : -1;
        else nz = ra > 0 ? 1 : -1;
      } else {
        nx = a === 0 ? 0 : rx;
        ny = a === 1 ? 0 : ry;
        nz = a === 2 ? 0 : rz;
        const l = Math.sqrt(nx * nx + ny * ny + nz * nz) || 1;
        nx /= l;
        ny /= l;
        nz /= l;
      }
    }
    out[0] = nx;
    out[1] = ny;
    out[2] = nz;
  }

  // ---- per-view tile binning of primary rays
  const TILE = 8;
  const rayDir = new Float64Array(3);
  let vw = 0,
    vh = 0,
    tilesX = 0,
    tilesY = 0;
  let vfx = 1,
    vfy = 1,
    vcx = 0,
    vcy = 0;
  let ox0 = 0,
    oy0 = 0,
    oz0 = 0;
  let r00 = 1,
    r01 = 0,
    r02 = 0,
    r10 = 0,
    r11 = 1,
    r12 = 0,
    r20 = 0,
    r21 = 0,
    r22 = 1;
  let tileStart = new Int32Array(1);
  let tileItems = new Int32Array(0);
  let tileNear = new Float64Array(0);
  const primNear = new Float64Array(kind.length);
  const primTiles = new Int32Array(kind.length * 4);
  const primVisible = new Uint8Array(kind.length);
  const cornerX = new Float64Array(8),
    cornerY = new Float64Array(8),
    cornerD = new Float64Array(8);
  const NEAR = 0.01;
  // corner index bits: 1 = +x, 2 = +y, 4 = +z; the 12 box edges as corner pairs
  const EDGES = Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 0, 2, 1, 3, 4, 6, 5, 7, 0, 4, 1, 5, 2, 6, 3, 7]);

  function beginView(m: ArrayLike<number>, K: CameraIntrinsics): void {
    vw = K.width;
    vh = K.height;
    vfx = K.fx;
    vfy = K.fy;
    vcx = K.cx;
    vcy = K.cy;
    r00 = m[0]!;
    r01 = m[1]!;
    r02 = m[2]!;
    ox0 = m[3]!;
    r10 = m[4]!;
    r11 = m[5]!;
    r12 = m[6]!;
    oy0 = m[7]!;
    r20 = m[8]!;
    r21 = m[9]!;
    r22 = m[10]!;
    oz0 = m[11]!;
    tilesX = Math.ceil(vw / TILE);
    tilesY = Math.ceil(vh / TILE);
    const nTiles = tilesX * tilesY;
    const counts = new Int32Array(nTiles + 1);
    const np = kind.length;
    for (let p = 0; p < np; p++) {
      primVisible[p] = 0;
      const g = p * 6;
      let umin = Infinity,
        umax = -Infinity,
        vmin = Infinity,
        vmax = -Infinity,
        dmin = Infinity;
      let front = 0;
      for (let c = 0; c < 8; c++) {
        const wx = geo[g]! + (c & 1 ? geo[g + 3]! : -geo[g + 3]!) - ox0;
        const wy = geo[g + 1]! + (c & 2 ? geo[g + 4]! : -geo[g + 4]!) - oy0;
        const wz = geo[g + 2]! + (c & 4 ? geo[g + 5]! : -geo[g + 5]!) - oz0;
        // camera coords = R^T * w
        cornerX[c] = r00 * wx + r10 * wy + r20 * wz;
        cornerY[c] = r01 * wx + r11 * wy + r21 * wz;
        const depth = -(r02 * wx + r12 * wy + r22 * wz);
        cornerD[c] = depth;
        if (depth < dmin) dmin = depth;
        if (depth >= NEAR) {
          front++;
          const u = vcx + (vfx * cornerX[c]!) / depth;
          const v = vcy - (vfy * cornerY[c]!) / depth;
          if (u < umin) umin = u;
          if (u > umax) umax = u;
          if (v < vmin) vmin = v;
          if (v > vmax) vmax = v;
        }
      }
      if (front === 0) continue;
      if (front < 8) {
        // clip the box edges that cross the near plane and add the crossing points
        for (let e = 0; e < 12; e++) {
          const a = EDGES[e * 2]!,
            b = EDGES[e * 2 + 1]!;
          const da = cornerD[a]!,
            db = cornerD[b]!;
          if (da >= NEAR === db >= NEAR) continue;
          const f = (NEAR - da) / (db - da);
          const xc = cornerX[a]! + (cornerX[b]! - cornerX[a]!) * f;
          const yc = cornerY[a]! + (cornerY[b]! - cornerY[a]!) * f;
          const u = vcx + (vfx * xc) / NEAR;
          const v = vcy - (vfy * yc) / NEAR;
          if (u < umin) umin = u;
          if (u > umax) umax = u;
          if (v < vmin) vmin = v;
          if (v > vmax) vmax = v;
        }
      }
      const tx0 = Math.max(0, Math.floor((umin + 0.5 - 1) / TILE));
      const tx1 = Math.min(tilesX - 1, Math.floor((umax + 0.5 + 1) / TILE));
      const ty0 = Math.max(0, Math.floor((vmin + 0.5 - 1) / TILE));
      const ty1 = Math.min(tilesY - 1, Math.floor((vmax + 0.5 + 1) / TILE));
      if (tx0 > tx1 || ty0 > ty1) continue;
      primVisible[p] = 1;
      primNear[p] = Math.max(0, dmin);
      primTiles[p * 4] = tx0;
      primTiles[p * 4 + 1] = tx1;
      primTiles[p * 4 + 2] = ty0;
      primTiles[p * 4 + 3] = ty1;
      for (let ty = ty0; ty <= ty1; ty++) for (let tx = tx0; tx <= tx1; tx++) counts[ty * tilesX + tx]!++;
    }
    tileStart = new Int32Array(nTiles + 1);
    for (let t = 0; t < nTiles; t++) tileStart[t + 1] = tileStart[t]! + counts[t]!;
    const fill = tileStart.slice(0, nTiles);
    tileItems = new Int32Array(tileStart[nTiles]!);
    tileNear = new Float64Array(tileStart[nTiles]!);
    // insert primitives in order of increasing near depth so every tile list is sorted front to back
    const vis: number[] = [];
    for (let p = 0; p < np; p++) if (primVisible[p]) vis.push(p);
    vis.sort((a, b) => primNear[a]! - primNear[b]! || a - b);
    for (const p of vis) {
      const tx0 = primTiles[p * 4]!,
        tx1 = primTiles[p * 4 + 1]!,
        ty0 = primTiles[p * 4 + 2]!,
        ty1 = primTiles[p * 4 + 3]!;
      for (let ty = ty0; ty <= ty1; ty++) {
        for (let tx = tx0; tx <= tx1; tx++) {
          const t = ty * tilesX + tx;
          const k = fill[t]!++;
          tileItems[k] = p;
          tileNear[k] = primNear[p]!;
        }
      }
    }
  }

  function castPixel(u: number, v: number): number {
    const xc = (u - vcx) / vfx;
    const yc = -(v - vcy) / vfy;
    const dx = r00 * xc + r01 * yc - r02;
    const dy = r10 * xc + r11 * yc - r12;
    const dz = r20 * xc + r21 * yc - r22;
    rayDir[0] = dx;
    rayDir[1] = dy;
    rayDir[2] = dz;
    let tx = Math.floor((u + 0.5) / TILE),
      ty = Math.floor((v + 0.5) / TILE);
    if (tx < 0) tx = 0;
    else if (tx >= tilesX) tx = tilesX - 1;
    if (ty < 0) ty = 0;
    else if (ty >= tilesY) ty = tilesY - 1;
    const t = ty * tilesX + tx;
    const ix = 1 / dx,
      iy = 1 / dy,
      iz = 1 / dz;
    let best = 1e9;
    let bestPrim = -1;
    const end = tileStart[t + 1]!;
    for (let k = tileStart[t]!; k < end; k++) {
      if (tileNear[k]! >= best) break;
      const p = tileItems[k]!;
      intersectPrim(p, ox0, oy0, oz0, dx, dy, dz, ix, iy, iz, best);
      const h = hitSlot[0]!;
      if (h < best) {
        best = h;
        bestPrim = p;
      }
    }
    last[0] = bestPrim >= 0 ? best : Infinity;
    return bestPrim;
  }

  return { trace, hitT: () => last[0]!, hit: last, normal, beginView, castPixel, rayDir };
}

// ---------------------------------------------------------------------------------------------------------
// Procedural textures

function hash3(x: number, y: number, z: number): number {
  let h = Math.imul(x, 0x8da6b343) ^ Math.imul(y, 0xd8163841) ^ Math.imul(z, 0xcb1ab31f);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

/** Trilinear value noise in [0, 1). */
function valueNoise(x: number, y: number, z: number): number {
  const xi = Math.floor(x),
    yi = Math.floor(y),
    zi = Math.floor(z);
  const xf = x - xi,
    yf = y - yi,
    zf = z - zi;
  const u = xf * xf * (3 - 2 * xf),
    v = yf * yf * (3 - 2 * yf),
    w = zf * zf * (3 - 2 * zf);
  const a = hash3(xi, yi, zi),
    b = hash3(xi + 1, yi, zi),
    c = hash3(xi, yi + 1, zi),
    d = hash3(xi + 1, yi + 1, zi);
  const e = hash3(xi, yi, zi + 1),
    f = hash3(xi + 1, yi, zi + 1),
    g = hash3(xi, yi + 1, zi + 1),
    h = hash3(xi + 1, yi + 1, zi + 1);
  const x1 = a + (b - a) * u,
    x2 = c + (d - c) * u,
    x3 = e + (f - e) * u,
    x4 = g + (h - g) * u;
  const y1 = x1 + (x2 - x1) * v,
    y2 = x3 + (x4 - x3) * v;
  return y1 + (y2 - y1) * w;
}

function fract(v: number): number {
  return v - Math.floor(v);
}

/**
 * Base colour at a point: writes r,g,b into out and returns the emissive amount (0..1) and gloss via out[3].
 */
function surfaceColor(
  cs: CompiledScene,
  p: number,
  x: number,
  y: number,
  z: number,
  out: Float64Array,
): void {
  const m = p * 9;
  const mf = cs.matf;
  const r1 = mf[m]!,
    g1 = mf[m + 1]!,
    b1 = mf[m + 2]!,
    r2 = mf[m + 3]!,
    g2 = mf[m + 4]!,
    b2 = mf[m + 5]!;
  const s = mf[m + 6]!;
  const pat = cs.pattern[p]!;
  const ax = cs.patternAxis[p] as Axis;
  let mix = 0;
  let tone = 1;
  const along = ax === 0 ? x : ax === 1 ? y : z;
  switch (pat) {
    case 1: // stripes
      mix = fract(along / s) < 0.5 ? 0 : 1;
      break;
    case 2: // checker
      mix = (Math.floor(x / s) + Math.floor(y / s) + Math.floor(z / s)) & 1;
      break;
    case 3: // noise
      mix =
        0.65 * valueNoise(x / s, y / s, z / s) +
        0.35 * valueNoise((2.7 * x) / s + 17, (2.7 * y) / s, (2.7 * z) / s);
      break;
    case 4: {
      // wood planks: grain along `ax`, planks across it
      const across = ax === 0 ? z : x;
      const plank = Math.floor(across / s);
      const seam = fract(across / s);
      const endOff = hash3(plank, 7, 3) * 2.4;
      const endSeam = fract((along + endOff) / 1.2);
      tone = 0.85 + 0.25 * hash3(plank, Math.floor((along + endOff) / 1.2), 11);
      const grain = valueNoise(along * 1.5, across * 40, y * 40);
      mix = 0.25 + 0.6 * grain * grain;
      if (seam < 0.04 || endSeam < 0.006) {
        mix = 1;
        tone *= 0.7;
      }
      break;
    }
    case 5: {
      // screen: gradient with blocky "windows" of content
      const bx = Math.floor(x / s),
        by = Math.floor(y / s),
        bz = Math.floor(z / s);
      const hsh = hash3(bx, by, bz);
      mix = hsh < 0.35 ? 1 : 0.15 * fract(y / (s * 4));
      tone = hsh > 0.85 ? 1.15 : 1;
      break;
    }
    case 6: {
      // sky with clouds and some greenery low down
      const cl = valueNoise(x * 1.5, y * 3, z * 1.5);
      const tree = valueNoise(x * 0.9 + 5, y * 0.5, z * 0.9);
      if (tree < 0.3) {
        mix = 1;
        tone = 0.8 + 0.3 * valueNoise(x * 12, y * 12, z * 12);
      } else if (cl > 0.6) {
        out[0] = 1;
        out[1] = 1;
        out[2] = 1;
        return;
      }
      break;
    }
    case 7: // fabric: fine weave plus slow variation
      mix =
        0.5 * ((Math.floor(x / s) + Math.floor(y / s) + Math.floor(z / s)) & 1) +
        0.5 * valueNoise(x * 6, y * 6, z * 6);
      break;
    case 8: {
      // floor tiles with grout
      const fx = fract(x / s),
        fz = fract(z / s);
      tone = 0.92 + 0.12 * hash3(Math.floor(x / s), 5, Math.floor(z / s));
      mix = fx < 0.025 || fz < 0.025 ? 1 : 0.15 * valueNoise(x * 8, y * 8, z * 8);
      break;
    }
    default:
      mix = 0;
  }
  out[0] = (r1 + (r2 - r1) * mix) * tone;
  out[1] = (g1 + (g2 - g1) * mix) * tone;
  out[2] = (b1 + (b2 - b1) * mix) * tone;
}

// ---------------------------------------------------------------------------------------------------------
// Shadows: the scene is static, so every light gets a cube map (6 faces x SHADOW_RES^2) of the distance from
// the light to the nearest object along each direction, built once per scene. Shading then needs a lookup
// (with 2x2 filtering for soft edges) instead of a shadow ray per pixel. Only objects cast shadows.

const SHADOW_RES = 256;
const shadowCache = new WeakMap<CompiledScene, Float32Array[]>();

/** Cube-map texel direction: face f (0:+x 1:-x 2:+y 3:-y 4:+z 5:-z), u, v in [-1, 1]. */
function cubeDir(f: number, u: number, v: number, out: Float64Array): void {
  const s = f & 1 ? -1 : 1;
  const a = f >> 1;
  if (a === 0) {
    out[0] = s;
    out[1] = v;
    out[2] = u;
  } else if (a === 1) {
    out[0] = u;
    out[1] = s;
    out[2] = v;
  } else {
    out[0] = u;
    out[1] = v;
    out[2] = s;
  }
}

export function shadowMaps(cs: CompiledScene): Float32Array[] {
  const hit = shadowCache.get(cs);
  if (hit) return hit;
  const tracer = makeTracer(cs);
  const dir = new Float64Array(3);
  const maps: Float32Array[] = [];
  const nLights = cs.lights.length / 4;
  for (let l = 0; l < nLights; l++) {
    const ox = cs.lights[l * 4]!,
      oy = cs.lights[l * 4 + 1]!,
      oz = cs.lights[l * 4 + 2]!;
    const map = new Float32Array(6 * SHADOW_RES * SHADOW_RES);
    for (let f = 0; f < 6; f++) {
      for (let j = 0; j < SHADOW_RES; j++) {
        for (let i = 0; i < SHADOW_RES; i++) {
          cubeDir(f, ((i + 0.5) / SHADOW_RES) * 2 - 1, ((j + 0.5) / SHADOW_RES) * 2 - 1, dir);
          const len = Math.sqrt(dir[0]! * dir[0]! + dir[1]! * dir[1]! + dir[2]! * dir[2]!);
          const p = tracer.trace(ox, oy, oz, dir[0]! / len, dir[1]! / len, dir[2]! / len, 100, false);
          map[(f * SHADOW_RES + j) * SHADOW_RES + i] = p >= 0 ? tracer.hit[0]! : 1e9;
        }
      }
    }
    maps.push(map);
  }
  shadowCache.set(cs, maps);
  return maps;
}

/** Fraction (0..1) of light reaching a point at offset (dx, dy, dz) and distance `dist` from the light. */
function shadowVisibility(map: Float32Array, dx: number, dy: number, dz: number, dist: number): number {
  const ax = Math.abs(dx),
    ay = Math.abs(dy),
    az = Math.abs(dz);
  let f: number, u: number, v: number, m: number;
  if (ax >= ay && ax >= az) {
    f = dx >= 0 ? 0 : 1;
    m = ax;
    u = dz;
    v = dy;
  } else if (ay >= az) {
    f = dy >= 0 ? 2 : 3;
    m = ay;
    u = dx;
    v = dz;
  } else {
    f = dz >= 0 ? 4 : 5;
    m = az;
    u = dx;
    v = dy;
  }
  const fx = ((u / m + 1) / 2) * SHADOW_RES - 0.5;
  const fy = ((v / m + 1) / 2) * SHADOW_RES - 0.5;
  let i0 = Math.floor(fx),
    j0 = Math.floor(fy);
  const wx = fx - i0,
    wy = fy - j0;
  if (i0 < 0) i0 = 0;
  if (j0 < 0) j0 = 0;
  const i1 = i0 + 1 < SHADOW_RES ? i0 + 1 : i0,
    j1 = j0 + 1 < SHADOW_RES ? j0 + 1 : j0;
  if (i0 >= SHADOW_RES) i0 = SHADOW_RES - 1;
  if (j0 >= SHADOW_RES) j0 = SHADOW_RES - 1;
  const base = f * SHADOW_RES;
  const lim = dist - (0.03 + 0.02 * dist);
  const s00 = map[(base + j0) * SHADOW_RES + i0]! > lim ? 1 : 0;
  const s10 = map[(base + j0) * SHADOW_RES + i1]! > lim ? 1 : 0;
  const s01 = map[(base + j1) * SHADOW_RES + i0]! > lim ? 1 : 0;
  const s11 = map[(base + j1) * SHADOW_RES + i1]! > lim ? 1 : 0;
  return (s00 * (1 - wx) + s10 * wx) * (1 - wy) + (s01 * (1 - wx) + s11 * wx) * wy;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

export interface RgbRenderOptions {
  /** Anti-alias edge pixels with 4 sub-samples (default true). */
  antialias?: boolean;
  /** Seed of the sensor noise (default 0). */
  noiseSeed?: number;
}

function poseParts(world_from_camera: Float64Array | readonly number[]): number[] {
  if (world_from_camera.length !== 16) throw new RangeError('world_from_camera must have 16 numbers');
  return Array.from(world_from_camera);
}

/** Render packed RGB (3 bytes per pixel, row-major) for a camera. */
export function renderRgb(
  cs: CompiledScene,
  world_from_camera: Float64Array | readonly number[],
  K: CameraIntrinsics,
  opts: RgbRenderOptions = {},
): Uint8Array {
  const { width: W, height: H } = K;
  const m = poseParts(world_from_camera);
  const ox = m[3]!,
    oy = m[7]!,
    oz = m[11]!;
  const tracer = makeTracer(cs);
  const nrm = new Float64Array(3);
  const col = new Float64Array(4);
  const lin = new Float32Array(W * H * 3);
  const primAt = new Int32Array(W * H);
  const { lights, lightRooms, matf } = cs;
  const nLights = lights.length / 4;
  const floorY = cs.scene.floorY;

  // shade one ray; writes linear-ish rgb into col[0..2]; returns the primitive index
  tracer.beginView(m, K);
  const rayDir = tracer.rayDir;
  const hitBuf = tracer.hit;
  const shadow = shadowMaps(cs);
  const shadeRay = (u: number, v: number): number => {
    const p = tracer.castPixel(u, v);
    const dx = rayDir[0]!,
      dy = rayDir[1]!,
      dz = rayDir[2]!;
    if (p < 0) {
      col[0] = 0.05;
      col[1] = 0.05;
      col[2] = 0.06;
      return -1;
    }
    const t = hitBuf[0]!;
    const px = ox + t * dx,
      py = oy + t * dy,
      pz = oz + t * dz;
    tracer.normal(p, px, py, pz, nrm);
    let nx = nrm[0]!,
      ny = nrm[1]!,
      nz = nrm[2]!;
    const dl = Math.sqrt(dx * dx + dy * dy + dz * dz);
    const vx = -dx / dl,
      vy = -dy / dl,
      vz = -dz / dl;
    if (nx * vx + ny * vy + nz * vz < 0) {
      nx = -nx;
      ny = -ny;
      nz = -nz;
    }
    surfaceColor(cs, p, px, py, pz, col);
    const mo = p * 9;
    const gloss = matf[mo + 7]!;
    const emissive = matf[mo + 8]!;
    // ambient: hemisphere (brighter from above) plus a little height-dependent darkening near the floor
    const hFloor = Math.min(1, (py - floorY) / 0.5);
    let light = 0.32 * (0.82 + 0.18 * ny) * (0.85 + 0.15 * hFloor);
    let spec = 0;
    for (let l = 0; l < nLights; l++) {
      const lr = l * 4;
      if (
        px < lightRooms[lr]! ||
        px > lightRooms[lr + 1]! ||
        pz < lightRooms[lr + 2]! ||
        pz > lightRooms[lr + 3]!
      )
        continue;
      let lx = lights[lr]! - px,
        ly = lights[lr + 1]! - py,
        lz = lights[lr + 2]! - pz;
      const d2 = lx * lx + ly * ly + lz * lz;
      const d = Math.sqrt(d2);
      lx /= d;
      ly /= d;
      lz /= d;
      const ndl = nx * lx + ny * ly + nz * lz;
      if (ndl <= 0) continue;
      // shadow from the light's precomputed cube map of occluder distances
      const vis =
        0.35 +
        0.65 * shadowVisibility(shadow[l]!, px - lights[lr]!, py - lights[lr + 1]!, pz - lights[lr + 2]!, d);
      const inten = lights[lr + 3]! * (1.35 / (1 + 0.12 * d2));
      light += inten * ndl * vis * 0.75;
      if (gloss > 0 && vis > 0.5) {
        let hx = lx + vx,
          hy = ly + vy,
          hz = lz + vz;
        const hl = Math.sqrt(hx * hx + hy * hy + hz * hz) || 1;
        hx /= hl;
        hy /= hl;
        hz /= hl;
        const ndh = Math.max(0, nx * hx + ny * hy + nz * hz);
        const s2 = ndh * ndh,
          s4 = s2 * s2,
          s8 = s4 * s4,
          s16 = s8 * s8,
          s32 = s16 * s16;
        spec += gloss * 0.45 * s32 * inten;
      }
    }
    const lit = 1 - emissive;
    col[0] = col[0]! * (light * lit + emissive) + spec;
    col[1] = col[1]! * (light * lit + emissive) + spec;
    col[2] = col[2]! * (light * lit + emissive) + spec;
    return p;
  };

  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const idx = j * W + i;
      primAt[idx] = shadeRay(i, j);
      lin[idx * 3] = col[0]!;
      lin[idx * 3 + 1] = col[1]!;
      lin[idx * 3 + 2] = col[2]!;
    }
  }
  if (opts.antialias !== false) {
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < W; i++) {
        const idx = j * W + i;
        const pr = primAt[idx]!;
        const edge =
          (i + 1 < W && primAt[idx + 1] !== pr) ||
          (i > 0 && primAt[idx - 1] !== pr) ||
          (j + 1 < H && primAt[idx + W] !== pr) ||
          (j > 0 && primAt[idx - W] !== pr);
        if (!edge) continue;
        let sr = 0,
          sg = 0,
          sb = 0;
        for (let s = 0; s < 4; s++) {
          shadeRay(i + (s & 1 ? 0.25 : -0.25), j + (s & 2 ? 0.25 : -0.25));
          sr += col[0]!;
          sg += col[1]!;
          sb += col[2]!;
        }
        lin[idx * 3] = sr / 4;
        lin[idx * 3 + 1] = sg / 4;
        lin[idx * 3 + 2] = sb / 4;
      }
    }
  }
  // tone map, vignette, sensor noise
  const out = new Uint8Array(W * H * 3);
  const rng = new Rng((opts.noiseSeed ?? 0) >>> 0);
  const hw = W / 2,
    hh = H / 2;
  const inv = 1 / (hw * hw + hh * hh);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const idx = j * W + i;
      const rr = ((i - hw) * (i - hw) + (j - hh) * (j - hh)) * inv;
      const vig = 1 - 0.22 * rr;
      const noise = (rng.next() + rng.next() - 1) * 4;
      for (let c = 0; c < 3; c++) {
        let v = lin[idx * 3 + c]! * vig;
        v = v / (1 + 0.25 * v * v); // soft shoulder
        const q = Math.round(255 * Math.min(1, Math.max(0, v)) * 1.08 + noise);
        out[idx * 3 + c] = q < 0 ? 0 : q > 255 ? 255 : q;
      }
    }
  }
  return out;
}

export interface TruthDepth {
  /** True z-depth in metres (0 where the ray escaped the scene). */
  depth_m: Float32Array;
  /** Instance id of the first hit (0 = structure or nothing). */
  ids: Uint16Array;
  /** |cos| of the angle between the ray and the surface normal. */
  cosIncidence: Float32Array;
}

/** Ground-truth depth, instance ids and incidence at the given (depth) intrinsics. */
export function renderTruth(
  cs: CompiledScene,
  world_from_camera: Float64Array | readonly number[],
  K: CameraIntrinsics,
): TruthDepth {
  const { width: W, height: H } = K;
  const m = poseParts(world_from_camera);
  const ox = m[3]!,
    oy = m[7]!,
    oz = m[11]!;
  const tracer = makeTracer(cs);
  tracer.beginView(m, K);
  const rayDir = tracer.rayDir;
  const nrm = new Float64Array(3);
  const depth = new Float32Array(W * H);
  const ids = new Uint16Array(W * H);
  const cosI = new Float32Array(W * H);
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const p = tracer.castPixel(i, j);
      const dx = rayDir[0]!,
        dy = rayDir[1]!,
        dz = rayDir[2]!;
      const idx = j * W + i;
      if (p < 0) continue;
      const t = tracer.hit[0]!;
      depth[idx] = t;
      ids[idx] = cs.instance[p]!;
      tracer.normal(p, ox + t * dx, oy + t * dy, oz + t * dz, nrm);
      cosI[idx] =
        Math.abs(nrm[0]! * dx + nrm[1]! * dy + nrm[2]! * dz) / Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return { depth_m: depth, ids, cosIncidence: cosI };
}

export interface LidarOptions {
  /** Relative depth noise sigma (default 0.006 = 0.6 % of depth). */
  relativeSigma?: number;
  /** Fraction of random dropouts (default 0.02). */
  dropout?: number;
  /** Farther than this is not measured (default 5 m). */
  maxRange_m?: number;
  /** Quantisation step in metres (default 0.001). */
  quantum_m?: number;
}

export interface LidarFrame {
  depth_m: Float32Array;
  /** 0 = low (edges, dropouts), 1 = medium (moderate gradients, far, grazing), 2 = high. */
  confidence: Uint8Array;
}

/**
 * Simulate an iPhone-LiDAR-like depth map from the true depth: depth-proportional Gaussian noise, 1 mm
 * quantisation, random dropouts, dropouts and "flying pixels" at depth edges, nothing beyond the range,
 * and a confidence map (2 smooth, 1 moderate gradient / far / grazing, 0 strong edge / dropout).
 */
export function simulateLidar(
  truth: TruthDepth,
  width: number,
  height: number,
  rng: Rng,
  opts: LidarOptions = {},
): LidarFrame {
  const sigmaRel = opts.relativeSigma ?? 0.006;
  const dropout = opts.dropout ?? 0.02;
  const maxRange = opts.maxRange_m ?? 5;
  const q = opts.quantum_m ?? 0.001;
  const z = truth.depth_m;
  const n = width * height;
  const depth = new Float32Array(n);
  const conf = new Uint8Array(n);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const idx = j * width + i;
      const d = z[idx]!;
      // draw the random numbers unconditionally so the noise field does not depend on the geometry
      const g = rng.gauss();
      const u1 = rng.next();
      const u2 = rng.next();
      if (d <= 0 || d > maxRange) continue;
      // relative gradient to the 4-neighbours (missing neighbours count as a strong edge)
      let grad = 0;
      let far = d;
      for (let nb = 0; nb < 4; nb++) {
        let k: number;
        if (nb === 0) {
          if (i === 0) continue;
          k = idx - 1;
        } else if (nb === 1) {
          if (i + 1 >= width) continue;
          k = idx + 1;
        } else if (nb === 2) {
          if (j === 0) continue;
          k = idx - width;
        } else {
          if (j + 1 >= height) continue;
          k = idx + width;
        }
        const o = z[k]!;
        if (o <= 0) {
          if (grad < 1) grad = 1;
          continue;
        }
        const gdiff = Math.abs(o - d) / d;
        if (gdiff > grad) {
          grad = gdiff;
          far = o;
        }
      }
      const cosI = truth.cosIncidence[idx]!;
      // the expected neighbour-to-neighbour change on a plane seen at incidence cosI
      const planeGrad = (Math.sqrt(Math.max(0, 1 - cosI * cosI)) / Math.max(cosI, 0.05)) * 0.006;
      const excess = grad - planeGrad;
      let c = 2;
      if (excess > 0.06 || cosI < 0.08) c = 0;
      else if (excess > 0.015 || d > 3.5 || cosI < 0.25) c = 1;
      if (u1 < dropout) continue;
      let v: number;
      if (c === 0) {
        if (u2 < 0.5) continue; // edge dropout
        // flying pixel: somewhere between the two surfaces
        v = d + (far - d) * u2 * 0.8;
      } else {
        const sigma = sigmaRel * d * (d > 3.5 ? 1.5 : 1) + 0.0005;
        v = d + g * sigma;
      }
      v = Math.round(v / q) * q;
      if (v <= 0) continue;
      depth[idx] = v;
      conf[idx] = c;
    }
  }
  return { depth_m: depth, confidence: conf };
}
