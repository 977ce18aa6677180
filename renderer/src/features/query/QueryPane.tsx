import { useMemo, useState } from 'react';
import type { QueryHit } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { Form } from '../../lib/Form';
import { colormapCssGradient } from '../../lib/colormap';
import { formatMetres } from '../../lib/format';
import { Viewport, viewportApi } from '../../viewport/Viewport';
import { useApp } from '../app/store';
import { useCapture } from '../capture/store';
import { useWaypoints } from '../waypoints/store';
import { countAbove } from './heatmap';
import { HeatmapLayer } from './HeatmapLayer';
import { getHeatmapScores, useQuery, type QueryMode } from './store';
import '../labels/labels.css';
import './query.css';

function QueryBox() {
  const text = useQuery((s) => s.text);
  const history = useQuery((s) => s.history);
  const mode = useQuery((s) => s.mode);
  const weight = useQuery((s) => s.weight);
  const running = useQuery((s) => s.running);
  const q = useQuery.getState();
  return (
    <Form className="form" testid="query-form" onSubmit={() => void q.run()}>
      <div className="path-row">
        <input
          type="search"
          list="query-history"
          data-testid="query-input"
          placeholder="the red mug, somewhere to sit…"
          value={text}
          onChange={(e) => q.setText(e.target.value)}
          maxLength={1000}
        />
        <datalist id="query-history">
          {history.map((h) => (
            <option key={h} value={h} />
          ))}
        </datalist>
        <button
          type="button"
          className="primary"
          data-testid="query-run"
          disabled={running}
          onClick={() => void q.run()}
        >
          {running ? 'Searching…' : 'Search'}
        </button>
      </div>
      <div className="field-row">
        <label className="field">
          <span>Mode</span>
          <select
            data-testid="query-mode"
            value={mode}
            onChange={(e) => q.setMode(e.target.value as QueryMode)}
          >
            <option value="auto">auto (both heads)</option>
            <option value="semantic">semantic (language head)</option>
            <option value="visual">visual (CLIP head)</option>
          </select>
        </label>
        <label
          className="field"
          title="Auto mode only: how much the visual head counts against the language head."
        >
          <span>
            Visual weight{' '}
            {mode === 'auto' ? (weight === null ? '(default)' : weight.toFixed(2)) : '(auto mode only)'}
          </span>
          <input
            type="range"
            min={0}
            max={1}
            step={0.05}
            disabled={mode !== 'auto'}
            data-testid="query-weight"
            value={weight ?? 0.5}
            onChange={(e) => q.setWeight(Number(e.target.value))}
          />
        </label>
        {weight !== null && mode === 'auto' && (
          <button type="button" className="link" onClick={() => q.setWeight(null)}>
            reset
          </button>
        )}
      </div>
      {history.length > 0 && (
        <div className="qp-history" data-testid="query-history">
          {history.slice(0, 8).map((h) => (
            <button type="button" key={h} className="pill" onClick={() => void q.run(h)}>
              {h}
            </button>
          ))}
        </div>
      )}
    </Form>
  );
}

function HeatmapControls() {
  const result = useQuery((s) => s.result);
  const threshold = useQuery((s) => s.threshold);
  const hitsOnly = useQuery((s) => s.hitsOnly);
  const show = useQuery((s) => s.showHeatmap);
  const state = useQuery((s) => s.heatmapState);
  const error = useQuery((s) => s.heatmapError);
  useQuery((s) => s.heatmapRev);
  const scores = getHeatmapScores();
  const above = useMemo(() => (scores ? countAbove(scores, threshold) : 0), [scores, threshold]);
  if (!result) return null;
  const [lo, hi] = result.score_range;
  return (
    <div className="qp-heat" data-testid="heatmap-controls">
      <label className="check">
        <input
          type="checkbox"
          data-testid="heatmap-toggle"
          checked={show}
          onChange={(e) => useQuery.getState().setShowHeatmap(e.target.checked)}
        />
        Heatmap
      </label>
      <div className="depth-legend" data-testid="heatmap-legend">
        <div className="legend-bar" style={{ background: colormapCssGradient('turbo') }} />
        <div className="legend-ticks">
          <span>{lo.toFixed(2)}</span>
          <span>score</span>
          <span>{hi.toFixed(2)}</span>
        </div>
      </div>
      <label className="lp-slider">
        <span>
          Threshold {threshold.toFixed(3)} · <span data-testid="heatmap-above">{above.toLocaleString()}</span>{' '}
          points above
        </span>
        <input
          type="range"
          min={lo}
          max={hi}
          step={(hi - lo) / 200 || 0.01}
          data-testid="heatmap-threshold"
          value={threshold}
          onChange={(e) => useQuery.getState().setThreshold(Number(e.target.value))}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          data-testid="heatmap-hits-only"
          checked={hitsOnly}
          onChange={(e) => useQuery.getState().setHitsOnly(e.target.checked)}
        />
        Hits only
      </label>
      {state === 'loading' && <span className="muted">Loading heatmap…</span>}
      {state === 'error' && <span className="sev-error">Heatmap could not be shown: {error}</span>}
    </div>
  );
}

/**
 * Saves a waypoint for any hit: main computes the stand-off pose facing the hit's centroid (reachable
 * over the occupancy grid, with a line of sight), or answers NOT_FOUND with the reason.
 */
