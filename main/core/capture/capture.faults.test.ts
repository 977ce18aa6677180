import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { StudioCore } from '../studio';
import { openCapture } from './open';
import { ZipReader } from './zip';
import { CaptureError } from './types';
import { encodeLzfse } from './lzfse/encode';
import { buildTinyR3d, buildZip, type HandZipEntry, type TinyCaptureOptions } from './testing';
import { FAULTS_ENABLED, call, newStudio, runJob, tempBase } from '../testing/faults/harness';
import { diffSnapshots, snapshotDir } from '../testing/faults/snapshot';

// Hostile captures: rejected with a typed error before anything is written to the project, in bounded time and memory.
const MIB = 1024 * 1024;
const WALL_LIMIT_MS = 10_000;
// Listing 100k central-directory entries is real work; still bounded.
const WALL_LIMIT_100K_MS = 40_000;
const RSS_LIMIT_BYTES = 300 * MIB;

let base: string;
let core: StudioCore;
let projectDir: string;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('capture');
  core = newStudio(base);
  projectDir = path.join(base, 'proj');
  await call(core, 'project.create', { dir: projectDir });
}, 60_000);

afterAll(async () => {
  await core?.dispose();
  if (base) await fs.rm(base, { recursive: true, force: true });
});

/** The entries of a valid tiny .r3d, to rebuild with hostile additions. */
async function tinyEntries(opts: TinyCaptureOptions = {}): Promise<HandZipEntry[]> {
  const { bytes } = await buildTinyR3d({ frames: 2, ...opts });
  const zip = await ZipReader.fromBuffer(bytes, 'tiny.r3d');
  try {
    const out: HandZipEntry[] = [];
    for (const name of zip.names())
      out.push({ name, data: await zip.read(name, 64 * MIB), method: name === 'metadata' ? 8 : 0 });
    return out;
  } finally {
    await zip.close();
  }
}

const depthBytes = (n: number) => encodeLzfse(new Uint8Array(new Float32Array(n).fill(1.5).buffer));

type Hostile = { name: string; build: () => Promise<Uint8Array>; code: RegExp; reason: RegExp };

const HOSTILE: Hostile[] = [
  {
    name: 'zip slip ../',
    build: async () =>
      buildZip([...(await tinyEntries()), { name: '../../evil.txt', data: new Uint8Array(4) }]),
    code: /INVALID_INPUT/,
    reason: /'\.\.' in entry name/,
  },
  {
    name: 'absolute entry',
    build: async () => buildZip([...(await tinyEntries()), { name: '/etc/evil', data: new Uint8Array(4) }]),
    code: /INVALID_INPUT/,
    reason: /absolute entry name/,
  },
  {
    name: 'drive-letter entry',
    build: async () =>
      buildZip([...(await tinyEntries()), { name: 'C:/Windows/evil', data: new Uint8Array(4) }]),
    code: /INVALID_INPUT/,
    reason: /absolute entry name/,
  },
  {
    name: 'backslash drive entry',
    build: async () => buildZip([...(await tinyEntries()), { name: 'C:\\evil', data: new Uint8Array(4) }]),
    code: /INVALID_INPUT/,
    reason: /backslash|absolute/,
  },
  {
    name: 'symlink entry',
    build: async () =>
      buildZip([
        ...(await tinyEntries()),
        {
          name: 'rgbd/link',
          data: new TextEncoder().encode('/etc/passwd'),
          externalAttrs: (0o120777 << 16) >>> 0,
        },
      ]),
    code: /INVALID_INPUT/,
    reason: /symbolic-link/,
  },
  {
    name: '100k entries',
    build: async () =>
      buildZip(Array.from({ length: 100_000 }, (_, i) => ({ name: `junk/${i}`, data: new Uint8Array(0) }))),
    code: /NOT_FOUND|INVALID_INPUT/,
    reason: /metadata/,
  },
  {
    name: 'entry count above the limit',
    build: async () => buildZip(await tinyEntries(), { declaredEntryCount: 0xffff }),
    code: /INVALID_INPUT|TOO_LARGE/,
    reason: /ZIP|entries/,
  },
  {
    name: 'lying size header (metadata)',
    build: async () => {
      const e = await tinyEntries();
      const meta = e.find((x) => x.name === 'metadata')!;
      meta.declaredSize = meta.data.length - 5;
      return buildZip(e);
    },
    code: /INVALID_INPUT|TOO_LARGE/,
    reason: /declares|produces more/,
  },
  {
    name: '1000:1 deflate bomb as metadata',
    build: async () => {
      const e = (await tinyEntries()).filter((x) => x.name !== 'metadata');
      return buildZip([{ name: 'metadata', data: new Uint8Array(200 * MIB).fill(0x20), method: 8 }, ...e]);
    },
    code: /INVALID_INPUT|TOO_LARGE/,
    reason: /compression ratio above 1000:1/,
  },
  {
    name: 'bomb with a lying small size',
    build: async () => {
      const e = (await tinyEntries()).filter((x) => x.name !== 'metadata');
      return buildZip([
        { name: 'metadata', data: new Uint8Array(50 * MIB).fill(0x20), method: 8, declaredSize: 100 },
        ...e,
      ]);
    },
    code: /INVALID_INPUT|TOO_LARGE/,
    reason: /produces more than 100 bytes/,
  },
  {
    name: 'truncated JPEGs',
    build: async () => {
      const e = await tinyEntries();
      for (const x of e)
        if (x.name.endsWith('.jpg')) x.data = x.data.subarray(0, Math.floor(x.data.length / 3));
      return buildZip(e);
    },
    code: /INVALID_INPUT/,
    reason: /jpg|JPEG|colour|image/i,
  },
  {
    name: 'depth of the wrong size',
    build: async () => {
      const e = await tinyEntries();
      for (const x of e) if (x.name.endsWith('.depth')) x.data = depthBytes(32 * 24 - 7);
      return buildZip(e);
    },
    code: /INVALID_INPUT/,
    reason: /depth/,
  },
  {
    name: 'NaN poses (JSON null)',
    build: async () =>
      (
        await buildTinyR3d({
          frames: 2,
          mutateMetadata: (m) => ((m['poses'] as number[][])[1] = [NaN, 0, 0, 1, 0, 0, 0]),
        })
      ).bytes,
    code: /INVALID_INPUT/,
    reason: /NaN, infinite or non-numeric/,
  },
  {
    name: 'NaN poses (literal NaN token)',
    build: async () => {
      const e = await tinyEntries();
      const meta = e.find((x) => x.name === 'metadata')!;
      meta.data = new TextEncoder().encode(
        new TextDecoder().decode(meta.data).replace(/"poses":\[\[[^\]]*\]/, '"poses":[[NaN,0,0,1,0,0,0]'),
      );
      return buildZip(e);
    },
    code: /INVALID_INPUT/,
    reason: /JSON|NaN/,
  },
];

