import { useApp } from '../app/store';
import { useJobs } from '../jobs/store';
import { Viewport } from '../../viewport/Viewport';
import { FrameStrip } from './FrameStrip';
import { FrameView } from './FrameView';
import { ImportForm } from './ImportForm';
import { useCapture } from './store';

export function CapturePane() {
  const project = useApp((s) => s.project);
  const info = useApp((s) => s.info);
  const theme = useApp((s) => s.theme);
  const index = useCapture((s) => s.index);
  const indexState = useCapture((s) => s.indexState);
  const indexError = useCapture((s) => s.indexError);
  const current = useCapture((s) => s.current);
  const generation = useCapture((s) => s.generation);
  const importOpen = useCapture((s) => s.importOpen);

  if (!project) {
    return (
      <div className="pane-empty" data-testid="empty-state">
        <h2>No project open</h2>
        <p>Create a project or open one to import a capture (Project ▸ New project…, or Ctrl/⌘+O to open).</p>
        <div className="form-actions">
          <button
            type="button"
            className="primary"
            data-testid="empty-create-project"
            onClick={() => useApp.getState().setDialog('project-create')}
          >
            New project…
          </button>
          <button
            type="button"
            data-testid="empty-open-project"
            onClick={() => useApp.getState().setDialog('project-open')}
          >
            Open project…
          </button>
        </div>
      </div>
    );
  }

  if (!project.capture) {
    return (
      <div className="pane-scroll">
        <div className="pane-empty" data-testid="empty-state">
          <h2>No capture yet</h2>
          <p>
            No capture yet — import a .r3d or folder (Capture ▸ Import)
            {info?.demo_capture ? ', or open the demo' : ''}.
          </p>
          {info?.demo_capture && (
            <div className="form-actions">
              <button
                type="button"
                className="primary"
                data-testid="open-demo"
                onClick={() => void useJobs.getState().start('import', { capture: info.demo_capture ?? '' })}
              >
                Open the demo capture
              </button>
            </div>
          )}
        </div>
        <section className="card">
          <h3>Import</h3>
          <ImportForm />
        </section>
      </div>
    );
  }

  const cap = project.capture;
  return (
    <div className="capture-pane">
      <div className="capture-head">
        <div className="capture-summary" data-testid="capture-summary">
          <b>{cap.format === 'r3d' ? 'Record3D' : 'Folder'}</b> · {cap.selected_frames}/{cap.frames} frames ·
          RGB {cap.rgb_size[0]}×{cap.rgb_size[1]} · depth {cap.depth_size[0]}×{cap.depth_size[1]}
          {project.map &&
            ` · map ${project.map.points.toLocaleString()} pts @ ${(project.map.voxel_m * 100).toFixed(1)} cm`}
          <span className="muted" title={cap.source}>
            {' '}
            · {cap.copied ? 'copied' : 'linked'}: {cap.source}
          </span>
        </div>
        <button
          type="button"
          data-testid="import-toggle"
          aria-expanded={importOpen}
          onClick={() => useCapture.getState().setImportOpen(!importOpen)}
        >
          {importOpen ? 'Close import' : 'Import…'}
        </button>
      </div>
      {importOpen && (
        <section className="card">
          <ImportForm compact />
        </section>
      )}
      {indexState === 'error' && (
        <div className="form-error" role="alert">
          Frames could not be listed: {indexError}
        </div>
      )}
      <div className="capture-main">
        <FrameView />
        <Viewport
          map={project.map}
          frames={index}
          selected={current}
          generation={generation}
          theme={theme}
          onSelectFrame={(p) => useCapture.getState().select(p)}
        />
      </div>
      <FrameStrip />
    </div>
  );
}
