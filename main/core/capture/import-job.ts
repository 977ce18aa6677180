/**
 * The import job: capture -> frame index, thumbnails and fused point map inside the project.
 *
 * 1. open the capture (`params.capture`); with `params.copy`, copy it into the stage first;
 * 2. select frames (every k-th, optional near-duplicate and blur rejection: map/select.ts);
 * 3. stream the selected frames (up to four read and decoded ahead): read depth, confidence and the encoded colour image;
 *    decode the colour with sharp's shrink-on-load near twice the depth resolution (colour is only sampled at
 *    depth pixels); back-project (map/backproject.ts), fuse (map/fuse.ts), write a ~160 px JPEG thumbnail;
 *    a frame that fails is reported with `ctx.problem` (naming the file) and skipped; no usable frame at all
 *    is an INVALID_INPUT error;
 * 4. estimate the floor (map/floor.ts) and write `map/map.bin` (map/format.ts) and `frames/index.json`.
 *
 * Everything is written under `<workDir>/stage/` and only then moved into the project with
 * `replaceDirAtomic` (`frames/`, `map/`, and `capture/` when copying), so a failed or cancelled import leaves
 * the project as it was. The job is restartable: a resumed attempt wipes the stage and simply reruns (an
 * import takes seconds). The caller writes project.json from the returned `ImportResult`.
 *
 * `CaptureSummary.source` is where the project reads the capture from afterwards: the project-relative path
 * `capture/<name>` when copied, else the capture's absolute path. `frames/index.json` carries a `capture`
 * block = that summary plus `original` (the absolute path given) and the import parameters.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import sharp from 'sharp';
import {
  ImportParamsSchema,
  type CaptureSummary,
  type ErrorCode,
  type FrameEntry,
  type FrameIndex,
  type ImportParams,
  type MapSummary,
} from '../../../preload/contract';
import { JobError, isAbortError, type JobContext } from '../jobs/types';
import { DiskSpaceError, diskSpaceError, fsyncDir, replaceDirAtomic, writeJsonAtomic } from '../util/atomic';
import { allocPointBuffers, backprojectDepth, type DepthFilter } from '../map/backproject';
import { estimateFloor } from '../map/floor';
import { computeBounds, writeMap, type PointMap } from '../map/format';
import { VoxelFusion } from '../map/fuse';
import { rejectBlurry, selectFrames, sharpnessOfEncoded } from '../map/select';
import { openCapture } from './open';
import { CaptureError, type CaptureSource, type RgbImage } from './types';

export interface ImportResult {
  capture: CaptureSummary;
  map: MapSummary;
  /** Frames fused into the map. */
  frames: number;
}

export const THUMB_WIDTH_PX = 160;
/** Frames read and decoded ahead of the one being fused (decodes run on libuv's pool, in parallel). */
const FRAMES_IN_FLIGHT = 4;

/**
 * Size to decode the colour image at: colour is only sampled at depth pixels, so about twice the depth
 * resolution is plenty. Picks the stored size divided by the largest power of two (<= 8) that stays at least
 * 1.5x the depth width and 320 px wide (for decent thumbnails): JPEG then decodes with DCT scaling
 * (shrink-on-load) and no further resampling.
 */
export function colourDecodeSize(
  rgbW: number,
  rgbH: number,
  depthW: number,
): { width: number; height: number } {
  const minW = Math.max(1.5 * depthW, 320);
  let f = 1;
  while (f < 8 && rgbW / (2 * f) >= minW) f *= 2;
  return { width: Math.max(1, Math.round(rgbW / f)), height: Math.max(1, Math.round(rgbH / f)) };
}

/** fsync files with a few in parallel (journalled filesystems batch them). */
async function fsyncFiles(files: string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const h = await fs.open(files[next++]!, 'r+');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, files.length) }, worker));
}
export const MAP_ASSET = 'map/map.bin';

function abortError(): Error {
  const e = new Error('cancelled');
  e.name = 'AbortError';
  return e;
}

function checkAbort(signal: AbortSignal): void {
  if (signal.aborted) throw abortError();
}

const CAPTURE_TO_JOB_CODE: Record<CaptureError['code'], ErrorCode> = {
  NOT_FOUND: 'NOT_FOUND',
  INVALID_INPUT: 'INVALID_INPUT',
  UNSUPPORTED: 'UNSUPPORTED',
  IO: 'IO',
  TOO_LARGE: 'INVALID_INPUT',
};

