import { useEffect, useRef, useState } from 'react';
import type { FrameDetail } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { fetchAsset, viewFloat32, viewUint16, viewUint8 } from '../../lib/assets';
import {
  colormapCssGradient,
  confidenceToRgba,
  depthToRgba,
  labelsToRgba,
  legendTicks,
  type ColormapName,
} from '../../lib/colormap';
import { formatMetres } from '../../lib/format';
import { useCapture, type Overlays } from './store';

type Layer = 'depth' | 'confidence' | 'labels';

function paint(canvas: HTMLCanvasElement, width: number, height: number, rgba: Uint8ClampedArray): void {
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
}

/** Loads one raw layer of the frame (cached by asset path) and paints it into a canvas. */
function RasterLayer({
  detail,
  layer,
  colormap,
  opacity,
}: {
  detail: FrameDetail;
  layer: Layer;
  colormap: ColormapName;
  opacity: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [error, setError] = useState<string | null>(null);
  const asset = layer === 'depth' ? detail.depth : layer === 'confidence' ? detail.confidence : detail.labels;
  useEffect(() => {
    if (!asset) return;
    let cancelled = false;
    const w = detail.depth_width;
    const h = detail.depth_height;
    setError(null);
    fetchAsset(asset).then(
      (buf) => {
        if (cancelled || !ref.current) return;
        try {
          const n = w * h;
          const rgba =
            layer === 'depth'
              ? depthToRgba(viewFloat32(buf, n, asset), detail.depth_range_m, colormap)
              : layer === 'confidence'
                ? confidenceToRgba(viewUint8(buf, n, asset))
                : labelsToRgba(viewUint16(buf, n, asset));
          paint(ref.current, w, h, rgba);
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        }
      },
      (err: unknown) => !cancelled && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      cancelled = true;
    };
  }, [asset, layer, colormap, detail.depth_width, detail.depth_height, detail.depth_range_m]);
  if (!asset) return null;
  return (
    <>
      <canvas
        ref={ref}
        className={`frame-layer layer-${layer}`}
        data-testid={`frame-layer-${layer}`}
        style={{ opacity }}
      />
      {error && (
        <div className="layer-error" role="alert" data-testid="frame-layer-error">
          {layer}: {error}
        </div>
      )}
    </>
  );
}

function OverlayToggles({ detail, overlays }: { detail: FrameDetail | null; overlays: Overlays }) {
  const set = useCapture.getState().setOverlay;
  const colormap = useCapture((s) => s.colormap);
  const items: { key: keyof Overlays; label: string; available: boolean }[] = [
    { key: 'rgb', label: 'RGB', available: true },
    { key: 'depth', label: 'Depth', available: true },
    { key: 'confidence', label: 'Confidence', available: !!detail?.confidence },
    { key: 'labels', label: 'Annotations', available: !!detail?.labels },
  ];
  return (
    <div className="overlay-toggles" role="group" aria-label="Layers">
      {items.map((it) => (
        <label
          key={it.key}
          className={`check ${it.available ? '' : 'disabled'}`}
          title={it.available ? '' : 'Not in this capture'}
        >
          <input
            type="checkbox"
            data-testid={`overlay-${it.key}`}
            checked={overlays[it.key] && it.available}
            disabled={!it.available}
            onChange={(e) => set(it.key, e.target.checked)}
          />
          {it.label}
        </label>
      ))}
      <label className="select-inline">
        <span className="sr-only">Depth colour map</span>
        <select
          data-testid="depth-colormap"
          value={colormap}
          onChange={(e) => useCapture.getState().setColormap(e.target.value as ColormapName)}
        >
          <option value="turbo">turbo</option>
          <option value="viridis">viridis</option>
        </select>
      </label>
    </div>
  );
}

export function DepthLegend({
  range_m,
  colormap,
}: {
  range_m: readonly [number, number];
  colormap: ColormapName;
}) {
  const ticks = legendTicks(range_m, 5);
  return (
    <div className="depth-legend" data-testid="depth-legend">
      <div className="legend-bar" style={{ background: colormapCssGradient(colormap) }} />
      <div className="legend-ticks">
        {ticks.map((t, i) => (
          <span key={i}>{formatMetres(t)}</span>
        ))}
      </div>
    </div>
  );
}

export function FrameView() {
  const detail = useCapture((s) => s.detail);
  const state = useCapture((s) => s.detailState);
  const error = useCapture((s) => s.detailError);
  const overlays = useCapture((s) => s.overlays);
  const colormap = useCapture((s) => s.colormap);
  const entry = useCapture((s) => (s.current !== null ? s.index?.frames[s.current] : undefined));
  const [rgbError, setRgbError] = useState(false);
  useEffect(() => setRgbError(false), [detail?.rgb]);

  return (
    <section className="frame-view" data-testid="frame-view" data-frame-index={detail?.index ?? ''}>
      <div className="frame-view-head">
        <OverlayToggles detail={detail} overlays={overlays} />
      </div>
      {!detail && state !== 'error' && (
        <div className="empty-inline">
          {state === 'loading' ? 'Loading frame…' : 'Pick a frame in the strip below.'}
        </div>
      )}
      {state === 'error' && (
        <div className="form-error" role="alert">
          Could not load the frame: {error}
        </div>
      )}
      {detail && (
        <>
          <div className="frame-stage" style={{ aspectRatio: `${detail.width} / ${detail.height}` }}>
            {overlays.rgb && !rgbError && (
              <img
                className="frame-layer"
                data-testid="frame-layer-rgb"
                src={getBridge().assetUrl(detail.rgb)}
                alt={`Frame ${detail.index}`}
                onError={() => setRgbError(true)}
              />
            )}
            {overlays.rgb && rgbError && <div className="layer-error">RGB image could not be loaded.</div>}
            {overlays.depth && (
              <RasterLayer
                detail={detail}
                layer="depth"
                colormap={colormap}
                opacity={overlays.rgb ? 0.6 : 1}
              />
            )}
            {overlays.confidence && detail.confidence && (
              <RasterLayer detail={detail} layer="confidence" colormap={colormap} opacity={1} />
            )}
            {overlays.labels && detail.labels && (
              <RasterLayer detail={detail} layer="labels" colormap={colormap} opacity={1} />
            )}
          </div>
          <div className="frame-meta">
            <span>
              Frame <b data-testid="frame-index">{detail.index}</b>
            </span>
            {entry && <span>{entry.timestamp_s.toFixed(2)} s</span>}
            {entry && <span>{(entry.valid_depth_fraction * 100).toFixed(0)}% valid depth</span>}
            {entry && !entry.selected && <span className="pill">skipped</span>}
            {entry?.problems.map((p) => (
              <span key={p} className="pill sev-warning">
                {p}
              </span>
            ))}
            {overlays.depth && <DepthLegend range_m={detail.depth_range_m} colormap={colormap} />}
            {overlays.confidence && detail.confidence && (
              <span className="conf-legend">
                <i className="sw conf-0" /> low <i className="sw conf-1" /> medium <i className="sw conf-2" />{' '}
                high
              </span>
            )}
          </div>
        </>
      )}
    </section>
  );
}
