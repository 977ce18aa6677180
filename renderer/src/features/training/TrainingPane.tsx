import { useEffect, useMemo, useState } from 'react';
import { getBridge } from '../../bridge';
import type { JobInfo } from '../../../../preload/contract';
import { Form } from '../../lib/Form';
import { formatEta } from '../../lib/format';
import { useApp } from '../app/store';
import { useJobs } from '../jobs/store';
import { useStartJob } from '../jobs/useStartJob';
import { MetricChart } from './MetricChart';
import {
  BASIC_FIELDS,
  CUSTOM_FIELDS,
  DEFAULT_TRAIN_FORM,
  FIELD_SPECS,
  PRESET_VALUES,
  trainParamsFrom,
  type Engine,
  type Preset,
  type TrainForm,
} from './params';
import { useTraining } from './store';
import { FieldMapView } from './FieldMapView';
import { useFieldColors } from './field-colors';
import '../labels/labels.css';
import './training.css';

const LOSS_SERIES = [
  { key: 'loss', label: 'total', color: '#e8590c' },
  { key: 'loss_language', label: 'language', color: '#1c7ed6' },
  { key: 'loss_vision', label: 'vision', color: '#2f9e44' },
];
const TEMP_SERIES = [{ key: 'temperature', label: 'temperature', color: '#ae3ec9' }];
const ACC_SERIES = [{ key: 'heldout_accuracy', label: 'held-out accuracy', color: '#0ca678' }];
const ACC_RANGE: [number, number] = [0, 1];

const PRESET_HELP: Record<Preset, string> = {
  cpu: 'Small hash grid and MLP sized for a laptop CPU (minutes to an hour).',
  paper: 'The CLIP-Fields paper’s model size; needs a fast machine and hours.',
  custom: 'Start from the cpu preset and override any field below.',
};
const ENGINE_HELP: Record<Engine, string> = {
  onnx: 'ONNX Runtime (CPU execution provider) — the default and fastest here.',
  tfjs: 'TensorFlow.js (WASM backend) — a portable fallback.',
};

function useTrainJobs(): JobInfo[] {
  const byId = useJobs((s) => s.byId);
  return useMemo(
    () =>
      Object.values(byId)
        .filter((j) => j.kind === 'train')
        .sort((a, b) => b.created_at.localeCompare(a.created_at)),
    [byId],
  );
}

function NumberField({
  k,
  form,
  set,
  placeholder,
}: {
  k: keyof typeof FIELD_SPECS;
  form: TrainForm;
  set: (p: Partial<TrainForm>) => void;
  placeholder?: string;
}) {
  const spec = FIELD_SPECS[k];
  return (
    <label className="field tp-field">
      <span>{spec.label}</span>
      <input
        type="number"
        min={spec.min}
        max={spec.max}
        step={spec.int ? 1 : 'any'}
        data-testid={`train-${k}`}
        value={form[k]}
        placeholder={placeholder}
        onChange={(e) => set({ [k]: e.target.value })}
      />
      <small className="muted">{spec.help}</small>
    </label>
  );
}

