import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModelError } from './errors';
import { parseModelManifest, type ModelManifest } from './manifest';
import { findExternalDataTensors, openCheckedSession } from './onnx-check';
import { addModelFromDir, listModels } from './registry';
import { recordingSpawn } from '../testing/faults/fs-faults';
import {
  FAULTS_ENABLED,
  call,
  newStudio,
  runJob,
  startJob,
  tempBase,
  until,
} from '../testing/faults/harness';
import { checkParser, damagedBytes, mutatedJson } from '../testing/faults/properties';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'resources', 'fixtures', 'models');
let base: string;
let manifestText: string;
let manifest: ModelManifest;
let minilm: Uint8Array;
let clipText: Uint8Array;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('models');
  manifestText = await fs.readFile(path.join(FIXTURES, 'manifest.json'), 'utf8');
  manifest = parseModelManifest(manifestText, 'manifest.json');
  const fileOf = (id: string) =>
    path.join(
      FIXTURES,
      id,
      manifest.models.find((m) => m.id === id)!.files.find((f) => f.role === 'model')!.path,
    );
  minilm = new Uint8Array(await fs.readFile(fileOf('tiny-minilm')));
  clipText = new Uint8Array(await fs.readFile(fileOf('tiny-clip-text')));
});

afterAll(async () => {
  if (base) await fs.rm(base, { recursive: true, force: true });
});

// --- a few protobuf bytes by hand ---------------------------------------------------------------
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const field = (num: number, payload: Uint8Array | number[]) => [
  ...varint(num * 8 + 2),
  ...varint(payload.length),
  ...payload,
];
const str = (s: string) => [...new TextEncoder().encode(s)];

/** A ModelProto whose one initializer lives in `weights.bin` (ONNX external data). */
function externalDataModel(): Uint8Array {
  const entry = [...field(1, str('location')), ...field(2, str('../../etc/passwd'))];
  const tensor = [...field(8, str('w')), ...field(13, entry), ...varint(14 * 8), 1];
  const graph = field(5, tensor);
  return new Uint8Array([...varint(1 * 8), 8, ...field(7, graph)]);
}

const minilmSig = () => {
  const m = manifest.models.find((x) => x.id === 'tiny-minilm')!;
  return { inputs: m.inputs, outputs: m.outputs };
};

async function hostileFile(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(base, name);
  await fs.writeFile(file, bytes);
  return file;
}

