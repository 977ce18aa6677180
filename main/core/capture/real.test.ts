/**
 * Real-data tests on shared/fixtures/real (7-Scenes redkitchen) and real2 (shelf bin), each in .r3d and
 * plain-folder form. Skipped when the fixtures are absent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCapture } from './open';
import { backprojectFrame } from './testing';
import { opencvToArkit } from './common';
import type { CaptureSource } from './types';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const fixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures');

interface Checksums {
  zip_members: { name: string }[];
  frames: {
    index: number;
    depth_decoded_sha256: string;
    conf_decoded_sha256: string;
    jpg_sha256: string;
    depth_valid_pixels: number;
  }[];
}

const sequences = [
  {
    name: 'real',
    r3d: 'redkitchen_50.r3d',
    depthK: { fx: 234, fy: 234, cx: 95.6, cy: 128 },
    rgbK: { fx: 585, fy: 585, cx: 239, cy: 320 },
    fps: 3,
    pair: [20, 49, 0.8] as const,
  },
  {
    name: 'real2',
    r3d: 'shelfbox_50.r3d',
    depthK: { fx: 246.078, fy: 246.078, cx: 92.592, cy: 119.377 },
    rgbK: { fx: 615.19525, fy: 615.19519, cx: 231.4808, cy: 298.44269 },
    fps: 15,
    pair: [0, 25, 0.75] as const,
  },
];

const sha = (a: ArrayBufferView): string =>
  createHash('sha256')
    .update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    .digest('hex');

/** Fraction of a's points with a b point within r, and the median of those distances (grid hash of cell r). */
function overlap(a: Float32Array, b: Float32Array, r: number): { overlap: number; median: number } {
  const key = (x: number, y: number, z: number): string =>
    `${Math.floor(x / r)},${Math.floor(y / r)},${Math.floor(z / r)}`;
  const grid = new Map<string, number[]>();
  for (let i = 0; i < b.length; i += 3) {
    const k = key(b[i]!, b[i + 1]!, b[i + 2]!);
    const cell = grid.get(k);
    if (cell) cell.push(i);
    else grid.set(k, [i]);
  }
  const dists: number[] = [];
  for (let i = 0; i < a.length; i += 3) {
    const [x, y, z] = [a[i]!, a[i + 1]!, a[i + 2]!];
    const [cx, cy, cz] = [Math.floor(x / r), Math.floor(y / r), Math.floor(z / r)];
    let best = Infinity;
    for (let dx = -1; dx <= 1; dx++)
      for (let dy = -1; dy <= 1; dy++)
        for (let dz = -1; dz <= 1; dz++) {
          for (const j of grid.get(`${cx + dx},${cy + dy},${cz + dz}`) ?? []) {
            const d = Math.hypot(b[j]! - x, b[j + 1]! - y, b[j + 2]! - z);
            if (d < best) best = d;
          }
        }
    if (best <= r) dists.push(best);
  }
  dists.sort((p, q) => p - q);
  return { overlap: dists.length / (a.length / 3), median: dists[dists.length >> 1] ?? Infinity };
}

