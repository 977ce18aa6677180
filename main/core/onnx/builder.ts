/**
 * A small builder for ordinary ONNX models (opset 17, IR v8), serialised with protobufjs and the onnx.proto
 * subset in ./proto. Used to build the field's training/inference graphs and tiny test models.
 *
 *   const g = new GraphBuilder('add');
 *   const x = g.input('x', 'float32', ['batch', 3]);
 *   const y = g.op('Add', [x, g.constFloat([1, 2, 3], [3])]);
 *   g.output(y, 'y', 'float32', ['batch', 3]);
 *   const bytes = g.toBytes();   // feed to onnxruntime's InferenceSession.create(bytes)
 */
import { OnnxDataType, type OnnxElemType, onnxType } from './proto';

export type Dim = number | string;

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: TensorInit };

/** Attribute constructors; a bare integer means `int`, a bare non-integer `float`, a number[] of integers `ints`, a string `string`. */
export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (value: TensorInit): Attr => ({ kind: 'tensor', value }),
};

export type AttrInput = Attr | number | number[] | string;

export interface TensorInit {
  elem: OnnxElemType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Float64Array | number[];
}

export class OnnxBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxBuildError';
  }
}

interface ValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}

function valueInfo(name: string, elem: OnnxElemType, shape: Dim[]): ValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: OnnxDataType[elem],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function elemCount(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Little-endian raw bytes of a tensor's data in its ONNX element type. */
function rawBytes(t: TensorInit): Uint8Array {
  const n = elemCount(t.dims);
  if (t.data.length !== n)
    throw new OnnxBuildError(
      `tensor data has ${t.data.length} elements, dims [${t.dims.join(', ')}] need ${n}`,
    );
  let typed: ArrayBufferView;
  const src = t.data;
  switch (t.elem) {
    case 'float32':
      typed = src instanceof Float32Array ? src : Float32Array.from(src as ArrayLike<number>);
      break;
    case 'float64':
      typed = src instanceof Float64Array ? src : Float64Array.from(src as ArrayLike<number>);
      break;
    case 'int32':
      typed = src instanceof Int32Array ? src : Int32Array.from(src as ArrayLike<number>);
      break;
    case 'int64':
      typed =
        src instanceof BigInt64Array
          ? src
          : BigInt64Array.from(Array.from(src as ArrayLike<number>, (v) => BigInt(v)));
      break;
    case 'uint8':
    case 'bool':
      typed = src instanceof Uint8Array ? src : Uint8Array.from(src as ArrayLike<number>);
      break;
    case 'int8':
      typed = src instanceof Int8Array ? src : Int8Array.from(src as ArrayLike<number>);
      break;
  }
  // Copy so the serialised model owns its bytes (the view may point into a larger buffer).
  return new Uint8Array(typed.buffer.slice(typed.byteOffset, typed.byteOffset + typed.byteLength));
}

function tensorProto(name: string, t: TensorInit): Record<string, unknown> {
  return { name, dims: t.dims, dataType: OnnxDataType[t.elem], rawData: rawBytes(t) };
}

function attributeProto(name: string, a: AttrInput): Record<string, unknown> {
  let at: Attr;
  if (typeof a === 'number') at = Number.isInteger(a) ? attr.int(a) : attr.float(a);
  else if (typeof a === 'string') at = attr.string(a);
  else if (Array.isArray(a)) at = a.every((v) => Number.isInteger(v)) ? attr.ints(a) : attr.floats(a);
  else at = a;
  switch (at.kind) {
    case 'int':
      return { name, type: 2, i: at.value };
    case 'float':
      return { name, type: 1, f: at.value };
    case 'ints':
      return { name, type: 7, ints: at.value };
    case 'floats':
      return { name, type: 6, floats: at.value };
    case 'string':
      return { name, type: 3, s: new TextEncoder().encode(at.value) };
    case 'tensor':
      return { name, type: 4, t: tensorProto('', at.value) };
  }
}

export interface ModelOptions {
  opset?: number;
  irVersion?: number;
  producer?: string;
  doc?: string;
}

export class GraphBuilder {
  private readonly nodes: Record<string, unknown>[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Record<string, unknown>[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name = 'graph') {}

  /** A fresh, not yet used value name with the given stem (not reserved until a value takes it). */
  fresh(stem = 'v'): string {
    let n: string;
    do n = `${stem}_${this.counter++}`;
    while (this.names.has(n));
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name))
      throw new OnnxBuildError(`value name "${name}" is already used in graph ${this.name}`);
    this.names.add(name);
    return name;
  }

  /** Declare a graph input; returns its value name. String dims are symbolic (dynamic). */
  input(name: string, elem: OnnxElemType, shape: Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), elem, shape));
    return name;
  }

  /** Mark `value` as a graph output named `name` (an Identity is inserted when the names differ). */
  output(value: string, name: string, elem: OnnxElemType, shape: Dim[]): string {
    if (!this.names.has(value)) throw new OnnxBuildError(`output ${name}: unknown value "${value}"`);
    if (value !== name) this.node('Identity', [value], {}, { outputs: [name] });
    this.outputs.push(valueInfo(name, elem, shape));
    return name;
  }

  /** A named constant tensor stored as an initializer. */
  initializer(name: string, t: TensorInit): string {
    this.initializers.push(tensorProto(this.claim(name), t));
    return name;
  }

  constFloat(values: number | ArrayLike<number>, dims?: number[]): string {
    const data = typeof values === 'number' ? new Float32Array([values]) : Float32Array.from(values);
    return this.initializer(this.fresh('cf'), {
      elem: 'float32',
      dims: dims ?? (typeof values === 'number' ? [] : [data.length]),
      data,
    });
  }

  constInt64(values: number | ArrayLike<number>, dims?: number[]): string {
    const arr = typeof values === 'number' ? [values] : Array.from(values);
    return this.initializer(this.fresh('ci'), {
      elem: 'int64',
      dims: dims ?? (typeof values === 'number' ? [] : [arr.length]),
      data: arr,
    });
  }

  /** Add a node; returns its output names (`outputs` = count of fresh outputs or explicit names). */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrInput> = {},
    opts: { outputs?: number | string[]; name?: string; domain?: string } = {},
  ): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.names.has(i)) throw new OnnxBuildError(`${opType}: unknown input "${i}"`);
    }
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs.map((o) => this.claim(o))
      : Array.from({ length: opts.outputs ?? 1 }, () => this.claim(this.fresh(opType.toLowerCase())));
    this.nodes.push({
      name: opts.name ?? `${opType}_${this.nodes.length}`,
      opType,
      domain: opts.domain ?? '',
      input: inputs,
      output: outs,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return outs;
  }

  /** A single-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrInput> = {}): string {
    const out = this.node(opType, inputs, attrs)[0];
    if (out === undefined) throw new OnnxBuildError(`${opType}: no output`);
    return out;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  toModelProto(opts: ModelOptions = {}): Record<string, unknown> {
    return {
      irVersion: opts.irVersion ?? 8,
      producerName: opts.producer ?? 'clip-fields-studio',
      producerVersion: '1',
      docString: opts.doc ?? '',
      opsetImport: [{ domain: '', version: opts.opset ?? 17 }],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }

  /** Serialise to ONNX protobuf bytes. */
  toBytes(opts: ModelOptions = {}): Uint8Array {
    const Model = onnxType('ModelProto');
    const msg = Model.fromObject(this.toModelProto(opts));
    return Model.encode(msg).finish();
  }
}

/** Decode ONNX bytes into a plain object (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const Model = onnxType('ModelProto');
  return Model.toObject(Model.decode(bytes), { longs: Number, bytes: Array, defaults: false }) as Record<
    string,
    unknown
  >;
}
