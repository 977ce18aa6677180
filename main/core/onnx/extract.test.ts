import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import fc from 'fast-check';
import { GraphBuilder, decodeModel } from './builder';
import { onnxType } from './proto';
import { OnnxExtractError, extractModel, inspectGraph, requiredNodes } from './extract';

type Feeds = Record<string, ort.Tensor>;

async function run(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
  try {
    const use: Feeds = {};
    for (const n of session.inputNames) use[n] = feeds[n]!;
    const res = await session.run(use);
    const out: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(res)) {
      out[k] = (v.data as Float32Array).slice();
      v.dispose();
    }
    return out;
  } finally {
    await session.release();
  }
}

const f32 = (data: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

// Protobuf helpers to add fields the onnx.proto subset does not know.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
const te = new TextEncoder();
function ld(field: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint(field * 8 + 2), ...varint(payload.length), ...payload]);
}
const cat = (...p: Uint8Array[]) => Uint8Array.from(p.flatMap((x) => Array.from(x)));
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;
}

/** x, y [2,3] -> t = tanh(x @ W) -> s = t * y + 1 -> out; plus an unused initializer. */
function twoTower(): GraphBuilder {
  const g = new GraphBuilder('two');
  const x = g.input('x', 'float32', [2, 3]);
  const y = g.input('y', 'float32', [2, 3]);
  g.initializer('unused_w', { elem: 'float32', dims: [2], data: [1, 2] });
  const W = g.initializer('W', {
    elem: 'float32',
    dims: [3, 3],
    data: [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9],
  });
  g.node('Tanh', [g.op('MatMul', [x, W])], {}, { outputs: ['t'] });
  const s = g.op('Add', [g.op('Mul', ['t', y]), g.constFloat(1)]);
  g.output(s, 'out', 'float32', [2, 3]);
  g.output('t', 't_out', 'float32', [2, 3]);
  return g;
}

const X = f32([1, 2, 3, -1, 0.5, 2], [2, 3]);
const Y = f32([0.3, -2, 1, 4, 5, -6], [2, 3]);