async function makeWaypoint(
  hit: QueryHit,
  rank: number,
  query: string,
): Promise<{ ok: boolean; text: string }> {
  const name = `${query}${rank > 0 ? ` #${rank + 1}` : ''}`.slice(0, 200);
  // Line of sight may end at the object's surface: half its extent diagonal (as the query's own goal does).
  const target_radius_m = Math.min(
    10,
    Math.max(0.1, Math.hypot(hit.extent_m[0], hit.extent_m[1], hit.extent_m[2]) / 2),
  );
  const r = await getBridge().invoke('waypoints.add', {
    name,
    target_world_m: hit.world_m,
    target_radius_m,
    query,
  });
  if (!r.ok)
    return {
      ok: false,
      text:
        r.code === 'NOT_FOUND' ? `No waypoint: ${r.message}` : `Waypoint not saved: ${r.message} (${r.code})`,
    };
  useWaypoints.getState().setState(r.data);
  return { ok: true, text: `Waypoint “${name}” saved (Waypoints pane, key 5).` };
}

function HitRow({ hit, rank, query }: { hit: QueryHit; rank: number; query: string }) {
  const frames = useCapture((s) => s.index?.frames);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const thumbs = hit.support_frames
    .slice(0, 6)
    .map((sf) => ({ sf, entry: frames?.find((f) => f.index === sf.frame) }));
  const fly = () => viewportApi.flyTo?.(hit.world_m, Math.max(0.8, Math.max(...hit.extent_m) * 3));
  return (
    <li className="qp-hit" data-testid={`query-hit-${rank}`}>
      <div className="qp-hit-head">
        <button
          type="button"
          className="link"
          data-testid={`query-hit-fly-${rank}`}
          onClick={fly}
          title="Fly the 3D view to this hit"
        >
          #{rank + 1} {hit.instance_label ?? 'region'}
        </button>
        <span className="muted">
          score {hit.score.toFixed(3)} · {hit.points.toLocaleString()} pts ·{' '}
          {hit.extent_m.map((e) => formatMetres(e)).join(' × ')}
        </span>
        <span className="spacer" />
        <button
          type="button"
          data-testid={`query-hit-waypoint-${rank}`}
          disabled={saving}
          title="Save a robot goal: a reachable pose facing this hit"
          onClick={() => {
            setSaving(true);
            void makeWaypoint(hit, rank, query).then((m) => {
              setSaving(false);
              setMsg(m);
            });
          }}
        >
          {saving ? 'Saving…' : 'Make waypoint'}
        </button>
      </div>
      {thumbs.length > 0 && (
        <div className="qp-thumbs">
          {thumbs.map(({ sf, entry }) => (
            <button
              type="button"
              key={sf.frame}
              className="qp-thumb"
              title={`frame ${sf.frame}: ${sf.points} supporting points — open in Capture`}
              onClick={() => {
                useCapture.getState().selectFrameNumber(sf.frame);
                useApp.getState().setPane('capture');
              }}
            >
              {entry?.thumb ? (
                <img src={getBridge().assetUrl(entry.thumb)} alt={`frame ${sf.frame}`} loading="lazy" />
              ) : (
                <span className="no-thumb">#{sf.frame}</span>
              )}
            </button>
          ))}
        </div>
      )}
      {msg && (
        <p
          className={msg.ok ? 'muted' : 'form-error'}
          role="status"
          data-testid={`query-hit-message-${rank}`}
          data-ok={msg.ok ? 'true' : 'false'}
        >
          {msg.text}
        </p>
      )}
    </li>
  );
}

function Results() {
  const result = useQuery((s) => s.result);
  const error = useQuery((s) => s.error);
  if (error)
    return (
      <p className="form-error" role="alert" data-testid="query-error">
        {error}
      </p>
    );
  if (!result)
    return (
      <p className="muted">
        Type what to look for; the best matches are listed here and the map is coloured by score.
      </p>
    );
  if (result.not_found || result.hits.length === 0) {
    return (
      <div className="qp-not-found" role="status" data-testid="query-not-found">
        <b>Not found:</b> nothing in this map matches “{result.query}”
        {result.reason ? ` — ${result.reason}` : '.'}
      </div>
    );
  }
  return (
    <div data-testid="query-results">
      <p className="muted">
        {result.hits.length} hit{result.hits.length === 1 ? '' : 's'} · mode {result.mode} · language{' '}
        {result.encoders.language ?? 'none'} · vision {result.encoders.vision ?? 'none'}
        {result.goal_error && <span className="sev-warning"> · goal: {result.goal_error}</span>}
      </p>
      <ol className="qp-hits">
        {result.hits.map((h, i) => (
          <HitRow key={`${result.query}#${i}`} hit={h} rank={i} query={result.query} />
        ))}
      </ol>
    </div>
  );
}

export function QueryPane() {
  const project = useApp((s) => s.project);
  const theme = useApp((s) => s.theme);
  const index = useCapture((s) => s.index);
  const generation = useCapture((s) => s.generation);
  const show = useQuery((s) => s.showHeatmap);
  const hasResult = useQuery((s) => s.result !== null && s.heatmapState === 'ready');
  const unavailable = useQuery((s) => s.unavailable);

  if (!project?.labels) {
    return (
      <div className="pane-empty" data-testid="empty-state">
        <h2>Nothing to query yet</h2>
        <p>
          {project
            ? 'Label the frames and train a field first (Labels and Training panes); then type “the red mug” here to find it in the map.'
            : 'Open a project to query its trained field.'}
        </p>
      </div>
    );
  }
  return (
    <div className="lp" data-testid="query-pane">
      <aside className="lp-side">
        <section className="lp-section">
          <QueryBox />
        </section>
        {unavailable && <p className="form-error">This studio has no query.run channel yet.</p>}
        <section className="lp-section">
          <Results />
        </section>
      </aside>
      <div className="lp-viewport">
        <HeatmapControls />
        <Viewport map={project.map} frames={index} selected={null} generation={generation} theme={theme}>
          {show && hasResult && <HeatmapLayer />}
        </Viewport>
      </div>
    </div>
  );
}