function toJobError(err: unknown): unknown {
  if (err instanceof CaptureError) return new JobError(CAPTURE_TO_JOB_CODE[err.code], err.message);
  return err;
}

export async function runImportJob(ctx: JobContext<ImportParams>): Promise<ImportResult> {
  const parsed = ImportParamsSchema.safeParse(ctx.params);
  if (!parsed.success) throw new JobError('BAD_ARGS', `import parameters: ${parsed.error.message}`);
  const params = parsed.data;
  if (params.min_depth_m >= params.max_depth_m)
    throw new JobError('BAD_ARGS', 'min_depth_m must be below max_depth_m');
  checkAbort(ctx.signal);
  let source: CaptureSource;
  try {
    source = await openCapture(path.resolve(params.capture));
  } catch (err) {
    throw toJobError(err);
  }
  try {
    return await importFromSource(ctx, source, params);
  } catch (err) {
    throw toJobError(err);
  } finally {
    await source.close().catch(() => undefined);
  }
}

/** Copy a file or folder to `dest` (which must not exist), checking `signal` between files. */
async function copyTree(src: string, dest: string, signal: AbortSignal): Promise<void> {
  const st = await fs.stat(src);
  if (st.isDirectory()) {
    await fs.mkdir(dest);
    for (const ent of await fs.readdir(src, { withFileTypes: true })) {
      checkAbort(signal);
      if (ent.isDirectory() || ent.isFile())
        await copyTree(path.join(src, ent.name), path.join(dest, ent.name), signal);
    }
  } else {
    await pipeline(createReadStream(src), createWriteStream(dest, { flags: 'wx' }), { signal });
  }
}

interface LoadedFrame {
  depth: Float32Array;
  confidence: Uint8Array | null;
  colour: RgbImage;
  thumb: Uint8Array;
}

