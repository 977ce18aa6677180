import { useEffect, useMemo, useRef, useState } from 'react';
import type { FrameDetection } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { viewportApi } from '../../viewport/Viewport';
import { useCapture } from '../capture/store';
import { cropRect, editFrom, filterDetections } from './forms';
import { getLabelPoints, setHighlight } from './label-layer';
import { colorOf, rgbCss, type Palette } from './palette';
import { centroidOf, pointsInBox, rgbIntrinsicsFrom } from './project-box';
import { useLabels } from './store';

const detClass = (d: FrameDetection) => d.class ?? d.raw_class;

function FrameNav() {
  const frames = useLabels((s) => s.overview?.frames ?? []);
  const frame = useLabels((s) => s.frame);
  const pos = frame === null ? -1 : frames.indexOf(frame);
  return (
    <div className="lp-frame-nav">
      <button
        type="button"
        data-testid="label-frame-prev"
        disabled={pos <= 0}
        onClick={() => useLabels.getState().stepFrame(-1)}
        title="Previous labeled frame"
      >
        ‹
      </button>
      <label>
        Frame{' '}
        <select
          data-testid="label-frame-select"
          value={frame ?? ''}
          onChange={(e) => void useLabels.getState().setFrame(Number(e.target.value))}
        >
          {frames.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        data-testid="label-frame-next"
        disabled={pos < 0 || pos >= frames.length - 1}
        onClick={() => useLabels.getState().stepFrame(1)}
        title="Next labeled frame"
      >
        ›
      </button>
      <span className="muted">
        {pos >= 0 ? pos + 1 : 0}/{frames.length} labeled frames
      </span>
    </div>
  );
}

function Crop({
  img,
  det,
  width,
  height,
}: {
  img: HTMLImageElement | null;
  det: FrameDetection;
  width: number;
  height: number;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c || !img || !img.complete || img.naturalWidth === 0) return;
    // Boxes are in the frame's RGB pixels; the decoded image may be a different size.
    const sx = img.naturalWidth / width;
    const sy = img.naturalHeight / height;
    const r = cropRect(det.box, width, height, 0.08);
    if (!r) return;
    const scale = Math.min(1, 240 / Math.max(r.w, r.h));
    c.width = Math.max(1, Math.round(r.w * scale));
    c.height = Math.max(1, Math.round(r.h * scale));
    c.getContext('2d')?.drawImage(img, r.x * sx, r.y * sy, r.w * sx, r.h * sy, 0, 0, c.width, c.height);
  }, [img, det, width, height]);
  return <canvas ref={ref} className="lp-crop" data-testid="detection-crop" />;
}

function showPointsIn3d(det: FrameDetection): string {
  const pts = getLabelPoints();
  const index = useCapture.getState().index;
  const entry = index?.frames.find((f) => f.index === det.frame);
  if (!pts || !index || !entry) return 'The labeled points or the camera pose are not loaded yet.';
  const cls = detClass(det);
  const ids = new Set<number>();
  pts.texts.forEach((t, i) => t === cls && ids.add(i));
  const k = rgbIntrinsicsFrom(index.depth_intrinsics, index.depth_size, index.rgb_size);
  const hit = pointsInBox(pts.positions_m, pts.labelIds, ids, entry.world_from_camera, k, det.box);
  setHighlight(hit);
  const c = centroidOf(pts.positions_m, hit);
  if (!c) return `No “${cls}” points project into this box.`;
  viewportApi.flyTo?.(c, 1.5);
  useLabels.getState().setShow3d(true);
  return `${hit.length.toLocaleString()} “${cls}” points highlighted.`;
}

