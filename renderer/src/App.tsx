import { useEffect, type ReactNode } from 'react';
import { HelpDialog, ProjectDialog } from './features/app/Dialogs';
import { PANE_TITLES, PANES, useApp, type PaneId } from './features/app/store';
import { TopBar } from './features/app/TopBar';
import { CapturePane } from './features/capture/CapturePane';
import { useCapture } from './features/capture/store';
import { JobsBar } from './features/jobs/JobsBar';
import { LabelsPane } from './features/labels/LabelsPane';
import { ProblemsPanel } from './features/problems/ProblemsPanel';
import { QueryPane } from './features/query/QueryPane';
import { ReportPane } from './features/report/ReportPane';
import { TrainingPane } from './features/training/TrainingPane';
import { WaypointsPane } from './features/waypoints/WaypointsPane';
import { isTextField, shortcutFor } from './lib/shortcuts';

const PANE_VIEWS: Record<PaneId, () => ReactNode> = {
  capture: () => <CapturePane />,
  labels: () => <LabelsPane />,
  training: () => <TrainingPane />,
  query: () => <QueryPane />,
  waypoints: () => <WaypointsPane />,
  report: () => <ReportPane />,
};

const PANE_ICONS: Record<PaneId, string> = {
  capture: '◉',
  labels: '◧',
  training: '◔',
  query: '⌕',
  waypoints: '⚑',
  report: '▤',
};

function useShortcuts(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = shortcutFor({
        key: e.key,
        ctrlKey: e.ctrlKey,
        metaKey: e.metaKey,
        altKey: e.altKey,
        inTextField: isTextField(document.activeElement),
      });
      if (!action) return;
      const app = useApp.getState();
      if (app.dialog && action.type !== 'escape' && action.type !== 'open-project') return;
      switch (action.type) {
        case 'pane': {
          const p = PANES[action.index];
          if (p) app.setPane(p);
          break;
        }
        case 'help':
          app.setDialog('help');
          break;
        case 'open-project':
          e.preventDefault();
          app.setDialog('project-open');
          void app.loadRecent();
          break;
        case 'frame':
          useCapture.getState().step(action.delta);
          break;
        case 'theme':
          app.toggleTheme();
          break;
        case 'escape':
          if (app.dialog) app.setDialog(null);
          else if (app.menuOpen) app.setMenuOpen(false);
          break;
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

function Rail() {
  const pane = useApp((s) => s.pane);
  return (
    <nav className="rail" aria-label="Panes" data-testid="rail">
      {PANES.map((p, i) => (
        <button
          type="button"
          key={p}
          className={`rail-item ${pane === p ? 'active' : ''}`}
          data-testid={`rail-${p}`}
          aria-current={pane === p ? 'page' : undefined}
          title={`${PANE_TITLES[p]} (${i + 1})`}
          onClick={() => useApp.getState().setPane(p)}
        >
          <span className="rail-icon" aria-hidden="true">
            {PANE_ICONS[p]}
          </span>
          <span className="rail-label">{PANE_TITLES[p]}</span>
        </button>
      ))}
    </nav>
  );
}

function ConnectionBanner() {
  const connection = useApp((s) => s.connection);
  const attempt = useApp((s) => s.reconnectAttempt);
  if (connection === 'open') return null;
  return (
    <div className="banner banner-error" role="status" data-testid="disconnected-banner">
      Disconnected from the studio — reconnecting{attempt > 1 ? ` (attempt ${attempt})` : ''}… Actions made
      now will fail.
    </div>
  );
}

function Notice() {
  const notice = useApp((s) => s.notice);
  const dialog = useApp((s) => s.dialog);
  if (!notice || dialog) return null;
  return (
    <div className={`banner banner-${notice.kind}`} role="alert" data-testid="notice">
      <span>{notice.text}</span>
      <button
        type="button"
        className="icon-button"
        aria-label="Dismiss"
        onClick={() => useApp.getState().setNotice(null)}
      >
        ×
      </button>
    </div>
  );
}

export function App() {
  const info = useApp((s) => s.info);
  const pane = useApp((s) => s.pane);
  const theme = useApp((s) => s.theme);
  const dialog = useApp((s) => s.dialog);
  const connection = useApp((s) => s.connection);
  useShortcuts();
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);

  if (!info) {
    return (
      <div className="connecting" data-testid="connecting">
        <div className="spinner" aria-hidden="true" />
        <p>{connection === 'closed' ? 'Cannot reach the studio — retrying…' : 'connecting…'}</p>
      </div>
    );
  }

  return (
    <div className="app" data-testid="app">
      <TopBar />
      <ConnectionBanner />
      <Notice />
      <div className="app-body">
        <Rail />
        <main className="pane" data-testid={`pane-${pane}`} aria-label={PANE_TITLES[pane]}>
          {PANE_VIEWS[pane]()}
        </main>
      </div>
      <ProblemsPanel />
      <JobsBar />
      {dialog === 'help' && <HelpDialog />}
      {dialog === 'project-open' && <ProjectDialog mode="open" />}
      {dialog === 'project-create' && <ProjectDialog mode="create" />}
    </div>
  );
}
