import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ZipReader } from './zip';
import { depthIntrinsicsFromRgb, inferDepthSize, openR3d, openR3dFromZip, parseR3dMetadata } from './r3d';
import {
  buildTinyR3d,
  buildZip,
  tinyCaptureTruth,
  writeTinyR3d,
  backprojectFrame,
  WALL_Z_M,
} from './testing';
import { encodeLzfse } from './lzfse/encode';
import { rigidProblem } from './common';
import { CaptureError, type CaptureSource } from './types';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'r3d-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function openBytes(bytes: Uint8Array, name = 'tiny.r3d'): Promise<CaptureSource> {
  return openR3dFromZip(await ZipReader.fromBuffer(bytes, name));
}

async function caught(p: Promise<unknown>): Promise<CaptureError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CaptureError);
  return e as CaptureError;
}

const baseMeta = (): Record<string, unknown> => ({
  w: 64,
  h: 48,
  dw: 32,
  dh: 24,
  K: [57.6, 0, 0, 0, 57.6, 0, 31.5, 23.5, 1],
  fps: 30,
  poses: [
    [0, 0, 0, 1, 0, 0, 0],
    [0, 0.0249974, 0, 0.9996875, 0.1, 0.05, 0],
  ],
});

describe('tiny .r3d round trip', () => {
  it('reads back poses, depth, confidence, labels and RGB written by writeTinyR3d', async () => {
    const file = path.join(tmp, 'tiny.r3d');
    const truth = await writeTinyR3d(file, { annotations: true });
    const src = await openR3d(file);
    expect(src.info.format).toBe('r3d');
    expect(src.info.path).toBe(file);
    expect(src.info.frameCount).toBe(4);
    expect(src.info.fps).toBe(30);
    expect(src.info.hasConfidence).toBe(true);
    expect(src.info.hasAnnotations).toBe(true);
    expect([...src.info.instances!.entries()]).toEqual([
      [1, { class: 'chair' }],
      [2, { class: 'table' }],
    ]);
    expect(src.info.depthIntrinsics).toEqual(truth.depthIntrinsics);
    for (let i = 0; i < 4; i++) {
      expect(src.poses[i]!.index).toBe(i);
      expect(src.poses[i]!.timestamp_s).toBeCloseTo(i / 30, 9);
      for (let k = 0; k < 16; k++)
        expect(src.poses[i]!.world_from_camera[k]).toBeCloseTo(truth.world_from_camera[i]![k]!, 12);
      expect(await src.readDepth(i)).toEqual(truth.depth_m[i]);
      expect(await src.readConfidence(i)).toEqual(truth.confidence[i]);
      expect(await src.readLabels(i)).toEqual(truth.labels[i]);
      const rgb = await src.readRgb(i);
      expect([rgb.width, rgb.height, rgb.data.length]).toEqual([64, 48, 64 * 48 * 3]);
      const enc = await src.readRgbEncoded(i);
      expect(enc.mime).toBe('image/jpeg');
      expect(enc.file).toBe(`rgbd/${i}.jpg`);
    }
    await src.close();
  });

  it('back-projects every valid depth pixel of every frame onto the wall (pose + intrinsics conventions)', async () => {
    const { bytes } = await buildTinyR3d({ frames: 3 });
    const src = await openBytes(bytes);
    for (let i = 0; i < 3; i++) {
      const { points_world, count } = await backprojectFrame(src, i);
      expect(count).toBe(32 * 23); // first row invalid
      for (let p = 0; p < count; p++)
        expect(Math.abs(points_world[p * 3 + 2]! - WALL_Z_M)).toBeLessThan(0.002);
    }
    await src.close();
  });

  it('applies initPose last: world_from_camera = T(initPose)·T(pose)', async () => {
    // initPose: 90° about +y, then shift x by 1. A camera at pose p = (0.1, 0.05, 0) goes to (1, 0.05, -0.1).
    const s = Math.SQRT1_2;
    const { bytes } = await buildTinyR3d({ frames: 2, initPose: [0, s, 0, s, 1, 0, 0] });
    const src = await openBytes(bytes);
    const T = src.poses[1]!.world_from_camera;
    expect([T[3], T[7], T[11]].map((x) => +x!.toFixed(9))).toEqual([1, 0.05, -0.1]);
    await src.close();
  });

  it('reads deflated rgbd entries', async () => {
    const { bytes, truth } = await buildTinyR3d({ frames: 2, deflateRgbd: true });
    const src = await openBytes(bytes);
    expect(await src.readDepth(1)).toEqual(truth.depth_m[1]);
    await src.close();
  });

  it('infers a portrait 192x256 depth size when dw/dh are absent', async () => {
    const { bytes, truth } = await buildTinyR3d({
      frames: 1,
      rgbWidth: 480,
      rgbHeight: 640,
      depthWidth: 192,
      depthHeight: 256,
      omitDepthSize: true,
      confidence: false,
    });
    const src = await openBytes(bytes);
    expect(src.info.depthIntrinsics).toEqual(truth.depthIntrinsics);
    expect(src.info.hasConfidence).toBe(false);
    expect(await src.readConfidence(0)).toBeNull();
    expect(await src.readLabels(0)).toBeNull();
    expect((await src.readDepth(0)).length).toBe(192 * 256);
    await src.close();
  });

  it('inferDepthSize knows 256x192 and 960x720 in both orientations and nothing else', () => {
    expect(inferDepthSize(256 * 192 * 4, 720, 960)).toEqual({ width: 192, height: 256 });
    expect(inferDepthSize(256 * 192 * 4, 960, 720)).toEqual({ width: 256, height: 192 });
    expect(inferDepthSize(960 * 720 * 4, 720, 960)).toEqual({ width: 720, height: 960 });
    expect(inferDepthSize(100 * 4, 720, 960)).toBeNull();
  });

  it('scales depth intrinsics rows 0 and 1 by dw/w and dh/h', () => {
    expect(
      depthIntrinsicsFromRgb({ width: 480, height: 640, fx: 585, fy: 585, cx: 239, cy: 320 }, 192, 256),
    ).toEqual({
      width: 192,
      height: 256,
      fx: 234,
      fy: 234,
      cx: 239 * 0.4,
      cy: 128,
    });
  });
});

