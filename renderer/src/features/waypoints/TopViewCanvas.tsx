import { useEffect, useMemo, useRef } from 'react';
import { getMapEntry } from '../../viewport/map-cache';
import { useViewport } from '../../viewport/store';
import type { WaypointsState } from './store';
import { topViewImage } from './occupancy';
import { getOccupancy, useOccupancy } from './occupancy-store';
import { buildTopView, mapToPixel } from './topview';

/** 2D top view of the map in the map frame (point density) with waypoint arrows and the map axes. */
export function TopViewCanvas({
  state,
  selected,
  onSelect,
}: {
  state: WaypointsState;
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const mapKey = useViewport((s) => (s.mapState === 'ready' ? s.mapKey : null));
  const entry = getMapEntry(mapKey);
  const occRev = useOccupancy((s) => s.rev);
  const showOcc = useOccupancy((s) => s.show);
  const occState = useOccupancy((s) => s.state);
  const view = useMemo(() => {
    if (!entry) return null;
    const pos = entry.geometry.getAttribute('position').array as Float32Array;
    return buildTopView(pos, state.map_from_world, 640);
  }, [entry, state.map_from_world]);

  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx || !view) return;
    c.width = view.width;
    c.height = view.height;
    const img = ctx.createImageData(view.width, view.height);
    const grid = showOcc ? getOccupancy() : null;
    // Only a grid in the same map frame as the waypoints lines up with them.
    const sameFrame =
      grid && grid.map_from_world.every((v, i) => Math.abs(v - (state.map_from_world[i] ?? NaN)) < 1e-6);
    img.data.set(topViewImage(view, sameFrame ? grid : null));
    ctx.putImageData(img, 0, 0);
    // Map axes at the origin: x red, y green, 0.5 m long.
    const [ox, oy] = mapToPixel(view, 0, 0);
    const axis = (dx: number, dy: number, color: string) => {
      const [ex, ey] = mapToPixel(view, dx, dy);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(ox, oy);
      ctx.lineTo(ex, ey);
      ctx.stroke();
    };
    axis(0.5, 0, '#e03131');
    axis(0, 0.5, '#2f9e44');
    const L = Math.max(8, 0.35 * view.scale);
    state.waypoints.forEach((w, i) => {
      const [px, py] = mapToPixel(view, w.map.x_m, w.map.y_m);
      const sel = w.id === selected;
      const ang = -w.map.yaw_rad; // canvas y points down
      ctx.fillStyle = sel ? '#ff8c00' : '#e03131';
      ctx.strokeStyle = ctx.fillStyle;
      ctx.lineWidth = sel ? 3 : 2;
      ctx.beginPath();
      ctx.arc(px, py, sel ? 6 : 4, 0, Math.PI * 2);
      ctx.fill();
      ctx.beginPath();
      ctx.moveTo(px, py);
      ctx.lineTo(px + Math.cos(ang) * L, py + Math.sin(ang) * L);
      ctx.stroke();
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillText(`${i + 1}. ${w.name}`, px + 8, py - 8);
    });
  }, [view, state.waypoints, state.map_from_world, selected, occRev, showOcc]);

  if (!view) return <div className="empty-inline">The top view appears once the map is loaded.</div>;
  const onClick = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * view.width;
    const py = ((e.clientY - r.top) / r.height) * view.height;
    let best: string | null = null;
    let bestD = 15 * 15;
    for (const w of state.waypoints) {
      const [x, y] = mapToPixel(view, w.map.x_m, w.map.y_m);
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) {
        bestD = d;
        best = w.id;
      }
    }
    if (best) onSelect(best);
  };
  return (
    <div className="wp-top">
      <canvas ref={ref} className="wp-top-canvas" data-testid="waypoints-topview" onClick={onClick} />
      <div className="muted hint">
        Top view in the map frame ({(view.max_m[0] - view.min_m[0]).toFixed(1)} ×{' '}
        {(view.max_m[1] - view.min_m[1]).toFixed(1)} m) ·{' '}
        {showOcc && occState === 'ready' ? 'occupancy: white free, dark occupied, grey unknown · ' : ''}
        darker = more map points · red/green = map x/y axes.
      </div>
    </div>
  );
}
