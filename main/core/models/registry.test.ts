import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import { ModelError, addModelFromDir, listModels, modelsDir, pullModels, verifyModel } from './registry';
import { loadModelManifest, parseModelManifest, type ModelManifest } from './manifest';
import { findExternalDataTensors } from './onnx-check';
import { buildTinyModels } from './tiny';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'resources', 'fixtures', 'models');
let root: string;
let manifest: ModelManifest;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'models-'));
  manifest = await loadModelManifest(path.join(FIXTURES, 'manifest.json'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const fresh = () => fs.mkdtemp(path.join(root, 'cache-'));

describe('model manifests', () => {
  it('the app manifest lists the supported models with their signatures', async () => {
    const m = await loadModelManifest(
      path.resolve(__dirname, '..', '..', '..', 'resources', 'models', 'manifest.json'),
    );
    const ids = m.models.map((x) => x.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'all-minilm-l6-v2',
        'all-mpnet-base-v2',
        'clip-vit-b32-text',
        'clip-vit-b32-image',
        'clip-vit-b32-image-q8',
        'owlvit-b32',
        'owlvit-b32-q8',
        'owlv2-b16',
      ]),
    );
    expect(m.models.find((x) => x.id === 'clip-vit-b32-image')!.outputs[0]).toMatchObject({
      name: 'image_embeds',
      shape: ['batch', 512],
    });
    // The fast set takes the int8 image towers (2x faster on CPU); the paper set keeps fp32 CLIP.
    const inSet = (set: 'fast' | 'paper') =>
      m.models.filter((x) => x.sets.includes(set) && x.task !== 'text-embedding').map((x) => x.id);
    expect(inSet('fast').sort()).toEqual(['clip-vit-b32-image-q8', 'clip-vit-b32-text', 'owlvit-b32-q8']);
    expect(inSet('paper').sort()).toEqual(['clip-vit-b32-image', 'clip-vit-b32-text', 'owlv2-b16']);
    const q8 = m.models.find((x) => x.id === 'owlvit-b32-q8')!;
    const fp32 = m.models.find((x) => x.id === 'owlvit-b32')!;
    expect(q8.inputs).toEqual(fp32.inputs);
    expect(q8.outputs).toEqual(fp32.outputs);
  });
  it('the committed tiny fixtures are what the generator produces, and stay small', async () => {
    const { files, manifest: built } = buildTinyModels();
    expect(built).toEqual(manifest);
    let total = 0;
    for (const [rel, bytes] of files) {
      expect(Buffer.compare(await fs.readFile(path.join(FIXTURES, rel)), Buffer.from(bytes))).toBe(0);
      total += bytes.byteLength;
    }
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });
  it('rejects duplicate ids and unsafe paths', () => {
    const m = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
    m.models.push(m.models[0]!);
    expect(() => parseModelManifest(JSON.stringify(m), 'm.json')).toThrow(/appears twice/);
    const bad = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
    bad.models[0]!.files[0]!.path = '../evil.onnx';
    expect(() => parseModelManifest(JSON.stringify(bad), 'm.json')).toThrow(/m.json: invalid model manifest/);
  });
});

describe('modelsDir', () => {
  it('prefers CLIP_FIELDS_MODELS_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(modelsDir({ CLIP_FIELDS_MODELS_DIR: '/x/m' })).toBe('/x/m');
    expect(modelsDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/clip-fields/models');
    expect(modelsDir({})).toBe(path.join(os.homedir(), '.cache', 'clip-fields', 'models'));
  });
});

