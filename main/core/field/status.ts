import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { listCheckpoints, readCheckpointMeta } from './checkpoint';
import { checkpointDirOf } from './train-job';
import { queryCacheDir } from '../query/cache';

/** What the Training pane shows about the trained field: checkpoints (newest first) and the query cache. */
export async function fieldStatus(projectDir: string): Promise<{
  checkpoints: { step: number; heldout_accuracy: number | null; engine: string }[];
  latest: number | null;
  query_cache: boolean;
}> {
  const dir = checkpointDirOf(projectDir);
  const steps = await listCheckpoints(dir);
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const checkpoints: { step: number; heldout_accuracy: number | null; engine: string }[] = [];
  for (const step of steps) {
    const name = names.find((n) => /^\d+$/.test(n) && Number(n) === step);
    if (!name) continue;
    try {
      const { meta } = await readCheckpointMeta(path.join(dir, name));
      checkpoints.push({ step, heldout_accuracy: meta.heldoutAccuracy, engine: meta.engine });
    } catch {
      // A damaged checkpoint is not offered; the train job sets it aside with a visible problem.
    }
  }
  const hasCache = await fs
    .access(path.join(queryCacheDir(projectDir), 'manifest.json'))
    .then(() => true)
    .catch(() => false);
  // The checkpoint in use: the `latest` pointer (training and "use this one" write it), else the newest.
  const pointer = Number((await fs.readFile(path.join(dir, 'latest'), 'utf8').catch(() => '')).trim());
  const latest = checkpoints.some((c) => c.step === pointer) ? pointer : (checkpoints[0]?.step ?? null);
  return { checkpoints, latest, query_cache: hasCache };
}
