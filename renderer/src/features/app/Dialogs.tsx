import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Form } from '../../lib/Form';
import { canPickPath, getBridge } from '../../bridge';
import { SHORTCUTS } from '../../lib/shortcuts';
import { useApp } from './store';

function Modal({ title, testid, children }: { title: string; testid: string; children: ReactNode }) {
  return (
    <div
      className="modal-backdrop"
      onPointerDown={(e) => e.target === e.currentTarget && useApp.getState().setDialog(null)}
    >
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} data-testid={testid}>
        <div className="modal-head">
          <h2>{title}</h2>
          <button
            type="button"
            className="icon-button"
            aria-label="Close"
            data-testid="dialog-close"
            onClick={() => useApp.getState().setDialog(null)}
          >
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

export function HelpDialog() {
  return (
    <Modal title="Keyboard shortcuts" testid="shortcuts-help">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys}>
              <td>
                <kbd>{s.keys}</kbd>
              </td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}

function PathField(props: {
  value: string;
  onChange: (v: string) => void;
  testid: string;
  label: string;
  placeholder: string;
  pick: 'file' | 'directory' | null;
}) {
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <label className="field">
      <span>{props.label}</span>
      <span className="path-row">
        <input
          ref={ref}
          type="text"
          spellCheck={false}
          data-testid={props.testid}
          value={props.value}
          placeholder={props.placeholder}
          onChange={(e) => props.onChange(e.target.value)}
        />
        {props.pick && canPickPath() && (
          <button
            type="button"
            data-testid={`${props.testid}-browse`}
            onClick={async () => {
              const p = await getBridge().pickPath?.({ kind: props.pick ?? 'directory', title: props.label });
              if (p) props.onChange(p);
            }}
          >
            Browse…
          </button>
        )}
      </span>
    </label>
  );
}

export function ProjectDialog({ mode }: { mode: 'open' | 'create' }) {
  const [dir, setDir] = useState('');
  const [name, setName] = useState('');
  const busy = useApp((s) => s.busy);
  const notice = useApp((s) => s.notice);
  const submit = async () => {
    if (busy) return;
    const d = dir.trim();
    if (!d) return;
    if (mode === 'open') await useApp.getState().openProject(d);
    else await useApp.getState().createProject(d, name);
  };
  return (
    <Modal
      title={mode === 'open' ? 'Open project' : 'New project'}
      testid={mode === 'open' ? 'open-project-dialog' : 'create-project-dialog'}
    >
      <Form className="form" onSubmit={() => void submit()}>
        <PathField
          label={mode === 'open' ? 'Project folder' : 'Folder for the new project'}
          testid="project-path"
          value={dir}
          onChange={setDir}
          placeholder={mode === 'open' ? '/home/me/projects/kitchen' : '/home/me/projects/new-room'}
          pick="directory"
        />
        {mode === 'create' && (
          <label className="field">
            <span>Name</span>
            <input
              type="text"
              data-testid="project-name-input"
              value={name}
              placeholder="Kitchen scan"
              maxLength={200}
              onChange={(e) => setName(e.target.value)}
            />
          </label>
        )}
        {notice?.kind === 'error' && (
          <p className="form-error" role="alert" data-testid="dialog-error">
            {notice.text}
          </p>
        )}
        <div className="form-actions">
          <button type="button" onClick={() => useApp.getState().setDialog(null)}>
            Cancel
          </button>
          <button
            type="button"
            className="primary"
            data-testid="project-submit"
            disabled={busy || !dir.trim()}
            onClick={() => void submit()}
          >
            {mode === 'open' ? 'Open' : 'Create'}
          </button>
        </div>
      </Form>
    </Modal>
  );
}
