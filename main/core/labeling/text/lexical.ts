/**
 * The lexical fallback text encoder: no weights, deterministic, 384-d unit vectors.
 *
 * Features of the normalised text (see vocab.normalizeLabel): every whole word, the whole phrase, and the
 * character 3-, 4- and 5-grams of each word wrapped in boundary marks (`<chair>` -> `<ch`, `cha`, ...). Each
 * feature is hashed (FNV-1a) to a bucket and a sign (feature hashing); word and phrase features weigh more than
 * n-grams. The result is L2-normalised, so cosine similarity = dot product, like the learned encoders.
 * Similar spellings ("chair" / "armchair", "trash can" / "trash bin") share features; meaning is not modelled.
 */
import { fnv1a, type TextEncoder } from '../types';
import { normalizeLabel } from '../vocab';

export const LEXICAL_DIM = 384;
const WORD_WEIGHT = 1.5;
const PHRASE_WEIGHT = 1.5;
const NGRAM_WEIGHT = 0.5;

function addFeature(out: Float32Array, o: number, feature: string, weight: number): void {
  const h = fnv1a(feature);
  const bucket = h % LEXICAL_DIM;
  const sign = (fnv1a(feature, 0x9747b28c) & 1) === 0 ? 1 : -1;
  out[o + bucket] = out[o + bucket]! + sign * weight;
}

/** Encode one text into `out[o .. o+384)` (unit length). */
export function lexicalEmbedInto(text: string, out: Float32Array, o: number): void {
  const norm = normalizeLabel(text);
  const words = norm.length > 0 ? norm.split(' ') : [];
  if (words.length === 0) {
    addFeature(out, o, '#empty', 1);
  }
  if (words.length > 1) addFeature(out, o, `p:${norm}`, PHRASE_WEIGHT);
  for (const w of words) {
    addFeature(out, o, `w:${w}`, WORD_WEIGHT);
    const marked = `<${w}>`;
    for (let n = 3; n <= 5; n++) {
      for (let i = 0; i + n <= marked.length; i++)
        addFeature(out, o, `g:${marked.slice(i, i + n)}`, NGRAM_WEIGHT);
    }
  }
  let s = 0;
  for (let k = 0; k < LEXICAL_DIM; k++) s += out[o + k]! * out[o + k]!;
  if (s === 0) {
    // All features cancelled out (vanishingly rare): fall back to a fixed bucket so the row stays unit length.
    out[o + (fnv1a(norm) % LEXICAL_DIM)] = 1;
    return;
  }
  const inv = 1 / Math.sqrt(s);
  for (let k = 0; k < LEXICAL_DIM; k++) out[o + k] = out[o + k]! * inv;
}

export function lexicalEmbed(texts: readonly string[]): Float32Array {
  const out = new Float32Array(texts.length * LEXICAL_DIM);
  texts.forEach((t, i) => lexicalEmbedInto(t, out, i * LEXICAL_DIM));
  return out;
}

export class LexicalTextEncoder implements TextEncoder {
  readonly name = 'lexical-384';
  readonly dim = LEXICAL_DIM;
  encode(texts: readonly string[]): Promise<Float32Array> {
    return Promise.resolve(lexicalEmbed(texts));
  }
  dispose(): Promise<void> {
    return Promise.resolve();
  }
}