describe('hostile .r3d content', () => {
  it('a missing frame is a per-frame NOT_FOUND naming rgbd/7.depth; other frames still read', async () => {
    const { bytes } = await buildTinyR3d({ frames: 9, replaceEntries: { 'rgbd/7.depth': null } });
    const src = await openBytes(bytes);
    const e = await caught(src.readDepth(7));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.file).toBe('rgbd/7.depth');
    expect(e.message).toMatch(/rgbd\/7\.depth: missing in tiny\.r3d/);
    expect((await src.readDepth(8)).length).toBe(32 * 24);
    await src.close();
  });

  it('depth whose decoded size disagrees with dw/dh is an error naming the entry', async () => {
    const { bytes } = await buildTinyR3d({
      frames: 2,
      replaceEntries: { 'rgbd/1.depth': encodeLzfse(new Uint8Array(31 * 24 * 4)) },
    });
    const src = await openBytes(bytes);
    const e = await caught(src.readDepth(1));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.file).toBe('rgbd/1.depth');
    await src.close();
  });

  it('without dw/dh, a depth that is neither 256x192 nor 960x720 fails at open', async () => {
    const { bytes } = await buildTinyR3d({ frames: 1, omitDepthSize: true });
    const e = await caught(openBytes(bytes));
    expect(e.file).toBe('rgbd/0.depth');
    expect(e.reason).toMatch(/neither 256x192 nor 960x720/);
  });

  it('truncated and corrupt LZFSE depth are CaptureErrors naming the entry', async () => {
    const good = encodeLzfse(new Uint8Array(32 * 24 * 4));
    const truncated = good.subarray(0, good.length - 100);
    const corrupt = Uint8Array.from(good);
    corrupt[0] = 0x41; // bad block magic
    const { bytes } = await buildTinyR3d({
      frames: 2,
      replaceEntries: { 'rgbd/0.depth': truncated, 'rgbd/1.depth': corrupt },
    });
    const src = await openBytes(bytes);
    for (const i of [0, 1]) {
      const e = await caught(src.readDepth(i));
      expect(e.code).toBe('INVALID_INPUT');
      expect(e.file).toBe(`rgbd/${i}.depth`);
      expect(e.reason).toMatch(/corrupt LZFSE depth/);
    }
    await src.close();
  });

  it('a depth entry bigger than dw*dh*4 + slack is refused before decoding (zip bomb by metadata cap)', async () => {
    const zeros = new Uint8Array(4_000_000);
    const { bytes } = await buildTinyR3d({
      frames: 1,
      replaceEntries: { 'rgbd/0.depth': zeros },
      deflateRgbd: true,
    });
    const src = await openBytes(bytes);
    const e = await caught(src.readDepth(0));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.file).toBe('rgbd/0.depth');
    await src.close();
  });

  it('an unreadable JPEG is an INVALID_INPUT naming rgbd/N.jpg', async () => {
    const junk = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const { bytes } = await buildTinyR3d({ frames: 1, replaceEntries: { 'rgbd/0.jpg': junk } });
    const src = await openBytes(bytes);
    const e = await caught(src.readRgb(0));
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.file).toBe('rgbd/0.jpg');
    expect(e.reason).toMatch(/unreadable JPEG/);
    await src.close();
  });

  it('confidence values above 2 are refused', async () => {
    const conf = new Uint8Array(32 * 24).fill(2);
    conf[5] = 7;
    const { bytes } = await buildTinyR3d({ frames: 1, replaceEntries: { 'rgbd/0.conf': encodeLzfse(conf) } });
    const src = await openBytes(bytes);
    expect((await caught(src.readConfidence(0))).reason).toMatch(/confidence value 7/);
    await src.close();
  });

  it('out-of-range frame indices are refused', async () => {
    const { bytes } = await buildTinyR3d({ frames: 2 });
    const src = await openBytes(bytes);
    for (const i of [-1, 2, 0.5]) expect((await caught(src.readDepth(i))).reason).toMatch(/out of range/);
    await src.close();
  });

  it('a missing or invalid metadata entry fails at open naming "metadata"', async () => {
    const noMeta = buildZip([{ name: 'rgbd/0.jpg', data: new Uint8Array([1]) }]);
    expect((await caught(openBytes(noMeta))).file).toBe('metadata');
    const badJson = buildZip([{ name: 'metadata', data: new TextEncoder().encode('{"w": 1,') }]);
    expect((await caught(openBytes(badJson))).reason).toMatch(/not valid JSON/);
  });

  it('a deflate bomb in metadata is refused (ratio) before inflating', async () => {
    const bomb = buildZip([
      { name: 'metadata', data: new Uint8Array(10), method: 8, declaredSize: 200_000_000 },
    ]);
    const e = await caught(openBytes(bomb));
    expect(e.code).toBe('TOO_LARGE');
    expect(e.file).toBe('metadata');
  });
});

