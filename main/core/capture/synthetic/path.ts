/**
 * A smooth handheld camera path through the synthetic apartment.
 *
 * The walk visits the view targets (furniture groups) of one room in angular order, goes through the
 * doorway and does the same in the other room. For each target it picks a free standing spot at a
 * comfortable distance with a clear line of sight, strafes sideways past it while looking at it (parallax,
 * several views), and walks to the next spot along an A* route on a 10 cm occupancy grid (furniture
 * footprints dilated by a body radius), smoothed with Chaikin corner cutting and resampled at constant speed.
 * Hand jitter: slow sums of sines on position (~1 cm) and orientation (~0.7 degrees).
 *
 * Poses are camera-to-world, 4x4 row-major, ARKit camera axes (x right, y up, z backward; looks along -z).
 */
import { Rng, seedFrom } from './rng';
import type { Rect2, Scene, Vec3, ViewTarget } from './scene';
import { compileScene, makeTracer } from './render';

export interface CameraPath {
  /** One 4x4 row-major world_from_camera (ARKit axes) per frame. */
  poses: Float64Array[];
  timestamps_s: number[];
  fps: number;
  /** Which view target each frame is mainly looking at. */
  lookTargets: number[];
}

const CELL = 0.1;
const BODY_RADIUS = 0.32;

interface Grid {
  minX: number;
  minZ: number;
  nx: number;
  nz: number;
  free: Uint8Array;
}

function inRect(x: number, z: number, r: Rect2, inset: number): boolean {
  return x >= r.minX + inset && x <= r.maxX - inset && z >= r.minZ + inset && z <= r.maxZ - inset;
}

function buildGrid(scene: Scene): Grid {
  let minX = Infinity,
    maxX = -Infinity,
    minZ = Infinity,
    maxZ = -Infinity;
  for (const r of scene.rooms) {
    minX = Math.min(minX, r.minX);
    maxX = Math.max(maxX, r.maxX);
    minZ = Math.min(minZ, r.minZ);
    maxZ = Math.max(maxZ, r.maxZ);
  }
  const nx = Math.ceil((maxX - minX) / CELL) + 1;
  const nz = Math.ceil((maxZ - minZ) / CELL) + 1;
  const free = new Uint8Array(nx * nz);
  // obstacles: every object standing on the floor (rugs excepted), as dilated footprints
  const obstacles: Rect2[] = [];
  for (const inst of scene.instances) {
    if (inst.className === 'rug') continue;
    let x0 = Infinity,
      x1 = -Infinity,
      z0 = Infinity,
      z1 = -Infinity,
      y0 = Infinity;
    for (const pi of inst.primitives) {
      const p = scene.primitives[pi]!;
      x0 = Math.min(x0, p.center[0] - p.half[0]);
      x1 = Math.max(x1, p.center[0] + p.half[0]);
      z0 = Math.min(z0, p.center[2] - p.half[2]);
      z1 = Math.max(z1, p.center[2] + p.half[2]);
      y0 = Math.min(y0, p.center[1] - p.half[1]);
    }
    // wall decor (pictures, clocks, windows) hangs above head room; everything else stands on the floor
    if (y0 > scene.floorY + 0.3) continue;
    obstacles.push({
      minX: x0 - BODY_RADIUS,
      maxX: x1 + BODY_RADIUS,
      minZ: z0 - BODY_RADIUS,
      maxZ: z1 + BODY_RADIUS,
    });
  }
  for (let iz = 0; iz < nz; iz++) {
    for (let ix = 0; ix < nx; ix++) {
      const x = minX + ix * CELL;
      const z = minZ + iz * CELL;
      let ok =
        scene.rooms.some((r) => inRect(x, z, r, BODY_RADIUS + 0.05)) ||
        inRect(
          x,
          z,
          { ...scene.doorway, minX: scene.doorway.minX - 1.0, maxX: scene.doorway.maxX + 1.0 },
          0.25,
        );
      if (ok) ok = !obstacles.some((o) => x > o.minX && x < o.maxX && z > o.minZ && z < o.maxZ);
      free[iz * nx + ix] = ok ? 1 : 0;
    }
  }
  return { minX, minZ, nx, nz, free };
}

