import { useState } from 'react';
import type { JobKind } from '../../../../preload/contract';
import { useApp } from '../app/store';
import { useJobs } from './store';

/**
 * The submit path shared by the forms that start a job (import, labeling, training): show the form's
 * validation error, or start the job and show why it could not start (the app notice, else `failure`).
 * `start` resolves to the job id, or null when nothing was started.
 */
export function useStartJob(kind: JobKind, failure: string) {
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const start = async (
    parsed: { params: Record<string, unknown> } | { error: string },
  ): Promise<string | null> => {
    if (starting) return null;
    if ('error' in parsed) {
      setError(parsed.error);
      return null;
    }
    setError(null);
    setStarting(true);
    const id = await useJobs.getState().start(kind, parsed.params);
    setStarting(false);
    if (!id) setError(useApp.getState().notice?.text ?? failure);
    return id;
  };
  return { error, starting, start };
}
