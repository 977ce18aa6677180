/**
 * The labeled-point dataset: what labeling produces and field training consumes.
 *
 * Per point (<= 32 bytes): position in the capture's world frame (metres), colour, the label it was given,
 * the detection it came from, a weight (the detector score, used by the language head) and the distance
 * from the camera that saw it (used by the vision head's weight exp(-0.5 * distance_m)).
 * Embeddings are stored once per label and once per detection, never per point.
 */
export interface LabelTable {
  /** Normalised label texts; index = label id. */
  texts: string[];
  /** Sentence-encoder embeddings, `texts.length * dim`, unit length. */
  embeddings: Float32Array;
  dim: number;
  /** CLIP text embeddings of the same texts (for the vision head's classifier), or null without CLIP. */
  clipEmbeddings: Float32Array | null;
  clipDim: number;
}

export interface DetectionTable {
  count: number;
  /** Capture frame index of each detection. */
  frame: Uint32Array;
  labelId: Uint16Array;
  score: Float32Array;
  /** Box in RGB pixels [x0, y0, x1, y1] per detection. */
  box: Float32Array;
  maskArea: Uint32Array;
  /** CLIP image-space embedding per detection (`count * clipDim`), or null when no vision encoder ran. */
  clipEmbeddings: Float32Array | null;
  clipDim: number;
}

export interface LabeledPointDataset {
  points: number;
  /** `points * 3`, world metres. */
  xyz: Float32Array;
  /** `points * 3`. */
  rgb: Uint8Array;
  labelId: Uint16Array;
  detectionId: Uint32Array;
  weight: Float32Array;
  distance_m: Float32Array;
  labels: LabelTable;
  detections: DetectionTable;
  /** Which encoders produced the embeddings (shown in the studio and the CLI). */
  encoders: { language: string; vision: string | null };
}
