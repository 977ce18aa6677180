import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { ModelSpec } from '../../models/manifest';
import { openCheckedSession } from '../../models/onnx-check';
import { LabelingError } from '../types';

export interface LoadedModel {
  spec: ModelSpec;
  session: ort.InferenceSession;
  /** Absolute path of a file by role (model, tokenizer, tokenizer_config). */
  file(role: 'model' | 'tokenizer' | 'tokenizer_config'): string | null;
}

export interface LoadOptions {
  /** onnxruntime intra-op threads (default 2). */
  threads?: number;
}

/** Open a model installed in `modelDir` (files at their manifest paths), checking its signature. */
export async function loadModel(
  spec: ModelSpec,
  modelDir: string,
  opts: LoadOptions = {},
): Promise<LoadedModel> {
  const fileOf = (role: string) => {
    const f = spec.files.find((x) => x.role === role);
    return f ? path.join(modelDir, f.path) : null;
  };
  const model = fileOf('model');
  if (!model) throw new LabelingError('INVALID_INPUT', spec.id, 'manifest entry has no ONNX file');
  const session = await openCheckedSession(
    model,
    { inputs: spec.inputs, outputs: spec.outputs },
    { intraOpNumThreads: opts.threads ?? 2, interOpNumThreads: 1 },
  );
  return { spec, session, file: fileOf };
}
