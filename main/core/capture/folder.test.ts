import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFolder, parseFolderIntrinsics, parseFolderPoses } from './folder';
import { buildTinyR3d, writeTinyFolder } from './testing';
import { ZipReader } from './zip';
import { openR3dFromZip } from './r3d';
import { encodeNpy } from './npy';
import { encodePngGray } from './images';
import { rigidProblem } from './common';
import { CaptureError } from './types';

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'folder-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});
const fresh = (): string => path.join(tmp, `c${n++}`);

async function caught(p: Promise<unknown>): Promise<CaptureError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(CaptureError);
  return e as CaptureError;
}

function caughtSync(f: () => unknown): CaptureError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return e as CaptureError;
  }
  throw new Error('expected a CaptureError');
}

const I4 = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];

describe('plain folder round trip', () => {
  it('reads back what writeTinyFolder wrote (opencv poses converted to ARKit, mm PNG depth)', async () => {
    const dir = fresh();
    const truth = await writeTinyFolder(dir, { annotations: true });
    const src = await openFolder(dir);
    expect(src.info.format).toBe('folder');
    expect(src.info.frameCount).toBe(4);
    expect(src.info.fps).toBe(30);
    expect(src.info.hasConfidence).toBe(true);
    expect(src.info.hasAnnotations).toBe(true);
    expect(src.info.instances!.get(2)).toEqual({ class: 'table' });
    expect(src.info.depthIntrinsics).toEqual(truth.depthIntrinsics);
    for (let i = 0; i < 4; i++) {
      for (let k = 0; k < 16; k++)
        expect(src.poses[i]!.world_from_camera[k]).toBeCloseTo(truth.world_from_camera[i]![k]!, 12);
      const d = await src.readDepth(i);
      for (let k = 0; k < d.length; k++) expect(Math.abs(d[k]! - truth.depth_m[i]![k]!)).toBeLessThan(1e-6);
      expect(await src.readConfidence(i)).toEqual(truth.confidence[i]);
      expect(await src.readLabels(i)).toEqual(truth.labels[i]);
      expect((await src.readRgb(i)).data.length).toBe(64 * 48 * 3);
    }
    await src.close();
  });

  it('gives the same world_from_camera for opencv and arkit conventions, and matches the .r3d', async () => {
    const dirA = fresh();
    const dirB = fresh();
    await writeTinyFolder(dirA, { convention: 'opencv', frames: 3 });
    await writeTinyFolder(dirB, { convention: 'arkit', frames: 3 });
    const a = await openFolder(dirA);
    const b = await openFolder(dirB);
    const r = await openR3dFromZip(
      await ZipReader.fromBuffer((await buildTinyR3d({ frames: 3 })).bytes, 't.r3d'),
    );
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 16; k++) {
        expect(a.poses[i]!.world_from_camera[k]).toBeCloseTo(b.poses[i]!.world_from_camera[k]!, 12);
        expect(a.poses[i]!.world_from_camera[k]).toBeCloseTo(r.poses[i]!.world_from_camera[k]!, 12);
      }
    }
    await r.close();
  });

  it('reads .npy float32 depth, PNG colour and zero-padded names', async () => {
    const dir = fresh();
    const truth = await writeTinyFolder(dir, {
      depthFormat: 'npy',
      colorFormat: 'png',
      zeroPad: 6,
      confidence: false,
    });
    const src = await openFolder(dir);
    expect(src.info.hasConfidence).toBe(false);
    expect(await src.readConfidence(0)).toBeNull();
    expect(await src.readLabels(0)).toBeNull();
    expect(await src.readDepth(2)).toEqual(truth.depth_m[2]);
    const enc = await src.readRgbEncoded(1);
    expect(enc.mime).toBe('image/png');
    expect(path.basename(enc.file)).toBe('000001.png');
    await src.close();
  });
});