/** The import itself on an open capture (exported for tests with in-memory captures). */
export async function importFromSource(
  ctx: JobContext<ImportParams>,
  source: CaptureSource,
  paramsIn?: ImportParams,
): Promise<ImportResult> {
  const params = paramsIn ?? ImportParamsSchema.parse(ctx.params);
  const { info, poses } = source;
  const signal = ctx.signal;
  const stage = path.join(ctx.workDir, 'stage');
  const inFlight = new Map<number, Promise<LoadedFrame>>();
  await fs.rm(stage, { recursive: true, force: true });
  try {
    await fs.mkdir(path.join(stage, 'frames', 'thumbs'), { recursive: true });
    await fs.mkdir(path.join(stage, 'map'), { recursive: true });

    // 1. Optional copy of the capture into the project.
    const captureName = path.basename(info.path);
    let sourceForProject = info.path;
    if (params.copy) {
      const rel = path.relative(path.resolve(info.path), path.resolve(ctx.projectDir));
      if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))) {
        throw new JobError(
          'BAD_ARGS',
          `${info.path}: cannot copy a capture into a project that lies inside it (${ctx.projectDir})`,
        );
      }
      ctx.progress('copy', 0, 1);
      await fs.mkdir(path.join(stage, 'capture'));
      const tmp = path.join(stage, 'capture', `.${captureName}.tmp`);
      await copyTree(info.path, tmp, signal);
      await fs.rename(tmp, path.join(stage, 'capture', captureName));
      sourceForProject = `capture/${captureName}`;
      ctx.progress('copy', 1, 1);
    }

    // 2. Selection.
    const frameCount = Math.min(info.frameCount, poses.length);
    let selected = selectFrames(poses.slice(0, frameCount), params);
    const problemsOf = new Map<number, string[]>();
    const addProblem = (
      index: number,
      file: string | null,
      message: string,
      severity: 'warning' | 'info' = 'warning',
    ): void => {
      ctx.problem(severity, file, message);
      const list = problemsOf.get(index) ?? [];
      list.push(message);
      problemsOf.set(index, list);
    };
    if (params.skip_blurry && selected.length > 2) {
      const sharpness = new Map<number, number>();
      for (let k = 0; k < selected.length; k++) {
        checkAbort(signal);
        const idx = selected[k]!;
        try {
          const enc = await source.readRgbEncoded(idx);
          sharpness.set(idx, await sharpnessOfEncoded(enc.bytes));
        } catch (err) {
          if (isAbortError(err)) throw err;
          sharpness.set(idx, NaN); // the fuse pass reports the problem
        }
        ctx.progress('sharpness', k + 1, selected.length);
      }
      const { kept, blurry } = rejectBlurry(selected, (i) => sharpness.get(i) ?? NaN);
      for (const i of blurry)
        addProblem(i, null, `frame ${i} skipped: blurry (sharpness ${sharpness.get(i)?.toFixed(1)})`, 'info');
      selected = kept;
    }

    // 3. Stream the selected frames.
    const dW = info.depthIntrinsics.width,
      dH = info.depthIntrinsics.height;
    const rW = info.rgbIntrinsics.width,
      rH = info.rgbIntrinsics.height;
    const { width: colourW, height: colourH } = colourDecodeSize(rW, rH, dW);
    const filter: DepthFilter = { min_depth_m: params.min_depth_m, max_depth_m: params.max_depth_m };
    const fusion = new VoxelFusion(params.voxel_m);
    const buffers = allocPointBuffers(dW * dH);
    const validFraction = new Map<number, number>();
    const thumbs = new Map<number, string>();

    const load = async (idx: number): Promise<LoadedFrame> => {
      const [depth, confidence, enc] = await Promise.all([
        source.readDepth(idx),
        source.readConfidence(idx),
        source.readRgbEncoded(idx),
      ]);
      if (depth.length !== dW * dH)
        throw new CaptureError(
          'INVALID_INPUT',
          `frame ${idx} depth`,
          `has ${depth.length} values, expected ${dW}x${dH}`,
        );
      let colour: RgbImage;
      try {
        const { data, info: di } = await sharp(enc.bytes)
          .resize(colourW, colourH, { fit: 'fill', fastShrinkOnLoad: true })
          .removeAlpha()
          .toColourspace('srgb')
          .raw()
          .toBuffer({ resolveWithObject: true });
        colour = {
          width: di.width,
          height: di.height,
          data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        };
      } catch (err) {
        throw new CaptureError(
          'INVALID_INPUT',
          enc.file,
          `cannot decode the colour image: ${(err as Error).message}`,
        );
      }
      const thumb = await sharp(colour.data, {
        raw: { width: colour.width, height: colour.height, channels: 3 },
      })
        .resize({ width: THUMB_WIDTH_PX })
        .jpeg({ quality: 80 })
        .toBuffer();
      return {
        depth,
        confidence,
        colour,
        thumb: new Uint8Array(thumb.buffer, thumb.byteOffset, thumb.byteLength),
      };
    };
    // Keep up to two frames in flight so decoding overlaps with fusion.
    const start = (k: number): void => {
      const idx = selected[k];
      if (idx === undefined || inFlight.has(idx)) return;
      const p = load(idx);
      p.catch(() => undefined); // handled when awaited
      inFlight.set(idx, p);
    };
    let used = 0;
    const usedSet = new Set<number>();
    for (let k = 0; k < selected.length; k++) {
      checkAbort(signal);
      const idx = selected[k]!;
      for (let ahead = 0; ahead < FRAMES_IN_FLIGHT; ahead++) start(k + ahead);
      try {
        const fr = await inFlight.get(idx)!;
        checkAbort(signal);
        const n = backprojectDepth(
          fr.depth,
          fr.confidence,
          info.depthIntrinsics,
          poses[idx]!.world_from_camera,
          fr.colour,
          filter,
          buffers,
        );
        validFraction.set(idx, n / (dW * dH));
        if (n === 0) {
          addProblem(
            idx,
            `frame ${idx}`,
            `frame ${idx} has no valid depth in ${filter.min_depth_m}-${filter.max_depth_m} m`,
          );
        } else {
          fusion.addFrame(idx, buffers.points_world, buffers.rgb, n);
          usedSet.add(idx);
          used++;
        }
        const rel = `frames/thumbs/${idx}.jpg`;
        // Written plainly into the private stage; every thumbnail is fsynced before the stage is moved.
        await fs.writeFile(path.join(stage, rel), fr.thumb).catch(async (e: NodeJS.ErrnoException) => {
          throw e.code === 'ENOSPC' ? await diskSpaceError(path.join(stage, rel), fr.thumb.byteLength) : e;
        });
        thumbs.set(idx, rel);
      } catch (err) {
        if (isAbortError(err) || signal.aborted) throw abortError();
        // A full disk is not a problem of this frame: stop with NEEDS_SPACE (the stage is removed).
        if (err instanceof DiskSpaceError) throw err;
        const file = err instanceof CaptureError ? err.file : `frame ${idx}`;
        const reason = err instanceof CaptureError ? err.reason : (err as Error).message;
        addProblem(idx, file, `frame ${idx} skipped: ${file}: ${reason}`);
      } finally {
        inFlight.delete(idx);
      }
      ctx.progress('fuse', k + 1, selected.length);
    }
    if (used === 0) {
      const first = [...problemsOf.values()][0]?.[0];
      throw new JobError(
        'INVALID_INPUT',
        `${info.path}: no usable frame among ${selected.length} selected${first ? ` (first problem: ${first})` : ''}`,
      );
    }

    // 4. Map, floor, index.
    checkAbort(signal);
    ctx.progress('map', 0, 1);
    const fused = fusion.finish();
    const floor = estimateFloor(fused.positions, fused.count);
    if (!floor) ctx.log('info', 'no floor plane found; the map keeps the capture world frame');
    const bounds_m = computeBounds(fused.positions, fused.count);
    const map: PointMap = {
      voxel_m: params.voxel_m,
      count: fused.count,
      frames_total: Math.max(frameCount, 1),
      bounds_m,
      floor,
      positions: fused.positions,
      colors: fused.colors,
      frameCounts: fused.frameCounts,
      frameOffsets: fused.frameOffsets,
      frameIds: fused.frameIds,
    };
    await writeMap(path.join(stage, MAP_ASSET), map);
    ctx.progress('map', 1, 1);

    const summary: CaptureSummary = {
      source: sourceForProject,
      format: info.format,
      copied: params.copy,
      frames: frameCount,
      selected_frames: used,
      rgb_size: [rW, rH],
      depth_size: [dW, dH],
      has_confidence: info.hasConfidence,
      has_annotations: info.hasAnnotations,
    };
    const frames: FrameEntry[] = [];
    for (let i = 0; i < frameCount; i++) {
      const pose = poses[i]!;
      frames.push({
        index: i,
        timestamp_s: pose.timestamp_s,
        selected: usedSet.has(i),
        world_from_camera: Array.from(pose.world_from_camera),
        thumb: thumbs.get(i) ?? null,
        valid_depth_fraction: validFraction.get(i) ?? 0,
        problems: problemsOf.get(i) ?? [],
      });
    }
    const d = info.depthIntrinsics;
    const index: FrameIndex & { capture: CaptureSummary & { original: string; params: ImportParams } } = {
      rgb_size: [rW, rH],
      depth_size: [dW, dH],
      depth_intrinsics: [d.fx, d.fy, d.cx, d.cy],
      frames,
      capture: { ...summary, original: info.path, params },
    };
    await writeJsonAtomic(path.join(stage, 'frames', 'index.json'), index);
    await fsyncFiles([...thumbs.values()].map((rel) => path.join(stage, rel)));
    await fsyncDir(path.join(stage, 'frames', 'thumbs'));

    // 5. Move into the project (no cancellation from here on: the moves take milliseconds).
    checkAbort(signal);
    await replaceDirAtomic(path.join(stage, 'frames'), path.join(ctx.projectDir, 'frames'));
    await replaceDirAtomic(path.join(stage, 'map'), path.join(ctx.projectDir, 'map'));
    if (params.copy)
      await replaceDirAtomic(path.join(stage, 'capture'), path.join(ctx.projectDir, 'capture'));
    await fs.rm(stage, { recursive: true, force: true });
    ctx.log(
      'info',
      `imported ${used}/${selected.length} frames into ${fused.count} points (${params.voxel_m * 100} cm voxels)`,
    );

    return {
      capture: summary,
      map: { points: fused.count, bounds_m, floor_m: floor, voxel_m: params.voxel_m, asset: MAP_ASSET },
      frames: used,
    };
  } catch (err) {
    // Let reads still in flight finish before the caller closes the capture, then drop the stage.
    await Promise.allSettled(inFlight.values());
    await fs.rm(stage, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}
