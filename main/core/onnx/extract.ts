/**
 * Sub-model extraction at the protobuf WIRE level (like onnx.utils.extract_model): given ONNX bytes, new graph
 * inputs and outputs, keep exactly the nodes needed to compute the outputs from the inputs (backward
 * reachability from the outputs, stopping at the given inputs and at initializers).
 *
 * Real exports carry fields the hand-written onnx.proto subset in ./proto does not know (com.microsoft opsets,
 * metadata_props, functions, sparse initializers, subgraph attributes, quantization annotations...), and a
 * protobufjs decode/encode round trip would drop them. So nothing is re-encoded here except what changes:
 * - ModelProto: every field is copied byte for byte, the graph (field 7) is rebuilt in place;
 * - GraphProto: every field is copied byte for byte, except the repeated node (1), initializer (5),
 *   sparse_initializer (15), input (11), output (12), value_info (13) and quantization_annotation (14) entries,
 *   which are filtered by name; inputs that were not graph inputs get a ValueInfoProto encoded here (the type
 *   of their value_info / graph output entry when the model has one, else the caller's or a float tensor type).
 * Only the names are decoded from each entry (NodeProto input=1/output=2 and the names its subgraphs read,
 * TensorProto name=8, SparseTensorProto values=1, ValueInfoProto name=1, TensorAnnotation tensor_name=1).
 */
import { OnnxDataType, type OnnxElemType } from './proto';

export type ExtractErrorCode = 'INVALID_INPUT' | 'UNKNOWN_VALUE' | 'BAD_CUT';

export class OnnxExtractError extends Error {
  constructor(
    readonly code: ExtractErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'OnnxExtractError';
  }
}

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1,
  GRAPH_INITIALIZER = 5,
  GRAPH_INPUT = 11,
  GRAPH_OUTPUT = 12,
  GRAPH_VALUE_INFO = 13,
  GRAPH_QUANT_ANNOTATION = 14,
  GRAPH_SPARSE_INITIALIZER = 15;
const NODE_INPUT = 1,
  NODE_OUTPUT = 2,
  NODE_NAME = 3,
  NODE_OP_TYPE = 4,
  NODE_ATTRIBUTE = 5,
  NODE_DOMAIN = 7;
const ATTR_G = 6,
  ATTR_GRAPHS = 11;
const TENSOR_NAME = 8;
const SPARSE_VALUES = 1;
const VALUE_INFO_NAME = 1,
  VALUE_INFO_TYPE = 2;
const ANNOTATION_TENSOR_NAME = 1;
const TYPE_TENSOR = 1,
  TENSOR_TYPE_ELEM = 1,
  TENSOR_TYPE_SHAPE = 2,
  SHAPE_DIM = 1,
  DIM_VALUE = 1,
  DIM_PARAM = 2;

interface Field {
  field: number;
  wt: number;
  /** Start of the key (the whole field is bytes[keyStart, end)). */
  keyStart: number;
  /** Payload of a length-delimited field. */
  start: number;
  end: number;
}

const utf8 = new TextDecoder('utf-8');

class Reader {
  private o: number;
  constructor(
    private readonly b: Uint8Array,
    start: number,
    private readonly end: number,
    private readonly file: string,
  ) {
    this.o = start;
  }
  private bad(what: string): never {
    throw new OnnxExtractError('INVALID_INPUT', this.file, `not an ONNX model (${what})`);
  }
  varint(): number {
    let result = 0,
      mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.o >= this.end) this.bad('truncated protobuf varint');
      const byte = this.b[this.o++]!;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) return result;
      mul *= 128;
    }
    return this.bad('bad protobuf varint');
  }
  private skip(n: number): void {
    if (n < 0 || this.o + n > this.end) this.bad('truncated protobuf field');
    this.o += n;
  }
  get done(): boolean {
    return this.o >= this.end;
  }
  next(): Field {
    const keyStart = this.o;
    const key = this.varint();
    const field = Math.floor(key / 8),
      wt = key % 8;
    if (field === 0) this.bad('protobuf field number 0');
    switch (wt) {
      case 0:
        this.varint();
        return { field, wt, keyStart, start: this.o, end: this.o };
      case 1:
        this.skip(8);
        return { field, wt, keyStart, start: this.o, end: this.o };
      case 5:
        this.skip(4);
        return { field, wt, keyStart, start: this.o, end: this.o };
      case 2: {
        const len = this.varint();
        const start = this.o;
        this.skip(len);
        return { field, wt, keyStart, start, end: start + len };
      }
      default:
        return this.bad(`unsupported protobuf wire type ${wt}`);
    }
  }
}

