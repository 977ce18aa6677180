/**
 * A 2D occupancy grid of the floor in the map frame (z up, z = 0 on the floor) and stand-off poses.
 *
 * Cells (default 5 cm): OCCUPIED when any map point falls in the cell between min_height and max_height above
 * the floor (defaults 0.1 / 1.5 m); FREE when it has no such point but has floor-level points (|z| <=
 * floor_band_m); UNKNOWN otherwise (never observed). Traversable = FREE and farther than the robot radius
 * (default 0.25 m) from every OCCUPIED cell (UNKNOWN is not traversable).
 *
 * Stand-off pose: among traversable cells whose centre is at the preferred distance from the target
 * (default 0.7 m, +- one cell), with a clear line of sight to the target (no OCCUPIED cell on the segment except
 * within `target_radius_m` of the target, where the object itself stands), the one with the smallest path cost
 * (8-connected Dijkstra in metres) from the start cell; yaw faces the target.
 */
import { QueryError } from '../query/errors';

export const CELL_UNKNOWN = -1;
export const CELL_FREE = 0;
export const CELL_OCCUPIED = 100;

export interface OccupancyOptions {
  cell_m?: number;
  min_height_m?: number;
  max_height_m?: number;
  floor_band_m?: number;
  robot_radius_m?: number;
  /** Extra border around the points, metres (default robot radius + 1 cell). */
  margin_m?: number;
}

export interface OccupancyGrid {
  cell_m: number;
  width: number;
  height: number;
  /** Map-frame x, y of the lower-left corner of cell (0, 0). */
  origin_m: [number, number];
  /** Row-major (row = y index, row 0 at origin y): -1 unknown, 0 free, 100 occupied. */
  cells: Int8Array;
  /** 1 where the robot's centre may be: free and at least robot_radius from any occupied cell. */
  traversable: Uint8Array;
  robot_radius_m: number;
}

export const DEFAULT_OCCUPANCY = {
  cell_m: 0.05,
  min_height_m: 0.1,
  max_height_m: 1.5,
  floor_band_m: 0.05,
  robot_radius_m: 0.25,
};

/** Build the grid from points already in the map frame (xyz triplets). */
export function buildOccupancy(
  pointsMap: Float32Array,
  count: number,
  opts: OccupancyOptions = {},
): OccupancyGrid {
  const o = { ...DEFAULT_OCCUPANCY, ...opts };
  if (!(o.cell_m > 0) || !(o.max_height_m > o.min_height_m) || !(o.robot_radius_m >= 0))
    throw new QueryError(
      'BAD_ARGS',
      null,
      'occupancy: need cell_m > 0, max_height_m > min_height_m, robot_radius_m >= 0',
    );
  const margin = opts.margin_m ?? o.robot_radius_m + o.cell_m;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < count; i++) {
    const z = pointsMap[3 * i + 2]!;
    if (z > o.max_height_m) continue;
    const x = pointsMap[3 * i]!;
    const y = pointsMap[3 * i + 1]!;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  if (!Number.isFinite(x0))
    throw new QueryError('INVALID_INPUT', null, 'occupancy: the map has no points below max_height_m');
  // Cell edges on multiples of cell_m (stable across rebuilds and exports).
  x0 = Math.floor((x0 - margin) / o.cell_m) * o.cell_m;
  y0 = Math.floor((y0 - margin) / o.cell_m) * o.cell_m;
  const width = Math.max(1, Math.ceil((x1 + margin - x0) / o.cell_m));
  const height = Math.max(1, Math.ceil((y1 + margin - y0) / o.cell_m));
  if (width * height > 64e6)
    throw new QueryError(
      'INVALID_INPUT',
      null,
      `occupancy: grid of ${width} x ${height} cells is too large; use a larger cell_m`,
    );
  const occ = new Uint8Array(width * height);
  const floor = new Uint8Array(width * height);
  for (let i = 0; i < count; i++) {
    const z = pointsMap[3 * i + 2]!;
    const cx = Math.floor((pointsMap[3 * i]! - x0) / o.cell_m);
    const cy = Math.floor((pointsMap[3 * i + 1]! - y0) / o.cell_m);
    if (cx < 0 || cy < 0 || cx >= width || cy >= height) continue;
    const c = cy * width + cx;
    if (z >= o.min_height_m && z <= o.max_height_m) occ[c] = 1;
    else if (Math.abs(z) <= o.floor_band_m) floor[c] = 1;
  }
  const cells = new Int8Array(width * height);
  for (let c = 0; c < cells.length; c++)
    cells[c] = occ[c] ? CELL_OCCUPIED : floor[c] ? CELL_FREE : CELL_UNKNOWN;
  // Inflate: a cell is blocked if an occupied cell lies within the robot radius (disk of offsets).
  const r = Math.ceil(o.robot_radius_m / o.cell_m);
  const offsets: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++)
    for (let dx = -r; dx <= r; dx++)
      if (Math.hypot(dx, dy) * o.cell_m <= o.robot_radius_m + 1e-9) offsets.push([dx, dy]);
  const blocked = new Uint8Array(width * height);
  for (let cy = 0; cy < height; cy++)
    for (let cx = 0; cx < width; cx++) {
      if (!occ[cy * width + cx]) continue;
      for (const [dx, dy] of offsets) {
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && y >= 0 && x < width && y < height) blocked[y * width + x] = 1;
      }
    }
  const traversable = new Uint8Array(width * height);
  for (let c = 0; c < cells.length; c++) traversable[c] = cells[c] === CELL_FREE && !blocked[c] ? 1 : 0;
  return {
    cell_m: o.cell_m,
    width,
    height,
    origin_m: [x0, y0],
    cells,
    traversable,
    robot_radius_m: o.robot_radius_m,
  };
}