function cellOf(g: Grid, x: number, z: number): number {
  const ix = Math.round((x - g.minX) / CELL);
  const iz = Math.round((z - g.minZ) / CELL);
  if (ix < 0 || iz < 0 || ix >= g.nx || iz >= g.nz) return -1;
  return iz * g.nx + ix;
}

function isFree(g: Grid, x: number, z: number): boolean {
  const c = cellOf(g, x, z);
  return c >= 0 && g.free[c] === 1;
}

/** 8-connected A*; returns world points (cell centres) from start to goal, or null. */
function astar(g: Grid, sx: number, sz: number, gx: number, gz: number): [number, number][] | null {
  const s = cellOf(g, sx, sz);
  const t = cellOf(g, gx, gz);
  if (s < 0 || t < 0 || g.free[s] !== 1 || g.free[t] !== 1) return null;
  const n = g.nx * g.nz;
  const gScore = new Float64Array(n).fill(Infinity);
  const came = new Int32Array(n).fill(-1);
  const closed = new Uint8Array(n);
  // binary heap of [f, cell]
  const heapF: number[] = [];
  const heapC: number[] = [];
  const push = (f: number, c: number): void => {
    heapF.push(f);
    heapC.push(c);
    let i = heapF.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (heapF[p]! < heapF[i]! || (heapF[p] === heapF[i] && heapC[p]! <= heapC[i]!)) break;
      [heapF[p], heapF[i]] = [heapF[i]!, heapF[p]!];
      [heapC[p], heapC[i]] = [heapC[i]!, heapC[p]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heapC[0]!;
    const lf = heapF.pop()!;
    const lc = heapC.pop()!;
    if (heapF.length > 0) {
      heapF[0] = lf;
      heapC[0] = lc;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < heapF.length && (heapF[l]! < heapF[m]! || (heapF[l] === heapF[m] && heapC[l]! < heapC[m]!)))
          m = l;
        if (r < heapF.length && (heapF[r]! < heapF[m]! || (heapF[r] === heapF[m] && heapC[r]! < heapC[m]!)))
          m = r;
        if (m === i) break;
        [heapF[m], heapF[i]] = [heapF[i]!, heapF[m]!];
        [heapC[m], heapC[i]] = [heapC[i]!, heapC[m]!];
        i = m;
      }
    }
    return top;
  };
  const tx = t % g.nx,
    tz = Math.floor(t / g.nx);
  const h = (c: number): number => Math.hypot((c % g.nx) - tx, Math.floor(c / g.nx) - tz);
  gScore[s] = 0;
  push(h(s), s);
  while (heapF.length > 0) {
    const c = pop();
    if (c === t) break;
    if (closed[c]) continue;
    closed[c] = 1;
    const cx = c % g.nx,
      cz = Math.floor(c / g.nx);
    for (let dz = -1; dz <= 1; dz++) {
      for (let dx = -1; dx <= 1; dx++) {
        if (dx === 0 && dz === 0) continue;
        const nx = cx + dx,
          nz = cz + dz;
        if (nx < 0 || nz < 0 || nx >= g.nx || nz >= g.nz) continue;
        const nc = nz * g.nx + nx;
        if (g.free[nc] !== 1 || closed[nc]) continue;
        if (dx !== 0 && dz !== 0 && (g.free[cz * g.nx + nx] !== 1 || g.free[nz * g.nx + cx] !== 1)) continue;
        const ng = gScore[c]! + (dx !== 0 && dz !== 0 ? Math.SQRT2 : 1);
        if (ng < gScore[nc]!) {
          gScore[nc] = ng;
          came[nc] = c;
          push(ng + h(nc), nc);
        }
      }
    }
  }
  if (s !== t && came[t] === -1) return null;
  const cells: number[] = [];
  for (let c = t; c !== -1; c = came[c]!) {
    cells.push(c);
    if (c === s) break;
  }
  cells.reverse();
  return cells.map((c) => [g.minX + (c % g.nx) * CELL, g.minZ + Math.floor(c / g.nx) * CELL]);
}