describe('addModelFromDir / verifyModel', () => {
  it('installs from a folder (offline), records sha256/size, and verifies', async () => {
    const dir = await fresh();
    expect(await addModelFromDir(path.join(FIXTURES, 'tiny-minilm'), { dir, manifest })).toEqual([
      'tiny-minilm',
    ]);
    const st = (await listModels({ dir, manifest })).find((s) => s.id === 'tiny-minilm')!;
    expect(st.installed).toBe(true);
    expect(st.files.every((f) => f.sha256 && f.size)).toBe(true);
    const v = await verifyModel('tiny-minilm', { dir, manifest });
    expect(Object.keys(v.files)).toEqual(['onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    await expect(verifyModel('tiny-owlvit', { dir, manifest })).rejects.toThrow(/not installed/);
  });

  it('detects a tampered file and names it', async () => {
    const dir = await fresh();
    await addModelFromDir(path.join(FIXTURES, 'tiny-clip-image'), { dir, manifest });
    const f = path.join(dir, 'tiny-clip-image', 'onnx', 'vision_model.onnx');
    const b = await fs.readFile(f);
    b[b.length - 5] = b[b.length - 5]! ^ 0xff;
    await fs.writeFile(f, b);
    await expect(verifyModel('tiny-clip-image', { dir, manifest })).rejects.toThrow(
      new RegExp(`${f.replace(/[/.]/g, '\\$&')}: sha256 mismatch`),
    );
  });

  it('refuses a wrong signature, naming the file and the missing output', async () => {
    const dir = await fresh();
    const src = await fs.mkdtemp(path.join(root, 'src-'));
    await fs.mkdir(path.join(src, 'onnx'));
    await fs.copyFile(
      path.join(FIXTURES, 'tiny-clip-image', 'onnx', 'vision_model.onnx'),
      path.join(src, 'onnx', 'model.onnx'),
    );
    await fs.copyFile(path.join(FIXTURES, 'tiny-minilm', 'tokenizer.json'), path.join(src, 'tokenizer.json'));
    await fs.copyFile(
      path.join(FIXTURES, 'tiny-minilm', 'tokenizer_config.json'),
      path.join(src, 'tokenizer_config.json'),
    );
    const m = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
    for (const f of m.models.find((x) => x.id === 'tiny-minilm')!.files) {
      f.sha256 = null;
      f.size = null;
    }
    await expect(addModelFromDir(src, { dir, manifest: m, ids: ['tiny-minilm'] })).rejects.toThrow(
      /model.onnx: wrong signature: missing input "input_ids"/,
    );
    expect((await listModels({ dir, manifest: m })).every((s) => !s.installed)).toBe(true);
  });

  it('refuses a file of the wrong size', async () => {
    const dir = await fresh();
    const m = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
    m.models.find((x) => x.id === 'tiny-clip-image')!.files[0]!.size = 12;
    await expect(
      addModelFromDir(path.join(FIXTURES, 'tiny-clip-image'), { dir, manifest: m, ids: ['tiny-clip-image'] }),
    ).rejects.toThrow(/vision_model.onnx: wrong size: \d+ bytes, expected 12/);
  });

  it('refuses ONNX files with external data', async () => {
    const bytes = externalDataModel();
    expect(findExternalDataTensors(bytes, 'ext.onnx')).toEqual(['w']);
    const dir = await fresh();
    const src = await fs.mkdtemp(path.join(root, 'src-'));
    await fs.mkdir(path.join(src, 'onnx'));
    await fs.writeFile(path.join(src, 'onnx', 'vision_model.onnx'), bytes);
    const m = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
    const f = m.models.find((x) => x.id === 'tiny-clip-image')!.files[0]!;
    f.sha256 = null;
    f.size = null;
    await expect(addModelFromDir(src, { dir, manifest: m, ids: ['tiny-clip-image'] })).rejects.toThrow(
      /vision_model.onnx: uses external data \(tensor "w"\)/,
    );
    expect(
      findExternalDataTensors(
        new Uint8Array(await fs.readFile(path.join(FIXTURES, 'tiny-owlvit', 'onnx', 'model.onnx'))),
        'x',
      ),
    ).toEqual([]);
    expect(() => findExternalDataTensors(new Uint8Array([0xff, 0xff, 0xff]), 'junk.onnx')).toThrow(
      ModelError,
    );
  });
});

/** ModelProto{graph{initializer{name:"w", dims:[4], data_type:1, external_data:[{location: w.bin}], data_location: EXTERNAL}}} */
function externalDataModel(): Uint8Array {
  const w = protobuf.Writer.create();
  const kv = protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string('location')
    .uint32((2 << 3) | 2)
    .string('w.bin')
    .finish();
  const tensor = protobuf.Writer.create()
    .uint32((1 << 3) | 0)
    .int64(4)
    .uint32((2 << 3) | 0)
    .int32(1)
    .uint32((8 << 3) | 2)
    .string('w')
    .uint32((13 << 3) | 2)
    .bytes(kv)
    .uint32((14 << 3) | 0)
    .int32(1)
    .finish();
  const graph = protobuf.Writer.create()
    .uint32((5 << 3) | 2)
    .bytes(tensor)
    .finish();
  w.uint32((1 << 3) | 0).int64(8);
  w.uint32((7 << 3) | 2).bytes(graph);
  return w.finish();
}

describe('pullModels', () => {
  it('downloads the HF layout from a local server, resumes an interrupted download, and verifies', async () => {
    const requests: { url: string; range: string | undefined }[] = [];
    let cutNext = true;
    const server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', range: req.headers.range });
      const m = /^\/clip-fields-fixtures\/tiny-clip\/resolve\/main\/(.+)$/.exec(req.url ?? '');
      const rel = m ? decodeURIComponent(m[1]!) : null;
      const file = rel === 'onnx/vision_model.onnx' ? path.join(FIXTURES, 'tiny-clip-image', rel) : null;
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      void fs.readFile(file).then((data) => {
        const r = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = r ? Number(r[1]) : 0;
        const body = data.subarray(start);
        res.writeHead(r ? 206 : 200, {
          'content-length': String(body.length),
          ...(r ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
        });
        if (cutNext) {
          cutNext = false;
          res.write(body.subarray(0, 5000), () => setTimeout(() => res.destroy(), 100));
        } else res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dir = await fresh();
      const progress: number[] = [];
      await expect(pullModels({ dir, manifest, ids: ['tiny-clip-image'], baseUrl })).rejects.toThrow(
        /interrupted|resume/,
      );
      const part = path.join(dir, 'tiny-clip-image', 'onnx', 'vision_model.onnx.part');
      expect((await fs.stat(part)).size).toBe(5000);
      const r = await pullModels({
        dir,
        manifest,
        ids: ['tiny-clip-image'],
        baseUrl,
        onProgress: (p) => progress.push(p.received),
      });
      expect(r.installed).toEqual(['tiny-clip-image']);
      expect(requests.at(-1)!.range).toBe('bytes=5000-');
      expect(progress.at(-1)).toBe(
        (await fs.stat(path.join(FIXTURES, 'tiny-clip-image', 'onnx', 'vision_model.onnx'))).size,
      );
      await expect(fs.stat(part)).rejects.toThrow();
      await verifyModel('tiny-clip-image', { dir, manifest });
      expect(
        (await pullModels({ dir, manifest, ids: ['tiny-clip-image'], baseUrl })).alreadyInstalled,
      ).toEqual(['tiny-clip-image']);
      await expect(pullModels({ dir, manifest, ids: ['tiny-minilm'], baseUrl })).rejects.toThrow(/HTTP 404/);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('deletes a download whose sha256 does not match', async () => {
    const server = http.createServer((_req, res) => res.end(Buffer.alloc(100)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dir = await fresh();
      const m = JSON.parse(JSON.stringify(manifest)) as ModelManifest;
      m.models.find((x) => x.id === 'tiny-clip-image')!.files[0]!.size = 100;
      await expect(pullModels({ dir, manifest: m, ids: ['tiny-clip-image'], baseUrl })).rejects.toThrow(
        /vision_model.onnx: sha256 mismatch after download/,
      );
      await expect(
        fs.stat(path.join(dir, 'tiny-clip-image', 'onnx', 'vision_model.onnx.part')),
      ).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
