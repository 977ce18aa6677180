/**
 * Text/image encoders for queries: the same sentence encoder the dataset's labels were embedded with (the
 * field's language head lives in its space), and CLIP's text and image encoders for the vision head.
 */
import type { ImageCropEncoder, TextEncoder } from '../labeling/types';
import { LexicalTextEncoder } from '../labeling/text/lexical';
import { QueryError } from './errors';
import { loadInstalledPipeline } from '../labeling/pipeline';

export interface QueryEncoders {
  language: TextEncoder;
  /** CLIP text encoder (vision-head queries), or null when not installed. */
  clipText: TextEncoder | null;
  /** CLIP image encoder (image queries), or null. */
  image: ImageCropEncoder | null;
  dispose(): Promise<void>;
}

/**
 * Encoders matching a field trained with `trainedWith` (the dataset's encoder names). The lexical encoder needs
 * no weights; learned encoders come from the installed model registry.
 */
export async function loadQueryEncoders(
  trainedWith: { language: string; vision: string | null },
  opts: { modelsDir?: string; threads?: number } = {},
): Promise<QueryEncoders> {
  const lexical = new LexicalTextEncoder();
  const wantLexical = trainedWith.language === lexical.name;
  const pipeline = await loadInstalledPipeline({
    needDetector: false,
    threads: opts.threads ?? 2,
    ...(opts.modelsDir ? { dir: opts.modelsDir } : {}),
  }).catch(() => null);
  let language: TextEncoder | null = wantLexical ? lexical : null;
  if (!language && pipeline && pipeline.textEncoder.name === trainedWith.language)
    language = pipeline.textEncoder;
  if (!language) {
    await pipeline?.dispose();
    throw new QueryError(
      'UNSUPPORTED',
      null,
      `the field was trained with the "${trainedWith.language}" sentence encoder, which is not installed; install it (models) or retrain`,
    );
  }
  const clipText = trainedWith.vision && pipeline ? pipeline.clipText : null;
  const image = trainedWith.vision && pipeline ? pipeline.cropEncoder : null;
  return {
    language,
    clipText,
    image,
    dispose: async () => {
      await pipeline?.dispose();
    },
  };
}
