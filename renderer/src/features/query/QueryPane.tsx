import { useApp } from '../app/store';

export function QueryPane() {
  const project = useApp((s) => s.project);
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>Nothing to query yet</h2>
      <p>{project ? 'Train a field first (Training pane, key 3); then type “the red mug” here to find it in the map.' : 'Open a project to query its trained field.'}</p>
    </div>
  );
}
