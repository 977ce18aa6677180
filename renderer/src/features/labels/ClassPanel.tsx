import { useEffect, useState } from 'react';
import type { LabelsOverview } from '../../../../preload/contract';
import { Form } from '../../lib/Form';
import { viewportApi } from '../../viewport/Viewport';
import { editFrom, type EditInput } from './forms';
import { colorOf, rgbCss, type Palette } from './palette';
import { useLabels } from './store';

async function apply(input: EditInput, setError: (e: string | null) => void): Promise<boolean> {
  const r = editFrom(input);
  if ('error' in r) {
    setError(r.error);
    return false;
  }
  setError(null);
  return useLabels.getState().edit(r.edit);
}

function ClassEditor({ name, weight, onDone }: { name: string; weight: number; onDone: () => void }) {
  const editing = useLabels((s) => s.editing);
  const [to, setTo] = useState('');
  const [w, setW] = useState(String(weight));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setTo('');
    setW(String(weight));
    setError(null);
  }, [name, weight]);
  return (
    <div className="lp-class-editor" data-testid="class-editor" data-class={name}>
      <Form
        className="field-row"
        onSubmit={() =>
          void apply({ op: 'rename-class', from: name, to }, setError).then((ok) => ok && onDone())
        }
      >
        <label className="field">
          <span>Rename / merge “{name}” into</span>
          <input
            type="text"
            data-testid="class-rename-input"
            value={to}
            placeholder="new or existing class"
            onChange={(e) => setTo(e.target.value)}
          />
        </label>
        <button
          type="button"
          data-testid="class-rename"
          disabled={editing}
          onClick={() =>
            void apply({ op: 'rename-class', from: name, to }, setError).then((ok) => ok && onDone())
          }
        >
          Rename
        </button>
      </Form>
      <Form
        className="field-row"
        onSubmit={() => void apply({ op: 'class-weight', label: name, weight: w }, setError)}
      >
        <label
          className="field"
          title="Multiplies this class's contribution to the training loss (1 = normal, 0 = ignored)."
        >
          <span>Weight in training</span>
          <input
            type="number"
            min={0}
            max={100}
            step={0.1}
            data-testid="class-weight-input"
            value={w}
            onChange={(e) => setW(e.target.value)}
          />
        </label>
        <button
          type="button"
          data-testid="class-weight-set"
          disabled={editing}
          onClick={() => void apply({ op: 'class-weight', label: name, weight: w }, setError)}
        >
          Set weight
        </button>
        <button
          type="button"
          className="danger"
          data-testid="class-reject"
          disabled={editing}
          onClick={() =>
            void apply({ op: 'reject-class', label: name }, setError).then((ok) => ok && onDone())
          }
        >
          Reject class
        </button>
      </Form>
      {error && (
        <p className="form-error" role="alert" data-testid="class-edit-error">
          {error}
        </p>
      )}
    </div>
  );
}

