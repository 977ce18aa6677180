import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeJsonAtomic } from '../util/atomic';
import { JobError, type JobContext } from './types';

export interface SelftestParams {
  steps: number;
  step_ms: number;
  fail_at?: number;
}

/**
 * A built-in job that exercises the job machinery end to end: it counts steps, checkpoints the count to its
 * work folder so a resumed run continues where it stopped, honours cancel and pause, and can fail on purpose.
 */
export async function runSelftestJob(
  ctx: JobContext<SelftestParams>,
): Promise<{ steps: number; resumed_from: number }> {
  const ckpt = path.join(ctx.workDir, 'selftest-checkpoint.json');
  let start = 0;
  try {
    const raw = JSON.parse(await fs.readFile(ckpt, 'utf8')) as { step?: unknown };
    if (typeof raw.step === 'number' && Number.isInteger(raw.step) && raw.step >= 0) start = raw.step;
  } catch {
    start = 0;
  }
  const { steps, step_ms } = ctx.params;
  ctx.log('info', `selftest: ${steps} steps of ${step_ms} ms, starting at ${start}`);
  for (let i = start; i < steps; i++) {
    if (ctx.signal.aborted) {
      await writeJsonAtomic(ckpt, { step: i });
      throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason));
    }
    if (ctx.params.fail_at !== undefined && i === ctx.params.fail_at) {
      throw new JobError('INVALID_INPUT', `selftest failed on purpose at step ${i}`);
    }
    await new Promise((r) => setTimeout(r, step_ms));
    ctx.progress('count', i + 1, steps);
    if ((i + 1) % 5 === 0) await writeJsonAtomic(ckpt, { step: i + 1 });
  }
  return { steps, resumed_from: start };
}