function TrainFormView({ disabled }: { disabled: boolean }) {
  const [form, setForm] = useState<TrainForm>(DEFAULT_TRAIN_FORM);
  const { error, starting, start } = useStartJob('train', 'Training could not be started.');
  const set = (p: Partial<TrainForm>) => setForm({ ...form, ...p });
  const submit = async () => {
    if (disabled) return;
    if (await start(trainParamsFrom(form))) useTraining.getState().setFollowJob(null);
  };
  const presetVals = PRESET_VALUES[form.preset === 'paper' ? 'paper' : 'cpu'];
  return (
    <Form className="form" testid="train-form" onSubmit={() => void submit()}>
      <div className="field-row">
        <label className="field">
          <span>Preset</span>
          <select
            data-testid="train-preset"
            value={form.preset}
            onChange={(e) => set({ preset: e.target.value as Preset })}
          >
            <option value="cpu">cpu (default)</option>
            <option value="paper">paper</option>
            <option value="custom">custom</option>
          </select>
        </label>
        <fieldset className="tp-engine" data-testid="train-engine">
          <legend>Engine</legend>
          {(['onnx', 'tfjs'] as const).map((e) => (
            <label key={e} className="check" title={ENGINE_HELP[e]}>
              <input
                type="radio"
                name="train-engine"
                data-testid={`train-engine-${e}`}
                checked={form.engine === e}
                onChange={() => set({ engine: e })}
              />
              {e}
              {e === 'onnx' ? ' (default)' : ''}
            </label>
          ))}
        </fieldset>
      </div>
      <p className="muted hint">
        {PRESET_HELP[form.preset]} {ENGINE_HELP[form.engine]}
      </p>
      <div className="tp-grid">
        {BASIC_FIELDS.map((k) => (
          <NumberField key={k} k={k} form={form} set={set} />
        ))}
      </div>
      {form.preset === 'custom' && (
        <details open className="tp-custom">
          <summary>Model and optimiser (empty = the cpu preset’s value)</summary>
          <div className="tp-grid">
            {CUSTOM_FIELDS.map((k) => (
              <NumberField key={k} k={k} form={form} set={set} placeholder={presetVals[k]} />
            ))}
          </div>
        </details>
      )}
      {error && (
        <p className="form-error" role="alert" data-testid="train-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button
          type="button"
          className="primary"
          data-testid="train-start"
          disabled={starting || disabled}
          onClick={() => void submit()}
        >
          {starting ? 'Starting…' : 'Start training'}
        </button>
      </div>
    </Form>
  );
}

function RunPanel({ job }: { job: JobInfo }) {
  const latest = useTraining((s) => s.latest[job.id]);
  const p = job.params as Record<string, unknown>;
  const steps = typeof p.steps === 'number' ? p.steps : null;
  const live = job.state === 'running' || job.state === 'queued';
  const step = latest?.step ?? job.progress?.done ?? 0;
  const provider = p.engine === 'tfjs' ? 'tfjs (wasm)' : 'onnxruntime (CPU EP)';
  return (
    <section className="lp-section" data-testid="train-run" data-job-id={job.id} data-state={job.state}>
      <div className="lp-section-head">
        <h4>
          Run {job.id.slice(0, 8)} <span className={`pill state-${job.state}`}>{job.state}</span>
        </h4>
        <div className="form-actions">
          {job.state === 'running' && (
            <button
              type="button"
              data-testid="train-pause"
              onClick={() => void useJobs.getState().pause(job.id)}
            >
              Pause
            </button>
          )}
          {(job.state === 'paused' || job.state === 'interrupted') && (
            <button
              type="button"
              data-testid="train-resume"
              onClick={() => void useJobs.getState().resume(job.id)}
            >
              Resume
            </button>
          )}
          {(live || job.state === 'paused') && (
            <button
              type="button"
              className="danger"
              data-testid="train-cancel"
              onClick={() => void useJobs.getState().cancel(job.id)}
            >
              Cancel
            </button>
          )}
        </div>
      </div>
      <dl className="tp-stats">
        <dt>Step</dt>
        <dd data-testid="train-step">
          {Math.round(step).toLocaleString()}
          {steps ? ` / ${steps.toLocaleString()}` : ''}
        </dd>
        <dt>Samples/s</dt>
        <dd data-testid="train-sps">
          {latest?.samples_per_s !== undefined ? Math.round(latest.samples_per_s).toLocaleString() : '—'}
        </dd>
        <dt>ETA</dt>
        <dd data-testid="train-eta">{live ? formatEta(latest?.eta_s ?? job.progress?.eta_s) || '—' : '—'}</dd>
        <dt>Loss</dt>
        <dd>{latest?.loss !== undefined ? latest.loss.toFixed(4) : '—'}</dd>
        <dt>Held-out acc.</dt>
        <dd data-testid="train-acc">
          {latest?.heldout_accuracy !== undefined ? `${(latest.heldout_accuracy * 100).toFixed(1)}%` : '—'}
        </dd>
        <dt>Engine</dt>
        <dd data-testid="train-engine-info">
          {provider} · {String(p.preset ?? 'cpu')} preset · {String(latest?.threads ?? p.threads ?? 2)}{' '}
          threads
          {latest?.grid_threads !== undefined ? ` · hash grid on ${latest.grid_threads}` : ''}
        </dd>
      </dl>
      {job.error && (
        <p className="form-error" role="alert">
          {job.error.message} ({job.error.code})
        </p>
      )}
    </section>
  );
}

function FieldStatusPanel() {
  const status = useTraining((s) => s.status);
  const state = useTraining((s) => s.statusState);
  const error = useTraining((s) => s.statusError);
  const evaluating = useJobs((s) =>
    Object.values(s.byId).some(
      (j) => j.kind === 'evaluate-field' && (j.state === 'running' || j.state === 'queued'),
    ),
  );
  const [using, setUsing] = useState<number | null>(null);
  const [useMsg, setUseMsg] = useState<{ ok: boolean; text: string; job?: string } | null>(null);
  /** The checkpoint chosen with "Use this one" (field.status's `latest` is the newest step). */
  const [chosen, setChosen] = useState<number | null>(null);
  const newest = status?.latest ?? null;
  // A new run (a new newest checkpoint) is used by queries again.
  useEffect(() => setChosen(null), [newest]);
  const inUse = chosen ?? newest;
  const colorsOn = useFieldColors((s) => s.enabled);
  useEffect(() => {
    if (useTraining.getState().statusState === 'idle') void useTraining.getState().loadStatus();
  }, []);
  const switchCheckpoint = async (step: number) => {
    setUsing(step);
    setUseMsg(null);
    const r = await getBridge().invoke('field.use', { step });
    setUsing(null);
    if (!r.ok) {
      setUseMsg({ ok: false, text: `Checkpoint ${step} could not be used: ${r.message} (${r.code})` });
      return;
    }
    useJobs.getState().apply({ type: 'job.state', job: r.data });
    setChosen(step);
    setUseMsg({
      ok: true,
      job: r.data.id,
      text: `Queries now use step ${step.toLocaleString()}; rebuilding the query cache (job ${r.data.id.slice(0, 8)}, see the jobs bar).`,
    });
    void useTraining.getState().loadStatus();
  };
  if (state === 'unavailable')
    return (
      <section className="lp-section muted">
        Checkpoints are not available from this studio version (no field.status channel).
      </section>
    );
  return (
    <section className="lp-section" data-testid="field-status">
      <div className="lp-section-head">
        <h4>Checkpoints</h4>
        <button
          type="button"
          className="link"
          data-testid="field-status-refresh"
          onClick={() => void useTraining.getState().loadStatus()}
        >
          refresh
        </button>
      </div>
      {state === 'error' && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {status && status.checkpoints.length === 0 && (
        <p className="muted">No checkpoints yet — start a run.</p>
      )}
      {status && status.checkpoints.length > 0 && (
        <table className="lp-table" data-testid="checkpoint-list">
          <thead>
            <tr>
              <th>Step</th>
              <th className="num">Held-out acc.</th>
              <th>Engine</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {status.checkpoints.map((c) => (
              <tr key={c.step} data-testid={`checkpoint-${c.step}`}>
                <td>
                  {c.step.toLocaleString()} {c.step === status.latest && <span className="pill">latest</span>}
                </td>
                <td className="num">
                  {c.heldout_accuracy === null ? '—' : `${(c.heldout_accuracy * 100).toFixed(1)}%`}
                </td>
                <td>{c.engine}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    disabled={evaluating || using !== null}
                    title={
                      c.step === inUse
                        ? 'Queries use this checkpoint; press to rebuild its query cache.'
                        : 'Make queries use this checkpoint (rebuilds the query cache).'
                    }
                    data-testid={`checkpoint-use-${c.step}`}
                    onClick={() => void switchCheckpoint(c.step)}
                  >
                    {using === c.step ? 'switching…' : c.step === inUse ? 'in use' : 'Use this one'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {status && (
        <div className="tp-status-row">
          <span data-testid="query-cache-state">
            {status.query_cache
              ? 'Query cache built — the Query pane can search this field.'
              : 'No query cache yet — build it to query the field.'}
          </span>
          <button
            type="button"
            data-testid="field-evaluate"
            disabled={evaluating || status.latest === null}
            onClick={() => void useJobs.getState().start('evaluate-field', {})}
          >
            {evaluating ? 'Evaluating…' : status.query_cache ? 'Re-evaluate field' : 'Evaluate field'}
          </button>
        </div>
      )}
      {useMsg && (
        <p
          className={useMsg.ok ? 'muted' : 'form-error'}
          role="status"
          data-testid="checkpoint-use-message"
          data-job-id={useMsg.job}
        >
          {useMsg.text}
        </p>
      )}
      <label
        className={`check ${status?.query_cache ? '' : 'disabled'}`}
        title={
          status?.query_cache
            ? 'Colour the map by the label the field scores highest at each point (Labels pane colours).'
            : 'Needs the query cache: evaluate the field first.'
        }
      >
        <input
          type="checkbox"
          data-testid="field-color-toggle"
          disabled={!status?.query_cache}
          checked={colorsOn && !!status?.query_cache}
          onChange={(e) => useFieldColors.getState().setEnabled(e.target.checked)}
        />{' '}
        Colour map by field top label
      </label>
    </section>
  );
}

export function TrainingPane() {
  const project = useApp((s) => s.project);
  const jobs = useTrainJobs();
  const followJob = useTraining((s) => s.followJob);
  const job = jobs.find((j) => j.id === followJob) ?? jobs[0] ?? null;
  const running = jobs.some((j) => j.state === 'running' || j.state === 'queued');

  if (!project?.labels) {
    return (
      <div className="pane-empty" data-testid="empty-state">
        <h2>No trained field yet</h2>
        <p>
          {project?.capture
            ? 'Label the frames (Labels pane, key 2), then train a CLIP-Fields model here.'
            : 'Import a capture and label it before training.'}
        </p>
      </div>
    );
  }

  return (
    <div className="tp" data-testid="training-pane">
      <aside className="lp-side">
        <section className="lp-section">
          <h4>Train a field</h4>
          <TrainFormView disabled={running} />
          {running && <p className="muted">A run is in progress; pause or cancel it to start another.</p>}
        </section>
        <FieldStatusPanel />
      </aside>
      <div className="tp-main">
        {jobs.length > 1 && (
          <label className="tp-run-pick">
            Run{' '}
            <select
              data-testid="train-run-select"
              value={job?.id ?? ''}
              onChange={(e) => useTraining.getState().setFollowJob(e.target.value)}
            >
              {jobs.map((j) => (
                <option key={j.id} value={j.id}>
                  {j.id.slice(0, 8)} — {j.state} — {j.created_at.slice(0, 19).replace('T', ' ')}
                </option>
              ))}
            </select>
          </label>
        )}
        {job ? (
          <RunPanel job={job} />
        ) : (
          <p className="muted" data-testid="train-no-run">
            No training run yet. Charts appear here while a run streams its metrics (about twice a second).
          </p>
        )}
        <div className="tp-charts">
          <MetricChart jobId={job?.id ?? null} title="Loss" series={LOSS_SERIES} testid="chart-loss" />
          <MetricChart
            jobId={job?.id ?? null}
            title="Temperature"
            series={TEMP_SERIES}
            testid="chart-temperature"
          />
          <MetricChart
            jobId={job?.id ?? null}
            title="Held-out accuracy"
            series={ACC_SERIES}
            testid="chart-accuracy"
            yRange={ACC_RANGE}
          />
        </div>
        <p className="muted hint">Charts show metrics received while this window was open.</p>
        <FieldMapView />
      </div>
    </div>
  );
}
