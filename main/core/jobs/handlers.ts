import type { JobKind } from '../../../preload/contract';
import { JobError, type JobHandler } from './types';

/**
 * The job kinds a worker can run. Handlers are imported lazily so a worker loads only what its job needs
 * (e.g. onnxruntime for training, sharp for import).
 */
export async function loadHandler(kind: JobKind): Promise<JobHandler<never>> {
  switch (kind) {
    case 'selftest':
      return (await import('./selftest')).runSelftestJob as JobHandler<never>;
    case 'import':
      return (await import('../capture/import-entry')).runImportEntry as JobHandler<never>;
    case 'train':
      return (await import('../field/train-job')).runTrainJob as JobHandler<never>;
    case 'evaluate-field':
      return (await import('../query/evaluate-job')).runEvaluateFieldJob as JobHandler<never>;
    case 'eval':
      return (await import('../eval/pipeline')).runEvalJob as JobHandler<never>;
    case 'label':
      return (await import('../labeling/label-job')).runLabelJob as JobHandler<never>;
    default:
      throw new JobError('UNSUPPORTED', `job kind "${kind}" is not available in this build yet`);
  }
}