function DetectionPanel({
  det,
  img,
  width,
  height,
  palette,
}: {
  det: FrameDetection;
  img: HTMLImageElement | null;
  width: number;
  height: number;
  palette: Palette;
}) {
  const editing = useLabels((s) => s.editing);
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => setMsg(null), [det]);
  const cls = detClass(det);
  const reject = async () => {
    const r = editFrom({ op: 'reject-detection', frame: det.frame, index: det.index });
    if ('edit' in r) await useLabels.getState().edit(r.edit);
  };
  return (
    <aside className="lp-det-panel" data-testid="detection-panel" data-detection-index={det.index}>
      <div className="lp-det-head">
        <i className="sw" style={{ background: rgbCss(colorOf(palette, cls)) }} />
        <b data-testid="detection-class">{cls}</b>
        {det.class !== null && det.raw_class !== det.class && (
          <span className="muted">(detected as {det.raw_class})</span>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="icon-button"
          aria-label="Close"
          data-testid="detection-close"
          onClick={() => useLabels.getState().select(null)}
        >
          ×
        </button>
      </div>
      <Crop img={img} det={det} width={width} height={height} />
      <dl className="lp-dl">
        <dt>Score</dt>
        <dd data-testid="detection-score">{det.score.toFixed(3)}</dd>
        <dt>Points</dt>
        <dd>{det.points.toLocaleString()}</dd>
        <dt>Box</dt>
        <dd>{det.box.map((v) => Math.round(v)).join(', ')}</dd>
        {det.rejected && (
          <>
            <dt>Status</dt>
            <dd className="sev-warning" data-testid="detection-rejected">
              rejected (
              {det.reason === 'detection'
                ? 'by an edit'
                : det.reason === 'class'
                  ? 'class rejected'
                  : 'below threshold'}
              )
            </dd>
          </>
        )}
      </dl>
      <div>
        <span className="muted">Runner-up classes</span>
        {det.runner_up.length === 0 ? (
          <p className="muted">none</p>
        ) : (
          <ul className="lp-runners" data-testid="detection-runners">
            {det.runner_up.map((r) => (
              <li key={r.class}>
                <i className="sw" style={{ background: rgbCss(colorOf(palette, r.class)) }} /> {r.class}{' '}
                <span className="muted">{r.score.toFixed(3)}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div className="form-actions">
        <button type="button" data-testid="detection-show-3d" onClick={() => setMsg(showPointsIn3d(det))}>
          Show points in 3D
        </button>
        <button
          type="button"
          className="danger"
          data-testid="detection-reject"
          disabled={editing || det.reason === 'detection'}
          onClick={() => void reject()}
        >
          Reject detection
        </button>
      </div>
      {msg && (
        <p className="muted" data-testid="detection-3d-message">
          {msg}
        </p>
      )}
    </aside>
  );
}

export function FrameDetections({ palette }: { palette: Palette }) {
  const detail = useLabels((s) => s.frameDetail);
  const detections = useLabels((s) => s.detections);
  const state = useLabels((s) => s.frameState);
  const error = useLabels((s) => s.frameError);
  const selected = useLabels((s) => s.selected);
  const classFilter = useLabels((s) => s.classFilter);
  const minScore = useLabels((s) => s.minScore);
  const showRejected = useLabels((s) => s.showRejected);
  const [img, setImg] = useState<HTMLImageElement | null>(null);
  const shown = useMemo(
    () =>
      filterDetections(detections, {
        classes: classFilter ? new Set(classFilter) : null,
        minScore,
        showRejected,
      }),
    [detections, classFilter, minScore, showRejected],
  );
  const sel = detections.find((d) => d.index === selected) ?? null;
  const w = detail?.width ?? 1;
  const h = detail?.height ?? 1;
  const fontPx = Math.max(10, Math.round(w / 55));

  return (
    <section className="lp-frame" data-testid="label-frame-view" data-frame-index={detail?.index ?? ''}>
      <FrameNav />
      {state === 'error' && (
        <div className="form-error" role="alert">
          Detections could not be loaded: {error}
        </div>
      )}
      <div className="lp-frame-body">
        <div className="lp-frame-stage-wrap">
          {detail ? (
            <div className="frame-stage" style={{ aspectRatio: `${w} / ${h}` }}>
              <img
                ref={setImg}
                className="frame-layer"
                data-testid="label-frame-image"
                src={getBridge().assetUrl(detail.rgb)}
                alt={`Frame ${detail.index}`}
              />
              <svg
                className="frame-layer lp-boxes"
                viewBox={`0 0 ${w} ${h}`}
                preserveAspectRatio="none"
                data-testid="label-boxes"
              >
                {shown.map((d) => {
                  const c = rgbCss(colorOf(palette, detClass(d)));
                  const [x0, y0, x1, y1] = d.box;
                  const isSel = d.index === selected;
                  return (
                    <g
                      key={d.index}
                      className={`lp-box ${d.rejected ? 'rejected' : ''} ${isSel ? 'selected' : ''}`}
                      data-testid={`label-box-${d.index}`}
                      onClick={() => useLabels.getState().select(isSel ? null : d.index)}
                    >
                      <rect
                        x={x0}
                        y={y0}
                        width={Math.max(1, x1 - x0)}
                        height={Math.max(1, y1 - y0)}
                        stroke={c}
                        strokeWidth={isSel ? 4 : 2}
                        vectorEffect="non-scaling-stroke"
                        fill={isSel ? rgbCss(colorOf(palette, detClass(d)), 0.15) : 'transparent'}
                        strokeDasharray={d.rejected ? '6 4' : undefined}
                      />
                      <text
                        x={x0 + 3}
                        y={Math.max(fontPx, y0 - 4)}
                        fill={c}
                        fontSize={fontPx}
                        className="lp-box-label"
                      >
                        {detClass(d)} {d.score.toFixed(2)}
                      </text>
                    </g>
                  );
                })}
              </svg>
            </div>
          ) : (
            <div className="empty-inline">
              {state === 'loading' ? 'Loading frame…' : 'No labeled frame selected.'}
            </div>
          )}
          <div className="frame-meta muted" data-testid="label-frame-counts">
            {shown.length} of {detections.length} detections shown
          </div>
        </div>
        {sel && detail && <DetectionPanel det={sel} img={img} width={w} height={h} palette={palette} />}
      </div>
    </section>
  );
}

/** Clears the 3D highlight when no detection is open. */
export function useClearHighlightOnDeselect(): void {
  const selected = useLabels((s) => s.selected);
  useEffect(() => {
    if (selected === null) setHighlight(null);
  }, [selected]);
}
