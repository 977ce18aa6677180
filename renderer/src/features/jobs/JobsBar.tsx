import { useMemo, useState } from 'react';
import type { JobInfo } from '../../../../preload/contract';
import { formatEta, progressFraction } from '../../lib/format';
import { isActive, orderedJobs } from './reduce';
import { useJobs } from './store';

const MAX_FINISHED_SHOWN = 20;

function JobRow({ job }: { job: JobInfo }) {
  const log = useJobs((s) => s.lastLog[job.id]);
  const p = job.progress;
  const frac = p ? progressFraction(p.done, p.total) : null;
  const jobs = useJobs.getState;
  return (
    <li
      className={`job-row state-${job.state}`}
      data-testid="job-row"
      data-job-id={job.id}
      data-job-kind={job.kind}
      data-job-state={job.state}
    >
      <span className="job-kind" data-testid="job-kind">
        {job.kind}
      </span>
      <span className={`job-state pill state-${job.state}`} data-testid="job-state">
        {job.state}
      </span>
      <span className="job-stage" data-testid="job-stage" title={log?.message ?? ''}>
        {job.error ? `${job.error.message} (${job.error.code})` : (p?.stage ?? '')}
      </span>
      <span className="job-progress">
        <progress
          data-testid="job-progress"
          max={1}
          value={frac ?? undefined}
          aria-label={`${job.kind} progress`}
        />
        <span className="job-count">{p && p.total > 0 ? `${p.done}/${p.total}` : ''}</span>
      </span>
      <span className="job-eta" data-testid="job-eta">
        {job.state === 'running' ? formatEta(p?.eta_s) : ''}
      </span>
      <span className="job-actions">
        {job.state === 'running' && (
          <button type="button" data-testid="job-pause" onClick={() => void jobs().pause(job.id)}>
            Pause
          </button>
        )}
        {(job.state === 'paused' || job.state === 'interrupted') && (
          <button type="button" data-testid="job-resume" onClick={() => void jobs().resume(job.id)}>
            Resume
          </button>
        )}
        {isActive(job) && (
          <button
            type="button"
            className="danger"
            data-testid="job-cancel"
            onClick={() => void jobs().cancel(job.id)}
          >
            Cancel
          </button>
        )}
        {job.state === 'interrupted' && (
          <button type="button" data-testid="job-discard" onClick={() => void jobs().discard(job.id)}>
            Discard
          </button>
        )}
      </span>
    </li>
  );
}

export function JobsBar() {
  const byId = useJobs((s) => s.byId);
  const [expanded, setExpanded] = useState(false);
  const all = useMemo(() => orderedJobs(byId), [byId]);
  const live = all.filter((j) => isActive(j) || j.state === 'interrupted');
  const finished = all.filter((j) => !isActive(j) && j.state !== 'interrupted').slice(0, MAX_FINISHED_SHOWN);
  const shown = expanded ? [...live, ...finished] : live.length > 0 ? live : finished.slice(0, 1);
  return (
    <footer className="jobs-bar" data-testid="jobs-bar" data-active-count={live.length}>
      <div className="jobs-head">
        <button
          type="button"
          className="link"
          data-testid="jobs-expand"
          onClick={() => setExpanded(!expanded)}
          aria-expanded={expanded}
        >
          Jobs {expanded ? '▾' : '▸'}
        </button>
        <span className="muted">
          {live.length === 0 ? 'No running jobs' : `${live.length} active`}
          {finished.length > 0 ? ` · ${finished.length} finished` : ''}
        </span>
      </div>
      {shown.length > 0 && (
        <ul className="job-list" data-testid="job-list">
          {shown.map((j) => (
            <JobRow key={j.id} job={j} />
          ))}
        </ul>
      )}
    </footer>
  );
}
