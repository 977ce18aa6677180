import { useState } from 'react';
import { Form } from '../../lib/Form';
import { useApp } from '../app/store';
import { useStartJob } from '../jobs/useStartJob';
import { DEFAULT_LABEL_RUN_FORM, labelParamsFrom, type Labeler, type LabelRunForm } from './forms';
import { useLabels } from './store';

const LABELER_HELP: Record<Labeler, string> = {
  auto: 'Models when installed, otherwise the capture’s ground-truth annotations.',
  models: 'Open-vocabulary detector + CLIP/sentence encoders (must be installed).',
  'ground-truth':
    'The capture’s own instance annotations (synthetic/annotated captures), optionally with detector-like noise.',
};

export function RunLabelingForm() {
  const project = useApp((s) => s.project);
  const overview = useLabels((s) => s.overview);
  const [form, setForm] = useState<LabelRunForm>(() => ({
    ...DEFAULT_LABEL_RUN_FORM,
    // Default vocabulary: the classes of the previous run (the project's), else main's built-in list.
    vocabText: overview
      ? [...overview.classes.map((c) => c.name), ...overview.rejected_classes].join('\n')
      : Object.keys(project?.labels?.classes ?? {}).join('\n'),
    threshold: overview ? String(overview.threshold) : DEFAULT_LABEL_RUN_FORM.threshold,
  }));
  const { error, starting, start } = useStartJob('label', 'Labeling could not be started.');
  const set = (p: Partial<LabelRunForm>) => setForm({ ...form, ...p });
  const vocabCount = form.vocabText
    .split(/\r?\n/)
    .filter((l) => l.trim() && !l.trim().startsWith('#')).length;

  const submit = async () => {
    if (await start(labelParamsFrom(form))) useLabels.getState().setRunOpen(false);
  };

  return (
    <Form className="form" testid="label-run-form" onSubmit={() => void submit()}>
      <div className="field-row">
        <label className="field">
          <span>Labeler</span>
          <select
            data-testid="label-labeler"
            value={form.labeler}
            onChange={(e) => set({ labeler: e.target.value as Labeler })}
          >
            <option value="auto">auto</option>
            <option value="models">models</option>
            <option value="ground-truth">ground-truth</option>
          </select>
        </label>
        <label className="field" title="Label every K-th selected frame (1 = all).">
          <span>Every K frames</span>
          <input
            type="number"
            min={1}
            max={1000}
            step={1}
            data-testid="label-every"
            value={form.every}
            onChange={(e) => set({ every: e.target.value })}
          />
        </label>
        <label
          className="field"
          title="Detections scoring below this are dropped (default 0.1). Can be raised later as an edit."
        >
          <span>Score threshold</span>
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            data-testid="label-threshold"
            value={form.threshold}
            onChange={(e) => set({ threshold: e.target.value })}
          />
        </label>
      </div>
      <p className="muted hint">{LABELER_HELP[form.labeler]}</p>
      {form.labeler === 'ground-truth' && (
        <label className="field">
          <span>Noise (imitates a detector; empty = exact labels)</span>
          <input
            type="text"
            spellCheck={false}
            data-testid="label-noise"
            placeholder="drop=0.2,confuse=0.15,jitter=0.1"
            value={form.noise}
            onChange={(e) => set({ noise: e.target.value })}
          />
        </label>
      )}
      <label className="field">
        <span>
          Vocabulary — one label per line (
          {vocabCount ? `${vocabCount} labels` : 'empty: the built-in indoor vocabulary'})
        </span>
        <textarea
          rows={6}
          spellCheck={false}
          data-testid="label-vocab"
          value={form.vocabText}
          placeholder={'chair\nsofa\ntable\n…'}
          onChange={(e) => set({ vocabText: e.target.value })}
        />
      </label>
      {error && (
        <p className="form-error" role="alert" data-testid="label-run-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button
          type="button"
          className="primary"
          data-testid="label-run-start"
          disabled={starting || !project?.capture}
          onClick={() => void submit()}
        >
          {starting ? 'Starting…' : 'Run labeling'}
        </button>
      </div>
    </Form>
  );
}
