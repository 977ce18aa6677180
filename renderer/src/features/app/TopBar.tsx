import { useEffect, useRef } from 'react';
import { useApp } from './store';
import { useProblems } from '../problems/store';

export function TopBar() {
  const project = useApp((s) => s.project);
  const info = useApp((s) => s.info);
  const menuOpen = useApp((s) => s.menuOpen);
  const recent = useApp((s) => s.recent);
  const theme = useApp((s) => s.theme);
  const problemCount = useProblems((s) => s.problems.length);
  const errorCount = useProblems((s) => s.problems.filter((p) => p.severity === 'error').length);
  const problemsOpen = useProblems((s) => s.open);
  const menuRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!menuOpen) return;
    const onDown = (e: PointerEvent) => {
      if (menuRef.current && !menuRef.current.contains(e.target as Node))
        useApp.getState().setMenuOpen(false);
    };
    window.addEventListener('pointerdown', onDown);
    return () => window.removeEventListener('pointerdown', onDown);
  }, [menuOpen]);

  const app = useApp.getState;
  return (
    <header className="topbar" data-testid="topbar">
      <div className="brand">CLIP-Fields Studio</div>
      <div className="project-menu" ref={menuRef}>
        <button
          type="button"
          className="menu-button"
          data-testid="project-menu-button"
          aria-haspopup="menu"
          aria-expanded={menuOpen}
          onClick={() => {
            app().setMenuOpen(!menuOpen);
            if (!menuOpen) void app().loadRecent();
          }}
        >
          <span className="project-name" data-testid="project-name">
            {project ? project.name : 'No project'}
          </span>
          <span aria-hidden="true"> ▾</span>
        </button>
        {menuOpen && (
          <div className="menu" role="menu" data-testid="project-menu">
            <button
              type="button"
              role="menuitem"
              data-testid="menu-create-project"
              onClick={() => app().setDialog('project-create')}
            >
              New project…
            </button>
            <button
              type="button"
              role="menuitem"
              data-testid="menu-open-project"
              onClick={() => app().setDialog('project-open')}
            >
              Open project… <kbd>Ctrl/⌘ O</kbd>
            </button>
            <div className="menu-sep" />
            <div className="menu-label">Recent projects</div>
            {recent.length === 0 && <div className="menu-empty">No recent projects yet.</div>}
            <ul className="recent-list" data-testid="recent-projects">
              {recent.map((r) => (
                <li key={r.dir}>
                  <button
                    type="button"
                    role="menuitem"
                    data-testid="recent-project"
                    title={r.dir}
                    onClick={() => void app().openProject(r.dir)}
                  >
                    <span className="recent-name">{r.name}</span>
                    <span className="recent-dir">{r.dir}</span>
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
      </div>
      {project && (
        <span className="project-dir" title={project.dir}>
          {project.dir}
        </span>
      )}
      <div className="topbar-spacer" />
      <button
        type="button"
        className={`problems-toggle ${errorCount > 0 ? 'has-errors' : ''}`}
        data-testid="problems-toggle"
        aria-expanded={problemsOpen}
        onClick={() => useProblems.getState().setOpen(!problemsOpen)}
        title="Problems"
      >
        Problems{' '}
        <span className="badge" data-testid="problems-badge" data-count={problemCount}>
          {problemCount}
        </span>
      </button>
      <button
        type="button"
        className="icon-button"
        data-testid="theme-toggle"
        title="Toggle theme (t)"
        onClick={() => app().toggleTheme()}
      >
        {theme === 'dark' ? '☾' : '☀'}
      </button>
      <button
        type="button"
        className="icon-button"
        data-testid="help-button"
        title="Keyboard shortcuts (?)"
        onClick={() => app().setDialog('help')}
      >
        ?
      </button>
      {info && (
        <span
          className="host-tag"
          data-testid="host-tag"
          title={`contract ${info.contract}, ${info.platform}`}
        >
          {info.host} · v{info.version}
        </span>
      )}
    </header>
  );
}