describe('metadata schema', () => {
  it('accepts the base metadata', () => {
    const m = parseR3dMetadata(baseMeta());
    expect(m.world_from_camera.length).toBe(2);
    expect(m.rgbIntrinsics).toEqual({ width: 64, height: 48, fx: 57.6, fy: 57.6, cx: 31.5, cy: 23.5 });
    expect(m.timestamps_s).toEqual([0, 1 / 30]);
  });

  const cases: [string, (m: Record<string, unknown>) => void, RegExp][] = [
    ['NaN in a pose', (m) => ((m['poses'] as number[][])[1]![4] = NaN), /"poses"\[1\].*NaN/],
    ['Infinity in a pose', (m) => ((m['poses'] as number[][])[0]![6] = Infinity), /"poses"\[0\]/],
    ['a 6-number pose', (m) => ((m['poses'] as number[][])[0] = [0, 0, 0, 1, 0, 0]), /7 numbers/],
    ['a zero quaternion', (m) => ((m['poses'] as number[][])[0] = [0, 0, 0, 0, 0, 0, 0]), /norm 0/],
    ['NaN in K', (m) => ((m['K'] as number[])[0] = NaN), /"K" must be 9 finite/],
    ['Infinity in K', (m) => ((m['K'] as number[])[6] = Infinity), /"K" must be 9 finite/],
    ['a row-major K', (m) => (m['K'] = [57.6, 0, 31.5, 0, 57.6, 23.5, 0, 0, 1]), /row-major/],
    ['a negative focal length', (m) => ((m['K'] as number[])[0] = -5), /focal/],
    ['no poses', (m) => (m['poses'] = []), /non-empty/],
    ['a string width', (m) => (m['w'] = '64'), /"w" and "h"/],
    ['only dw', (m) => delete m['dh'], /"dw" and "dh"/],
    ['swapped dw/dh', (m) => ((m['dw'] = 24), (m['dh'] = 32)), /aspect/],
    ['a NaN initPose', (m) => (m['initPose'] = [0, 0, 0, 1, NaN, 0, 0]), /"initPose"/],
    ['too few frameTimestamps', (m) => (m['frameTimestamps'] = [0]), /frameTimestamps/],
    ['a negative fps', (m) => (m['fps'] = -1), /"fps"/],
  ];
  for (const [what, mutate, reason] of cases) {
    it(`refuses ${what}`, () => {
      const m = baseMeta();
      mutate(m);
      let err: unknown = null;
      try {
        parseR3dMetadata(m);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CaptureError);
      expect((err as CaptureError).file).toBe('metadata');
      expect((err as CaptureError).reason).toMatch(reason);
    });
  }

  it('property: random JSON either parses to finite rigid poses and sane intrinsics, or throws CaptureError', () => {
    const num = fc.oneof(
      fc.double(),
      fc.integer({ min: -5, max: 2000 }),
      fc.constantFrom(0, 1, 0.5, NaN, Infinity),
    );
    const junk = fc.oneof(
      num,
      fc.string(),
      fc.constant(null),
      fc.array(num, { maxLength: 10 }),
      fc.anything(),
    );
    // Each field is usually valid and sometimes junk, so both the success and the error paths are exercised.
    const usually = <T>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
      fc.oneof({ weight: 6, arbitrary: valid }, { weight: 1, arbitrary: junk });
    const validPose = fc
      .tuple(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: 0.2, max: 1, noNaN: true }),
        num,
        num,
        num,
      )
      .map(([a, b, c, d, x, y, z]) => {
        const n = Math.hypot(a, b, c, d);
        return [a / n, b / n, c / n, d / n, x, y, z];
      });
    const meta = fc.record(
      {
        w: usually(fc.constant(640)),
        h: usually(fc.constant(480)),
        dw: usually(fc.constant(256)),
        dh: usually(fc.constant(192)),
        K: usually(fc.constant([500, 0, 0, 0, 500, 0, 320, 240, 1])),
        fps: usually(fc.double({ min: 0, max: 120, noNaN: true })),
        poses: usually(fc.array(usually(validPose), { minLength: 1, maxLength: 4 })),
        initPose: usually(validPose),
        frameTimestamps: usually(
          fc.array(fc.double({ min: 0, max: 1e6, noNaN: true }), { minLength: 4, maxLength: 6 }),
        ),
      },
      { requiredKeys: ['w', 'h', 'K', 'poses'] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(meta, fc.jsonValue(), fc.anything()), (value) => {
        let m;
        try {
          m = parseR3dMetadata(value);
        } catch (e) {
          if (!(e instanceof CaptureError) || e.file !== 'metadata') throw e;
          return;
        }
        accepted++;
        expect(m.world_from_camera.length).toBeGreaterThan(0);
        expect(m.timestamps_s.length).toBe(m.world_from_camera.length);
        for (const T of m.world_from_camera) expect(rigidProblem(T)).toBeNull();
        const K = m.rgbIntrinsics;
        expect(K.fx > 0 && K.fy > 0 && K.cx >= 0 && K.cx <= K.width && K.cy >= 0 && K.cy <= K.height).toBe(
          true,
        );
      }),
      { numRuns: 2000, seed: 7 },
    );
    expect(accepted).toBeGreaterThan(0); // the generator does reach the success path
  });

  it('property: valid poses round-trip through quaternions to rigid matrices', () => {
    const truth = tinyCaptureTruth({ frames: 1 });
    expect(rigidProblem(truth.world_from_camera[0]!)).toBeNull();
    const unitQuat = fc
      .tuple(
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
      )
      .filter(([a, b, c, d]) => Math.hypot(a, b, c, d) > 0.1)
      .map(([a, b, c, d]) => {
        const n = Math.hypot(a, b, c, d);
        return [a / n, b / n, c / n, d / n];
      });
    fc.assert(
      fc.property(
        unitQuat,
        fc.tuple(
          fc.double({ min: -100, max: 100, noNaN: true }),
          fc.double({ min: -100, max: 100, noNaN: true }),
          fc.double({ min: -100, max: 100, noNaN: true }),
        ),
        (q, p) => {
          const m = baseMeta();
          m['poses'] = [[...q, ...p]];
          const T = parseR3dMetadata(m).world_from_camera[0]!;
          expect(rigidProblem(T)).toBeNull();
          expect([T[3], T[7], T[11]]).toEqual(p);
        },
      ),
      { numRuns: 1000, seed: 11 },
    );
  });
});