describe('folder with missing or bad files', () => {
  it('a missing intrinsics.json or poses.json fails at open naming the file', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 1 });
    await fs.rm(path.join(dir, 'poses.json'));
    const e = await caught(openFolder(dir));
    expect([e.code, e.file]).toEqual(['NOT_FOUND', path.join(dir, 'poses.json')]);
    await fs.rm(path.join(dir, 'intrinsics.json'));
    expect((await caught(openFolder(dir))).file).toBe(path.join(dir, 'intrinsics.json'));
  });

  it('a missing color/ folder fails at open', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 1 });
    await fs.rm(path.join(dir, 'color'), { recursive: true });
    expect((await caught(openFolder(dir))).file).toBe(path.join(dir, 'color'));
  });

  it('a missing depth frame is a per-frame NOT_FOUND naming the file; other frames still read', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 3 });
    await fs.rm(path.join(dir, 'depth', '1.png'));
    const src = await openFolder(dir);
    const e = await caught(src.readDepth(1));
    expect([e.code, e.file]).toEqual(['NOT_FOUND', path.join(dir, 'depth', '1.png')]);
    expect((await src.readDepth(2)).length).toBe(32 * 24);
  });

  it('two files for one frame (7.png and 07.png) are refused', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 1 });
    await fs.copyFile(path.join(dir, 'depth', '0.png'), path.join(dir, 'depth', '00.png'));
    expect((await caught(openFolder(dir))).reason).toMatch(/frame 0 also has/);
  });

  it('a depth PNG of the wrong size, a JPEG named .png, and a wrong-shape .npy are refused', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 3 });
    await fs.writeFile(path.join(dir, 'depth', '0.png'), encodePngGray(31, 24, new Uint16Array(31 * 24)));
    await fs.rm(path.join(dir, 'depth', '1.png'));
    await fs.writeFile(path.join(dir, 'depth', '1.npy'), encodeNpy(new Float32Array(24 * 31), [24, 31]));
    await fs.copyFile(path.join(dir, 'color', '0.jpg'), path.join(dir, 'depth', '2.png'));
    const src = await openFolder(dir);
    const e0 = await caught(src.readDepth(0));
    expect([e0.file, e0.reason]).toEqual([
      path.join(dir, 'depth', '0.png'),
      'PNG is 31x24, expected 32x24 (w x h)',
    ]);
    expect((await caught(src.readDepth(1))).reason).toMatch(/shape \(24, 31\)/);
    expect((await caught(src.readDepth(2))).reason).toMatch(/not a PNG/);
  });

  it('an unreadable colour image is an INVALID_INPUT naming it', async () => {
    const dir = fresh();
    await writeTinyFolder(dir, { frames: 1 });
    const f = path.join(dir, 'color', '0.jpg');
    const bytes = await fs.readFile(f);
    await fs.writeFile(f, bytes.subarray(0, 40));
    const src = await openFolder(dir);
    const e = await caught(src.readRgb(0));
    expect([e.code, e.file]).toEqual(['INVALID_INPUT', f]);
  });
});

