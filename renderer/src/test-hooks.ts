/**
 * Read-only diagnostics for end-to-end tests: `window.__studioTest`. Internals write to `diag`;
 * the window object only exposes getters.
 */
export const diag = {
  renderCount: 0,
  mapPoints: 0,
  mapPointsTotal: 0,
  /** Points drawn in the latest frame (fewer than mapPoints while orbiting on a slow GPU). */
  mapPointsDrawn: 0,
  mapParse_ms: 0,
  selectedFrame: null as number | null,
  pane: 'capture' as string,
  connection: 'connecting' as string,
  theme: 'light' as string,
  frameStripRendered: 0,
  /**
   * Client (CSS px) coordinates of a frame's camera centre in the 3D viewport, or null when no
   * viewport is shown or it is behind the camera. `position` indexes capture.frames' list.
   */
  frameScreenPosition: ((_position: number): { x: number; y: number } | null => null) as (
    position: number,
  ) => { x: number; y: number } | null,
};

export type StudioTestHooks = Readonly<typeof diag>;

declare global {
  interface Window {
    __studioTest?: StudioTestHooks;
  }
}

export function installTestHooks(): void {
  if (typeof window === 'undefined' || window.__studioTest) return;
  const hooks = {} as Record<string, unknown>;
  for (const key of Object.keys(diag) as (keyof typeof diag)[]) {
    Object.defineProperty(hooks, key, { enumerable: true, get: () => diag[key] });
  }
  Object.freeze(hooks);
  Object.defineProperty(window, '__studioTest', { value: hooks, writable: false, configurable: false });
}
