import { useApp } from '../app/store';

/**
 * Evaluation report. The studio does not serve a report asset or a `report.*` channel yet, so this
 * pane says how to produce one from the command line.
 */
export function ReportPane() {
  const project = useApp((s) => s.project);
  const dir = project?.dir ?? 'DIR';
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>No report yet</h2>
      <p>
        Evaluation reports (label quality, query accuracy against annotated captures, training curves) are
        produced from the command line:
      </p>
      <p>
        <code data-testid="report-command">clip-fields report --project {dir} --out report.html</code>
      </p>
      <p className="muted">
        Open the written report.html in a browser. Showing it here needs a report channel or asset from the
        studio.
      </p>
    </div>
  );
}
