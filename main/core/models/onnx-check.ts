/**
 * Checks on ONNX files before they are installed or loaded:
 * - no external data: every TensorProto (initializers, sparse initializers, Constant/attribute tensors, also in
 *   subgraphs) is scanned at the protobuf wire level for `data_location = EXTERNAL` (field 14) or
 *   `external_data` entries (field 13); the app only ships and loads single-file models;
 * - the signature: onnxruntime's session input/output names and metadata must contain what the manifest says.
 */
import { promises as fs } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ModelError } from './errors';
import type { TensorSpec } from './manifest';

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1,
  GRAPH_INITIALIZER = 5,
  GRAPH_SPARSE_INITIALIZER = 15;
const NODE_ATTRIBUTE = 5;
const ATTR_T = 5,
  ATTR_G = 6,
  ATTR_TENSORS = 10,
  ATTR_GRAPHS = 11,
  ATTR_SPARSE = 22,
  ATTR_SPARSES = 23;
const SPARSE_VALUES = 1,
  SPARSE_INDICES = 2;
const TENSOR_NAME = 8,
  TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14;

class Wire {
  o: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly file: string,
  ) {
    this.o = start;
  }
  varint(): number {
    let result = 0,
      mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.end)
        throw new ModelError('INVALID_INPUT', this.file, 'not an ONNX model (truncated protobuf varint)');
      const byte = this.b[this.o++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new ModelError('INVALID_INPUT', this.file, 'not an ONNX model (bad protobuf varint)');
  }
  /** Next field: [fieldNumber, wireType, start, end] (start/end only for length-delimited). */
  next(): { field: number; wt: number; start: number; end: number; value: number } {
    const key = this.varint();
    const field = Math.floor(key / 8),
      wt = key & 7;
    if (field === 0) throw new ModelError('INVALID_INPUT', this.file, 'not an ONNX model (protobuf field 0)');
    switch (wt) {
      case 0:
        return { field, wt, start: 0, end: 0, value: this.varint() };
      case 1:
        this.skip(8);
        return { field, wt, start: 0, end: 0, value: 0 };
      case 5:
        this.skip(4);
        return { field, wt, start: 0, end: 0, value: 0 };
      case 2: {
        const len = this.varint();
        const start = this.o;
        this.skip(len);
        return { field, wt, start, end: start + len, value: 0 };
      }
      default:
        throw new ModelError(
          'INVALID_INPUT',
          this.file,
          `not an ONNX model (unsupported protobuf wire type ${wt})`,
        );
    }
  }
  skip(n: number): void {
    if (this.o + n > this.end)
      throw new ModelError('INVALID_INPUT', this.file, 'not an ONNX model (truncated protobuf field)');
    this.o += n;
  }
  get done(): boolean {
    return this.o >= this.end;
  }
}

/** Names of tensors that reference external data (empty = self-contained). Throws on non-protobuf bytes. */
export function findExternalDataTensors(bytes: Uint8Array, file: string): string[] {
  const found: string[] = [];
  const scanTensor = (s: number, e: number) => {
    const w = new Wire(bytes, s, e, file);
    let name = '',
      external = false;
    while (!w.done) {
      const f = w.next();
      if (f.field === TENSOR_NAME && f.wt === 2)
        name = new TextDecoder().decode(bytes.subarray(f.start, f.end));
      else if (f.field === TENSOR_EXTERNAL_DATA && f.wt === 2) external = true;
      else if (f.field === TENSOR_DATA_LOCATION && f.wt === 0 && f.value === 1) external = true;
    }
    if (external) found.push(name || '(unnamed tensor)');
  };
  const scanSparse = (s: number, e: number) => {
    const w = new Wire(bytes, s, e, file);
    while (!w.done) {
      const f = w.next();
      if ((f.field === SPARSE_VALUES || f.field === SPARSE_INDICES) && f.wt === 2) scanTensor(f.start, f.end);
    }
  };
  const scanGraph = (s: number, e: number, depth: number) => {
    if (depth > 32) throw new ModelError('INVALID_INPUT', file, 'subgraphs nested too deeply');
    const w = new Wire(bytes, s, e, file);
    while (!w.done) {
      const f = w.next();
      if (f.wt !== 2) continue;
      if (f.field === GRAPH_INITIALIZER) scanTensor(f.start, f.end);
      else if (f.field === GRAPH_SPARSE_INITIALIZER) scanSparse(f.start, f.end);
      else if (f.field === GRAPH_NODE) {
        const nw = new Wire(bytes, f.start, f.end, file);
        while (!nw.done) {
          const nf = nw.next();
          if (nf.field !== NODE_ATTRIBUTE || nf.wt !== 2) continue;
          const aw = new Wire(bytes, nf.start, nf.end, file);
          while (!aw.done) {
            const af = aw.next();
            if (af.wt !== 2) continue;
            if (af.field === ATTR_T || af.field === ATTR_TENSORS) scanTensor(af.start, af.end);
            else if (af.field === ATTR_G || af.field === ATTR_GRAPHS) scanGraph(af.start, af.end, depth + 1);
            else if (af.field === ATTR_SPARSE || af.field === ATTR_SPARSES) scanSparse(af.start, af.end);
          }
        }
      }
    }
  };
  const w = new Wire(bytes, 0, bytes.length, file);
  let sawGraph = false;
  while (!w.done) {
    const f = w.next();
    if (f.field === MODEL_GRAPH && f.wt === 2) {
      sawGraph = true;
      scanGraph(f.start, f.end, 0);
    }
  }
  if (!sawGraph) throw new ModelError('INVALID_INPUT', file, 'not an ONNX model (no graph)');
  return found;
}

