/**
 * Real RGB-D sequences (shared/fixtures/real: 7-Scenes redkitchen; real2: shelf bin), through the real
 * readers, back-projection, fusion and the import job. Skipped when the fixtures are absent.
 */
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImportParamsSchema, type ImportParams } from '../../../preload/contract';
import type { JobContext } from '../jobs/types';
import { openCapture } from '../capture/open';
import { runImportJob } from '../capture/import-job';
import type { CaptureSource } from '../capture/types';
import { allocPointBuffers, backprojectDepth } from './backproject';
import { readMapFile } from './format';
import { VoxelFusion } from './fuse';
import { nearestNeighbourDistances, overlapStats } from './nn';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const fixtures = path.resolve(repoRoot, '..', 'shared', 'fixtures');
const have =
  existsSync(path.join(fixtures, 'real', 'redkitchen_50.r3d')) &&
  existsSync(path.join(fixtures, 'real2', 'shelfbox_50.r3d'));

interface Pair {
  a: number;
  b: number;
  correct: { overlap_within_5cm: number; median_nn_cm: number; p90_nn_cm: number };
}
const sequences = [
  { name: 'real', r3d: 'redkitchen_50.r3d' },
  { name: 'real2', r3d: 'shelfbox_50.r3d' },
];

async function framePoints(
  src: CaptureSource,
  i: number,
  max_depth_m: number,
): Promise<{ xyz: Float32Array; n: number }> {
  const out = allocPointBuffers(1);
  const n = backprojectDepth(
    await src.readDepth(i),
    await src.readConfidence(i),
    src.info.depthIntrinsics,
    src.poses[i]!.world_from_camera,
    null,
    { min_depth_m: 1e-6, max_depth_m },
    out,
  );
  return { xyz: out.points_world.slice(0, 3 * n), n };
}

const tmp = fs.mkdtemp(path.join(os.tmpdir(), 'real-import-'));
afterAll(async () => fs.rm(await tmp, { recursive: true, force: true }));

describe.skipIf(!have)('real sequences', () => {
  for (const seq of sequences) {
    const dir = path.join(fixtures, seq.name);
    const verification = have
      ? (JSON.parse(readFileSync(path.join(dir, 'verification.json'), 'utf8')) as { pairs: Pair[] })
      : { pairs: [] };

    for (const capture of [seq.r3d, 'plain']) {
      it(`${seq.name}/${capture}: far-apart frames coincide like the README's verification`, async () => {
        const src = await openCapture(path.join(dir, capture));
        try {
          for (const pair of verification.pairs) {
            const a = await framePoints(src, pair.a, 100);
            const b = await framePoints(src, pair.b, 100);
            const st = overlapStats(nearestNeighbourDistances(a.xyz, a.n, b.xyz, b.n, 0.05));
            expect(st.median_m).toBeLessThan(0.02);
            expect(Math.abs(st.overlap - pair.correct.overlap_within_5cm)).toBeLessThan(0.02);
            expect(Math.abs(st.median_m * 100 - pair.correct.median_nn_cm)).toBeLessThan(0.1);
            expect(Math.abs(st.p90_m * 100 - pair.correct.p90_nn_cm)).toBeLessThan(0.2);
          }
          // Fused separately into 2 cm voxels, the two frames' surfaces still coincide.
          const pair = verification.pairs[0]!;
          const maps = [pair.a, pair.b].map(async (i) => {
            const p = await framePoints(src, i, 100);
            const f = new VoxelFusion(0.02);
            f.addFrame(i, p.xyz, new Uint8Array(p.xyz.length), p.n);
            return f.finish();
          });
          const [fa, fb] = await Promise.all(maps);
          const st = overlapStats(
            nearestNeighbourDistances(fa!.positions, fa!.count, fb!.positions, fb!.count, 0.05),
          );
          expect(st.median_m).toBeLessThan(0.02);
        } finally {
          await src.close();
        }
      });
    }

    it(`${seq.name}: the .r3d and the plain folder import to the same map with a sane floor`, async () => {
      const results = [];
      for (const capture of [seq.r3d, 'plain']) {
        const projectDir = path.join(await tmp, `${seq.name}-${capture}`);
        const workDir = path.join(projectDir, 'jobs', 'j');
        await fs.mkdir(workDir, { recursive: true });
        const problems: string[] = [];
        const ctx: JobContext<ImportParams> = {
          jobId: 'j',
          kind: 'import',
          params: ImportParamsSchema.parse({ capture: path.join(dir, capture) }),
          projectDir,
          workDir,
          attempt: 1,
          signal: new AbortController().signal,
          progress: () => undefined,
          log: () => undefined,
          metrics: () => undefined,
          problem: (_s, _f, m) => problems.push(m),
        };
        const res = await runImportJob(ctx);
        expect(problems).toEqual([]);
        expect(res.frames).toBe(50);
        const map = await readMapFile(path.join(projectDir, res.map.asset));
        expect(map.count).toBe(res.map.points);
        results.push(res);
      }
      const [r3d, folder] = results;
      expect(Math.abs(r3d!.map.points - folder!.map.points) / r3d!.map.points).toBeLessThan(0.01);
      const floor = r3d!.map.floor_m;
      if (seq.name === 'real') {
        // Gravity-aligned world: a floor (or the lowest large horizontal plane) with up within 5 deg of +y, below the cameras.
        expect(floor).not.toBeNull();
        expect(floor!.up[1]).toBeGreaterThan(Math.cos((5 * Math.PI) / 180));
        expect(floor!.height).toBeLessThan(-0.5);
      } else if (floor) {
        expect(floor.up[1]).toBeGreaterThan(Math.cos((10 * Math.PI) / 180));
      }
    });
  }
});
