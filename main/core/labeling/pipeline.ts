/**
 * Loads the installed labeling models (model registry) into a pipeline: detector (OWL-ViT / OWLv2), sentence
 * encoder (MiniLM / MPNet, else the lexical fallback), CLIP text and image encoders. Missing pieces are null.
 */
import { installedByTask, modelDirOf, modelsDir, type RegistryOptions } from '../models/registry';
import type { Detector, ImageCropEncoder, TextEncoder } from './types';
import { LexicalTextEncoder } from './text/lexical';
import { SentenceEncoder } from './text/sbert';
import { ClipTextEncoder } from './text/clip-text';
import { ClipImageEncoder } from './vision/clip-image';
import { OwlDetector } from './vision/owl';

export interface LabelingPipeline {
  detector: Detector | null;
  textEncoder: TextEncoder;
  clipText: TextEncoder | null;
  cropEncoder: ImageCropEncoder | null;
  dispose(): Promise<void>;
}

export interface PipelineOptions extends RegistryOptions {
  needDetector: boolean;
  prefer?: 'fast' | 'paper';
  threads?: number;
}

/** Null when nothing useful is installed (no detector when one is needed, and no encoders at all). */
export async function loadInstalledPipeline(opts: PipelineOptions): Promise<LabelingPipeline | null> {
  const dir = opts.dir ?? modelsDir();
  const byTask = await installedByTask({ ...opts, dir });
  const first = (t: 'text-embedding' | 'clip-text' | 'clip-image' | 'open-vocab-detection') =>
    byTask.get(t)?.[0] ?? null;
  const det = first('open-vocab-detection'),
    sent = first('text-embedding'),
    ct = first('clip-text'),
    ci = first('clip-image');
  if (!det && !sent && !ct && !ci) return null;
  const threads = opts.threads ?? 2;
  const opened: { dispose(): Promise<void> }[] = [];
  try {
    const detector =
      opts.needDetector && det ? await OwlDetector.load(det, modelDirOf(dir, det.id), { threads }) : null;
    if (detector) opened.push(detector);
    const textEncoder = sent
      ? await SentenceEncoder.load(sent, modelDirOf(dir, sent.id), { threads })
      : new LexicalTextEncoder();
    opened.push(textEncoder);
    const clipText = ct && ci ? await ClipTextEncoder.load(ct, modelDirOf(dir, ct.id), { threads }) : null;
    if (clipText) opened.push(clipText);
    const cropEncoder =
      ct && ci ? await ClipImageEncoder.load(ci, modelDirOf(dir, ci.id), { threads }) : null;
    if (cropEncoder) opened.push(cropEncoder);
    return {
      detector,
      textEncoder,
      clipText,
      cropEncoder,
      dispose: async () => {
        for (const o of opened) await o.dispose().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const o of opened) await o.dispose().catch(() => undefined);
    throw err;
  }
}