/** Open and read every frame completely; the CaptureError (or any other throw) it ends with. */
async function drain(file: string): Promise<unknown> {
  try {
    const src = await openCapture(file);
    try {
      for (let i = 0; i < src.info.frameCount; i++) {
        await src.readRgb(i);
        await src.readDepth(i);
        await src.readConfidence(i);
        await src.readLabels(i);
      }
    } finally {
      await src.close();
    }
    return null;
  } catch (err) {
    return err;
  }
}

describe.skipIf(!FAULTS_ENABLED)('hostile captures', () => {
  // Built once (the bomb is 200 MiB of spaces before deflate).
  const files = new Map<string, string>();
  beforeAll(async () => {
    for (const h of HOSTILE) {
      const file = path.join(base, `${h.name.replace(/[^a-z0-9]+/gi, '-')}.r3d`);
      await fs.writeFile(file, await h.build());
      files.set(h.name, file);
    }
    void deflateRawSync; // (buildZip deflates)
  }, 120_000);

  for (const h of HOSTILE) {
    it(`${h.name}: a typed error naming the problem, in bounded time and memory`, async () => {
      const file = files.get(h.name)!;
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const t0 = performance.now();
      const err = await drain(file);
      const wall = performance.now() - t0;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      expect(err, 'must be rejected').toBeInstanceOf(CaptureError);
      const ce = err as CaptureError;
      expect(ce.code).toMatch(h.code);
      expect(ce.message).toMatch(h.reason);
      expect(wall).toBeLessThan(h.name === '100k entries' ? WALL_LIMIT_100K_MS : WALL_LIMIT_MS);
      expect(peak - rss0).toBeLessThan(RSS_LIMIT_BYTES);
    }, 60_000);
  }

  it('every hostile capture fails its import job with a typed code and leaves the project untouched', async () => {
    const before = await snapshotDir(projectDir, ['jobs']);
    for (const h of HOSTILE) {
      const t0 = performance.now();
      const job = await runJob(core, 'import', { capture: files.get(h.name)! }, 60_000);
      expect(job.state, h.name).toBe('failed');
      expect(job.error?.code, `${h.name}: ${job.error?.message}`).toMatch(
        /INVALID_INPUT|UNSUPPORTED|NOT_FOUND/,
      );
      expect(job.error?.message).toContain(path.basename(files.get(h.name)!, '.r3d'));
      expect(performance.now() - t0).toBeLessThan(
        h.name === '100k entries' ? WALL_LIMIT_100K_MS : WALL_LIMIT_MS,
      );
      expect(diffSnapshots(before, await snapshotDir(projectDir, ['jobs'])), h.name).toEqual([]);
    }
    expect((await core.invoke('app.info', {})).ok).toBe(true);
  }, 240_000);
});
