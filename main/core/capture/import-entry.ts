import * as path from 'node:path';
import type { ImportParams } from '../../../preload/contract';
import type { JobContext } from '../jobs/types';
import { runImportJob } from './import-job';

export const DEMO_PREFIX = 'demo:';

/** Where demo captures are cached (set for job workers by the host). */
export function demoCacheDir(): string {
  const dir = process.env['CLIP_FIELDS_CACHE_DIR'];
  return dir ? path.join(dir, 'demo') : path.resolve('.cache', 'demo');
}

/**
 * The import job as the worker runs it: `demo:` captures (the bundled synthetic scene) are generated into the
 * cache on first use (inside this job, so the host never does the ray casting), then imported like any file.
 */
export async function runImportEntry(ctx: JobContext<ImportParams>): ReturnType<typeof runImportJob> {
  let capture = ctx.params.capture;
  if (capture.startsWith(DEMO_PREFIX)) {
    const { ensureDemoCapture } = await import('./synthetic/write');
    ctx.progress('generate demo scene', 0, 1);
    capture = await ensureDemoCapture(demoCacheDir(), {
      onProgress: (done, total) => ctx.progress('generate demo scene', done, total),
      signal: ctx.signal,
    });
  }
  return runImportJob({ ...ctx, params: { ...ctx.params, capture } });
}