describe('intrinsics.json parser', () => {
  const color = { width: 64, height: 48, fx: 50, fy: 50, cx: 32, cy: 24 };
  it('defaults depth to colour and scale to 1 mm', () => {
    expect(parseFolderIntrinsics({ color })).toEqual({ color, depth: color, depthScale_m: 0.001 });
    expect(
      parseFolderIntrinsics({
        color,
        depth: { ...color, width: 32, height: 24, cx: 16, cy: 12, scale_m: 0.0001 },
        extra: 1,
      }).depthScale_m,
    ).toBe(0.0001);
  });
  it('refuses NaN, infinite and non-positive values', () => {
    expect(caughtSync(() => parseFolderIntrinsics({ color: { ...color, fx: NaN } })).reason).toMatch(
      /"fx" must be a finite/,
    );
    expect(caughtSync(() => parseFolderIntrinsics({ color: { ...color, cy: Infinity } })).reason).toMatch(
      /"cy"/,
    );
    expect(caughtSync(() => parseFolderIntrinsics({ color: { ...color, fy: 0 } })).reason).toMatch(/focal/);
    expect(
      caughtSync(() => parseFolderIntrinsics({ color, depth: { ...color, scale_m: -1 } })).reason,
    ).toMatch(/scale_m/);
  });
  it('property: random input parses to sane intrinsics or throws CaptureError', () => {
    const num = fc.oneof(
      fc.double(),
      fc.integer({ min: -10, max: 20000 }),
      fc.constantFrom(NaN, Infinity, 0),
    );
    const cam = fc.record(
      { width: num, height: num, fx: num, fy: num, cx: num, cy: num, scale_m: num },
      { requiredKeys: [] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            color: fc.oneof(cam, fc.constant(color)),
            depth: fc.oneof(cam, fc.constant(undefined)),
          }),
          fc.anything(),
        ),
        (v) => {
          let r;
          try {
            r = parseFolderIntrinsics(v);
          } catch (e) {
            if (!(e instanceof CaptureError)) throw e;
            return;
          }
          accepted++;
          for (const c of [r.color, r.depth]) {
            expect(
              Number.isInteger(c.width) && c.width >= 1 && Number.isInteger(c.height) && c.height >= 1,
            ).toBe(true);
            expect(
              c.fx > 0 && c.fy > 0 && c.cx >= 0 && c.cx <= c.width && c.cy >= 0 && c.cy <= c.height,
            ).toBe(true);
          }
          expect(r.depthScale_m > 0 && r.depthScale_m <= 1).toBe(true);
        },
      ),
      { numRuns: 1500, seed: 3 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});

describe('poses.json parser', () => {
  it('converts opencv to ARKit axes: world_from_camera · diag(1,-1,-1,1)', () => {
    const M = [
      [1, 0, 0, 5],
      [0, 0, -1, 6],
      [0, 1, 0, 7],
      [0, 0, 0, 1],
    ];
    const p = parseFolderPoses({
      camera_convention: 'opencv',
      frames: [{ index: 0, timestamp_s: 2.5, world_from_camera: M }],
    });
    expect(Array.from(p.poses[0]!.world_from_camera)).toEqual([
      1, -0, -0, 5, 0, -0, 1, 6, 0, -1, -0, 7, 0, -0, -0, 1,
    ]);
    expect(p.poses[0]!.timestamp_s).toBe(2.5);
  });
  it('sorts frames by index and requires exactly 0..n-1', () => {
    const p = parseFolderPoses({
      camera_convention: 'arkit',
      frames: [
        { index: 1, world_from_camera: I4 },
        { index: 0, world_from_camera: I4 },
      ],
    });
    expect(p.poses.map((f) => f.index)).toEqual([0, 1]);
    expect(
      caughtSync(() =>
        parseFolderPoses({
          camera_convention: 'arkit',
          frames: [
            { index: 0, world_from_camera: I4 },
            { index: 0, world_from_camera: I4 },
          ],
        }),
      ).reason,
    ).toMatch(/twice/);
    expect(
      caughtSync(() =>
        parseFolderPoses({ camera_convention: 'arkit', frames: [{ index: 5, world_from_camera: I4 }] }),
      ).reason,
    ).toMatch(/0\.\.n-1/);
  });
  it('refuses NaN/infinite entries, non-rigid matrices and a missing convention', () => {
    const nan = I4.map((r) => [...r]);
    nan[1]![3] = NaN;
    expect(
      caughtSync(() =>
        parseFolderPoses({ camera_convention: 'arkit', frames: [{ index: 0, world_from_camera: nan }] }),
      ).reason,
    ).toMatch(/NaN/);
    const scaled = I4.map((r) => r.map((x) => x * 2));
    scaled[3] = [0, 0, 0, 1];
    expect(
      caughtSync(() =>
        parseFolderPoses({ camera_convention: 'arkit', frames: [{ index: 0, world_from_camera: scaled }] }),
      ).reason,
    ).toMatch(/orthonormal/);
    expect(
      caughtSync(() => parseFolderPoses({ frames: [{ index: 0, world_from_camera: I4 }] })).reason,
    ).toMatch(/camera_convention/);
  });
  it('property: random input yields rigid poses with indices 0..n-1, or a CaptureError', () => {
    const num = fc.oneof(fc.double(), fc.constantFrom(0, 1, -1, NaN, Infinity));
    const matrix = fc.oneof(
      fc.constant(I4),
      fc.array(fc.array(num, { minLength: 3, maxLength: 5 }), { minLength: 3, maxLength: 5 }),
      fc.anything(),
    );
    const frame = fc.record(
      {
        index: fc.oneof(fc.integer({ min: -1, max: 4 }), num),
        timestamp_s: fc.oneof(num, fc.constant(undefined)),
        world_from_camera: matrix,
      },
      { requiredKeys: [] },
    );
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({
            camera_convention: fc.constantFrom('opencv', 'arkit', 'OpenCV', 5),
            frames: fc.array(frame, { maxLength: 4 }),
          }),
          fc.anything(),
        ),
        (v) => {
          let r;
          try {
            r = parseFolderPoses(v);
          } catch (e) {
            if (!(e instanceof CaptureError)) throw e;
            return;
          }
          accepted++;
          r.poses.forEach((p, i) => {
            expect(p.index).toBe(i);
            expect(Number.isFinite(p.timestamp_s)).toBe(true);
            expect(rigidProblem(p.world_from_camera)).toBeNull();
          });
        },
      ),
      { numRuns: 1500, seed: 5 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
