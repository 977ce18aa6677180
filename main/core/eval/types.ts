/**
 * Result types of the evaluation (`clip-fields eval --json` prints an `EvalResult`). Every rate is a fraction
 * in 0..1; distances are metres, times milliseconds, sizes bytes.
 */

export interface ClassPR {
  precision: number | null;
  recall: number | null;
  /** Labeled points given this label. */
  labeled_points: number;
  /** Annotated (ground-truth) points of this class the labeler could have labeled. */
  gt_points: number;
}

export interface LabelQualityResult {
  /** Fraction of labeled points whose label is their ground-truth class. */
  point_accuracy: number | null;
  mean_precision: number | null;
  mean_recall: number | null;
  points: number;
  frames: number;
  per_class: Record<string, ClassPR>;
}

export interface ClassSeg {
  /** Recall of the class: correct / ground-truth points. */
  accuracy: number | null;
  precision: number | null;
  iou: number | null;
  support: number;
}

export interface SegmentationResult {
  accuracy: number;
  miou: number;
  /** Held-out points scored. */
  points: number;
  frames: number;
  per_class: Record<string, ClassSeg>;
}

export interface ClassLocalisation {
  present: boolean;
  found: boolean;
  success: boolean;
  /** Distance from the look-at point to the nearest instance of the class (present classes), metres. */
  distance_m: number | null;
  score: number;
  look_at: [number, number, number] | null;
}

export interface LocalisationResult {
  /** Present classes whose look-at point lies within the radius of (or inside the box of) an instance. */
  present_success: number;
  /** Absent (made-up) queries answered "not found". */
  absent_success: number;
  /** 1 - absent_success. */
  false_found_rate: number;
  radius_m: number;
  /** Rule used for "not found". */
  not_found_rule: string;
  per_class: Record<string, ClassLocalisation>;
}

export interface MethodResult {
  method: 'field' | 'nearest-labeled-point' | 'voxel-map';
  accuracy: number;
  miou: number;
  present_success: number;
  absent_success: number;
  /** Bytes of what the method keeps to answer queries. */
  memory_bytes: number;
  /** Time to compute per-point features of the scored map points (field forward pass / lookups). */
  build_ms: number;
  /** Mean time to answer one text query over the scored map points (score + look-at). */
  query_ms: number;
  /** Time to classify the held-out points, per 1000 points. */
  classify_ms_per_1k: number;
  /** Fraction of held-out points the method could answer at all (voxel map: non-empty neighbourhood). */
  coverage: number;
}

export interface DenoisingPoint {
  noise: number;
  spec: string;
  label_accuracy: number | null;
  field_accuracy: number;
  field_miou: number;
}

export interface FewShotPoint {
  fraction: number;
  frames: number;
  label_points: number;
  field_accuracy: number;
  field_miou: number;
}

export interface TrainingSummary {
  steps: number;
  engine: string;
  preset: string;
  samples_per_s: number;
  train_ms: number;
  final_loss: number;
  /** (step, loss) pairs of the main training run. */
  curve: { step: number; loss: number; heldout_accuracy?: number }[];
}

export interface SeedEval {
  seed: number | null;
  capture: string;
  frames: { total: number; train: number; heldout: number };
  labels: LabelQualityResult;
  segmentation: SegmentationResult;
  localisation: LocalisationResult;
  baselines: Record<string, MethodResult>;
  denoising: DenoisingPoint[];
  few_shot: FewShotPoint[];
  training: TrainingSummary;
  timings_ms: Record<string, number>;
}

export interface EvalResult {
  version: 1;
  created_at: string;
  settings: Record<string, unknown>;
  /** Averaged over seeds (or the single project). */
  labels: LabelQualityResult;
  segmentation: SegmentationResult;
  localisation: LocalisationResult;
  baselines: Record<string, MethodResult>;
  denoising: DenoisingPoint[];
  few_shot: FewShotPoint[];
  training: TrainingSummary;
  seeds: SeedEval[];
  targets: { segmentation_accuracy: number; localisation: number; met: boolean };
  /** Project-relative or out-dir-relative PNG files written beside the result (heatmaps, overlays). */
  visual_files?: { kind: 'heatmap' | 'overlay'; title: string; file: string }[];
}
