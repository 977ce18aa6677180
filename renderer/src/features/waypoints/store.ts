import { create } from 'zustand';

export interface Waypoint {
  id: string;
  name: string;
  /** Goal position in the map frame, metres. */
  position_m: [number, number, number];
}

interface WaypointsStore {
  waypoints: Waypoint[];
  add(w: Waypoint): void;
  remove(id: string): void;
}

export const useWaypoints = create<WaypointsStore>()((set, get) => ({
  waypoints: [],
  add: (w) => set({ waypoints: [...get().waypoints.filter((x) => x.id !== w.id), w] }),
  remove: (id) => set({ waypoints: get().waypoints.filter((x) => x.id !== id) }),
}));
