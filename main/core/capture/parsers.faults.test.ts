import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ZipReader } from './zip';
import { openR3dFromZip, parseR3dMetadata } from './r3d';
import { parseFolderIntrinsics, parseFolderPoses } from './folder';
import { CaptureError } from './types';
import { decodeLzfse, LzfseError } from './lzfse/decode';
import { encodeLzfse } from './lzfse/encode';
import { buildTinyR3d, writeTinyFolder } from './testing';
import { FAULTS_ENABLED, tempBase } from '../testing/faults/harness';
import { checkParser, damagedBytes, mutatedJson } from '../testing/faults/properties';

// 1000+ generated inputs per capture parser, derived from VALID inputs (structure-aware JSON mutations and
// byte damage), so they reach deep into each parser: a valid result or a typed error, fast, no heap growth.
const MIB = 1024 * 1024;
let base: string;
let r3d: Uint8Array;
let metadata: unknown;
let intrinsics: unknown;
let poses: unknown;

beforeAll(async () => {
  if (!FAULTS_ENABLED) return;
  base = await tempBase('parsers');
  r3d = (await buildTinyR3d({ frames: 2, annotations: true })).bytes;
  const zip = await ZipReader.fromBuffer(r3d, 'tiny.r3d');
  metadata = JSON.parse(new TextDecoder().decode(await zip.read('metadata', MIB)));
  await zip.close();
  const folder = path.join(base, 'folder');
  await writeTinyFolder(folder, { frames: 3 });
  intrinsics = JSON.parse(await fs.readFile(path.join(folder, 'intrinsics.json'), 'utf8'));
  poses = JSON.parse(await fs.readFile(path.join(folder, 'poses.json'), 'utf8'));
});

afterAll(async () => {
  if (base) await fs.rm(base, { recursive: true, force: true });
});

const isCaptureError = (e: unknown) => e instanceof CaptureError && e.file.length > 0;

describe.skipIf(!FAULTS_ENABLED)('capture parsers under generated input', () => {
  it('ZIP + .r3d reader: damaged archives open and read fully or fail with a CaptureError', async () => {
    const stats = await checkParser(damagedBytes(r3d), {
      seed: 0x21f,
      numRuns: 1000,
      maxMsPerInput: 1500,
      typed: isCaptureError,
      parse: async (bytes) => {
        const zip = await ZipReader.fromBuffer(bytes, 'fuzz.r3d');
        const src = await openR3dFromZip(zip, { maxBytes: 16 * MIB });
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
      },
    });
    expect(stats.typed).toBeGreaterThan(stats.runs / 2);
  }, 120_000);

  it('r3d metadata: mutated documents parse or fail with a CaptureError', async () => {
    const stats = await checkParser(mutatedJson(metadata), {
      seed: 0x3d,
      numRuns: 2000,
      typed: isCaptureError,
      parse: (m) => parseR3dMetadata(m, 'metadata'),
    });
    expect(stats.ok).toBeGreaterThan(0);
    expect(stats.typed).toBeGreaterThan(0);
  });

  it('LZFSE: damaged depth streams decode to the expected size or fail with an LzfseError', async () => {
    const depth = new Float32Array(32 * 24).map((_, i) => 1 + (i % 37) * 0.01);
    const valid = encodeLzfse(new Uint8Array(depth.buffer));
    const stats = await checkParser(damagedBytes(valid), {
      seed: 0x1f5e,
      numRuns: 2000,
      typed: (e) => e instanceof LzfseError,
      parse: (b) => decodeLzfse(b, { maxOutputBytes: depth.byteLength, expectedBytes: depth.byteLength }),
    });
    expect(stats.typed).toBeGreaterThan(0);
  });

  it('folder capture intrinsics.json and poses.json: mutated documents parse or fail with a CaptureError', async () => {
    const a = await checkParser(mutatedJson(intrinsics), {
      seed: 0xf0,
      numRuns: 1000,
      typed: isCaptureError,
      parse: (j) => parseFolderIntrinsics(j),
    });
    const b = await checkParser(mutatedJson(poses), {
      seed: 0xf1,
      numRuns: 1000,
      typed: isCaptureError,
      parse: (j) => parseFolderPoses(j),
    });
    expect(a.ok + b.ok).toBeGreaterThan(0);
    expect(a.typed).toBeGreaterThan(0);
    expect(b.typed).toBeGreaterThan(0);
  });
});