function fields(b: Uint8Array, start: number, end: number, file: string): Field[] {
  const r = new Reader(b, start, end, file);
  const out: Field[] = [];
  while (!r.done) out.push(r.next());
  return out;
}

const str = (b: Uint8Array, f: Field) => utf8.decode(b.subarray(f.start, f.end));

/** The first length-delimited string field `num` of a message (or ''). */
function nameOf(b: Uint8Array, start: number, end: number, num: number, file: string): string {
  const r = new Reader(b, start, end, file);
  while (!r.done) {
    const f = r.next();
    if (f.field === num && f.wt === 2) return str(b, f);
  }
  return '';
}

// ---------------------------------------------------------------------------------------------
// Graph summary
// ---------------------------------------------------------------------------------------------

export interface GraphNode {
  /** Position among the graph's nodes. */
  index: number;
  name: string;
  opType: string;
  domain: string;
  /** Declared inputs ('' = an omitted optional input). */
  inputs: string[];
  outputs: string[];
  /** Outer-scope values read by the node's subgraphs (If/Loop/Scan bodies). */
  implicitInputs: string[];
}

export interface GraphSummary {
  file: string;
  nodes: GraphNode[];
  inputs: string[];
  outputs: string[];
  initializers: Set<string>;
  /** Node index by output value name. */
  producer: Map<string, number>;
}

interface ParsedGraph extends GraphSummary {
  bytes: Uint8Array;
  /** ModelProto fields (the graph among them). */
  modelFields: Field[];
  graphField: Field;
  graphFields: Field[];
  /** Per graph field index: the name it is filtered by (node: index as string). */
  entryName: Map<number, string>;
  /** Raw type bytes (TypeProto payload) of value_info / output entries by value name. */
  typeOf: Map<string, Uint8Array>;
}

/** Every name read by the nodes of a (sub)graph, recursively (used for outer-scope references). */
function subgraphReads(b: Uint8Array, start: number, end: number, file: string, depth: number): string[] {
  if (depth > 32) throw new OnnxExtractError('INVALID_INPUT', file, 'subgraphs nested too deeply');
  const names: string[] = [];
  for (const f of fields(b, start, end, file)) {
    if (f.field !== GRAPH_NODE || f.wt !== 2) continue;
    for (const nf of fields(b, f.start, f.end, file)) {
      if (nf.field === NODE_INPUT && nf.wt === 2) names.push(str(b, nf));
      else if (nf.field === NODE_ATTRIBUTE && nf.wt === 2) names.push(...attributeReads(b, nf, file, depth));
    }
  }
  return names;
}

function attributeReads(b: Uint8Array, attribute: Field, file: string, depth: number): string[] {
  const names: string[] = [];
  for (const af of fields(b, attribute.start, attribute.end, file)) {
    if ((af.field === ATTR_G || af.field === ATTR_GRAPHS) && af.wt === 2)
      names.push(...subgraphReads(b, af.start, af.end, file, depth + 1));
  }
  return names;
}

