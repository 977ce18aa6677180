/**
 * The model manifest (resources/models/manifest.json): every supported labeling model, its files (path inside
 * its Hugging Face repo, sha256 and size where known — null means "record on install"), its input/output
 * signature, embedding size and the sets it belongs to (`fast` for interactive use, `paper` for CLIP-Fields'
 * published configuration).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ModelError } from './errors';

const dim = z.union([z.number().int().min(1), z.string().min(1).max(40)]);
export const TensorSpecSchema = z.object({
  name: z.string().min(1).max(200),
  dtype: z.enum(['float32', 'int64', 'int32', 'bool', 'float16']),
  shape: z.array(dim).max(8),
  optional: z.boolean().optional(),
});
export type TensorSpec = z.infer<typeof TensorSpecSchema>;

const safeRelPath = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.split('/').some((s) => s === '..' || s === '' || s === '.') &&
      !p.includes('\\'),
    'must be a relative path without .. segments',
  );

export const ModelFileSchema = z.object({
  role: z.enum(['model', 'tokenizer', 'tokenizer_config', 'other']),
  path: safeRelPath,
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  size: z.number().int().min(0).nullable(),
});
export type ModelFile = z.infer<typeof ModelFileSchema>;

export const ModelTaskSchema = z.enum(['text-embedding', 'clip-text', 'clip-image', 'open-vocab-detection']);
export type ModelTask = z.infer<typeof ModelTaskSchema>;

export const ModelSpecSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,80}$/),
  task: ModelTaskSchema,
  sets: z.array(z.enum(['fast', 'paper', 'test'])),
  repo: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/),
  revision: z.string().max(100).default('main'),
  embeddingDim: z.number().int().min(1),
  maxTokens: z.number().int().min(2).max(4096).optional(),
  imageSize: z.number().int().min(8).max(4096).optional(),
  resize: z.enum(['stretch', 'pad-square']).optional(),
  files: z.array(ModelFileSchema).min(1),
  inputs: z.array(TensorSpecSchema).min(1),
  outputs: z.array(TensorSpecSchema).min(1),
});
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

export const ModelManifestSchema = z.object({
  version: z.literal(1),
  note: z.string().optional(),
  models: z.array(ModelSpecSchema),
});
export type ModelManifest = z.infer<typeof ModelManifestSchema>;

export function parseModelManifest(text: string, file: string): ModelManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelError('INVALID_INPUT', file, `not valid JSON (${(err as Error).message})`);
  }
  const r = ModelManifestSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ModelError(
      'INVALID_INPUT',
      file,
      `invalid model manifest: ${i ? `${i.path.join('.')}: ${i.message}` : ''}`,
    );
  }
  const ids = new Set<string>();
  for (const m of r.data.models) {
    if (ids.has(m.id)) throw new ModelError('INVALID_INPUT', file, `model id "${m.id}" appears twice`);
    ids.add(m.id);
    if (!m.files.some((f) => f.role === 'model'))
      throw new ModelError('INVALID_INPUT', file, `model "${m.id}" has no ONNX file (role "model")`);
  }
  return r.data;
}

/** resources/models/manifest.json of this app (found relative to the repo or packaged resources). */
export function defaultManifestPath(): string {
  const env = process.env['CLIP_FIELDS_MODEL_MANIFEST'];
  if (env) return env;
  return path.resolve(__dirname, '..', '..', '..', 'resources', 'models', 'manifest.json');
}

export async function loadModelManifest(file = defaultManifestPath()): Promise<ModelManifest> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new ModelError('NOT_FOUND', file, `cannot read the model manifest (${(err as Error).message})`);
  }
  return parseModelManifest(text, file);
}