/** Drop collinear grid points and keep turning points (fewer, longer segments before smoothing). */
function simplify(pts: [number, number][], g: Grid): [number, number][] {
  if (pts.length <= 2) return pts;
  const out: [number, number][] = [pts[0]!];
  let anchor = 0;
  for (let i = 2; i < pts.length; i++) {
    // can we go straight from anchor to i through free cells?
    const a = pts[anchor]!,
      b = pts[i]!;
    const steps = Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL * 0.5));
    let clear = true;
    for (let s = 1; s < steps && clear; s++) {
      const f = s / steps;
      if (!isFree(g, a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)) clear = false;
    }
    if (!clear) {
      out.push(pts[i - 1]!);
      anchor = i - 1;
    }
  }
  out.push(pts[pts.length - 1]!);
  return out;
}

interface Waypoint {
  x: number;
  z: number;
  /** Index into scene.viewTargets, or -1 for pass-through points. */
  target: number;
}

/** Pick a standing spot for looking at `t`. */
function chooseSpot(
  scene: Scene,
  g: Grid,
  t: ViewTarget,
  eyeY: number,
  rng: Rng,
  prev: [number, number] | null,
  los: (x: number, z: number, t: ViewTarget) => boolean,
): [number, number] | null {
  const ideal = Math.min(2.6, Math.max(1.3, t.radius * 1.1 + 0.9));
  const baseAngle = t.facing ? Math.atan2(t.facing[1], t.facing[0]) : rng.range(0, 2 * Math.PI);
  let best: [number, number] | null = null;
  let bestScore = Infinity;
  for (let k = 0; k < 80; k++) {
    const spread = t.facing ? 1.05 : Math.PI;
    const ang = baseAngle + rng.range(-spread, spread);
    const dist = ideal * rng.range(0.75, 1.25);
    const x = t.center[0] + Math.cos(ang) * dist;
    const z = t.center[2] + Math.sin(ang) * dist;
    if (!isFree(g, x, z)) continue;
    if (!los(x, z, t)) continue;
    const off = t.facing ? Math.abs(ang - baseAngle) : 0;
    const score =
      Math.abs(dist - ideal) + 0.4 * off + (prev ? 0.15 * Math.hypot(x - prev[0], z - prev[1]) : 0);
    if (score < bestScore) {
      bestScore = score;
      best = [x, z];
    }
  }
  void eyeY;
  void scene;
  return best;
}

function chaikin(pts: [number, number][], iterations: number): [number, number][] {
  let cur = pts;
  for (let it = 0; it < iterations; it++) {
    if (cur.length < 3) return cur;
    const next: [number, number][] = [cur[0]!];
    for (let i = 0; i < cur.length - 1; i++) {
      const a = cur[i]!,
        b = cur[i + 1]!;
      next.push([0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]]);
      next.push([0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]]);
    }
    next.push(cur[cur.length - 1]!);
    cur = next;
  }
  return cur;
}

function smoothstep(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}

/** Rotation (row-major 3x3) that looks from `eye` toward `at` with +y up, ARKit axes (camera looks along -z). */
function lookRotation(eye: Vec3, at: Vec3): number[] {
  let zx = eye[0] - at[0],
    zy = eye[1] - at[1],
    zz = eye[2] - at[2];
  const zl = Math.hypot(zx, zy, zz) || 1;
  zx /= zl;
  zy /= zl;
  zz /= zl;
  // x = up x z
  let xx = zz,
    xy = 0,
    xz = -zx;
  const xl = Math.hypot(xx, xy, xz) || 1;
  xx /= xl;
  xy /= xl;
  xz /= xl;
  // y = z x x
  const yx = zy * xz - zz * xy,
    yy = zz * xx - zx * xz,
    yz = zx * xy - zy * xx;
  return [xx, yx, zx, xy, yy, zy, xz, yz, zz];
}

function rotAxisAngle(ax: number, ay: number, az: number, angle: number): number[] {
  const c = Math.cos(angle),
    s = Math.sin(angle),
    t = 1 - c;
  return [
    t * ax * ax + c,
    t * ax * ay - s * az,
    t * ax * az + s * ay,
    t * ax * ay + s * az,
    t * ay * ay + c,
    t * ay * az - s * ax,
    t * ax * az - s * ay,
    t * ay * az + s * ax,
    t * az * az + c,
  ];
}

function mul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++)
      o[i * 3 + j] = a[i * 3]! * b[j]! + a[i * 3 + 1]! * b[3 + j]! + a[i * 3 + 2]! * b[6 + j]!;
  return o;
}