function parse(bytes: Uint8Array, file: string): ParsedGraph {
  const modelFields = fields(bytes, 0, bytes.length, file);
  const graphField = modelFields.find((f) => f.field === MODEL_GRAPH && f.wt === 2);
  if (!graphField) throw new OnnxExtractError('INVALID_INPUT', file, 'not an ONNX model (no graph)');
  if (modelFields.filter((f) => f.field === MODEL_GRAPH).length > 1)
    throw new OnnxExtractError('INVALID_INPUT', file, 'not an ONNX model (two graph fields)');
  const graphFields = fields(bytes, graphField.start, graphField.end, file);
  const nodes: GraphNode[] = [];
  const inputs: string[] = [],
    outputs: string[] = [];
  const initializers = new Set<string>();
  const producer = new Map<string, number>();
  const entryName = new Map<number, string>();
  const typeOf = new Map<string, Uint8Array>();
  const valueInfoType = (f: Field): [string, Uint8Array | null] => {
    let name = '';
    let type: Uint8Array | null = null;
    for (const vf of fields(bytes, f.start, f.end, file)) {
      if (vf.field === VALUE_INFO_NAME && vf.wt === 2) name = str(bytes, vf);
      else if (vf.field === VALUE_INFO_TYPE && vf.wt === 2) type = bytes.subarray(vf.start, vf.end);
    }
    return [name, type];
  };
  graphFields.forEach((f, fi) => {
    if (f.wt !== 2) return;
    switch (f.field) {
      case GRAPH_NODE: {
        const node: GraphNode = {
          index: nodes.length,
          name: '',
          opType: '',
          domain: '',
          inputs: [],
          outputs: [],
          implicitInputs: [],
        };
        for (const nf of fields(bytes, f.start, f.end, file)) {
          if (nf.wt !== 2) continue;
          if (nf.field === NODE_INPUT) node.inputs.push(str(bytes, nf));
          else if (nf.field === NODE_OUTPUT) node.outputs.push(str(bytes, nf));
          else if (nf.field === NODE_NAME) node.name = str(bytes, nf);
          else if (nf.field === NODE_OP_TYPE) node.opType = str(bytes, nf);
          else if (nf.field === NODE_DOMAIN) node.domain = str(bytes, nf);
          else if (nf.field === NODE_ATTRIBUTE)
            node.implicitInputs.push(...attributeReads(bytes, nf, file, 0));
        }
        for (const o of node.outputs) {
          if (o === '') continue;
          if (producer.has(o))
            throw new OnnxExtractError('INVALID_INPUT', file, `value "${o}" is produced by two nodes`);
          producer.set(o, node.index);
        }
        entryName.set(fi, String(node.index));
        nodes.push(node);
        break;
      }
      case GRAPH_INITIALIZER: {
        const n = nameOf(bytes, f.start, f.end, TENSOR_NAME, file);
        initializers.add(n);
        entryName.set(fi, n);
        break;
      }
      case GRAPH_SPARSE_INITIALIZER: {
        let n = '';
        for (const sf of fields(bytes, f.start, f.end, file))
          if (sf.field === SPARSE_VALUES && sf.wt === 2)
            n = nameOf(bytes, sf.start, sf.end, TENSOR_NAME, file);
        initializers.add(n);
        entryName.set(fi, n);
        break;
      }
      case GRAPH_INPUT: {
        const [n] = valueInfoType(f);
        inputs.push(n);
        entryName.set(fi, n);
        break;
      }
      case GRAPH_OUTPUT:
      case GRAPH_VALUE_INFO: {
        const [n, t] = valueInfoType(f);
        if (t && !typeOf.has(n)) typeOf.set(n, t);
        entryName.set(fi, n);
        break;
      }
      case GRAPH_QUANT_ANNOTATION:
        entryName.set(fi, nameOf(bytes, f.start, f.end, ANNOTATION_TENSOR_NAME, file));
        break;
    }
  });
  // Subgraph reads only count when they name an outer-scope value (ONNX forbids shadowing outer names).
  const outer = (n: string) => producer.has(n) || initializers.has(n) || inputs.includes(n);
  for (const node of nodes) node.implicitInputs = [...new Set(node.implicitInputs.filter(outer))];
  for (const f of graphFields) {
    if (f.field === GRAPH_OUTPUT && f.wt === 2) outputs.push(entryNameOf(bytes, f, file));
  }
  return {
    file,
    bytes,
    modelFields,
    graphField,
    graphFields,
    nodes,
    inputs,
    outputs,
    initializers,
    producer,
    entryName,
    typeOf,
  };
}

function entryNameOf(b: Uint8Array, f: Field, file: string): string {
  return nameOf(b, f.start, f.end, VALUE_INFO_NAME, file);
}

/** Node/value structure of a model's main graph (names only; nothing else is decoded). */
export function inspectGraph(bytes: Uint8Array, file: string): GraphSummary {
  const p = parse(bytes, file);
  return {
    file: p.file,
    nodes: p.nodes,
    inputs: p.inputs,
    outputs: p.outputs,
    initializers: p.initializers,
    producer: p.producer,
  };
}

export interface Reachability {
  /** Indices of the nodes needed, in graph (topological) order. */
  nodes: number[];
  /** The given stop values that are actually read. */
  usedInputs: string[];
  initializers: string[];
}

/**
 * The nodes needed to compute `outputs` when the values in `from` are given: backward reachability from the
 * outputs, stopping at `from` and at initializers. Throws BAD_CUT when a needed value is a graph input not in
 * `from` (the cut does not separate), UNKNOWN_VALUE for names the graph does not have.
 */
