/**
 * Node side of the binary map file `map.bin` (layout documented in format-parse.ts, which is browser-safe).
 */
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../util/atomic';
import { encodeMap, MapFormatError, parseMap, type PointMap } from './format-parse';

export {
  encodeMap,
  parseMap,
  readMap,
  MapFormatError,
  computeBounds,
  MAP_MAGIC,
  MAP_VERSION,
  MAX_FRAMES_PER_POINT,
} from './format-parse';
export type { PointMap, MapFloor, Vec3 } from './format-parse';

/** Encode and write `map` atomically (temp file beside the target, fsync, rename). */
export async function writeMap(filePath: string, map: PointMap): Promise<void> {
  await writeFileAtomic(filePath, encodeMap(map, filePath));
}

/** Read and validate a map file; throws MapFormatError naming the file (also when it cannot be read). */
export async function readMapFile(filePath: string): Promise<PointMap> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(filePath);
  } catch (err) {
    throw new MapFormatError(filePath, `cannot read: ${(err as Error).message}`);
  }
  // A fresh, aligned ArrayBuffer so the parser can hand out zero-copy views.
  const ab = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(ab).set(bytes);
  return parseMap(ab, filePath);
}
