import { useEffect, useState } from 'react';
import { getBridge } from '../../bridge';
import { Form } from '../../lib/Form';
import { Viewport, viewportApi } from '../../viewport/Viewport';
import { useApp } from '../app/store';
import { useCapture } from '../capture/store';
import { useQuery } from '../query/store';
import { EXPORT_FILE, exportTarget, FORMAT_HELP, type ExportFormat } from './export-target';
import { reorderIds, useWaypoints, type WaypointView, type WaypointsState } from './store';
import { OccupancyLayer } from './OccupancyLayer';
import { useOccupancy } from './occupancy-store';
import { TopViewCanvas } from './TopViewCanvas';
import { WaypointArrows } from './WaypointArrows';
import '../labels/labels.css';
import './waypoints.css';

const deg = (rad: number) => (rad * 180) / Math.PI;

function WaypointRow({ w, i, ids }: { w: WaypointView; i: number; ids: string[] }) {
  const selected = useWaypoints((s) => s.selected);
  const busy = useWaypoints((s) => s.busy);
  const [name, setName] = useState(w.name);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setName(w.name), [w.name]);
  const m = useWaypoints.getState().mutate;
  const rename = async () => {
    const n = name.trim();
    if (!n || n === w.name) return setName(w.name);
    setError(await m('waypoints.rename', { id: w.id, name: n }));
  };
  return (
    <li
      className={`wp-row ${selected === w.id ? 'selected' : ''}`}
      data-testid={`waypoint-${i}`}
      data-waypoint-id={w.id}
      onClick={() => useWaypoints.getState().select(w.id)}
    >
      <span className="wp-num">{i + 1}</span>
      <input
        type="text"
        data-testid={`waypoint-name-${i}`}
        value={name}
        maxLength={200}
        onChange={(e) => setName(e.target.value)}
        onBlur={() => void rename()}
        onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
      />
      <span className="muted wp-pose" title="map frame">
        x {w.map.x_m.toFixed(2)} · y {w.map.y_m.toFixed(2)} · {deg(w.map.yaw_rad).toFixed(0)}°
      </span>
      <button
        type="button"
        className="icon-button"
        title="Fly to"
        data-testid={`waypoint-fly-${i}`}
        onClick={() => viewportApi.flyTo?.(w.look_at_world_m ?? w.position_world_m, 2)}
      >
        go
      </button>
      <button
        type="button"
        className="icon-button"
        title="Move up"
        disabled={busy || i === 0}
        data-testid={`waypoint-up-${i}`}
        onClick={() => void m('waypoints.reorder', { ids: reorderIds(ids, w.id, -1) }).then(setError)}
      >
        ↑
      </button>
      <button
        type="button"
        className="icon-button"
        title="Move down"
        disabled={busy || i === ids.length - 1}
        data-testid={`waypoint-down-${i}`}
        onClick={() => void m('waypoints.reorder', { ids: reorderIds(ids, w.id, 1) }).then(setError)}
      >
        ↓
      </button>
      <button
        type="button"
        className="icon-button danger"
        title="Delete"
        disabled={busy}
        data-testid={`waypoint-delete-${i}`}
        onClick={() => void m('waypoints.delete', { id: w.id }).then(setError)}
      >
        ×
      </button>
      {w.query && <span className="muted wp-query">from “{w.query}”</span>}
      {error && <span className="form-error">{error}</span>}
    </li>
  );
}