/** Re-orthonormalise a rotation (Gram-Schmidt on the columns) so poses are exact rigid transforms. */
function orthonormalize(r: number[]): number[] {
  let x0 = r[0]!,
    x1 = r[3]!,
    x2 = r[6]!;
  let l = Math.hypot(x0, x1, x2);
  x0 /= l;
  x1 /= l;
  x2 /= l;
  let y0 = r[1]!,
    y1 = r[4]!,
    y2 = r[7]!;
  const d = x0 * y0 + x1 * y1 + x2 * y2;
  y0 -= d * x0;
  y1 -= d * x1;
  y2 -= d * x2;
  l = Math.hypot(y0, y1, y2);
  y0 /= l;
  y1 /= l;
  y2 /= l;
  const z0 = x1 * y2 - x2 * y1,
    z1 = x2 * y0 - x0 * y2,
    z2 = x0 * y1 - x1 * y0;
  return [x0, y0, z0, x1, y1, z1, x2, y2, z2];
}

export interface PathOptions {
  frames?: number;
  /** Walking speed used for the timestamps (default 0.45 m/s). */
  speed_mps?: number;
  /** Hand jitter on/off (default on). */
  jitter?: boolean;
}

/** The camera path for `scene` (deterministic in scene.seed and the options). */
export function generatePath(scene: Scene, opts: PathOptions = {}): CameraPath {
  const frames = opts.frames ?? 200;
  if (!Number.isInteger(frames) || frames < 1 || frames > 100_000)
    throw new RangeError(`generatePath: frames must be an integer in 1..100000, got ${frames}`);
  const rng = new Rng(seedFrom(scene.seed, 0x9a7f));
  const g = buildGrid(scene);
  const cs = compileScene(scene);
  const tracer = makeTracer(cs);
  const eyeBase = scene.floorY + rng.range(1.38, 1.5);

  const los = (x: number, z: number, t: ViewTarget): boolean => {
    const dx = t.center[0] - x,
      dy = t.center[1] - eyeBase,
      dz = t.center[2] - z;
    const dist = Math.hypot(dx, dy, dz);
    const p = tracer.trace(x, eyeBase, z, dx / dist, dy / dist, dz / dist, dist + 1);
    if (p < 0) return false;
    const id = cs.instance[p]!;
    if (t.instanceIds.includes(id)) return true;
    return tracer.hitT() > dist - t.radius * 0.6;
  };

  // order: room of the first target first; within a room by angle around the room centre
  const startRoom = rng.int(0, scene.rooms.length - 1);
  const roomOrder = [startRoom, ...scene.rooms.map((_, i) => i).filter((i) => i !== startRoom)];
  const waypoints: Waypoint[] = [];
  let prev: [number, number] | null = null;
  const doorMid: [number, number] = [
    (scene.doorway.minX + scene.doorway.maxX) / 2,
    (scene.doorway.minZ + scene.doorway.maxZ) / 2,
  ];
  for (let ri = 0; ri < roomOrder.length; ri++) {
    const room = roomOrder[ri]!;
    const rr = scene.rooms[room]!;
    const rcx = (rr.minX + rr.maxX) / 2,
      rcz = (rr.minZ + rr.maxZ) / 2;
    const targets = scene.viewTargets
      .map((t, i) => ({ t, i }))
      .filter(
        ({ t }) =>
          t.room === room &&
          t.name !== 'window' &&
          t.center[0] >= rr.minX - 0.2 &&
          t.center[0] <= rr.maxX + 0.2,
      );
    // (windows are big and seen in passing; walking up to them only shows wall)
    // start the loop at the target nearest the doorway when we came through it
    const ang = (t: ViewTarget) => Math.atan2(t.center[2] - rcz, t.center[0] - rcx);
    const dirSign = rng.chance(0.5) ? 1 : -1;
    const startAng = ri === 0 ? rng.range(-Math.PI, Math.PI) : Math.atan2(doorMid[1] - rcz, doorMid[0] - rcx);
    targets.sort((a, b) => {
      const da = ((((ang(a.t) - startAng) * dirSign) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      const db = ((((ang(b.t) - startAng) * dirSign) % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);
      return da - db || a.i - b.i;
    });
    for (const { t, i } of targets) {
      const spot = chooseSpot(scene, g, t, eyeBase, rng, prev, los);
      if (!spot) continue;
      // strafe across the spot, perpendicular to the view direction
      const vx = t.center[0] - spot[0],
        vz = t.center[2] - spot[1];
      const vl = Math.hypot(vx, vz) || 1;
      const sx = -vz / vl,
        sz = vx / vl;
      let amp = 0.35;
      while (
        amp > 0.05 &&
        !(
          isFree(g, spot[0] - sx * amp, spot[1] - sz * amp) &&
          isFree(g, spot[0] + sx * amp, spot[1] + sz * amp)
        )
      )
        amp *= 0.6;
      if (amp <= 0.05) amp = 0;
      const sgn = rng.chance(0.5) ? 1 : -1;
      waypoints.push({ x: spot[0] - sgn * sx * amp, z: spot[1] - sgn * sz * amp, target: i });
      waypoints.push({ x: spot[0] + sgn * sx * amp, z: spot[1] + sgn * sz * amp, target: i });
      prev = spot;
    }
  }
  if (waypoints.length === 0) {
    // degenerate scene: stand in the first room and turn around
    const r = scene.rooms[0]!;
    waypoints.push({ x: (r.minX + r.maxX) / 2, z: (r.minZ + r.maxZ) / 2, target: -1 });
  }

  // route: polyline with, per vertex, the target the camera looks at and a blend to the next target
  interface V {
    x: number;
    z: number;
    from: number;
    to: number;
    blend: number;
  }
  const route: V[] = [];
  const first = waypoints[0]!;
  route.push({ x: first.x, z: first.z, from: first.target, to: first.target, blend: 0 });
  let a = first;
  for (let k = 1; k < waypoints.length; k++) {
    const b = waypoints[k]!;
    const same = a.target === b.target;
    let pts: [number, number][] | null = same
      ? [
          [a.x, a.z],
          [b.x, b.z],
        ]
      : astar(g, a.x, a.z, b.x, b.z);
    if (!pts) continue; // unreachable from here: skip this waypoint
    pts = same ? pts : simplify(pts, g);
    pts[0] = [a.x, a.z];
    pts[pts.length - 1] = [b.x, b.z];
    let total = 0;
    for (let i = 1; i < pts.length; i++)
      total += Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]);
    let acc = 0;
    for (let i = 1; i < pts.length; i++) {
      acc += Math.hypot(pts[i]![0] - pts[i - 1]![0], pts[i]![1] - pts[i - 1]![1]);
      route.push({
        x: pts[i]![0],
        z: pts[i]![1],
        from: a.target,
        to: b.target,
        blend: same ? 1 : total > 0 ? acc / total : 1,
      });
    }
    a = b;
  }
  // smooth positions (Chaikin on x/z), carrying look data along by nearest original vertex parameter
  const smoothPts = chaikin(
    route.map((v) => [v.x, v.z] as [number, number]),
    3,
  );
  // arc length of the original route per vertex to map smoothed points back
  const cum: number[] = [0];
  for (let i = 1; i < route.length; i++)
    cum.push(cum[i - 1]! + Math.hypot(route[i]!.x - route[i - 1]!.x, route[i]!.z - route[i - 1]!.z));
  const sCum: number[] = [0];
  for (let i = 1; i < smoothPts.length; i++)
    sCum.push(
      sCum[i - 1]! +
        Math.hypot(smoothPts[i]![0] - smoothPts[i - 1]![0], smoothPts[i]![1] - smoothPts[i - 1]![1]),
    );
  const totalLen = sCum[sCum.length - 1]!;
  const routeLen = cum[cum.length - 1]!;

  const centerOf = (ti: number): Vec3 => {
    const t = scene.viewTargets[ti];
    if (!t) {
      const r = scene.rooms[0]!;
      return [(r.minX + r.maxX) / 2, scene.floorY + 0.8, r.minZ];
    }
    return t.center;
  };
  const lookAtRoute = (s: number): { from: Vec3; to: Vec3; w: number; target: number } => {
    // s in [0, routeLen]
    let i = 1;
    while (i < cum.length - 1 && cum[i]! < s) i++;
    const v = route[Math.min(i, route.length - 1)]!;
    const a = centerOf(v.from),
      b = centerOf(v.to);
    // turn toward the next target during the first 60 % of the transfer
    const w = v.from === v.to ? 0 : smoothstep(v.blend / 0.6);
    const segStart = route[i - 1]!;
    const prevW =
      v.from === v.to
        ? 0
        : segStart.from === v.from && segStart.to === v.to
          ? smoothstep(segStart.blend / 0.6)
          : 0;
    const segLen = cum[i]! - cum[i - 1]!;
    const f = segLen > 0 ? Math.min(1, Math.max(0, (s - cum[i - 1]!) / segLen)) : 1;
    const ww = prevW + (w - prevW) * f;
    return { from: a, to: b, w: ww, target: ww < 0.5 ? v.from : v.to };
  };

  // Dense samples along the path: position, viewing yaw/pitch (pitch limited to 50 degrees down), and a
  // "cost" that counts turning as walking (0.6 m per radian), so frames slow down in turns.
  const dense = Math.max(2000, frames * 10);
  const dX = new Float64Array(dense),
    dZ = new Float64Array(dense),
    dYaw = new Float64Array(dense),
    dPitch = new Float64Array(dense),
    dCost = new Float64Array(dense);
  const dTarget = new Int32Array(dense);
  let seg = 1;
  const maxDown = (50 * Math.PI) / 180;
  for (let k = 0; k < dense; k++) {
    const s = (k / (dense - 1)) * totalLen;
    while (seg < sCum.length - 1 && sCum[seg]! < s) seg++;
    const a = smoothPts[seg - 1] ?? smoothPts[0]!,
      b = smoothPts[Math.min(seg, smoothPts.length - 1)]!;
    const segLen = (sCum[seg] ?? 0) - (sCum[seg - 1] ?? 0);
    const w = segLen > 0 ? Math.min(1, Math.max(0, (s - sCum[seg - 1]!) / segLen)) : 0;
    dX[k] = a[0] + (b[0] - a[0]) * w;
    dZ[k] = a[1] + (b[1] - a[1]) * w;
    const look = lookAtRoute(totalLen > 0 ? (s / totalLen) * routeLen : 0);
    // interpolate viewing directions (not points) between the two targets; keep the previous heading when a
    // target is nearly straight below/above the camera (its heading is ill-defined there)
    const dirTo = (t: Vec3): [number, number] => {
      const vx = t[0] - dX[k]!,
        vy = t[1] - eyeBase,
        vz = t[2] - dZ[k]!;
      const hd = Math.hypot(vx, vz);
      let yw = hd < 0.6 && k > 0 ? dYaw[k - 1]! : Math.atan2(vz, vx);
      if (k > 0) {
        while (yw - dYaw[k - 1]! > Math.PI) yw -= 2 * Math.PI;
        while (yw - dYaw[k - 1]! < -Math.PI) yw += 2 * Math.PI;
      }
      return [yw, Math.atan2(vy, Math.max(hd, 0.6))];
    };
    const [ya, pa] = dirTo(look.from);
    const [yb, pb] = dirTo(look.to);
    let yb2 = yb;
    while (yb2 - ya > Math.PI) yb2 -= 2 * Math.PI;
    while (yb2 - ya < -Math.PI) yb2 += 2 * Math.PI;
    let yaw = ya + (yb2 - ya) * look.w;
    if (k > 0) {
      while (yaw - dYaw[k - 1]! > Math.PI) yaw -= 2 * Math.PI;
      while (yaw - dYaw[k - 1]! < -Math.PI) yaw += 2 * Math.PI;
    }
    dYaw[k] = yaw;
    const pitchRaw = pa + (pb - pa) * look.w;
    dPitch[k] = Math.max(-maxDown, Math.min(0.15, pitchRaw));
    dTarget[k] = look.target;
    dCost[k] =
      k === 0
        ? 0
        : dCost[k - 1]! +
          Math.hypot(dX[k]! - dX[k - 1]!, dZ[k]! - dZ[k - 1]!) +
          1.5 * (Math.abs(dYaw[k]! - dYaw[k - 1]!) + Math.abs(dPitch[k]! - dPitch[k - 1]!));
  }
  // light smoothing of the viewing angles (a hand does not snap)
  const smoothAngles = (arr: Float64Array, radius: number): Float64Array => {
    const out = new Float64Array(arr.length);
    for (let k = 0; k < arr.length; k++) {
      let acc = 0,
        wsum = 0;
      for (let o = -radius; o <= radius; o++) {
        const q = Math.min(arr.length - 1, Math.max(0, k + o));
        const wgt = radius - Math.abs(o) + 1;
        acc += arr[q]! * wgt;
        wsum += wgt;
      }
      out[k] = acc / wsum;
    }
    return out;
  };
  const yawS = smoothAngles(dYaw, Math.round(dense / 200));
  const pitchS = smoothAngles(dPitch, Math.round(dense / 200));
  const totalCost = dCost[dense - 1]!;

  const speed = opts.speed_mps ?? 0.45;
  const duration = Math.max(totalCost / speed, 1);
  const fps = Math.max(1, Math.min(60, Math.round(frames / duration)));
  const jitter = opts.jitter !== false;
  const ph = Array.from({ length: 12 }, () => rng.range(0, 2 * Math.PI));
  const poses: Float64Array[] = [];
  const timestamps: number[] = [];
  const lookTargets: number[] = [];
  let kd = 1;
  for (let f = 0; f < frames; f++) {
    const c = frames === 1 ? 0 : (f / (frames - 1)) * totalCost;
    while (kd < dense - 1 && dCost[kd]! < c) kd++;
    const span = dCost[kd]! - dCost[kd - 1]!;
    const w = span > 0 ? Math.min(1, Math.max(0, (c - dCost[kd - 1]!) / span)) : 0;
    const lerp = (arr: Float64Array): number => arr[kd - 1]! + (arr[kd]! - arr[kd - 1]!) * w;
    let px = lerp(dX);
    let pz = lerp(dZ);
    const yaw = lerp(yawS);
    const pitch = lerp(pitchS);
    const time = f / fps;
    let py = eyeBase + 0.04 * Math.sin(0.35 * time + ph[0]!);
    const at: Vec3 = [
      px + Math.cos(pitch) * Math.cos(yaw),
      py + Math.sin(pitch),
      pz + Math.cos(pitch) * Math.sin(yaw),
    ];
    let R = lookRotation([px, py, pz], at);
    if (jitter) {
      px += 0.006 * Math.sin(1.3 * time + ph[1]!) + 0.003 * Math.sin(3.1 * time + ph[2]!);
      py += 0.006 * Math.sin(1.7 * time + ph[3]!) + 0.004 * Math.sin(3.7 * time + ph[4]!);
      pz += 0.006 * Math.sin(1.1 * time + ph[5]!) + 0.003 * Math.sin(2.9 * time + ph[6]!);
      const deg = Math.PI / 180;
      const jy = 0.6 * deg * Math.sin(0.9 * time + ph[7]!) + 0.25 * deg * Math.sin(2.3 * time + ph[8]!);
      const jp = 0.6 * deg * Math.sin(1.2 * time + ph[9]!) + 0.25 * deg * Math.sin(2.9 * time + ph[10]!);
      const jr = 1.2 * deg * Math.sin(0.5 * time + ph[11]!);
      // small rotations in camera axes: R * Ry(yaw) * Rx(pitch) * Rz(roll)
      R = mul3(
        R,
        mul3(rotAxisAngle(0, 1, 0, jy), mul3(rotAxisAngle(1, 0, 0, jp), rotAxisAngle(0, 0, 1, jr))),
      );
    }
    R = orthonormalize(R);
    const m = new Float64Array(16);
    m[0] = R[0]!;
    m[1] = R[1]!;
    m[2] = R[2]!;
    m[3] = px;
    m[4] = R[3]!;
    m[5] = R[4]!;
    m[6] = R[5]!;
    m[7] = py;
    m[8] = R[6]!;
    m[9] = R[7]!;
    m[10] = R[8]!;
    m[11] = pz;
    m[15] = 1;
    poses.push(m);
    timestamps.push(time);
    lookTargets.push(dTarget[w < 0.5 ? kd - 1 : kd]!);
  }
  return { poses, timestamps_s: timestamps, fps, lookTargets };
}
