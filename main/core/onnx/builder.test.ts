import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, OnnxBuildError, attr, decodeModel } from './builder';

async function run(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.ReturnType> {
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

describe('GraphBuilder', () => {
  it('builds a model that onnxruntime runs: y = relu(x @ W + b) with a dynamic batch', async () => {
    const g = new GraphBuilder('mlp');
    const x = g.input('x', 'float32', ['batch', 2]);
    const w = g.initializer('W', { elem: 'float32', dims: [2, 3], data: [1, -1, 2, 0.5, 1, -3] });
    const b = g.constFloat([0.1, 0.2, -0.3], [3]);
    const y = g.op('Relu', [g.op('Add', [g.op('MatMul', [x, w]), b])]);
    g.output(y, 'y', 'float32', ['batch', 3]);
    const out = await run(g.toBytes(), {
      x: new ort.Tensor('float32', Float32Array.from([1, 2, -1, 0]), [2, 2]),
    });
    const expected = [
      Math.max(0, 1 + 1 + 0.1),
      Math.max(0, -1 + 2 + 0.2),
      Math.max(0, 2 - 6 - 0.3),
      0,
      Math.max(0, 1 + 0.2),
      0,
    ];
    const got = Array.from(out.y!.data as Float32Array);
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('encodes int, float, ints attributes and int64 initializers (ReduceSum axes input, Gemm transB, Reshape)', async () => {
    const g = new GraphBuilder('attrs');
    const a = g.input('a', 'float32', [2, 3]);
    const s = g.op('ReduceSum', [a, g.constInt64([1])], { keepdims: 0 });
    const gm = g.op('Gemm', [a, a], { transB: 1, alpha: attr.float(2) });
    const r = g.op('Reshape', [a, g.constInt64([3, -1])]);
    const t = g.op('Transpose', [a], { perm: [1, 0] });
    g.output(s, 's', 'float32', [2]);
    g.output(gm, 'gm', 'float32', [2, 2]);
    g.output(r, 'r', 'float32', [3, 2]);
    g.output(t, 't', 'float32', [3, 2]);
    const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const out = await run(g.toBytes(), { a: new ort.Tensor('float32', data, [2, 3]) });
    expect(Array.from(out.s!.data as Float32Array)).toEqual([6, 15]);
    expect(Array.from(out.gm!.data as Float32Array)).toEqual([28, 64, 64, 154]);
    expect(out.r!.dims).toEqual([3, 2]);
    expect(Array.from(out.t!.data as Float32Array)).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('round-trips through its own decoder with opset 17 and IR 8', () => {
    const g = new GraphBuilder('rt');
    const x = g.input('x', 'float32', ['n']);
    g.output(g.op('Neg', [x]), 'y', 'float32', ['n']);
    const m = decodeModel(g.toBytes()) as {
      irVersion: number;
      opsetImport: { version: number }[];
      graph: { node: { opType: string }[] };
    };
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport[0]!.version).toBe(17);
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Neg', 'Identity']);
  });

  it('rejects unknown inputs, duplicate names and mis-sized tensors with OnnxBuildError', () => {
    const g = new GraphBuilder('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.op('Neg', ['nope'])).toThrow(OnnxBuildError);
    expect(() => g.input('x', 'float32', [1])).toThrow(OnnxBuildError);
    expect(() => g.initializer('w', { elem: 'float32', dims: [2, 2], data: [1, 2, 3] })).toThrow(
      OnnxBuildError,
    );
  });
});