export function requiredNodes(
  g: GraphSummary,
  outputs: readonly string[],
  from: Iterable<string>,
): Reachability {
  const stop = new Set(from);
  const seenValue = new Set<string>();
  const nodeSet = new Set<number>();
  const used = new Set<string>();
  const inits = new Set<string>();
  const graphInputs = new Set(g.inputs);
  // Iterative DFS (real graphs are thousands of nodes deep).
  const stack: { value: string; forOutput: string }[] = outputs.map((o) => ({ value: o, forOutput: o }));
  for (const o of outputs) {
    if (!stop.has(o) && !g.producer.has(o) && !g.initializers.has(o) && !graphInputs.has(o))
      throw new OnnxExtractError('UNKNOWN_VALUE', g.file, `unknown output value "${o}"`);
  }
  while (stack.length > 0) {
    const { value, forOutput } = stack.pop()!;
    if (value === '' || seenValue.has(value)) continue;
    seenValue.add(value);
    if (stop.has(value)) {
      used.add(value);
      continue;
    }
    const n = g.producer.get(value);
    if (n !== undefined) {
      if (nodeSet.has(n)) continue;
      nodeSet.add(n);
      const node = g.nodes[n]!;
      for (const i of [...node.inputs, ...node.implicitInputs]) stack.push({ value: i, forOutput });
      continue;
    }
    if (g.initializers.has(value)) {
      inits.add(value);
      continue;
    }
    if (graphInputs.has(value))
      throw new OnnxExtractError(
        'BAD_CUT',
        g.file,
        `the cut does not separate: output "${forOutput}" needs graph input "${value}", which is not among the given inputs`,
      );
    throw new OnnxExtractError('UNKNOWN_VALUE', g.file, `value "${value}" is read but never produced`);
  }
  return {
    nodes: [...nodeSet].sort((a, b) => a - b),
    usedInputs: [...from].filter((v) => used.has(v)),
    initializers: [...inits],
  };
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

function lenField(field: number, payload: Uint8Array[]): Uint8Array[] {
  const len = payload.reduce((a, p) => a + p.byteLength, 0);
  return [Uint8Array.from([...varintBytes(field * 8 + 2), ...varintBytes(len)]), ...payload];
}

const utf8e = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((a, p) => a + p.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** TypeProto payload: tensor(elem) with `shape` (undefined = unknown rank). */
function tensorTypeBytes(elem: OnnxElemType, shape: readonly (number | string)[] | undefined): Uint8Array {
  const tensor: Uint8Array[] = [Uint8Array.from([TENSOR_TYPE_ELEM * 8, ...varintBytes(OnnxDataType[elem])])];
  if (shape) {
    const dims = shape.flatMap((d) =>
      lenField(
        SHAPE_DIM,
        typeof d === 'number'
          ? [Uint8Array.from([DIM_VALUE * 8, ...varintBytes(d)])]
          : lenField(DIM_PARAM, [utf8e.encode(d)]),
      ),
    );
    tensor.push(...lenField(TENSOR_TYPE_SHAPE, dims));
  }
  return concat(lenField(TYPE_TENSOR, tensor));
}

function valueInfoBytes(name: string, type: Uint8Array | null): Uint8Array[] {
  const payload = [...lenField(VALUE_INFO_NAME, [utf8e.encode(name)])];
  if (type) payload.push(...lenField(VALUE_INFO_TYPE, [type]));
  return payload;
}

// ---------------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------------

export interface NewValue {
  name: string;
  /** Element type when the model has no type for this value (default float32). */
  elem?: OnnxElemType;
  /** Shape when the model has none (numbers fixed, strings symbolic; default: unknown rank). */
  shape?: (number | string)[];
}

export interface ExtractSpec {
  inputs: readonly (string | NewValue)[];
  outputs: readonly (string | NewValue)[];
  /** Leave out given inputs that no kept node reads (default false: every given input is a graph input). */
  dropUnusedInputs?: boolean;
}

export interface ExtractResult {
  bytes: Uint8Array;
  inputs: string[];
  outputs: string[];
  /** Indices (in the source graph) of the nodes kept. */
  nodes: number[];
}

/** Extract the sub-model computing `spec.outputs` from `spec.inputs`; see the module comment. */
export function extractModel(bytes: Uint8Array, spec: ExtractSpec, file: string): ExtractResult {
  const g = parse(bytes, file);
  const asValue = (v: string | NewValue): NewValue => (typeof v === 'string' ? { name: v } : v);
  const ins = spec.inputs.map(asValue);
  const outs = spec.outputs.map(asValue);
  if (outs.length === 0) throw new OnnxExtractError('BAD_CUT', file, 'no outputs requested');
  const dup = (vs: NewValue[]) => vs.find((v, i) => vs.findIndex((w) => w.name === v.name) !== i);
  const d = dup(ins) ?? dup(outs);
  if (d) throw new OnnxExtractError('BAD_CUT', file, `value "${d.name}" is requested twice`);
  const graphInputs = new Set(g.inputs);
  for (const i of ins) {
    if (g.initializers.has(i.name) && !graphInputs.has(i.name))
      throw new OnnxExtractError(
        'BAD_CUT',
        file,
        `input "${i.name}" is a constant initializer, not a value to cut at`,
      );
    if (!graphInputs.has(i.name) && !g.producer.has(i.name))
      throw new OnnxExtractError('UNKNOWN_VALUE', file, `unknown input value "${i.name}"`);
  }
  const reach = requiredNodes(
    g,
    outs.map((o) => o.name),
    ins.map((i) => i.name),
  );
  const keptInputs = spec.dropUnusedInputs ? ins.filter((i) => reach.usedInputs.includes(i.name)) : ins;
  const keptNodes = new Set(reach.nodes);
  const inputNames = new Set(keptInputs.map((i) => i.name));
  const keptInits = new Set(reach.initializers);
  // Values that exist in the new graph: inputs, initializers, outputs of kept nodes.
  const produced = new Set<string>();
  for (const n of reach.nodes) for (const o of g.nodes[n]!.outputs) if (o !== '') produced.add(o);
  const live = (n: string) => inputNames.has(n) || keptInits.has(n) || produced.has(n);

  const inputEntries: Uint8Array[] = [];
  for (const i of keptInputs) {
    const fi = g.graphFields.findIndex((f, k) => f.field === GRAPH_INPUT && g.entryName.get(k) === i.name);
    const orig = fi >= 0 ? g.graphFields[fi] : undefined;
    if (orig) inputEntries.push(bytes.subarray(orig.keyStart, orig.end));
    else {
      const type = g.typeOf.get(i.name) ?? tensorTypeBytes(i.elem ?? 'float32', i.shape);
      inputEntries.push(concat(lenField(GRAPH_INPUT, valueInfoBytes(i.name, type))));
    }
  }
  const outputEntries: Uint8Array[] = [];
  for (const o of outs) {
    const fi = g.graphFields.findIndex((f, k) => f.field === GRAPH_OUTPUT && g.entryName.get(k) === o.name);
    const orig = fi >= 0 ? g.graphFields[fi] : undefined;
    if (orig) outputEntries.push(bytes.subarray(orig.keyStart, orig.end));
    else {
      const known = g.typeOf.get(o.name);
      const type = known ?? (o.elem || o.shape ? tensorTypeBytes(o.elem ?? 'float32', o.shape) : null);
      outputEntries.push(concat(lenField(GRAPH_OUTPUT, valueInfoBytes(o.name, type))));
    }
  }

  const graphParts: Uint8Array[] = [];
  let wroteInputs = false,
    wroteOutputs = false;
  g.graphFields.forEach((f, fi) => {
    const raw = bytes.subarray(f.keyStart, f.end);
    if (f.wt !== 2) {
      graphParts.push(raw);
      return;
    }
    const name = g.entryName.get(fi);
    switch (f.field) {
      case GRAPH_NODE:
        if (keptNodes.has(Number(name))) graphParts.push(raw);
        return;
      case GRAPH_INITIALIZER:
      case GRAPH_SPARSE_INITIALIZER:
        if (name !== undefined && keptInits.has(name)) graphParts.push(raw);
        return;
      case GRAPH_INPUT:
        if (!wroteInputs) graphParts.push(...inputEntries);
        wroteInputs = true;
        return;
      case GRAPH_OUTPUT:
        if (!wroteOutputs) graphParts.push(...outputEntries);
        wroteOutputs = true;
        return;
      case GRAPH_VALUE_INFO:
        // Type hints for values still computed inside the graph (inputs carry their own now).
        if (name !== undefined && produced.has(name) && !inputNames.has(name)) graphParts.push(raw);
        return;
      case GRAPH_QUANT_ANNOTATION:
        if (name !== undefined && live(name)) graphParts.push(raw);
        return;
      default:
        graphParts.push(raw);
    }
  });
  if (!wroteInputs) graphParts.push(...inputEntries);
  if (!wroteOutputs) graphParts.push(...outputEntries);

  const modelParts: Uint8Array[] = [];
  for (const f of g.modelFields) {
    if (f === g.graphField) modelParts.push(...lenField(MODEL_GRAPH, graphParts));
    else modelParts.push(bytes.subarray(f.keyStart, f.end));
  }
  return {
    bytes: concat(modelParts),
    inputs: keptInputs.map((i) => i.name),
    outputs: outs.map((o) => o.name),
    nodes: reach.nodes,
  };
}
