import { useApp } from '../app/store';
import { useTraining } from './store';

export function TrainingPane() {
  const project = useApp((s) => s.project);
  const runs = useTraining((s) => Object.keys(s.series).length);
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>No trained field yet</h2>
      <p>{project?.capture ? 'Label the frames (Labels pane, key 2), then train a CLIP-Fields model here.' : 'Import a capture and label it before training.'}</p>
      {runs > 0 && <p className="muted">{runs} training run(s) reported metrics this session.</p>}
    </div>
  );
}
