import { useProblems } from './store';

export function ProblemsPanel() {
  const open = useProblems((s) => s.open);
  const problems = useProblems((s) => s.problems);
  if (!open) return null;
  return (
    <section className="problems-panel" data-testid="problems-panel" aria-label="Problems">
      <div className="panel-head">
        <h3>Problems ({problems.length})</h3>
        <div className="spacer" />
        <button
          type="button"
          data-testid="problems-clear"
          disabled={problems.length === 0}
          onClick={() => void useProblems.getState().clear()}
        >
          Clear
        </button>
        <button
          type="button"
          className="icon-button"
          aria-label="Close problems"
          onClick={() => useProblems.getState().setOpen(false)}
        >
          ×
        </button>
      </div>
      {problems.length === 0 ? (
        <p className="empty-inline">No problems. Data problems found by imports and jobs appear here.</p>
      ) : (
        <ul className="problem-list">
          {[...problems].reverse().map((p) => (
            <li
              key={p.id}
              className={`problem sev-${p.severity}`}
              data-testid="problem-item"
              data-severity={p.severity}
            >
              <span className={`pill sev-${p.severity}`}>{p.severity}</span>
              <span className="problem-source">{p.source}</span>
              {p.file && <code className="problem-file">{p.file}</code>}
              <span className="problem-message">{p.message}</span>
              <time className="muted" dateTime={p.at}>
                {new Date(p.at).toLocaleTimeString()}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