export function ClassList({ overview, palette }: { overview: LabelsOverview; palette: Palette }) {
  const filter = useLabels((s) => s.classFilter);
  const [open, setOpen] = useState<string | null>(null);
  const openClass = overview.classes.find((c) => c.name === open) ?? null;
  const classes = [...overview.classes].sort((a, b) => b.points - a.points);
  return (
    <section className="lp-section" data-testid="class-list">
      <div className="lp-section-head">
        <h4>Classes ({overview.classes.length})</h4>
        {filter && (
          <button
            type="button"
            className="link"
            data-testid="class-filter-clear"
            onClick={() => useLabels.getState().setClassFilter(null)}
          >
            show all
          </button>
        )}
      </div>
      <table className="lp-table">
        <thead>
          <tr>
            <th title="Show only the checked classes (boxes and 3D)">Show</th>
            <th>Class</th>
            <th className="num">Points</th>
            <th className="num">Dets</th>
            <th className="num">Mean</th>
            <th className="num">Weight</th>
          </tr>
        </thead>
        <tbody>
          {classes.map((c) => (
            <tr
              key={c.name}
              data-testid={`class-row-${c.name}`}
              className={open === c.name ? 'selected' : ''}
              onClick={() => setOpen(open === c.name ? null : c.name)}
            >
              <td onClick={(e) => e.stopPropagation()}>
                <input
                  type="checkbox"
                  data-testid={`class-filter-${c.name}`}
                  checked={!filter || filter.includes(c.name)}
                  onChange={() => useLabels.getState().toggleClass(c.name)}
                  aria-label={`Show ${c.name}`}
                />
              </td>
              <td>
                <i className="sw" style={{ background: rgbCss(colorOf(palette, c.name)) }} /> {c.name}
              </td>
              <td className="num" data-testid={`class-points-${c.name}`}>
                {c.points.toLocaleString()}
              </td>
              <td className="num">{c.detections}</td>
              <td className="num">{c.mean_score.toFixed(2)}</td>
              <td className="num">{c.weight === 1 ? '1' : c.weight.toFixed(2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {overview.rejected_classes.length > 0 && (
        <p className="muted" data-testid="rejected-classes">
          Rejected: {overview.rejected_classes.join(', ')}
        </p>
      )}
      {openClass ? (
        <ClassEditor name={openClass.name} weight={openClass.weight} onDone={() => setOpen(null)} />
      ) : (
        <p className="muted hint">Click a class to rename, merge, re-weight or reject it.</p>
      )}
    </section>
  );
}

export function Filters({ overview }: { overview: LabelsOverview }) {
  const minScore = useLabels((s) => s.minScore);
  const showRejected = useLabels((s) => s.showRejected);
  const editing = useLabels((s) => s.editing);
  const [thr, setThr] = useState(String(overview.threshold));
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setThr(String(overview.threshold)), [overview.threshold]);
  return (
    <section className="lp-section" data-testid="label-filters">
      <label className="lp-slider">
        <span>Show boxes scoring ≥ {minScore.toFixed(2)}</span>
        <input
          type="range"
          min={0}
          max={1}
          step={0.01}
          data-testid="label-min-score"
          value={minScore}
          onChange={(e) => useLabels.getState().setMinScore(Number(e.target.value))}
        />
      </label>
      <label className="check">
        <input
          type="checkbox"
          data-testid="label-show-rejected"
          checked={showRejected}
          onChange={(e) => useLabels.getState().setShowRejected(e.target.checked)}
        />
        Show rejected boxes (dashed)
      </label>
      <Form
        className="field-row"
        onSubmit={() => void apply({ op: 'score-threshold', threshold: thr }, setError)}
      >
        <label
          className="field"
          title="An edit: detections below this no longer label points (the view filter above only hides boxes)."
        >
          <span>Score threshold (edit; now {overview.threshold})</span>
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            data-testid="label-threshold-input"
            value={thr}
            onChange={(e) => setThr(e.target.value)}
          />
        </label>
        <button
          type="button"
          data-testid="label-threshold-set"
          disabled={editing}
          onClick={() => void apply({ op: 'score-threshold', threshold: thr }, setError)}
        >
          Apply
        </button>
      </Form>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function EditList({ overview }: { overview: LabelsOverview }) {
  const editing = useLabels((s) => s.editing);
  const editError = useLabels((s) => s.editError);
  return (
    <section className="lp-section" data-testid="edit-list">
      <div className="lp-section-head">
        <h4>Edits ({overview.edits.length})</h4>
        <button
          type="button"
          data-testid="label-undo"
          disabled={editing || overview.edits.length === 0}
          onClick={() => void useLabels.getState().undo()}
          title="Undo the latest edit"
        >
          Undo
        </button>
      </div>
      {editError && (
        <p className="form-error" role="alert" data-testid="edit-error">
          {editError}
        </p>
      )}
      {overview.edits.length === 0 ? (
        <p className="muted">No edits yet.</p>
      ) : (
        <ol className="lp-edits">
          {overview.edits
            .slice()
            .reverse()
            .map((e) => (
              <li key={e.id} data-testid="edit-item" title={e.at}>
                {e.text}
              </li>
            ))}
        </ol>
      )}
    </section>
  );
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(0)}%`);

export function QualityTable({ overview }: { overview: LabelsOverview }) {
  if (!overview.quality) return null;
  return (
    <section className="lp-section" data-testid="quality-table">
      <h4>Label quality vs. annotations</h4>
      {overview.point_accuracy !== null && (
        <p>
          Point accuracy: <b data-testid="point-accuracy">{pct(overview.point_accuracy)}</b>
        </p>
      )}
      <table className="lp-table">
        <thead>
          <tr>
            <th>Class</th>
            <th className="num">Precision</th>
            <th className="num">Recall</th>
            <th className="num">Labeled</th>
          </tr>
        </thead>
        <tbody>
          {overview.quality.map((q) => (
            <tr key={q.label}>
              <td>{q.label}</td>
              <td className="num">{pct(q.precision)}</td>
              <td className="num">{pct(q.recall)}</td>
              <td className="num">{q.labeled.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function ObjectList() {
  const objects = useLabels((s) => s.objects);
  const state = useLabels((s) => s.objectsState);
  const error = useLabels((s) => s.objectsError);
  useEffect(() => {
    if (useLabels.getState().objectsState === 'idle') void useLabels.getState().loadObjects();
  }, []);
  return (
    <section className="lp-section" data-testid="object-list">
      <div className="lp-section-head">
        <h4>3D objects {objects ? `(${objects.length})` : ''}</h4>
        <button
          type="button"
          className="link"
          data-testid="objects-refresh"
          onClick={() => void useLabels.getState().loadObjects()}
        >
          refresh
        </button>
      </div>
      {state === 'loading' && <p className="muted">Grouping detections into objects…</p>}
      {state === 'error' && (
        <p className="form-error" role="alert">
          Objects could not be listed: {error}
        </p>
      )}
      {objects && objects.length === 0 && <p className="muted">No objects.</p>}
      {objects && objects.length > 0 && (
        <ul className="lp-objects">
          {objects.slice(0, 500).map((o) => (
            <li key={o.id}>
              <button
                type="button"
                className="link"
                data-testid={`object-${o.id}`}
                title={`${o.points.toLocaleString()} points — click to fly there`}
                onClick={() => viewportApi.flyTo?.(o.center_m, 1.5)}
              >
                object #{o.id}:{' '}
                {o.classes
                  .map((c) => `${c.label} in ${c.frames} frame${c.frames === 1 ? '' : 's'}`)
                  .join(', ') || o.text}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