function MapFrameForm({ state }: { state: WaypointsState }) {
  const [x, setX] = useState(String(state.map_frame.origin_m[0]));
  const [y, setY] = useState(String(state.map_frame.origin_m[1]));
  const [yaw, setYaw] = useState(deg(state.map_frame.yaw_rad).toFixed(1));
  const [msg, setMsg] = useState<string | null>(null);
  const submit = async () => {
    const vals = [Number(x), Number(y), Number(yaw)];
    if (![x, y, yaw].every((s) => s.trim() !== '') || !vals.every(Number.isFinite))
      return setMsg('x, y and yaw must be numbers.');
    const err = await useWaypoints
      .getState()
      .mutate('mapframe.set', { origin_m: [vals[0]!, vals[1]!], yaw_rad: (vals[2]! * Math.PI) / 180 });
    setMsg(err ?? 'Map frame updated.');
  };
  return (
    <Form className="form" testid="mapframe-form" onSubmit={() => void submit()}>
      <div className="field-row">
        <label className="field">
          <span>Origin x (m)</span>
          <input
            type="number"
            step={0.05}
            data-testid="mapframe-x"
            value={x}
            onChange={(e) => setX(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Origin y (m)</span>
          <input
            type="number"
            step={0.05}
            data-testid="mapframe-y"
            value={y}
            onChange={(e) => setY(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Yaw (°)</span>
          <input
            type="number"
            step={1}
            data-testid="mapframe-yaw"
            value={yaw}
            onChange={(e) => setYaw(e.target.value)}
          />
        </label>
        <button type="button" data-testid="mapframe-apply" onClick={() => void submit()}>
          Apply
        </button>
      </div>
      <p className="muted hint">
        Moves the robot map frame within the floor plane (origin in the default floor frame; yaw about the
        floor normal). Waypoint map poses update.
      </p>
      {msg && (
        <p className="muted" data-testid="mapframe-message">
          {msg}
        </p>
      )}
    </Form>
  );
}

function ExportForm() {
  const project = useApp((s) => s.project);
  const lastQuery = useQuery((s) => (s.result && !s.result.not_found ? s.result.query : null));
  const [format, setFormat] = useState<ExportFormat>('json');
  // The project folder exists; main writes into existing folders only.
  const [out, setOut] = useState(() => project?.dir ?? '');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (f: ExportFormat) => {
    setFormat(f);
    if (!out.trim()) return setMsg({ ok: false, text: 'Type an output folder.' });
    if (f === 'ply' && !lastQuery)
      return setMsg({ ok: false, text: 'Run a query first (Query pane): the PLY holds its heatmap.' });
    setBusy(true);
    const r = await getBridge().invoke('waypoints.export', {
      format: f,
      out: exportTarget(out, f),
      ...(f === 'ply' && lastQuery ? { query: lastQuery } : {}),
    });
    setBusy(false);
    setMsg(
      r.ok
        ? { ok: true, text: `Wrote ${r.data.files.join(', ')}` }
        : { ok: false, text: `${r.message} (${r.code})` },
    );
  };
  return (
    <div className="form" data-testid="export-form">
      <label className="field">
        <span>Output folder (must exist)</span>
        <input
          type="text"
          spellCheck={false}
          data-testid="export-path"
          value={out}
          onChange={(e) => setOut(e.target.value)}
        />
      </label>
      <div className="wp-buttons">
        {(Object.keys(FORMAT_HELP) as ExportFormat[]).map((f) => (
          <button
            type="button"
            key={f}
            data-testid={`export-${f}`}
            disabled={busy}
            title={`${FORMAT_HELP[f]} → ${EXPORT_FILE[f]}`}
            className={format === f ? 'primary' : ''}
            onClick={() => void run(f)}
          >
            {f}
          </button>
        ))}
      </div>
      <p className="muted hint">
        Writes {EXPORT_FILE[format]} ({FORMAT_HELP[format]}); existing files are replaced.
      </p>
      {msg && (
        <p className={msg.ok ? 'muted' : 'form-error'} data-testid="export-message">
          {msg.text}
        </p>
      )}
    </div>
  );
}

function SendForm() {
  const [url, setUrl] = useState('ws://localhost:9090');
  const [topic, setTopic] = useState('');
  const [action, setAction] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async () => {
    if (!/^wss?:\/\/\S+$/.test(url.trim()))
      return setStatus({ ok: false, text: 'The robot URL must be ws:// or wss:// (a rosbridge server).' });
    setBusy(true);
    setStatus({ ok: true, text: 'Sending…' });
    const r = await getBridge().invoke('waypoints.send', {
      url: url.trim(),
      ...(topic.trim() ? { topic: topic.trim() } : {}),
      ...(action ? { action: true } : {}),
    });
    setBusy(false);
    setStatus(
      r.ok
        ? {
            ok: true,
            text: `Sent ${r.data.published.length} waypoint(s) to ${r.data.topic} at ${r.data.url}`,
          }
        : { ok: false, text: `${r.message} (${r.code})` },
    );
  };
  return (
    <Form className="form" testid="send-form" onSubmit={() => void send()}>
      <div className="field-row">
        <label className="field wide">
          <span>rosbridge URL</span>
          <input
            type="text"
            spellCheck={false}
            data-testid="send-url"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
          />
        </label>
        <label className="field">
          <span>Topic (default from main)</span>
          <input
            type="text"
            spellCheck={false}
            data-testid="send-topic"
            placeholder="/goal_pose"
            value={topic}
            onChange={(e) => setTopic(e.target.value)}
          />
        </label>
        <label className="check" title="Use the Nav2 follow_waypoints action instead of publishing poses">
          <input
            type="checkbox"
            data-testid="send-action"
            checked={action}
            onChange={(e) => setAction(e.target.checked)}
          />
          action
        </label>
        <button
          type="button"
          className="primary"
          disabled={busy}
          data-testid="send-robot"
          onClick={() => void send()}
        >
          Send to robot
        </button>
      </div>
      {status && (
        <p className={status.ok ? 'muted' : 'form-error'} role="status" data-testid="send-status">
          {status.text}
        </p>
      )}
    </Form>
  );
}

export function WaypointsPane() {
  const project = useApp((s) => s.project);
  const theme = useApp((s) => s.theme);
  const index = useCapture((s) => s.index);
  const generation = useCapture((s) => s.generation);
  const state = useWaypoints((s) => s.state);
  const loadState = useWaypoints((s) => s.loadState);
  const error = useWaypoints((s) => s.error);
  const selected = useWaypoints((s) => s.selected);

  const showOcc = useOccupancy((s) => s.show);
  const occState = useOccupancy((s) => s.state);
  const occError = useOccupancy((s) => s.error);
  const occInfo = useOccupancy((s) => s.info);

  useEffect(() => {
    if (project?.map) void useWaypoints.getState().load();
    else useWaypoints.getState().reset();
  }, [project?.dir, project?.map]);
  // The grid's header carries map_from_world: refetch when the map frame (or the map) changes.
  const frameKey = state?.map_from_world.join(',') ?? null;
  useEffect(() => {
    if (project?.map && frameKey !== null) void useOccupancy.getState().reload();
    else if (!project?.map) useOccupancy.getState().reset();
  }, [project?.dir, project?.map, frameKey]);

  if (!project?.map) {
    return (
      <div className="pane-empty" data-testid="empty-state">
        <h2>No waypoints yet</h2>
        <p>
          Import a capture, train a field and run a query (Query pane, key 4); save a hit as a robot goal and
          it is listed here for export.
        </p>
      </div>
    );
  }
  const ids = state?.waypoints.map((w) => w.id) ?? [];
  const arrowLen = project.map
    ? Math.max(0.2, Math.min(1, (project.map.bounds_m.max[0] - project.map.bounds_m.min[0]) / 15))
    : 0.3;
  return (
    <div className="lp" data-testid="waypoints-pane">
      <aside className="lp-side">
        <section className="lp-section" data-testid="waypoint-list">
          <h4>Waypoints {state ? `(${state.waypoints.length})` : ''}</h4>
          {loadState === 'error' && (
            <p className="form-error" role="alert">
              Waypoints could not be listed: {error}
            </p>
          )}
          {state && state.waypoints.length === 0 && (
            <p className="muted" data-testid="waypoints-empty">
              No waypoints yet — run a query and press “Make waypoint” on a hit.
            </p>
          )}
          {state && state.waypoints.length > 0 && (
            <ol className="wp-list">
              {state.waypoints.map((w, i) => (
                <WaypointRow key={w.id} w={w} i={i} ids={ids} />
              ))}
            </ol>
          )}
        </section>
        {state && (
          <section className="lp-section">
            <h4>Map frame</h4>
            <MapFrameForm
              key={`${state.map_frame.origin_m.join(',')},${state.map_frame.yaw_rad}`}
              state={state}
            />
          </section>
        )}
        <section className="lp-section">
          <h4>Export</h4>
          <ExportForm />
        </section>
        <section className="lp-section">
          <h4>Send to robot</h4>
          <SendForm />
        </section>
      </aside>
      <div className="wp-main">
        <div className="lp-viewport-bar">
          <label
            className="check"
            title="Floor cells a robot can drive (white), blocked (dark) or unseen (clear)"
          >
            <input
              type="checkbox"
              data-testid="occupancy-toggle"
              checked={showOcc}
              onChange={(e) => useOccupancy.getState().setShow(e.target.checked)}
            />
            Occupancy floor
          </label>
          <span className="muted" data-testid="occupancy-status" data-state={occState}>
            {occState === 'loading' && 'Loading the occupancy grid…'}
            {occState === 'ready' &&
              occInfo &&
              `${occInfo.width}×${occInfo.height} cells at ${(occInfo.cell_m * 100).toFixed(1)} cm · ${occInfo.free.toLocaleString()} free · ${occInfo.occupied.toLocaleString()} occupied`}
            {occState === 'error' && (
              <span className="sev-error">Occupancy grid could not be shown: {occError}</span>
            )}
          </span>
        </div>
        {state && (
          <TopViewCanvas
            state={state}
            selected={selected}
            onSelect={(id) => useWaypoints.getState().select(id)}
          />
        )}
        <Viewport map={project.map} frames={index} selected={null} generation={generation} theme={theme}>
          {showOcc && occState === 'ready' && <OccupancyLayer theme={theme} />}
          {state && <WaypointArrows waypoints={state.waypoints} selected={selected} length_m={arrowLen} />}
        </Viewport>
      </div>
    </div>
  );
}
