/**
 * What every capture reader (Record3D `.r3d`, plain folder, synthetic) exposes to the rest of the core.
 *
 * Conventions (tested; see README "Formats"):
 * - `world_from_camera` is a 4x4 row-major rigid transform from the camera frame to the capture's world
 *   frame, always expressed with ARKit camera axes: x right, y up (toward the image top), z backward
 *   (the camera looks along -z). Folder captures in OpenCV axes are converted on read.
 * - The world frame of an ARKit capture is gravity-aligned with +y up.
 * - Depth is `depth_m`: float32 metres, row-major at the depth resolution, 0 = no measurement.
 * - Intrinsics are in pixels of the image they belong to (RGB or depth).
 */

export interface CameraIntrinsics {
  width: number;
  height: number;
  fx: number;
  fy: number;
  cx: number;
  cy: number;
}

export interface InstanceInfo {
  class: string;
}

export interface CaptureInfo {
  format: 'r3d' | 'folder';
  /** Absolute path of the capture file or folder. */
  path: string;
  frameCount: number;
  rgbIntrinsics: CameraIntrinsics;
  depthIntrinsics: CameraIntrinsics;
  fps: number | null;
  hasConfidence: boolean;
  hasAnnotations: boolean;
  /** Ground-truth instances (annotated captures only): instance id -> class. */
  instances: Map<number, InstanceInfo> | null;
}

export interface FramePose {
  index: number;
  timestamp_s: number;
  /** 16 numbers, row-major, ARKit camera axes -> world. */
  world_from_camera: Float64Array;
}

export interface RgbImage {
  width: number;
  height: number;
  /** Packed RGB, 3 bytes per pixel, row-major. */
  data: Uint8Array;
}

export interface CaptureSource {
  readonly info: CaptureInfo;
  /** One pose per frame, in frame order (`poses[i].index === i`). */
  readonly poses: readonly FramePose[];
  /** The encoded colour image as stored (JPEG or PNG bytes). */
  readRgbEncoded(
    index: number,
  ): Promise<{ bytes: Uint8Array; mime: 'image/jpeg' | 'image/png'; file: string }>;
  /** The colour image decoded to packed RGB. */
  readRgb(index: number): Promise<RgbImage>;
  /** depth_m at the depth resolution, row-major; 0 = invalid. Length = depth width * height. */
  readDepth(index: number): Promise<Float32Array>;
  /** Confidence 0/1/2 at the depth resolution, or null when the capture has none. */
  readConfidence(index: number): Promise<Uint8Array | null>;
  /** Ground-truth instance ids at the depth resolution (0 = none), or null when not annotated. */
  readLabels(index: number): Promise<Uint16Array | null>;
  close(): Promise<void>;
}

export type CaptureErrorCode = 'NOT_FOUND' | 'INVALID_INPUT' | 'UNSUPPORTED' | 'IO' | 'TOO_LARGE';

/** Every problem with a capture names the file (path inside the capture where relevant) and the reason. */
export class CaptureError extends Error {
  constructor(
    readonly code: CaptureErrorCode,
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'CaptureError';
  }
}