describe('extractModel', () => {
  it('splits at an internal value: both parts run and compose to the full model bit for bit', async () => {
    const full = twoTower().toBytes();
    const a = extractModel(full, { inputs: ['x'], outputs: ['t'] }, 'two.onnx');
    const b = extractModel(full, { inputs: ['t', 'y'], outputs: ['out'] }, 'two.onnx');
    const ref = await run(full, { x: X, y: Y });
    const t = (await run(a.bytes, { x: X })).t!;
    const out = (await run(b.bytes, { t: new ort.Tensor('float32', t, [2, 3]), y: Y })).out!;
    expect(bits(out)).toEqual(bits(ref.out!));
    expect(bits(t)).toEqual(bits(ref.t_out!));
    // Only the needed nodes and initializers stay.
    const ma = decodeModel(a.bytes) as {
      graph: { node: { opType: string }[]; initializer: { name: string }[] };
    };
    expect(ma.graph.node.map((n) => n.opType)).toEqual(['MatMul', 'Tanh']);
    expect(ma.graph.initializer.map((i) => i.name)).toEqual(['W']);
    const mb = decodeModel(b.bytes) as {
      graph: { node: { opType: string }[]; input: { name: string }[]; output: { name: string }[] };
    };
    expect(mb.graph.node.map((n) => n.opType)).toEqual(['Mul', 'Add', 'Identity']);
    expect(mb.graph.input.map((i) => i.name)).toEqual(['t', 'y']);
    expect(mb.graph.output.map((i) => i.name)).toEqual(['out']);
    expect(new Set([...a.nodes, ...b.nodes]).size).toBe(a.nodes.length + b.nodes.length);
  });

  it('types a cut input from value_info when the model has one, else as a float tensor of the given shape', async () => {
    const proto = twoTower().toModelProto() as { graph: { valueInfo?: unknown[] } };
    proto.graph.valueInfo = [
      {
        name: 't',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimParam: 'k' }] } } },
      },
    ];
    const Model = onnxType('ModelProto');
    const withVi = Model.encode(Model.fromObject(proto)).finish();
    type Dim = { dimValue?: number; dimParam?: string };
    type M = {
      graph: {
        input: { name: string; type?: { tensorType: { elemType: number; shape?: { dim: Dim[] } } } }[];
      };
    };
    const inputOf = (bytes: Uint8Array) => (decodeModel(bytes) as M).graph.input.find((i) => i.name === 't')!;
    const a = extractModel(withVi, { inputs: ['t', 'y'], outputs: ['out'] }, 'vi.onnx');
    expect(inputOf(a.bytes).type!.tensorType.shape!.dim).toEqual([{ dimValue: 2 }, { dimParam: 'k' }]);
    const plain = twoTower().toBytes();
    const b = extractModel(
      plain,
      { inputs: [{ name: 't', shape: ['rows', 3] }, 'y'], outputs: ['out'] },
      'p.onnx',
    );
    expect(inputOf(b.bytes).type!.tensorType).toEqual({
      elemType: 1,
      shape: { dim: [{ dimParam: 'rows' }, { dimValue: 3 }] },
    });
    // Unknown rank (no shape) also loads and runs.
    const c = extractModel(plain, { inputs: ['t', 'y'], outputs: ['out'] }, 'p.onnx');
    expect(inputOf(c.bytes).type!.tensorType.shape).toBeUndefined();
    const ref = await run(plain, { x: X, y: Y });
    const got = await run(c.bytes, { t: new ort.Tensor('float32', ref.t_out!, [2, 3]), y: Y });
    expect(bits(got.out!)).toEqual(bits(ref.out!));
  });

  it('keeps fields the onnx.proto subset does not know (metadata_props, com.microsoft opset, graph extras)', async () => {
    const g = new GraphBuilder('ms');
    const x = g.input('x', 'float32', [2, 3]);
    const h = g.op('Neg', [x]);
    g.node('Gelu', [h], {}, { domain: 'com.microsoft', outputs: ['gelu'] });
    g.output(g.op('Abs', ['gelu']), 'y', 'float32', [2, 3]);
    const proto = g.toModelProto() as Record<string, unknown>;
    const graph = proto['graph'];
    delete proto['graph'];
    const Model = onnxType('ModelProto'),
      Graph = onnxType('GraphProto');
    const msOpset = ld(8, cat(ld(1, te.encode('com.microsoft')), Uint8Array.from([2 * 8, 1])));
    const meta = ld(14, cat(ld(1, te.encode('license')), ld(2, te.encode('mit'))));
    const graphMeta = ld(16, cat(ld(1, te.encode('graph_key')), ld(2, te.encode('graph_value'))));
    const graphBytes = cat(Graph.encode(Graph.fromObject(graph as object)).finish(), graphMeta);
    const full = cat(Model.encode(Model.fromObject(proto)).finish(), msOpset, meta, ld(7, graphBytes));
    const ex = extractModel(full, { inputs: ['x'], outputs: ['gelu'] }, 'ms.onnx');
    expect(contains(ex.bytes, meta)).toBe(true);
    expect(contains(ex.bytes, msOpset)).toBe(true);
    expect(contains(ex.bytes, graphMeta)).toBe(true);
    // onnxruntime only resolves the com.microsoft Gelu because the opset import survived.
    const ref = await run(full, { x: X });
    const got = await run(ex.bytes, { x: X });
    expect(got.gelu!.length).toBe(6);
    expect(bits(got.gelu!.map(Math.abs))).toEqual(bits(ref.y!));
  });

  it('follows outer-scope reads of If subgraphs (implicit inputs)', async () => {
    const g = new GraphBuilder('if');
    const x = g.input('x', 'float32', [2, 3]);
    g.node('Mul', [x, g.constFloat(2)], {}, { outputs: ['w'] });
    g.node('Greater', [g.op('ReduceSum', [x], { keepdims: 0 }), g.constFloat(0)], {}, { outputs: ['cond'] });
    const proto = g.toModelProto() as { graph: { node: Record<string, unknown>[]; output: unknown[] } };
    const branch = (op: string, name: string) => ({
      name,
      node: [{ opType: op, input: ['w', `${name}_c`], output: [`${name}_out`], name: `${name}_n` }],
      initializer: [
        { name: `${name}_c`, dims: [], dataType: 1, rawData: new Uint8Array(Float32Array.from([1]).buffer) },
      ],
      output: [
        {
          name: `${name}_out`,
          type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } },
        },
      ],
    });
    proto.graph.node.push({
      opType: 'If',
      name: 'the_if',
      input: ['cond'],
      output: ['z'],
      attribute: [
        { name: 'then_branch', type: 5, g: branch('Add', 'then') },
        { name: 'else_branch', type: 5, g: branch('Sub', 'else') },
      ],
    });
    proto.graph.output = [
      {
        name: 'z',
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } },
      },
    ];
    const Model = onnxType('ModelProto');
    const full = Model.encode(Model.fromObject(proto)).finish();
    const summary = inspectGraph(full, 'if.onnx');
    const ifNode = summary.nodes.find((n) => n.opType === 'If')!;
    expect(ifNode.implicitInputs).toEqual(['w']);
    const ex = extractModel(full, { inputs: ['x'], outputs: ['z'] }, 'if.onnx');
    expect(ex.nodes.map((i) => summary.nodes[i]!.outputs[0])).toContain('w');
    const ref = await run(full, { x: X });
    expect(bits((await run(ex.bytes, { x: X })).z!)).toEqual(bits(ref.z!));
    // Cutting at w: the If part needs only w and cond.
    const tail = extractModel(full, { inputs: ['w', 'cond'], outputs: ['z'] }, 'if.onnx');
    expect(tail.nodes.map((i) => summary.nodes[i]!.opType)).toEqual(['If']);
  });

  it('throws a typed error naming the file: unknown values, a cut that does not separate, bad bytes', () => {
    const full = twoTower().toBytes();
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as OnnxExtractError;
      }
      throw new Error('no error');
    };
    const e1 = err(() => extractModel(full, { inputs: ['x'], outputs: ['nope'] }, 'm.onnx'));
    expect(e1).toBeInstanceOf(OnnxExtractError);
    expect(e1.code).toBe('UNKNOWN_VALUE');
    expect(e1.message).toMatch(/^m\.onnx: unknown output value "nope"/);
    const e2 = err(() => extractModel(full, { inputs: ['nope', 'y'], outputs: ['out'] }, 'm.onnx'));
    expect(e2.code).toBe('UNKNOWN_VALUE');
    const e3 = err(() => extractModel(full, { inputs: ['y'], outputs: ['out'] }, 'm.onnx'));
    expect(e3.code).toBe('BAD_CUT');
    expect(e3.message).toMatch(/m\.onnx: the cut does not separate: output "out" needs graph input "x"/);
    const e4 = err(() => extractModel(full, { inputs: ['W', 'y'], outputs: ['out'] }, 'm.onnx'));
    expect(e4.code).toBe('BAD_CUT');
    const e5 = err(() =>
      extractModel(full.subarray(0, full.length - 7), { inputs: ['x'], outputs: ['t'] }, 'cut.onnx'),
    );
    expect(e5.code).toBe('INVALID_INPUT');
    expect(e5.message).toMatch(/^cut\.onnx: not an ONNX model/);
    const e6 = err(() =>
      extractModel(te.encode('hello world, not onnx'), { inputs: ['x'], outputs: ['t'] }, 'h.onnx'),
    );
    expect(e6).toBeInstanceOf(OnnxExtractError);
    const e7 = err(() => extractModel(full, { inputs: ['x', 'x'], outputs: ['t'] }, 'm.onnx'));
    expect(e7.code).toBe('BAD_CUT');
  });

  it('answers any corrupted or truncated model with an OnnxExtractError or a valid result, never another error', () => {
    const full = twoTower().toBytes();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: full.length }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 6 }),
        (cut, flips) => {
          const bad = Uint8Array.from(full.subarray(0, cut));
          for (const [at, x] of flips) if (bad.length) bad[at % bad.length]! ^= x;
          for (const f of [
            () => inspectGraph(bad, 'fuzz.onnx'),
            () => extractModel(bad, { inputs: ['x'], outputs: ['t'] }, 'fuzz.onnx'),
          ]) {
            try {
              f();
            } catch (e) {
              expect(e).toBeInstanceOf(OnnxExtractError);
              expect((e as Error).message).toMatch(/^fuzz\.onnx: /);
            }
          }
        },
      ),
      { numRuns: 1000, seed: 20261126 },
    );
  });

  it('drops given inputs nobody reads only when asked', () => {
    const full = twoTower().toBytes();
    expect(extractModel(full, { inputs: ['x', 'y'], outputs: ['t'] }, 'm.onnx').inputs).toEqual(['x', 'y']);
    expect(
      extractModel(full, { inputs: ['x', 'y'], outputs: ['t'], dropUnusedInputs: true }, 'm.onnx').inputs,
    ).toEqual(['x']);
    const g = inspectGraph(full, 'm.onnx');
    expect(requiredNodes(g, ['t'], ['x', 'y']).usedInputs).toEqual(['x']);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random DAGs split into a part fed by the "text" inputs (A) and the rest compose exactly.
// ---------------------------------------------------------------------------------------------

interface RandomNode {
  op: 'Add' | 'Mul' | 'Sub' | 'Max' | 'Neg' | 'Tanh' | 'Relu' | 'MatMul' | 'Split';
  a: number;
  b: number;
}

const UNARY = ['Neg', 'Tanh', 'Relu', 'MatMul', 'Split'] as const;
const nodeArb = fc.record({
  op: fc.constantFrom<RandomNode['op']>('Add', 'Mul', 'Sub', 'Max', 'Neg', 'Tanh', 'Relu', 'MatMul', 'Split'),
  a: fc.nat(),
  b: fc.nat(),
});
const dagArb = fc.record({
  nA: fc.integer({ min: 1, max: 2 }),
  nB: fc.integer({ min: 1, max: 2 }),
  // A "tower" over the A inputs first, then nodes over everything.
  head: fc.array(nodeArb, { minLength: 1, maxLength: 8 }),
  nodes: fc.array(nodeArb, { minLength: 1, maxLength: 8 }),
  outPick: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
  seed: fc.integer({ min: 1, max: 1_000_000 }),
});

function buildDag(d: {
  nA: number;
  nB: number;
  head: RandomNode[];
  nodes: RandomNode[];
  outPick: number[];
  seed: number;
}) {
  const g = new GraphBuilder('dag');
  const vals: { name: string; rows: number; dependsB: boolean; isInput: boolean }[] = [];
  const A: string[] = [],
    B: string[] = [];
  for (let i = 0; i < d.nA; i++)
    vals.push({ name: g.input(`a${i}`, 'float32', [2, 3]), rows: 2, dependsB: false, isInput: true });
  for (let i = 0; i < d.nB; i++)
    vals.push({ name: g.input(`b${i}`, 'float32', [2, 3]), rows: 2, dependsB: true, isInput: true });
  A.push(...vals.filter((v) => !v.dependsB).map((v) => v.name));
  B.push(...vals.filter((v) => v.dependsB).map((v) => v.name));
  let s = d.seed;
  const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647) * 2 - 1;
  for (const [k, n] of [...d.head, ...d.nodes].entries()) {
    const pool = k < d.head.length ? vals.filter((v) => !v.dependsB) : vals;
    const x = pool[n.a % pool.length]!;
    const y = pool[n.b % pool.length]!;
    if ((UNARY as readonly string[]).includes(n.op)) {
      if (n.op === 'MatMul') {
        const W = g.constFloat(Array.from({ length: 9 }, rnd), [3, 3]);
        vals.push({ name: g.op('MatMul', [x.name, W]), rows: x.rows, dependsB: x.dependsB, isInput: false });
      } else if (n.op === 'Split') {
        if (x.rows !== 2) continue;
        const outs = g.node('Split', [x.name], { axis: 0 }, { outputs: 2 });
        for (const o of outs) vals.push({ name: o, rows: 1, dependsB: x.dependsB, isInput: false });
      } else vals.push({ name: g.op(n.op, [x.name]), rows: x.rows, dependsB: x.dependsB, isInput: false });
    } else
      vals.push({
        name: g.op(n.op, [x.name, y.name]),
        rows: Math.max(x.rows, y.rows),
        dependsB: x.dependsB || y.dependsB,
        isInput: false,
      });
  }
  let withB = vals.filter((v) => v.dependsB && !v.isInput);
  if (withB.length === 0) {
    const last = vals[vals.length - 1]!;
    const v = { name: g.op('Add', [last.name, B[0]!]), rows: 2, dependsB: true, isInput: false };
    vals.push(v);
    withB = [v];
  }
  const outputs = [...new Set(d.outPick.map((k) => withB[k % withB.length]!))];
  outputs.forEach((v, i) => g.output(v.name, `out${i}`, 'float32', [v.rows, 3]));
  // The cut: values computed from A alone (not inputs) that a B-dependent node reads.
  const summary = inspectGraph(g.toBytes(), 'dag.onnx');
  const pureA = new Set(vals.filter((v) => !v.dependsB).map((v) => v.name));
  const cut = new Set<string>();
  for (const node of summary.nodes) {
    const dependsB = node.inputs.some((i) => !pureA.has(i) && !summary.initializers.has(i));
    if (dependsB) for (const i of node.inputs) if (pureA.has(i)) cut.add(i);
  }
  return {
    bytes: g.toBytes(),
    A,
    B,
    outputs: outputs.map((_, i) => `out${i}`),
    cut: [...cut],
    rowsOf: new Map(vals.map((v) => [v.name, v.rows])),
  };
}

describe('extractModel on random DAGs', () => {
  it('the A part (A inputs -> cut) and the rest (cut + B inputs -> outputs) compose to the full model', async () => {
    await fc.assert(
      fc.asyncProperty(dagArb, async (d) => {
        const m = buildDag(d);
        const feeds: Feeds = {};
        let k = 0;
        for (const n of [...m.A, ...m.B])
          feeds[n] = f32(
            Array.from({ length: 6 }, () => ((k++ * 7) % 11) / 5 - 1),
            [2, 3],
          );
        const ref = await run(m.bytes, feeds);
        const cutComputed = m.cut.filter((c) => !m.A.includes(c));
        const tailFeeds: Feeds = { ...feeds };
        let headNodes: number[] = [];
        if (cutComputed.length > 0) {
          const head = extractModel(m.bytes, { inputs: m.A, outputs: cutComputed }, 'dag.onnx');
          headNodes = head.nodes;
          const h = await run(head.bytes, feeds);
          for (const c of cutComputed) tailFeeds[c] = new ort.Tensor('float32', h[c]!, [m.rowsOf.get(c)!, 3]);
        }
        const tail = extractModel(
          m.bytes,
          { inputs: [...m.cut, ...m.B], outputs: m.outputs, dropUnusedInputs: true },
          'dag.onnx',
        );
        expect(tail.nodes.filter((n) => headNodes.includes(n))).toEqual([]);
        const got = await run(tail.bytes, tailFeeds);
        for (const o of m.outputs) expect(bits(got[o]!)).toEqual(bits(ref[o]!));
      }),
      { numRuns: 200, seed: 20240611 },
    );
  }, 60_000);
});