export interface SignatureSpec {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

function checkValues(
  kind: 'input' | 'output',
  names: readonly string[],
  meta: readonly ort.InferenceSession.ValueMetadata[] | undefined,
  specs: readonly TensorSpec[],
  file: string,
): void {
  for (const s of specs) {
    if (!names.includes(s.name)) {
      if (s.optional) continue;
      throw new ModelError(
        'INVALID_INPUT',
        file,
        `wrong signature: missing ${kind} "${s.name}" (the model has ${kind}s ${names.map((n) => `"${n}"`).join(', ') || 'none'})`,
      );
    }
    const m = meta?.find((v) => v.name === s.name);
    if (m && m.isTensor) {
      if (m.type !== s.dtype)
        throw new ModelError(
          'INVALID_INPUT',
          file,
          `wrong signature: ${kind} "${s.name}" is ${m.type}, expected ${s.dtype}`,
        );
      if (m.shape.length > 0 && m.shape.length !== s.shape.length) {
        throw new ModelError(
          'INVALID_INPUT',
          file,
          `wrong signature: ${kind} "${s.name}" has rank ${m.shape.length}, expected ${s.shape.length}`,
        );
      }
      m.shape.forEach((d, i) => {
        const want = s.shape[i];
        if (typeof d === 'number' && d > 0 && typeof want === 'number' && d !== want) {
          throw new ModelError(
            'INVALID_INPUT',
            file,
            `wrong signature: ${kind} "${s.name}" dimension ${i} is ${d}, expected ${want}`,
          );
        }
      });
    }
  }
  if (kind === 'input') {
    const known = new Set(specs.map((s) => s.name));
    const extra = names.filter((n) => !known.has(n));
    if (extra.length > 0)
      throw new ModelError(
        'INVALID_INPUT',
        file,
        `wrong signature: unexpected required input(s) ${extra.map((n) => `"${n}"`).join(', ')}`,
      );
  }
}

/** Open the model with onnxruntime and compare its inputs/outputs with the manifest's. Returns the session. */
export async function openCheckedSession(
  file: string,
  sig: SignatureSpec,
  opts: ort.InferenceSession.SessionOptions = {},
): Promise<ort.InferenceSession> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (err) {
    throw new ModelError('NOT_FOUND', file, `cannot read (${(err as Error).message})`);
  }
  const external = findExternalDataTensors(bytes, file);
  if (external.length > 0) {
    throw new ModelError(
      'UNSUPPORTED',
      file,
      `uses external data (tensor${external.length > 1 ? 's' : ''} ${external
        .slice(0, 3)
        .map((n) => `"${n}"`)
        .join(
          ', ',
        )}${external.length > 3 ? ', …' : ''}); only single-file ONNX models are supported — re-export without external data`,
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...opts,
    });
  } catch (err) {
    throw new ModelError(
      'INVALID_INPUT',
      file,
      `onnxruntime cannot load it (${(err as Error).message.split('\n')[0]})`,
    );
  }
  try {
    checkValues('input', session.inputNames, session.inputMetadata, sig.inputs, file);
    checkValues('output', session.outputNames, session.outputMetadata, sig.outputs, file);
  } catch (err) {
    await session.release().catch(() => undefined);
    throw err;
  }
  return session;
}
