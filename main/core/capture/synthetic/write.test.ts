import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import yauzl from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePngGray16 } from '../images';
import { decodeLzfse } from '../lzfse/decode';
import { openR3d } from '../r3d';
import { CaptureError } from '../types';
import { generateScene } from './scene';
import { ensureCachedCapture, poseToMatrix, rotationToQuaternion, writeSyntheticR3d } from './write';

const SMALL = { frames: 6, rgbWidth: 96, rgbHeight: 128 } as const;
let dir = '';

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'synthetic-r3d-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function sha(file: string): Promise<string> {
  return createHash('sha256')
    .update(await fs.readFile(file))
    .digest('hex');
}

function readZip(file: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out = new Map<string, Buffer>();
      zip.on('entry', (e: yauzl.Entry) => {
        zip.openReadStream(e, (err2, rs) => {
          if (err2 || !rs) return reject(err2 ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          rs.on('data', (c: Buffer) => chunks.push(c));
          rs.on('end', () => {
            out.set(e.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('writeSyntheticR3d', () => {
  it('is byte-identical for the same seed and different for another seed', async () => {
    const a = path.join(dir, 'a.r3d'),
      b = path.join(dir, 'b.r3d'),
      c = path.join(dir, 'c.r3d');
    const ra = await writeSyntheticR3d(a, { seed: 5, ...SMALL });
    await writeSyntheticR3d(b, { seed: 5, ...SMALL });
    await writeSyntheticR3d(c, { seed: 6, ...SMALL });
    expect(ra.frames).toBe(6);
    expect(ra.bytes).toBe((await fs.stat(a)).size);
    expect(ra.classes).toEqual(generateScene(5).classes);
    expect(await sha(a)).toBe(await sha(b));
    expect(await sha(a)).not.toBe(await sha(c));
    // atomic write: no temp files left behind
    expect((await fs.readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('writes a valid Record3D ZIP with metadata, rgbd and label entries', async () => {
    const file = path.join(dir, 'v.r3d');
    const progress: number[] = [];
    await writeSyntheticR3d(file, { seed: 2, ...SMALL, onProgress: (d) => progress.push(d) });
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    const zip = await readZip(file);
    const meta = JSON.parse(zip.get('metadata')!.toString('utf8')) as Record<string, unknown>;
    expect(meta['w']).toBe(96);
    expect(meta['h']).toBe(128);
    expect(meta['dw']).toBe(192);
    expect(meta['dh']).toBe(256);
    const K = meta['K'] as number[];
    expect(K).toHaveLength(9);
    expect([K[1], K[2], K[3], K[5], K[8]]).toEqual([0, 0, 0, 0, 1]);
    expect(K[6]).toBeCloseTo(47.5, 9);
    const poses = meta['poses'] as number[][];
    expect(poses).toHaveLength(6);
    for (const p of poses) {
      expect(p).toHaveLength(7);
      expect(p[3]!).toBeGreaterThanOrEqual(0);
      expect(Math.hypot(p[0]!, p[1]!, p[2]!, p[3]!)).toBeCloseTo(1, 12);
    }
    expect(meta['initPose']).toEqual([0, 0, 0, 1, 0, 0, 0]);
    expect((meta['frameTimestamps'] as number[]).length).toBe(6);
    const instances = JSON.parse(zip.get('labels/instances.json')!.toString('utf8')) as {
      instances: Record<string, { class: string }>;
    };
    const ids = new Set(Object.keys(instances.instances).map(Number));
    expect(ids.size).toBe(generateScene(2).instances.length);
    for (let f = 0; f < 6; f++) {
      const img = await sharp(zip.get(`rgbd/${f}.jpg`)!).metadata();
      expect([img.format, img.width, img.height]).toEqual(['jpeg', 96, 128]);
      const depth = decodeLzfse(zip.get(`rgbd/${f}.depth`)!);
      expect(depth.length).toBe(192 * 256 * 4);
      const conf = decodeLzfse(zip.get(`rgbd/${f}.conf`)!);
      expect(conf.length).toBe(192 * 256);
      expect(conf.every((c) => c <= 2)).toBe(true);
      const labels = decodePngGray16(zip.get(`labels/${f}.png`)!, `labels/${f}.png`, 192, 256);
      for (const id of labels.data) if (id !== 0) expect(ids.has(id)).toBe(true);
    }
  });

  it("opens with the studio's own .r3d reader, annotations included", async () => {
    const file = path.join(dir, 'r.r3d');
    await writeSyntheticR3d(file, { seed: 1, ...SMALL });
    const src = await openR3d(file);
    try {
      expect(src.info.frameCount).toBe(6);
      expect(src.info.hasAnnotations).toBe(true);
      expect(src.info.depthIntrinsics.width).toBe(192);
      const depth = await src.readDepth(3);
      expect(depth.some((d) => d > 0.3 && d < 6)).toBe(true);
      const labels = await src.readLabels(3);
      expect(labels?.some((v) => v > 0)).toBe(true);
    } finally {
      await src.close();
    }
  });

  it('stores quaternions with qw >= 0 that rebuild the rotation', () => {
    const a = Math.PI * 0.9;
    const m = new Float64Array([
      Math.cos(a),
      0,
      Math.sin(a),
      1,
      0,
      1,
      0,
      2,
      -Math.sin(a),
      0,
      Math.cos(a),
      3,
      0,
      0,
      0,
      1,
    ]);
    const q = rotationToQuaternion(m);
    expect(q[3]).toBeGreaterThanOrEqual(0);
    const back = poseToMatrix([...q, 1, 2, 3]);
    for (let i = 0; i < 16; i++) expect(back[i]).toBeCloseTo(m[i]!, 12);
  });

  it('rejects bad options with a CaptureError naming the file, and stops on abort without leaving files', async () => {
    const file = path.join(dir, 'bad.r3d');
    await expect(writeSyntheticR3d(file, { seed: 1, frames: 0 })).rejects.toBeInstanceOf(CaptureError);
    await expect(writeSyntheticR3d(file, { seed: 1, rgbWidth: 3.5 })).rejects.toThrow(/bad\.r3d: rgbWidth/);
    const ac = new AbortController();
    const run = writeSyntheticR3d(file, {
      seed: 1,
      ...SMALL,
      onProgress: (d) => (d === 2 ? ac.abort() : undefined),
      signal: ac.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect((await fs.readdir(dir)).filter((n) => n.startsWith('.bad.r3d') || n === 'bad.r3d')).toEqual([]);
  });
});

describe('ensureCachedCapture', () => {
  it('generates once, reuses the cached file, and regenerates a corrupted one', async () => {
    const cache = path.join(dir, 'cache');
    const spec = { seed: 3, frames: 3, rgbWidth: 48, rgbHeight: 64, fileName: 'demo-test.r3d' };
    const file = await ensureCachedCapture(cache, spec);
    const side = JSON.parse(await fs.readFile(path.join(cache, 'demo-test.json'), 'utf8')) as {
      sha256: string;
    };
    expect(side.sha256).toBe(await sha(file));
    const t1 = (await fs.stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect(await ensureCachedCapture(cache, spec)).toBe(file);
    expect((await fs.stat(file)).mtimeMs).toBe(t1);
    await fs.writeFile(file, 'garbage');
    await ensureCachedCapture(cache, spec);
    expect(await sha(file)).toBe(side.sha256);
  });
});
