import { useEffect, useMemo, useState } from 'react';
import type { JobInfo } from '../../../../preload/contract';
import { getBridge } from '../../bridge';
import { formatEta, progressFraction } from '../../lib/format';
import { useApp } from '../app/store';
import { useJobs } from '../jobs/store';
import './report.css';

/** Where main writes the report (project-relative; served as an asset). */
const REPORT_ASSET = 'report/report.html';

function useLatestEvalJob(): JobInfo | null {
  const byId = useJobs((s) => s.byId);
  return useMemo(
    () =>
      Object.values(byId)
        .filter((j) => j.kind === 'eval')
        .sort((a, b) => b.created_at.localeCompare(a.created_at))[0] ?? null,
    [byId],
  );
}

function EvalJobLine({ job }: { job: JobInfo }) {
  const p = job.progress;
  const frac = p ? progressFraction(p.done, p.total) : null;
  return (
    <div className="rp-job" data-testid="report-eval-job" data-job-id={job.id} data-state={job.state}>
      <span className={`pill state-${job.state}`}>{job.state}</span>
      <span className="rp-stage">
        {job.error ? `${job.error.message} (${job.error.code})` : (p?.stage ?? '')}
      </span>
      <progress max={1} value={frac ?? undefined} aria-label="evaluation progress" />
      <span className="muted">{job.state === 'running' ? formatEta(p?.eta_s) : ''}</span>
      {(job.state === 'running' || job.state === 'queued') && (
        <button
          type="button"
          className="danger"
          data-testid="report-eval-cancel"
          onClick={() => void useJobs.getState().cancel(job.id)}
        >
          Cancel
        </button>
      )}
    </div>
  );
}

function CliHelp({ dir }: { dir: string }) {
  return (
    <>
      <p>
        <b>Run evaluation</b> trains and scores the field against the capture’s own annotations (label
        quality, segmentation, query localisation, noise studies) in a scratch folder; it needs an annotated
        capture such as the demo. <b>Generate report</b> then writes a self-contained HTML report of the last
        evaluation (charts and images inline) and shows it here.
      </p>
      <p>From the command line:</p>
      <pre className="rp-cli" data-testid="report-command">
        {`clip-fields eval --project ${dir} --quick\nclip-fields report --project ${dir} --out report.html`}
      </pre>
    </>
  );
}

export function ReportPane() {
  const project = useApp((s) => s.project);
  const job = useLatestEvalJob();
  const [asset, setAsset] = useState<string | null>(null);
  const [rev, setRev] = useState(0);
  const [busy, setBusy] = useState<'eval' | 'report' | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const dir = project?.dir ?? 'DIR';
  const annotated = !!project?.capture?.has_annotations;
  const evaluating = job?.state === 'running' || job?.state === 'queued';

  // Show a report written earlier (by this pane or the CLI into the project's report folder).
  const projectDir = project?.dir ?? null;
  useEffect(() => {
    setAsset(null);
    if (!projectDir) return;
    let live = true;
    void fetch(getBridge().assetUrl(REPORT_ASSET), { method: 'HEAD', cache: 'no-store' })
      .then((r) => {
        if (live && r.ok) setAsset(REPORT_ASSET);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [projectDir]);

  if (!project) {
    return (
      <div className="pane-scroll">
        <div className="pane-empty" data-testid="empty-state">
          <h2>No report yet</h2>
          <p>
            Open a project with an annotated capture (the demo has one) to evaluate it and see the report
            here.
          </p>
          <CliHelp dir={dir} />
        </div>
      </div>
    );
  }

  const runEval = async () => {
    setBusy('eval');
    setMsg(null);
    const id = await useJobs.getState().start('eval', { quick: true });
    setBusy(null);
    setMsg(
      id
        ? { ok: true, text: 'Evaluation started — progress shows here and in the jobs bar.' }
        : { ok: false, text: useApp.getState().notice?.text ?? 'Evaluation could not be started.' },
    );
  };
  const generate = async () => {
    setBusy('report');
    setMsg(null);
    const r = await getBridge().invoke('report.generate', {});
    setBusy(null);
    if (!r.ok) {
      setMsg({ ok: false, text: `The report could not be generated: ${r.message} (${r.code})` });
      return;
    }
    setAsset(r.data.asset);
    setRev((n) => n + 1);
    setMsg({
      ok: true,
      text: `Report written (${(r.data.bytes / 1024).toFixed(0)} KiB): ${project.dir}/${r.data.asset}`,
    });
  };

  return (
    <div className="rp" data-testid="report-pane">
      <div className="rp-bar">
        <button
          type="button"
          data-testid="report-run-eval"
          disabled={!annotated || evaluating || busy !== null}
          title={
            annotated
              ? 'Quick evaluation against the capture’s annotations'
              : 'Needs a capture with annotations (e.g. the demo)'
          }
          onClick={() => void runEval()}
        >
          {evaluating ? 'Evaluating…' : 'Run evaluation'}
        </button>
        <button
          type="button"
          className="primary"
          data-testid="report-generate"
          disabled={busy !== null || evaluating}
          onClick={() => void generate()}
        >
          {busy === 'report' ? 'Generating…' : 'Generate report'}
        </button>
        {!annotated && (
          <span className="muted" data-testid="report-needs-annotations">
            {project.capture
              ? 'This capture has no annotations: evaluation needs ground truth.'
              : 'Import a capture first.'}
          </span>
        )}
        {msg && (
          <span className={msg.ok ? 'muted' : 'form-error'} role="status" data-testid="report-message">
            {msg.text}
          </span>
        )}
      </div>
      {job && <EvalJobLine job={job} />}
      {job?.state === 'done' && !asset && (
        <p className="muted">The evaluation finished: press “Generate report” to see it.</p>
      )}
      {asset ? (
        <iframe
          key={`${asset}#${rev}`}
          className="rp-frame"
          title="Evaluation report"
          sandbox=""
          src={getBridge().assetUrl(asset)}
          data-testid="report-frame"
        />
      ) : (
        <div className="pane-empty" data-testid="empty-state">
          <h2>No report yet</h2>
          <CliHelp dir={dir} />
        </div>
      )}
    </div>
  );
}