for (const seq of sequences) {
  const dir = path.join(fixtures, seq.name);
  const present = existsSync(path.join(dir, seq.r3d)) && existsSync(path.join(dir, 'plain', 'poses.json'));
  describe.skipIf(!present)(`real fixture ${seq.name}`, () => {
    let r3d: CaptureSource;
    let folder: CaptureSource;
    let checksums: Checksums;
    beforeAll(async () => {
      r3d = await openCapture(path.join(dir, seq.r3d));
      folder = await openCapture(path.join(dir, 'plain'));
      checksums = JSON.parse(readFileSync(path.join(dir, 'checksums.json'), 'utf8')) as Checksums;
    });
    afterAll(async () => {
      await r3d?.close();
      await folder?.close();
    });

    it('both forms open with 50 frames, 192x256 depth and the README intrinsics', () => {
      for (const s of [r3d, folder]) {
        expect(s.info.frameCount).toBe(50);
        const d = s.info.depthIntrinsics;
        expect([d.width, d.height]).toEqual([192, 256]);
        expect(d.fx).toBeCloseTo(seq.depthK.fx, 3);
        expect(d.fy).toBeCloseTo(seq.depthK.fy, 3);
        expect(d.cx).toBeCloseTo(seq.depthK.cx, 3);
        expect(d.cy).toBeCloseTo(seq.depthK.cy, 3);
        const c = s.info.rgbIntrinsics;
        expect([c.width, c.height]).toEqual([480, 640]);
        expect(c.fx).toBeCloseTo(seq.rgbK.fx, 3);
        expect(c.cx).toBeCloseTo(seq.rgbK.cx, 3);
      }
      expect(r3d.info.fps).toBe(seq.fps);
      expect(r3d.info.hasConfidence).toBe(true);
      expect(r3d.poses[10]!.timestamp_s).toBeCloseTo(10 / seq.fps, 5);
    });

    it('.r3d depth, confidence and JPEG match checksums.json for every frame', async () => {
      for (const f of checksums.frames) {
        const depth = await r3d.readDepth(f.index);
        expect(depth.length).toBe(192 * 256);
        expect(sha(depth)).toBe(f.depth_decoded_sha256);
        expect(depth.reduce((n, z) => n + (z > 0 ? 1 : 0), 0)).toBe(f.depth_valid_pixels);
        expect(sha((await r3d.readConfidence(f.index))!)).toBe(f.conf_decoded_sha256);
        expect(sha((await r3d.readRgbEncoded(f.index)).bytes)).toBe(f.jpg_sha256);
      }
    });

    it('the .r3d and the folder give the same world_from_camera (1e-5), depth (1 mm) and JPEG bytes', async () => {
      for (let i = 0; i < 50; i++) {
        const a = r3d.poses[i]!.world_from_camera;
        const b = folder.poses[i]!.world_from_camera;
        for (let k = 0; k < 16; k++) expect(Math.abs(a[k]! - b[k]!)).toBeLessThan(1e-5);
        const da = await r3d.readDepth(i);
        const db = await folder.readDepth(i);
        let worst = 0;
        for (let k = 0; k < da.length; k++) worst = Math.max(worst, Math.abs(da[k]! - db[k]!));
        expect(worst).toBeLessThan(0.001);
        expect(sha((await folder.readRgbEncoded(i)).bytes)).toBe(sha((await r3d.readRgbEncoded(i)).bytes));
      }
    });

    it('decodes the RGB to 480x640', async () => {
      const rgb = await r3d.readRgb(0);
      expect([rgb.width, rgb.height, rgb.data.length]).toEqual([480, 640, 480 * 640 * 3]);
    });

    it('two frames far apart back-project onto the same surfaces (the pose/axis conventions are right)', async () => {
      const [ia, ib, minOverlap] = seq.pair;
      const a = await backprojectFrame(r3d, ia);
      const b = await backprojectFrame(r3d, ib);
      const right = overlap(a.points_world, b.points_world, 0.05);
      console.log(
        `${seq.name} pair ${ia}-${ib}: overlap ${(right.overlap * 100).toFixed(1)} %, median ${(right.median * 100).toFixed(2)} cm`,
      );
      expect(right.overlap).toBeGreaterThan(minOverlap);
      expect(right.median).toBeLessThan(0.015);
      // Control: leaving out the OpenCV->ARKit y/z flip must break the overlap (README: 2.4 % / 0.0 %).
      const unflipped = {
        info: r3d.info,
        readDepth: (i: number) => r3d.readDepth(i),
        poses: r3d.poses.map((p) => ({ ...p, world_from_camera: opencvToArkit(p.world_from_camera) })),
      };
      const wa = await backprojectFrame(unflipped, ia, 2);
      const wb = await backprojectFrame(unflipped, ib, 2);
      const wrong = overlap(wa.points_world, wb.points_world, 0.05);
      console.log(`${seq.name} control without flip: overlap ${(wrong.overlap * 100).toFixed(1)} %`);
      expect(wrong.overlap).toBeLessThan(0.1);
    });
  });
}
