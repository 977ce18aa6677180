/**
 * The occupancy grid (`goals/occupancy.bin`) for the Waypoints pane's floor layer and top view. The
 * decoded grid lives here (outside React and zustand); the store holds status and a revision.
 */
import { create } from 'zustand';
import { fetchAsset } from '../../lib/assets';
import { decodeOccupancy, OCCUPANCY_ASSET, type OccupancyGrid } from './occupancy';

interface OccupancyStore {
  state: 'none' | 'loading' | 'ready' | 'error';
  error: string | null;
  rev: number;
  show: boolean;
  /** Summary for the status line. */
  info: { width: number; height: number; cell_m: number; free: number; occupied: number } | null;
  setShow(v: boolean): void;
  reload(): Promise<void>;
  reset(): void;
}

let grid: OccupancyGrid | null = null;
let load = 0;

export function getOccupancy(): OccupancyGrid | null {
  return grid;
}

export const useOccupancy = create<OccupancyStore>()((set, get) => ({
  state: 'none',
  error: null,
  rev: 0,
  show: true,
  info: null,
  setShow: (show) => set({ show }),
  reload: async () => {
    const my = ++load;
    if (!grid) set({ state: 'loading', error: null });
    try {
      const buf = await fetchAsset(OCCUPANCY_ASSET, { cache: false });
      if (my !== load) return;
      const g = decodeOccupancy(buf);
      let free = 0;
      let occupied = 0;
      for (let i = 0; i < g.cells.length; i++) {
        if (g.cells[i] === 0) free++;
        else if (g.cells[i] === 100) occupied++;
      }
      grid = g;
      set({
        state: 'ready',
        error: null,
        rev: get().rev + 1,
        info: { width: g.width, height: g.height, cell_m: g.cell_m, free, occupied },
      });
    } catch (err) {
      if (my !== load) return;
      grid = null;
      set({
        state: 'error',
        error: err instanceof Error ? err.message : String(err),
        rev: get().rev + 1,
        info: null,
      });
    }
  },
  reset: () => {
    load++;
    grid = null;
    set({ state: 'none', error: null, rev: get().rev + 1, info: null });
  },
}));
