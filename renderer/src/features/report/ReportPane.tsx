export function ReportPane() {
  return (
    <div className="pane-empty" data-testid="empty-state">
      <h2>No report yet</h2>
      <p>Evaluation reports (query accuracy against annotated captures) appear here once an evaluation job has run.</p>
    </div>
  );
}
