import { useEffect, useMemo } from 'react';
import { Viewport } from '../../viewport/Viewport';
import { useApp } from '../app/store';
import { useCapture } from '../capture/store';
import { useJobs } from '../jobs/store';
import { ClassList, EditList, Filters, ObjectList, QualityTable } from './ClassPanel';
import { describeLanguageEncoder, describeVisionEncoder } from './encoders';
import { FrameDetections, useClearHighlightOnDeselect } from './FrameDetections';
import { setLabelColoring, useLabelPoints } from './label-layer';
import { LabelPointsLayer } from './LabelPointsLayer';
import { buildPalette } from './palette';
import { RunLabelingForm } from './RunLabelingForm';
import { useLabels } from './store';
import './labels.css';

function useRunningLabelJob(): boolean {
  return useJobs((s) =>
    Object.values(s.byId).some((j) => j.kind === 'label' && (j.state === 'running' || j.state === 'queued')),
  );
}

function LabelsViewport({ palette }: { palette: ReturnType<typeof buildPalette> }) {
  const project = useApp((s) => s.project);
  const theme = useApp((s) => s.theme);
  const index = useCapture((s) => s.index);
  const generation = useCapture((s) => s.generation);
  const frame = useLabels((s) => s.frame);
  const show3d = useLabels((s) => s.show3d);
  const classFilter = useLabels((s) => s.classFilter);
  const rejected = useLabels((s) => s.overview?.rejected_classes);
  const pts = useLabelPoints();
  useEffect(() => {
    setLabelColoring(palette, classFilter, rejected ?? []);
  }, [palette, classFilter, rejected]);
  const selected = useMemo(() => {
    if (!index || frame === null) return null;
    const p = index.frames.findIndex((f) => f.index === frame);
    return p >= 0 ? p : null;
  }, [index, frame]);
  const onSelectFrame = (p: number) => {
    const f = index?.frames[p];
    const labeled = useLabels.getState().overview?.frames ?? [];
    if (f && labeled.includes(f.index)) void useLabels.getState().setFrame(f.index);
  };
  return (
    <div className="lp-viewport">
      <div className="lp-viewport-bar">
        <label className="check">
          <input
            type="checkbox"
            data-testid="label-color-3d"
            checked={show3d}
            onChange={(e) => useLabels.getState().setShow3d(e.target.checked)}
          />
          Colour map by label
        </label>
        <span className="muted" data-testid="label-points-status">
          {pts.state === 'ready' &&
            `${pts.count.toLocaleString()} labeled points${pts.highlighted ? ` · ${pts.highlighted.toLocaleString()} highlighted` : ''}`}
          {pts.state === 'loading' && 'Loading labeled points…'}
          {pts.state === 'error' && (
            <span className="sev-error">Labeled points could not be shown: {pts.error}</span>
          )}
        </span>
      </div>
      <Viewport
        map={project?.map ?? null}
        frames={index}
        selected={selected}
        generation={generation}
        theme={theme}
        onSelectFrame={onSelectFrame}
      >
        {show3d && <LabelPointsLayer />}
      </Viewport>
    </div>
  );
}

export function LabelsPane() {
  const project = useApp((s) => s.project);
  const overview = useLabels((s) => s.overview);
  const state = useLabels((s) => s.overviewState);
  const error = useLabels((s) => s.overviewError);
  const runOpen = useLabels((s) => s.runOpen);
  const running = useRunningLabelJob();
  const hasLabels = !!project?.labels;
  useClearHighlightOnDeselect();

  useEffect(() => {
    if (project?.capture && (state === 'idle' || (hasLabels && state === 'none')))
      void useLabels.getState().load();
  }, [project?.dir, project?.capture, hasLabels, state]);

  const palette = useMemo(
    () =>
      buildPalette([...(overview?.classes.map((c) => c.name) ?? []), ...(overview?.rejected_classes ?? [])]),
    [overview],
  );

  if (!project?.capture) {
    return (
      <div className="pane-empty" data-testid="empty-state">
        <h2>No labels yet</h2>
        <p>Import a capture first (Capture pane, key 1), then label its frames here.</p>
      </div>
    );
  }

  if (!overview) {
    return (
      <div className="pane-scroll">
        <div className="pane-empty" data-testid="empty-state">
          <h2>No labels yet</h2>
          <p>
            Label the capture’s frames with an open-vocabulary detector (or its ground-truth annotations).
            Progress shows in the jobs bar below.
          </p>
          {state === 'error' && (
            <p className="form-error" role="alert" data-testid="labels-error">
              Labels could not be read: {error}
            </p>
          )}
          {running && <p data-testid="label-job-running">Labeling is running…</p>}
        </div>
        <section className="card">
          <h3>Run labeling</h3>
          <RunLabelingForm />
        </section>
      </div>
    );
  }

  return (
    <div className="lp" data-testid="labels-pane">
      <aside className="lp-side">
        <div className="lp-summary" data-testid="labels-summary">
          <div>
            <b>{overview.labeler}</b> · {overview.frames.length} frames ·{' '}
            <span data-testid="labels-detections">{overview.detections.toLocaleString()}</span> detections ·{' '}
            <span data-testid="labels-points">{overview.points.toLocaleString()}</span> points
          </div>
          <div className="lp-encoders" data-testid="labels-encoders">
            <div>
              language:{' '}
              <span data-testid="encoder-language">
                {describeLanguageEncoder(overview.encoders.language)}
              </span>
            </div>
            <div>
              vision:{' '}
              <span data-testid="encoder-vision">{describeVisionEncoder(overview.encoders.vision)}</span>
            </div>
          </div>
          <div className="form-actions">
            {running && <span className="pill state-running">labeling…</span>}
            <button
              type="button"
              data-testid="label-run-toggle"
              aria-expanded={runOpen}
              onClick={() => useLabels.getState().setRunOpen(!runOpen)}
            >
              {runOpen ? 'Close' : 'Run labeling…'}
            </button>
          </div>
        </div>
        {runOpen && (
          <section className="lp-section">
            <RunLabelingForm />
          </section>
        )}
        <ClassList overview={overview} palette={palette} />
        <Filters overview={overview} />
        <EditList overview={overview} />
        <QualityTable overview={overview} />
        <ObjectList />
      </aside>
      <div className="lp-main">
        <FrameDetections palette={palette} />
        <LabelsViewport palette={palette} />
      </div>
    </div>
  );
}