export function cellOf(g: OccupancyGrid, x: number, y: number): [number, number] {
  return [Math.floor((x - g.origin_m[0]) / g.cell_m), Math.floor((y - g.origin_m[1]) / g.cell_m)];
}

export function cellCentre(g: OccupancyGrid, cx: number, cy: number): [number, number] {
  return [g.origin_m[0] + (cx + 0.5) * g.cell_m, g.origin_m[1] + (cy + 0.5) * g.cell_m];
}

const inside = (g: OccupancyGrid, cx: number, cy: number) =>
  cx >= 0 && cy >= 0 && cx < g.width && cy < g.height;

/** Path cost (metres) from the start cell to every cell over traversable cells (8-connected); Infinity = unreachable. */
export function dijkstra(g: OccupancyGrid, sx: number, sy: number): Float64Array {
  const W = g.width;
  const dist = new Float64Array(W * g.height).fill(Infinity);
  if (!inside(g, sx, sy) || !g.traversable[sy * W + sx]) return dist;
  // Binary heap of (cost, cell).
  const heapC: number[] = [];
  const heapI: number[] = [];
  const push = (c: number, i: number) => {
    let k = heapC.length;
    heapC.push(c);
    heapI.push(i);
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (heapC[p]! <= c) break;
      heapC[k] = heapC[p]!;
      heapI[k] = heapI[p]!;
      k = p;
    }
    heapC[k] = c;
    heapI[k] = i;
  };
  const pop = (): [number, number] => {
    const top: [number, number] = [heapC[0]!, heapI[0]!];
    const c = heapC.pop()!;
    const i = heapI.pop()!;
    if (heapC.length > 0) {
      let k = 0;
      const n = heapC.length;
      for (;;) {
        let m = 2 * k + 1;
        if (m >= n) break;
        if (m + 1 < n && heapC[m + 1]! < heapC[m]!) m++;
        if (heapC[m]! >= c) break;
        heapC[k] = heapC[m]!;
        heapI[k] = heapI[m]!;
        k = m;
      }
      heapC[k] = c;
      heapI[k] = i;
    }
    return top;
  };
  const start = sy * W + sx;
  dist[start] = 0;
  push(0, start);
  const step = g.cell_m;
  const diag = g.cell_m * Math.SQRT2;
  while (heapC.length > 0) {
    const [d, i] = pop();
    if (d > dist[i]!) continue;
    const x = i % W;
    const y = (i - x) / W;
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        if (dx === 0 && dy === 0) continue;
        const nx = x + dx;
        const ny = y + dy;
        if (!inside(g, nx, ny)) continue;
        const j = ny * W + nx;
        if (!g.traversable[j]) continue;
        // No corner cutting past blocked cells.
        if (dx !== 0 && dy !== 0 && (!g.traversable[y * W + nx] || !g.traversable[ny * W + x])) continue;
        const nd = d + (dx !== 0 && dy !== 0 ? diag : step);
        if (nd < dist[j]!) {
          dist[j] = nd;
          push(nd, j);
        }
      }
  }
  return dist;
}

