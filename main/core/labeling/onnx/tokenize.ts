/**
 * Tokenisation with @huggingface/tokenizers from a model's own tokenizer.json + tokenizer_config.json (no
 * hand-written WordPiece/BPE). The library has no batching, truncation or padding, so those are done here:
 * sequences longer than `maxTokens` keep their first maxTokens-1 tokens plus their final (special) token, and
 * a batch is padded to its longest sequence (or to `padTo`) with the pad token and attention mask 0.
 */
import { promises as fs } from 'node:fs';
import { Tokenizer } from '@huggingface/tokenizers';
import { LabelingError } from '../types';

export interface TokenBatch {
  batch: number;
  seq: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
}

export class TextTokenizer {
  constructor(
    private readonly tok: Tokenizer,
    readonly padId: number,
    readonly maxTokens: number,
  ) {}

  static async load(
    tokenizerJson: string,
    tokenizerConfig: string | null,
    maxTokens: number,
  ): Promise<TextTokenizer> {
    const read = async (f: string): Promise<Record<string, unknown>> => {
      let v: unknown;
      try {
        v = JSON.parse(await fs.readFile(f, 'utf8'));
      } catch (err) {
        throw new LabelingError('INVALID_INPUT', f, `cannot read tokenizer JSON (${(err as Error).message})`);
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        throw new LabelingError('INVALID_INPUT', f, 'tokenizer JSON must be an object');
      return v as Record<string, unknown>;
    };
    const json = await read(tokenizerJson);
    const config = tokenizerConfig ? await read(tokenizerConfig) : {};
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (err) {
      throw new LabelingError(
        'INVALID_INPUT',
        tokenizerJson,
        `unsupported tokenizer (${(err as Error).message})`,
      );
    }
    const padToken =
      typeof config['pad_token'] === 'string'
        ? config['pad_token']
        : typeof (json['padding'] as { pad_token?: unknown } | null)?.pad_token === 'string'
          ? (json['padding'] as { pad_token: string }).pad_token
          : null;
    const padId = (padToken !== null ? tok.token_to_id(padToken) : undefined) ?? 0;
    const cfgMax =
      typeof config['model_max_length'] === 'number' && config['model_max_length'] > 0
        ? config['model_max_length']
        : Infinity;
    return new TextTokenizer(tok, padId, Math.min(maxTokens, cfgMax));
  }

  ids(text: string): number[] {
    const ids = this.tok.encode(text).ids;
    if (ids.length <= this.maxTokens) return ids;
    return [...ids.slice(0, this.maxTokens - 1), ids[ids.length - 1]!];
  }

  encodeBatch(texts: readonly string[], padTo?: number): TokenBatch {
    const all = texts.map((t) => this.ids(t));
    const seq = Math.max(1, padTo ?? 0, ...all.map((a) => a.length));
    const n = texts.length;
    const inputIds = new BigInt64Array(n * seq).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(n * seq);
    all.forEach((ids, i) => {
      ids.slice(0, seq).forEach((id, j) => {
        inputIds[i * seq + j] = BigInt(id);
        attentionMask[i * seq + j] = 1n;
      });
    });
    return { batch: n, seq, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(n * seq) };
  }
}
