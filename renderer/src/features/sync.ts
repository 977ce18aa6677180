/**
 * Wires bridge events and connection changes into the feature stores, and re-synchronises every
 * store after (re)connecting, since events sent while disconnected are lost.
 */
import type { StudioEvent } from '../../../preload/contract';
import { getBridge, onConnection } from '../bridge';
import { clearAssetCache } from '../lib/assets';
import { diag } from '../test-hooks';
import { useViewport } from '../viewport/store';
import { useApp } from './app/store';
import { useCapture } from './capture/store';
import { useJobs } from './jobs/store';
import { useLabels } from './labels/store';
import { useProblems } from './problems/store';
import { useTraining } from './training/store';

export async function syncAll(): Promise<void> {
  const app = useApp.getState();
  const ok = await app.loadInfo();
  if (!ok) return;
  await Promise.all([app.loadRecent(), useJobs.getState().load(), useProblems.getState().load()]);
  if (useApp.getState().project?.capture) await useCapture.getState().loadIndex();
  else useCapture.getState().reset();
}

async function refreshProject(): Promise<void> {
  const r = await getBridge().invoke('project.current', {});
  if (r.ok) onProjectChanged(r.data);
}

let lastProjectDir: string | null = null;

function onProjectChanged(project: ReturnType<typeof useApp.getState>['project']): void {
  const prevDir = lastProjectDir;
  lastProjectDir = project?.dir ?? null;
  useApp.getState().setProject(project);
  const cap = useCapture.getState();
  if (prevDir !== lastProjectDir) {
    clearAssetCache();
    cap.reset();
    cap.bumpGeneration();
  }
  if (project?.capture) void cap.loadIndex();
  else cap.reset();
}

export function routeEvent(e: StudioEvent): void {
  useJobs.getState().apply(e);
  useTraining.getState().apply(e);
  useLabels.getState().apply(e);
  switch (e.type) {
    case 'problem.added':
      useProblems.getState().add(e.problem);
      break;
    case 'project.changed':
      onProjectChanged(e.project);
      break;
    case 'job.done': {
      const job = useJobs.getState().byId[e.id];
      if (job?.kind === 'import') {
        clearAssetCache();
        useCapture.getState().bumpGeneration();
        void refreshProject();
      }
      break;
    }
    default:
      break;
  }
}

let started = false;

export function startStudio(): void {
  if (started) return;
  started = true;
  const bridge = getBridge();
  bridge.onEvent(routeEvent);
  let wasOpen = false;
  onConnection((state, attempt) => {
    useApp.getState().setConnection(state, attempt);
    diag.connection = state;
    if (state === 'open' && !wasOpen) void syncAll();
    wasOpen = state === 'open';
  });
  // Mirror a few values into the read-only test hooks.
  useApp.subscribe((s) => {
    diag.pane = s.pane;
    diag.theme = s.theme;
    if (s.project) lastProjectDir ??= s.project.dir;
  });
  useViewport.subscribe((s) => {
    diag.mapPoints = s.mapState === 'ready' ? s.mapPointsShown : 0;
    diag.mapPointsTotal = s.mapState === 'ready' ? s.mapPointsTotal : 0;
  });
  useCapture.subscribe((s) => {
    diag.selectedFrame = s.current === null ? null : (s.index?.frames[s.current]?.index ?? null);
  });
  diag.pane = useApp.getState().pane;
  diag.theme = useApp.getState().theme;
}