/** True when the segment from cell a to point (tx, ty) crosses no occupied cell outside `clear_m` of the target. */
export function lineOfSight(
  g: OccupancyGrid,
  ax: number,
  ay: number,
  tx: number,
  ty: number,
  clear_m: number,
): boolean {
  const [px, py] = cellCentre(g, ax, ay);
  const len = Math.hypot(tx - px, ty - py);
  const steps = Math.max(1, Math.ceil(len / (g.cell_m * 0.5)));
  for (let s = 0; s <= steps; s++) {
    const x = px + ((tx - px) * s) / steps;
    const y = py + ((ty - py) * s) / steps;
    if (Math.hypot(tx - x, ty - y) <= clear_m) break;
    const [cx, cy] = cellOf(g, x, y);
    if (inside(g, cx, cy) && g.cells[cy * g.width + cx] === CELL_OCCUPIED) return false;
  }
  return true;
}

export interface StandOffOptions {
  distance_m?: number;
  /** Radius around the target where occupied cells (the object itself) do not block the view. */
  target_radius_m?: number;
  /** Search radius for the nearest traversable cell to the start. */
  start_snap_m?: number;
}

export type StandOffResult =
  | {
      ok: true;
      x_m: number;
      y_m: number;
      yaw_rad: number;
      distance_m: number;
      path_cost_m: number;
      cell: [number, number];
    }
  | { ok: false; reason: string };

export function standOffPose(
  g: OccupancyGrid,
  target: [number, number],
  start: [number, number],
  opts: StandOffOptions = {},
): StandOffResult {
  const d = opts.distance_m ?? 0.7;
  const clear = opts.target_radius_m ?? 0.2;
  const [tcx, tcy] = cellOf(g, target[0], target[1]);
  if (!inside(g, tcx, tcy))
    return {
      ok: false,
      reason: `target (${target[0].toFixed(2)}, ${target[1].toFixed(2)}) m lies outside the occupancy grid`,
    };
  // Snap the start to the nearest traversable cell.
  const [scx, scy] = cellOf(g, start[0], start[1]);
  const snap = Math.ceil((opts.start_snap_m ?? 0.5) / g.cell_m);
  let best: [number, number] | null = null;
  let bestD = Infinity;
  for (let dy = -snap; dy <= snap; dy++)
    for (let dx = -snap; dx <= snap; dx++) {
      const x = scx + dx;
      const y = scy + dy;
      if (!inside(g, x, y) || !g.traversable[y * g.width + x]) continue;
      const dd = dx * dx + dy * dy;
      if (dd < bestD) {
        bestD = dd;
        best = [x, y];
      }
    }
  if (!best)
    return {
      ok: false,
      reason: `no free floor within ${(snap * g.cell_m).toFixed(2)} m of the start (${start[0].toFixed(2)}, ${start[1].toFixed(2)}) m`,
    };
  const dist = dijkstra(g, best[0], best[1]);
  const ring = Math.ceil((d + g.cell_m) / g.cell_m) + 1;
  let pick: { cx: number; cy: number; cost: number; dd: number } | null = null;
  let candidates = 0;
  for (let dy = -ring; dy <= ring; dy++)
    for (let dx = -ring; dx <= ring; dx++) {
      const cx = tcx + dx;
      const cy = tcy + dy;
      if (!inside(g, cx, cy)) continue;
      const i = cy * g.width + cx;
      if (!g.traversable[i]) continue;
      const [px, py] = cellCentre(g, cx, cy);
      const dd = Math.hypot(target[0] - px, target[1] - py);
      if (Math.abs(dd - d) > g.cell_m) continue;
      candidates++;
      const cost = dist[i]!;
      if (!Number.isFinite(cost)) continue;
      if (!lineOfSight(g, cx, cy, target[0], target[1], clear)) continue;
      if (!pick || cost < pick.cost || (cost === pick.cost && Math.abs(dd - d) < Math.abs(pick.dd - d)))
        pick = { cx, cy, cost, dd };
    }
  if (!pick) {
    return {
      ok: false,
      reason:
        candidates === 0
          ? `no free floor cell at ${d.toFixed(2)} m (+- ${g.cell_m} m) from the target`
          : `none of the ${candidates} free cells at ${d.toFixed(2)} m from the target is reachable from the start with a line of sight to the target`,
    };
  }
  const [x, y] = cellCentre(g, pick.cx, pick.cy);
  return {
    ok: true,
    x_m: x,
    y_m: y,
    yaw_rad: Math.atan2(target[1] - y, target[0] - x),
    distance_m: pick.dd,
    path_cost_m: pick.cost,
    cell: [pick.cx, pick.cy],
  };
}
