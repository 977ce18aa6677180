import { useState } from 'react';
import { Form } from '../../lib/Form';
import { canPickPath, getBridge } from '../../bridge';
import { useApp } from '../app/store';
import { useStartJob } from '../jobs/useStartJob';
import { importParamsFrom, type ImportOptions } from './import-params';

export function ImportForm({ compact = false }: { compact?: boolean }) {
  const info = useApp((s) => s.info);
  const [capture, setCapture] = useState('');
  const [opts, setOpts] = useState<ImportOptions>({
    every: '1',
    voxel_m: '0.02',
    max_depth_m: '3',
    copy: false,
  });
  const { error, starting, start } = useStartJob('import', 'The import could not be started.');

  const submit = async () => {
    await start(importParamsFrom(capture, opts));
  };

  const browse = async (kind: 'file' | 'directory') => {
    const p = await getBridge().pickPath?.({
      kind,
      title: kind === 'file' ? 'Choose a Record3D capture' : 'Choose a capture folder',
      ...(kind === 'file' ? { filters: [{ name: 'Record3D capture', extensions: ['r3d'] }] } : {}),
    });
    if (p) setCapture(p);
  };

  return (
    <Form
      className={`form import-form ${compact ? 'compact' : ''}`}
      testid="import-form"
      onSubmit={() => void submit()}
    >
      <label className="field wide">
        <span>Capture (.r3d file or folder)</span>
        <span className="path-row">
          <input
            type="text"
            spellCheck={false}
            data-testid="import-path"
            value={capture}
            placeholder="/data/scans/kitchen.r3d"
            onChange={(e) => setCapture(e.target.value)}
          />
          {canPickPath() && (
            <>
              <button type="button" data-testid="import-browse" onClick={() => void browse('file')}>
                Browse…
              </button>
              <button
                type="button"
                data-testid="import-browse-folder"
                onClick={() => void browse('directory')}
              >
                Folder…
              </button>
            </>
          )}
        </span>
      </label>
      <div className="field-row">
        <label className="field">
          <span>Every K frames</span>
          <input
            type="number"
            min={1}
            max={1000}
            step={1}
            data-testid="import-every"
            value={opts.every}
            onChange={(e) => setOpts({ ...opts, every: e.target.value })}
          />
        </label>
        <label className="field">
          <span>Voxel (m)</span>
          <input
            type="number"
            min={0.002}
            max={1}
            step={0.005}
            data-testid="import-voxel"
            value={opts.voxel_m}
            onChange={(e) => setOpts({ ...opts, voxel_m: e.target.value })}
          />
        </label>
        <label className="field">
          <span>Max depth (m)</span>
          <input
            type="number"
            min={0.05}
            max={100}
            step={0.5}
            data-testid="import-max-depth"
            value={opts.max_depth_m}
            onChange={(e) => setOpts({ ...opts, max_depth_m: e.target.value })}
          />
        </label>
        <label className="check">
          <input
            type="checkbox"
            data-testid="import-copy"
            checked={opts.copy}
            onChange={(e) => setOpts({ ...opts, copy: e.target.checked })}
          />
          Copy into project
        </label>
      </div>
      {error && (
        <p className="form-error" role="alert" data-testid="import-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        {info?.demo_capture && (
          <button
            type="button"
            data-testid="import-demo"
            onClick={() => setCapture(info.demo_capture ?? '')}
            title={info.demo_capture}
          >
            Use the demo capture
          </button>
        )}
        <button
          type="button"
          className="primary"
          data-testid="import-start"
          disabled={starting}
          onClick={() => void submit()}
        >
          {starting ? 'Starting…' : 'Import'}
        </button>
      </div>
    </Form>
  );
}
