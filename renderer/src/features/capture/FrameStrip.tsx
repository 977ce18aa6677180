import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { getBridge } from '../../bridge';
import { scrollOffsetFor, visibleRange } from '../../lib/virtual';
import { diag } from '../../test-hooks';
import { useCapture } from './store';

const ITEM_W = 112;

/** Virtualised thumbnail strip: only the visible thumbnails (plus overscan) are in the DOM. */
export function FrameStrip() {
  const frames = useCapture((s) => s.index?.frames);
  const current = useCapture((s) => s.current);
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ left: 0, width: 800 });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const update = () => setView({ left: el.scrollLeft, width: el.clientWidth });
    update();
    const ro = new ResizeObserver(update);
    ro.observe(el);
    el.addEventListener('scroll', update, { passive: true });
    return () => {
      ro.disconnect();
      el.removeEventListener('scroll', update);
    };
  }, []);

  // Keep the current frame in view when it changes from the scrubber, keyboard or viewport.
  useEffect(() => {
    const el = scroller.current;
    if (!el || current === null || !frames) return;
    const left = current * ITEM_W;
    if (left < el.scrollLeft || left + ITEM_W > el.scrollLeft + el.clientWidth) {
      el.scrollLeft = scrollOffsetFor(current, el.clientWidth, ITEM_W, frames.length);
    }
  }, [current, frames]);

  const n = frames?.length ?? 0;
  const { start, end } = visibleRange(view.left, view.width, ITEM_W, n, 6);
  diag.frameStripRendered = end - start;
  const bridge = getBridge();
  const items = [];
  for (let i = start; i < end; i++) {
    const f = frames?.[i];
    if (!f) continue;
    items.push(
      <button
        type="button"
        key={f.index}
        className={`thumb ${i === current ? 'current' : ''} ${f.selected ? '' : 'unselected'} ${f.problems.length ? 'has-problems' : ''}`}
        style={{ left: i * ITEM_W, width: ITEM_W - 8 }}
        data-testid="frame-strip-item"
        data-frame-index={f.index}
        data-current={i === current}
        aria-pressed={i === current}
        title={`Frame ${f.index} · ${f.timestamp_s.toFixed(2)} s · ${(f.valid_depth_fraction * 100).toFixed(0)}% depth${f.problems.length ? ' · ' + f.problems.join('; ') : ''}`}
        onClick={() => useCapture.getState().select(i)}
      >
        {f.thumb ? (
          <img src={bridge.assetUrl(f.thumb)} alt="" loading="lazy" decoding="async" draggable={false} />
        ) : (
          <span className="no-thumb">no preview</span>
        )}
        <span className="thumb-label">#{f.index}</span>
      </button>,
    );
  }
  return (
    <div className="frame-strip-wrap">
      <div className="frame-strip" ref={scroller} data-testid="frame-strip" data-count={n}>
        <div className="frame-strip-track" style={{ width: n * ITEM_W }}>
          {items}
        </div>
      </div>
      <div className="scrubber-row">
        <input
          type="range"
          className="scrubber"
          data-testid="frame-scrubber"
          aria-label="Frame"
          min={0}
          max={Math.max(0, n - 1)}
          step={1}
          value={current ?? 0}
          disabled={n === 0}
          onChange={(e) => useCapture.getState().select(Number(e.target.value))}
        />
        <span className="scrubber-label" data-testid="frame-position">
          {current !== null && frames?.[current]
            ? `frame ${frames[current].index} · ${current + 1}/${n}`
            : '—'}
        </span>
      </div>
    </div>
  );
}
