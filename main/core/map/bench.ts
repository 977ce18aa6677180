/**
 * Import benchmark: a synthetic Record3D-style capture (default 300 frames, 192x256 float32 depth with
 * confidence, 1440x1920 textured JPEGs: the iPhone LiDAR layout) is written once to a temp dir with yazl +
 * `encodeLzfse`, then imported `repeats` times through `runImportJob` (open, select, decode with
 * shrink-on-load, back-project, fuse, thumbnails, map.bin, atomic move).
 *
 * Metrics: `import_throughput` (frames/s), `import_wall` (s) and `import_peak_rss` (MB; the RSS high-water
 * mark sampled every 20 ms during the import; the process's lifetime maxRSS is reported by
 * `import_max_rss_lifetime`). Targets: < 15 s for 300 frames on 2 cores, peak < 1.5 GB.
 */
import { createWriteStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import yazl from 'yazl';
import { ImportParamsSchema, type ImportParams } from '../../../preload/contract';
import { encodeLzfse } from '../capture/lzfse/encode';
import { runImportJob } from '../capture/import-job';
import type { CameraIntrinsics } from '../capture/types';
import type { JobContext } from '../jobs/types';
import { lookAt, renderScene, DEFAULT_SCENE } from './fake-capture';

export interface BenchMetric {
  name: string;
  unit: string;
  samples: number[];
}

/** Hamilton quaternion [qx,qy,qz,qw] (qw >= 0) of the rotation part of a row-major 4x4. */
function quaternionOf(T: ArrayLike<number>): [number, number, number, number] {
  const m00 = T[0]!,
    m01 = T[1]!,
    m02 = T[2]!,
    m10 = T[4]!,
    m11 = T[5]!,
    m12 = T[6]!,
    m20 = T[8]!,
    m21 = T[9]!,
    m22 = T[10]!;
  const tr = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [(m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s, 0.25 * s];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [0.25 * s, (m01 + m10) / s, (m02 + m20) / s, (m21 - m12) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m01 + m10) / s, 0.25 * s, (m12 + m21) / s, (m02 - m20) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m02 + m20) / s, (m12 + m21) / s, 0.25 * s, (m10 - m01) / s];
  }
  return q[3] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q;
}

/** Write the benchmark capture; returns its path. Distinct JPEGs are cycled (decode cost is what matters). */
export async function writeBenchCapture(file: string, frames: number): Promise<void> {
  const dK: CameraIntrinsics = { width: 192, height: 256, fx: 212, fy: 212, cx: 95.5, cy: 127.5 };
  const W = 1440,
    H = 1920,
    s = W / dK.width;
  const distinct = Math.min(frames, 12);
  // Fine texture so the JPEGs have photo-like entropy (~0.5-1 MB each).
  const noise = new Uint8Array(W * H * 3);
  let seed = 12345;
  for (let i = 0; i < noise.length; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    noise[i] = seed >>> 26; // 0..63
  }
  const poses: Float64Array[] = [];
  for (let i = 0; i < frames; i++) {
    const a = -0.8 + (1.6 * i) / Math.max(1, frames - 1);
    poses.push(
      lookAt([0.2 + 2.2 * Math.sin(a), 1.3 + 0.1 * Math.sin(3 * a), -2 + 2.2 * Math.cos(a)], [0.2, 0.3, -2]),
    );
  }
  const jpegs: Buffer[] = [];
  for (let k = 0; k < distinct; k++) {
    const r = renderScene(DEFAULT_SCENE, dK, poses[Math.floor((k * frames) / distinct)]!);
    const big = await sharp(Buffer.from(r.rgb), { raw: { width: dK.width, height: dK.height, channels: 3 } })
      .resize(W, H, { kernel: 'linear' })
      .raw()
      .toBuffer();
    for (let i = 0; i < big.length; i++) big[i] = Math.min(255, big[i]! * 0.75 + noise[i]!);
    jpegs.push(
      await sharp(big, { raw: { width: W, height: H, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
  }
  const zip = new yazl.ZipFile();
  const metadata = {
    w: W,
    h: H,
    dw: dK.width,
    dh: dK.height,
    K: [dK.fx * s, 0, 0, 0, dK.fy * s, 0, dK.cx * s, dK.cy * s, 1], // column-major; depth K = K * dw/w
    fps: 30,
    frameTimestamps: poses.map((_, i) => i / 30),
    poses: poses.map((T) => [...quaternionOf(T), T[3]!, T[7]!, T[11]!]),
    initPose: [0, 0, 0, 1, 0, 0, 0],
  };
  zip.addBuffer(Buffer.from(JSON.stringify(metadata)), 'metadata', { compress: true });
  const conf = encodeLzfse(new Uint8Array(dK.width * dK.height).fill(2));
  for (let i = 0; i < frames; i++) {
    const r = renderScene(DEFAULT_SCENE, dK, poses[i]!);
    zip.addBuffer(jpegs[i % distinct]!, `rgbd/${i}.jpg`, { compress: false });
    zip.addBuffer(Buffer.from(encodeLzfse(new Uint8Array(r.depth_m.buffer))), `rgbd/${i}.depth`, {
      compress: false,
    });
    zip.addBuffer(Buffer.from(conf), `rgbd/${i}.conf`, { compress: false });
  }
  const done = new Promise<void>((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.on('error', reject);
    zip.outputStream.pipe(out);
  });
  zip.end();
  await done;
}

export async function benchImport(opts: { repeats: number; frames?: number }): Promise<BenchMetric[]> {
  const frames = opts.frames ?? 300;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-import-'));
  const throughput: number[] = [];
  const wall: number[] = [];
  const peak: number[] = [];
  try {
    const capture = path.join(dir, 'bench.r3d');
    await writeBenchCapture(capture, frames);
    for (let r = 0; r < opts.repeats; r++) {
      const projectDir = path.join(dir, `project-${r}`);
      const workDir = path.join(projectDir, 'jobs', 'bench');
      await fs.mkdir(workDir, { recursive: true });
      const ctx: JobContext<ImportParams> = {
        jobId: 'bench',
        kind: 'import',
        params: ImportParamsSchema.parse({ capture }),
        projectDir,
        workDir,
        attempt: 1,
        signal: new AbortController().signal,
        progress: () => undefined,
        log: () => undefined,
        metrics: () => undefined,
        problem: (_s, file, message) => {
          throw new Error(`bench capture problem: ${file}: ${message}`);
        },
      };
      let maxRss = process.memoryUsage.rss();
      const timer = setInterval(() => {
        maxRss = Math.max(maxRss, process.memoryUsage.rss());
      }, 20);
      const t0 = performance.now();
      try {
        const res = await runImportJob(ctx);
        if (res.frames !== frames) throw new Error(`bench import fused ${res.frames} of ${frames} frames`);
      } finally {
        clearInterval(timer);
      }
      const s = (performance.now() - t0) / 1000;
      maxRss = Math.max(maxRss, process.memoryUsage.rss());
      wall.push(s);
      throughput.push(frames / s);
      peak.push(maxRss / 2 ** 20);
      await fs.rm(projectDir, { recursive: true, force: true });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return [
    { name: 'import_throughput', unit: 'frames/s', samples: throughput },
    { name: 'import_wall', unit: 's', samples: wall },
    { name: 'import_peak_rss', unit: 'MB', samples: peak },
    { name: 'import_max_rss_lifetime', unit: 'MB', samples: [process.resourceUsage().maxRSS / 1024] },
  ];
}
