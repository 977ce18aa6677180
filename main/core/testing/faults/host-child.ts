/**
 * A whole studio host in a child process, for "kill the host" tests:
 *   node --import tsx host-child.ts <projectDir> <userDataDir> <kind> <paramsJson> [faultsJson]
 * Opens the project, starts one job (its workers get `faultsJson` as FsFaultOptions, e.g. a write delay) and
 * reports over IPC: {type:'started', job}, {type:'worker', pid}, {type:'event', event}. It never exits by itself.
 */
import type { JobKind } from '../../../../preload/contract';
import { StudioCore } from '../../studio';
import { recordingSpawn, type FsFaultOptions } from './fs-faults';

async function main(): Promise<void> {
  const [projectDir, userDataDir, kind, paramsJson, faultsJson] = process.argv.slice(2);
  if (!projectDir || !userDataDir || !kind || !paramsJson)
    throw new Error('usage: host-child <projectDir> <userDataDir> <kind> <paramsJson> [faultsJson]');
  const faults = faultsJson ? (JSON.parse(faultsJson) as FsFaultOptions) : null;
  const { spawn } = recordingSpawn(() => faults);
  const core = new StudioCore({
    host: 'web',
    userDataDir,
    resourcesDir: userDataDir,
    spawnWorker: (env, entry) => {
      const h = spawn(env, entry);
      process.send?.({ type: 'worker', pid: h.pid, entry: entry ?? 'job-worker' });
      return h;
    },
  });
  core.onEvent((event) => process.send?.({ type: 'event', event }));
  await core.openProjectDir(projectDir);
  const r = await core.invoke('jobs.start', {
    kind: kind as JobKind,
    params: JSON.parse(paramsJson) as unknown,
  });
  if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
  process.send?.({ type: 'started', job: r.data });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
