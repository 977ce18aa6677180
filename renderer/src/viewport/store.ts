import { create } from 'zustand';

export type ColorBy = 'rgb' | 'height';
export type MapLoadState = 'none' | 'loading' | 'ready' | 'error';

interface ViewportStore {
  pointSize_px: number;
  colorBy: ColorBy;
  showTrajectory: boolean;
  showFrustums: boolean;
  /** Map load status; the geometry itself lives in map-cache (outside React state). */
  mapState: MapLoadState;
  mapKey: string | null;
  mapError: string | null;
  mapPointsTotal: number;
  mapPointsShown: number;
  mapStride: number;
  mapHasColor: boolean;
  setPointSize(px: number): void;
  setColorBy(c: ColorBy): void;
  setShowTrajectory(v: boolean): void;
  setShowFrustums(v: boolean): void;
  setMap(
    p: Partial<
      Pick<
        ViewportStore,
        'mapState' | 'mapKey' | 'mapError' | 'mapPointsTotal' | 'mapPointsShown' | 'mapStride' | 'mapHasColor'
      >
    >,
  ): void;
}

export const useViewport = create<ViewportStore>()((set) => ({
  pointSize_px: 2,
  colorBy: 'rgb',
  showTrajectory: true,
  showFrustums: true,
  mapState: 'none',
  mapKey: null,
  mapError: null,
  mapPointsTotal: 0,
  mapPointsShown: 0,
  mapStride: 1,
  mapHasColor: false,
  setPointSize: (pointSize_px) => set({ pointSize_px: Math.max(1, Math.min(12, pointSize_px)) }),
  setColorBy: (colorBy) => set({ colorBy }),
  setShowTrajectory: (showTrajectory) => set({ showTrajectory }),
  setShowFrustums: (showFrustums) => set({ showFrustums }),
  setMap: (p) => set(p),
}));
