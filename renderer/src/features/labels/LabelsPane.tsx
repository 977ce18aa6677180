import { useApp } from '../app/store';

export function LabelsPane() {
  const project = useApp((s) => s.project);
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>No labels yet</h2>
      <p>
        {project?.capture
          ? 'Labelling runs open-vocabulary detectors over the capture’s frames; it will be started from here.'
          : 'Import a capture first (Capture pane, key 1), then label its frames here.'}
      </p>
    </div>
  );
}