describe.skipIf(!FAULTS_ENABLED)('hostile ONNX files', () => {
  const cases: { name: string; bytes: () => Uint8Array; code: string; reason: RegExp }[] = [
    {
      name: 'external data',
      bytes: externalDataModel,
      code: 'UNSUPPORTED',
      reason: /uses external data \(tensor "w"\)/,
    },
    {
      name: 'truncated protobuf',
      bytes: () => minilm.slice(0, Math.floor(minilm.length * 0.6)),
      code: 'INVALID_INPUT',
      reason: /truncated protobuf|onnxruntime cannot load it/,
    },
    {
      name: 'oversize length prefix',
      bytes: () => new Uint8Array([...varint(7 * 8 + 2), ...varint(2 ** 40)]),
      code: 'INVALID_INPUT',
      reason: /truncated protobuf/,
    },
    {
      name: 'not protobuf at all',
      bytes: () => new TextEncoder().encode('<html>404 not found</html>'),
      code: 'INVALID_INPUT',
      reason: /not an ONNX model/,
    },
    {
      name: 'wrong signature',
      bytes: () => clipText,
      code: 'INVALID_INPUT',
      reason: /wrong signature: missing input "attention_mask"|wrong signature/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: a ModelError naming the file, no session left open`, async () => {
      const file = await hostileFile(`${c.name.replace(/\W+/g, '-')}.onnx`, c.bytes());
      const t0 = performance.now();
      const err = await openCheckedSession(file, minilmSig()).then(
        async (s) => {
          await s.release();
          return null;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ModelError);
      expect((err as ModelError).code).toBe(c.code);
      expect((err as ModelError).file).toBe(file);
      expect((err as ModelError).message).toMatch(c.reason);
      expect(performance.now() - t0).toBeLessThan(5000);
    });
  }

  it('installing a folder of hostile models installs nothing and says why', async () => {
    const src = path.join(base, 'offline');
    const dest = path.join(base, 'models-cache');
    const spec = manifest.models.find((m) => m.id === 'tiny-minilm')!;
    for (const f of spec.files) {
      const file = path.join(src, f.path);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.copyFile(path.join(FIXTURES, spec.id, f.path), file);
    }
    // The manifest pins sha256 and size: an external-data model in its place is refused before onnxruntime sees it.
    const onnx = path.join(src, spec.files.find((f) => f.role === 'model')!.path);
    await fs.writeFile(onnx, externalDataModel());
    await expect(addModelFromDir(src, { dir: dest, manifest, ids: ['tiny-minilm'] })).rejects.toMatchObject({
      name: 'ModelError',
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/wrong size|sha256 mismatch/),
    });
    // Unpinned manifest (size/sha256 null, recorded on install): the content check catches it.
    const unpinned: ModelManifest = {
      ...manifest,
      models: manifest.models.map((m) => ({
        ...m,
        files: m.files.map((f) => ({ ...f, sha256: null, size: null })),
      })),
    };
    await expect(
      addModelFromDir(src, { dir: dest, manifest: unpinned, ids: ['tiny-minilm'] }),
    ).rejects.toMatchObject({
      name: 'ModelError',
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/external data/),
    });
    expect((await listModels({ dir: dest, manifest })).filter((m) => m.installed)).toEqual([]);
  });

  it('external-data scan: damaged model bytes give a list or a ModelError, quickly', async () => {
    const stats = await checkParser(damagedBytes(minilm.slice(0, 4096)), {
      seed: 0x0ae,
      numRuns: 1000,
      typed: (e) => e instanceof ModelError,
      parse: (b) => findExternalDataTensors(b, 'fuzz.onnx'),
    });
    expect(stats.typed).toBeGreaterThan(0);
  });
});

describe.skipIf(!FAULTS_ENABLED)('model manifest under generated input', () => {
  it('mutated manifests: a manifest or a ModelError naming the file', async () => {
    const stats = await checkParser(mutatedJson(JSON.parse(manifestText)), {
      seed: 0x3a1f,
      numRuns: 1000,
      typed: (e) => e instanceof ModelError && e.file === 'manifest.json',
      parse: (doc) => parseModelManifest(JSON.stringify(doc), 'manifest.json'),
    });
    expect(stats.typed).toBeGreaterThan(0);
    const text = await checkParser(damagedBytes(new TextEncoder().encode(manifestText)), {
      seed: 0x3a20,
      numRuns: 1000,
      typed: (e) => e instanceof ModelError,
      parse: (b) => parseModelManifest(new TextDecoder().decode(b), 'manifest.json'),
    });
    expect(text.typed).toBeGreaterThan(0);
  });
});

describe.skipIf(!FAULTS_ENABLED)('a job worker that crashes natively', () => {
  it('marks the job failed with the signal, the host survives and runs the next job', async () => {
    const { spawn, workers } = recordingSpawn();
    const core = newStudio(base, spawn, 'ud-crash');
    try {
      await call(core, 'project.create', { dir: path.join(base, 'crash-proj') });
      const job = await startJob(core, 'selftest', { steps: 1000, step_ms: 20 });
      await until(
        'worker running',
        () => core.jobManager!.list().find((j) => j.id === job.id)?.progress?.done,
        30_000,
      );
      const w = workers.filter((x) => x.entry === 'job-worker').at(-1)!;
      process.kill(w.pid!, 'SIGSEGV'); // what a native crash in onnxruntime looks like from the host
      const ended = await core.jobManager!.waitFor(job.id, 30_000);
      expect(ended.state).toBe('failed');
      expect(ended.error).toMatchObject({
        code: 'INTERNAL',
        message: expect.stringMatching(/exited unexpectedly \(signal SIGSEGV\)/),
      });
      expect((await core.invoke('app.info', {})).ok).toBe(true);
      expect((await runJob(core, 'selftest', { steps: 3, step_ms: 1 })).state).toBe('done');
    } finally {
      await core.dispose();
    }
  }, 60_000);
});
