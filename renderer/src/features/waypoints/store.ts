import { create } from 'zustand';
import type { ChannelArgs, ChannelName, ChannelResult, WaypointView } from '../../../../preload/contract';
import { getBridge } from '../../bridge';

export type WaypointsState = ChannelResult<'waypoints.list'>;
export type { WaypointView };

interface WaypointsStore {
  state: WaypointsState | null;
  loadState: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  unavailable: boolean;
  busy: boolean;
  selected: string | null;
  load(): Promise<void>;
  setState(s: WaypointsState): void;
  select(id: string | null): void;
  /** Runs a waypoint channel that answers the new state; returns an error message or null. */
  mutate<
    C extends
      | 'waypoints.add'
      | 'waypoints.rename'
      | 'waypoints.move'
      | 'waypoints.reorder'
      | 'waypoints.delete'
      | 'mapframe.set',
  >(
    channel: C,
    args: ChannelArgs<C>,
  ): Promise<string | null>;
  reset(): void;
}

export const useWaypoints = create<WaypointsStore>()((set, get) => ({
  state: null,
  loadState: 'idle',
  error: null,
  unavailable: false,
  busy: false,
  selected: null,
  load: async () => {
    set({ loadState: 'loading', error: null });
    const r = await getBridge().invoke('waypoints.list', {});
    if (r.ok) set({ state: r.data, loadState: 'ready' });
    else
      set({
        loadState: 'error',
        error: `${r.message} (${r.code})`,
        unavailable: r.code === 'UNKNOWN_CHANNEL',
      });
  },
  setState: (state) => set({ state, loadState: 'ready' }),
  select: (selected) => set({ selected }),
  mutate: async (channel, args) => {
    set({ busy: true });
    const r = await getBridge().invoke(channel as ChannelName, args as never);
    set({ busy: false });
    if (!r.ok) return `${r.message} (${r.code})`;
    get().setState(r.data as WaypointsState);
    return null;
  },
  reset: () => set({ state: null, loadState: 'idle', error: null, selected: null }),
}));

/** New id order after moving `id` by `delta` places (clamped); unchanged order when it cannot move. */
export function reorderIds(ids: readonly string[], id: string, delta: number): string[] {
  const i = ids.indexOf(id);
  if (i < 0) return [...ids];
  const j = Math.max(0, Math.min(ids.length - 1, i + delta));
  const out = [...ids];
  out.splice(i, 1);
  out.splice(j, 0, id);
  return out;
}
