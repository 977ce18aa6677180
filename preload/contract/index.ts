/**
 * The one typed contract between the renderer and main (Electron IPC or the web host's WebSocket).
 *
 * Every request channel is declared once here with a runtime schema for its arguments and its
 * result; every event is a member of one discriminated union. Main validates arguments with these
 * schemas and answers `{ok:true,data}` or `{ok:false,code,message}`; it never throws across the
 * boundary. Large binary payloads never travel here: they are served as assets (`app://` in
 * Electron, HTTP on the web host) and the contract only carries their project-relative paths.
 *
 * This file must stay importable by main (Node), preload (sandboxed) and the renderer (browser):
 * it may import nothing but zod.
 */
import { z } from 'zod';

export const CONTRACT_VERSION = 1;

export const ErrorCodeSchema = z.enum([
  'BAD_ARGS',
  'FORBIDDEN',
  'UNKNOWN_CHANNEL',
  'NOT_FOUND',
  'NO_PROJECT',
  'CONFLICT',
  'INVALID_INPUT',
  'IO',
  'NEEDS_SPACE',
  'UNSUPPORTED',
  'CANCELLED',
  'INTERNAL',
]);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

export type Ok<T> = { ok: true; data: T };
export type Err = { ok: false; code: ErrorCode; message: string };
export type Result<T> = Ok<T> | Err;

// ---------------------------------------------------------------------------------------------
// Shared value schemas
// ---------------------------------------------------------------------------------------------

/** A bounded string: arguments from the renderer are never allowed to be unbounded. */
const str = (max = 4096) => z.string().max(max);
const pathStr = str(4096).min(1);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const vec3 = z.tuple([finite, finite, finite]);

export const JobKindSchema = z.enum([
  'selftest',
  'import',
  'label',
  'train',
  'evaluate-field',
  'export',
  'eval',
]);
export type JobKind = z.infer<typeof JobKindSchema>;

export const JobStateSchema = z.enum([
  'queued',
  'running',
  'paused',
  'done',
  'failed',
  'cancelled',
  'interrupted',
]);
export type JobState = z.infer<typeof JobStateSchema>;

export const JobProgressSchema = z.object({
  stage: z.string(),
  done: z.number(),
  total: z.number(),
  eta_s: z.number().nullable(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

export const JobInfoSchema = z.object({
  id: z.string(),
  kind: JobKindSchema,
  params: z.record(z.string(), z.unknown()),
  state: JobStateSchema,
  progress: JobProgressSchema.nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  error: z.object({ code: ErrorCodeSchema, message: z.string() }).nullable(),
  result: z.unknown().nullable(),
  /** Attempts: 1 for a fresh job, +1 each resume. */
  attempt: z.number().int(),
});
export type JobInfo = z.infer<typeof JobInfoSchema>;

/** Parameters of each job kind. Unknown keys are rejected (strict) so typos surface as BAD_ARGS. */
export const SelftestParamsSchema = z
  .object({
    steps: z.number().int().min(1).max(100_000).default(50),
    step_ms: z.number().int().min(0).max(10_000).default(50),
    fail_at: z.number().int().min(0).optional(),
  })
  .strict();

export const ImportParamsSchema = z
  .object({
    capture: pathStr,
    copy: z.boolean().default(false),
    every: z.number().int().min(1).max(1000).default(1),
    voxel_m: finite.pipe(z.number().min(0.002).max(1)).default(0.02),
    min_depth_m: finite.pipe(z.number().min(0).max(100)).default(0.1),
    max_depth_m: finite.pipe(z.number().min(0.05).max(100)).default(3),
    min_translation_m: finite.pipe(z.number().min(0).max(10)).default(0),
    min_rotation_deg: finite.pipe(z.number().min(0).max(180)).default(0),
    skip_blurry: z.boolean().default(false),
  })
  .strict();
export type ImportParams = z.infer<typeof ImportParamsSchema>;

export const LabelParamsSchema = z
  .object({
    labeler: z.enum(['auto', 'models', 'ground-truth']).default('auto'),
    vocab: z.array(z.string().max(200)).max(4096).optional(),
    every: z.number().int().min(1).max(1000).default(1),
    threshold: z.number().min(0).max(1).default(0.1),
    noise: z.string().max(200).optional(),
    point_probability: z.number().gt(0).max(1).default(0.2),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
  })
  .strict();
export type LabelParams = z.input<typeof LabelParamsSchema>;

const intIn = (lo: number, hi: number) => z.number().int().min(lo).max(hi);

export const TrainParamsSchema = z
  .object({
    preset: z.enum(['cpu', 'paper', 'custom']).default('cpu'),
    engine: z.enum(['onnx', 'tfjs']).default('onnx'),
    /** onnxruntime execution provider; GPU providers fall back to cpu with the reason reported. */
    provider: z.enum(['cpu', 'webgpu', 'cuda', 'auto']).optional(),
    steps: intIn(1, 10_000_000).default(3000),
    seed: intIn(0, 2 ** 31 - 1).default(0),
    batch_size: intIn(2, 131072).optional(),
    lr: z.number().positive().max(1).optional(),
    weight_decay: z.number().min(0).max(1).optional(),
    grid_update: z.enum(['lazy', 'dense']).optional(),
    grid: z
      .object({
        levels: intIn(1, 32).optional(),
        features_per_level: intIn(1, 16).optional(),
        log2_table_size: intIn(4, 24).optional(),
        base_resolution: intIn(2, 1 << 20).optional(),
        max_resolution: intIn(2, 1 << 20).optional(),
      })
      .strict()
      .optional(),
    mlp: z
      .object({ width: intIn(1, 8192).optional(), depth: intIn(0, 16).optional() })
      .strict()
      .optional(),
    checkpoint_every: intIn(0, 10_000_000).default(500),
    eval_every: intIn(1, 10_000_000).default(200),
    heldout_fraction: z.number().min(0).max(0.5).default(0.05),
    threads: intIn(1, 64).default(2),
  })
  .strict();
export type TrainParams = z.input<typeof TrainParamsSchema>;

export const EvaluateFieldParamsSchema = z
  .object({
    rank: z.number().int().min(8).max(128).multipleOf(8).default(16),
    sample_points: z.number().int().min(100).max(1_000_000).default(20000),
    instance_min_points: z.number().int().min(1).max(1_000_000).default(20),
  })
  .strict();
export type EvaluateFieldParams = z.input<typeof EvaluateFieldParamsSchema>;

export const EvalParamsSchema = z
  .object({
    steps: z.number().int().min(1).max(1_000_000).optional(),
    study_steps: z.number().int().min(1).max(1_000_000).optional(),
    denoising: z.array(z.number().min(0).max(1)).max(16).optional(),
    few_shot: z.array(z.number().min(0).max(1)).max(16).optional(),
    points_per_frame: z.number().int().min(10).max(100_000).optional(),
    map_points: z.number().int().min(100).max(5_000_000).optional(),
    noise: z.string().max(200).optional(),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    quick: z.boolean().optional(),
  })
  .strict();

export const JobParamsByKind = {
  selftest: SelftestParamsSchema,
  import: ImportParamsSchema,
  label: LabelParamsSchema,
  train: TrainParamsSchema,
  'evaluate-field': EvaluateFieldParamsSchema,
  eval: EvalParamsSchema,
  // Exports run as compute calls (waypoints.export); the job kind is kept for long exports.
  export: z.record(z.string(), z.unknown()),
} satisfies Record<JobKind, z.ZodType>;

export const ProblemSchema = z.object({
  id: z.string(),
  severity: z.enum(['error', 'warning', 'info']),
  source: z.string(),
  file: z.string().nullable(),
  message: z.string(),
  at: z.string(),
});
export type Problem = z.infer<typeof ProblemSchema>;

export const FloorSchema = z.object({ up: vec3, height: z.number() });

export const MapSummarySchema = z.object({
  points: z.number().int(),
  bounds_m: z.object({ min: vec3, max: vec3 }),
  floor_m: FloorSchema.nullable(),
  voxel_m: z.number(),
  /** Project-relative path of the binary map (served as an asset). */
  asset: z.string(),
});
export type MapSummary = z.infer<typeof MapSummarySchema>;

export const CaptureSummarySchema = z.object({
  source: z.string(),
  format: z.enum(['r3d', 'folder']),
  copied: z.boolean(),
  frames: z.number().int(),
  selected_frames: z.number().int(),
  rgb_size: z.tuple([z.number().int(), z.number().int()]),
  depth_size: z.tuple([z.number().int(), z.number().int()]),
  has_confidence: z.boolean(),
  has_annotations: z.boolean(),
});
export type CaptureSummary = z.infer<typeof CaptureSummarySchema>;

export const LabelSummarySchema = z.object({
  labeler: z.enum(['models', 'ground-truth']),
  frames: z.number().int(),
  detections: z.number().int(),
  points: z.number().int(),
  classes: z.record(z.string(), z.number()),
  encoders: z.object({ language: z.string(), vision: z.string().nullable() }),
  updated_at: z.string(),
});
export type LabelSummary = z.infer<typeof LabelSummarySchema>;

export const ProjectSummarySchema = z.object({
  dir: z.string(),
  name: z.string(),
  schemaVersion: z.number().int(),
  created_at: z.string(),
  capture: CaptureSummarySchema.nullable(),
  map: MapSummarySchema.nullable(),
  labels: LabelSummarySchema.nullable(),
});
export type ProjectSummary = z.infer<typeof ProjectSummarySchema>;

export const FrameEntrySchema = z.object({
  index: z.number().int(),
  timestamp_s: z.number(),
  selected: z.boolean(),
  /** 4x4 row-major, camera (ARKit axes: x right, y up, z backward) to world. */
  world_from_camera: z.array(z.number()).length(16),
  thumb: z.string().nullable(),
  valid_depth_fraction: z.number(),
  problems: z.array(z.string()),
});
export type FrameEntry = z.infer<typeof FrameEntrySchema>;

export const FrameIndexSchema = z.object({
  rgb_size: z.tuple([z.number().int(), z.number().int()]),
  depth_size: z.tuple([z.number().int(), z.number().int()]),
  /** Depth intrinsics [fx, fy, cx, cy] in depth pixels. */
  depth_intrinsics: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  frames: z.array(FrameEntrySchema),
});
export type FrameIndex = z.infer<typeof FrameIndexSchema>;

export const FrameDetailSchema = z.object({
  index: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  depth_width: z.number().int(),
  depth_height: z.number().int(),
  /** Project-relative asset paths (PNG for images; raw float32 for depth). */
  rgb: z.string(),
  depth: z.string(),
  confidence: z.string().nullable(),
  labels: z.string().nullable(),
  depth_range_m: z.tuple([z.number(), z.number()]),
});
export type FrameDetail = z.infer<typeof FrameDetailSchema>;

export const AppInfoSchema = z.object({
  version: z.string(),
  contract: z.number().int(),
  host: z.enum(['electron', 'web']),
  platform: z.string(),
  project: ProjectSummarySchema.nullable(),
  demo_capture: z.string().nullable(),
});
export type AppInfo = z.infer<typeof AppInfoSchema>;

export const RecentProjectSchema = z.object({ dir: z.string(), name: z.string(), opened_at: z.string() });

const labelText = z.string().min(1).max(200);
/** A label QA edit as the renderer sends it (the log adds id, version and time). */
export const LabelEditSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('reject-detection'),
      frame: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
      index: z
        .number()
        .int()
        .min(0)
        .max(2 ** 32 - 1),
    })
    .strict(),
  z.object({ op: z.literal('reject-class'), label: labelText }).strict(),
  z.object({ op: z.literal('rename-class'), from: labelText, to: labelText }).strict(),
  z.object({ op: z.literal('class-weight'), label: labelText, weight: z.number().min(0).max(100) }).strict(),
  z.object({ op: z.literal('score-threshold'), threshold: z.number().min(0).max(1) }).strict(),
]);
export type LabelEdit = z.infer<typeof LabelEditSchema>;

export const LabelsOverviewSchema = z.object({
  labeler: z.string(),
  encoders: z.object({ language: z.string(), vision: z.string().nullable() }),
  threshold: z.number(),
  frames: z.array(z.number().int()),
  classes: z.array(
    z.object({
      name: z.string(),
      points: z.number(),
      detections: z.number(),
      mean_score: z.number(),
      weight: z.number(),
    }),
  ),
  rejected_classes: z.array(z.string()),
  edits: z.array(z.object({ id: z.string(), op: z.string(), text: z.string(), at: z.string() })),
  quality: z
    .array(
      z.object({
        label: z.string(),
        precision: z.number().nullable(),
        recall: z.number().nullable(),
        labeled: z.number(),
      }),
    )
    .nullable(),
  point_accuracy: z.number().nullable(),
  points: z.number(),
  detections: z.number(),
});
export type LabelsOverview = z.infer<typeof LabelsOverviewSchema>;

export const FrameDetectionSchema = z.object({
  frame: z.number().int(),
  index: z.number().int(),
  box: z.tuple([z.number(), z.number(), z.number(), z.number()]),
  mask_area: z.number(),
  class: z.string().nullable(),
  raw_class: z.string(),
  score: z.number(),
  runner_up: z.array(z.object({ class: z.string(), score: z.number() })),
  rejected: z.boolean(),
  reason: z.enum(['detection', 'class', 'threshold']).nullable(),
  points: z.number(),
});
export type FrameDetection = z.infer<typeof FrameDetectionSchema>;

export const LabelObjectSchema = z.object({
  id: z.number().int(),
  text: z.string(),
  frames: z.number(),
  points: z.number(),
  center_m: vec3,
  classes: z.array(z.object({ label: z.string(), frames: z.number() })),
});

export const QueryModeSchema = z.enum(['auto', 'semantic', 'visual']);
const vec2 = z.tuple([finite, finite]);

export const QueryHitSchema = z.object({
  world_m: vec3,
  map_m: vec3,
  score: z.number(),
  support: z.number(),
  extent_m: vec3,
  points: z.number().int(),
  support_frames: z.array(z.object({ frame: z.number().int(), points: z.number().int() })),
  detections: z.array(
    z.object({
      detection_id: z.number(),
      frame: z.number(),
      label: z.string(),
      score: z.number(),
      box_px: z.tuple([z.number(), z.number(), z.number(), z.number()]),
      points: z.number(),
    }),
  ),
  instance_id: z.number().int().nullable(),
  instance_label: z.string().nullable(),
});
export type QueryHit = z.infer<typeof QueryHitSchema>;

export const QueryResultSchema = z.object({
  query: z.string(),
  mode: z.string(),
  encoders: z.object({ language: z.string().nullable(), vision: z.string().nullable() }),
  not_found: z.boolean(),
  reason: z.string().nullable(),
  hits: z.array(QueryHitSchema),
  look_at: z.object({ world_m: vec3, map_m: vec3 }).nullable(),
  goal: z.object({ map_m: vec2, yaw_rad: z.number(), world_m: vec3, distance_m: z.number() }).nullable(),
  goal_error: z.string().nullable(),
  /** Project asset with one little-endian float32 score per map point. */
  heatmap: z.string(),
  score_range: vec2,
  timings_ms: z.record(z.string(), z.number()),
});
export type QueryResultView = z.infer<typeof QueryResultSchema>;

const mapPose = z.object({ x_m: finite, y_m: finite, yaw_rad: finite }).strict();
export const WaypointViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  position_world_m: vec3,
  heading_world: vec3,
  look_at_world_m: vec3.nullable(),
  query: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  map: z.object({ x_m: z.number(), y_m: z.number(), yaw_rad: z.number() }),
});
export type WaypointView = z.infer<typeof WaypointViewSchema>;
export const WaypointsStateSchema = z.object({
  waypoints: z.array(WaypointViewSchema),
  map_frame: z.object({ origin_m: vec2, yaw_rad: z.number() }),
  map_from_world: z.array(z.number()).length(16),
});

export const FieldStatusSchema = z.object({
  checkpoints: z.array(
    z.object({ step: z.number().int(), heldout_accuracy: z.number().nullable(), engine: z.string() }),
  ),
  latest: z.number().int().nullable(),
  query_cache: z.boolean(),
});
export type FieldStatus = z.infer<typeof FieldStatusSchema>;

const waypointId = str(128).min(1);
const waypointName = str(200).min(1);

// ---------------------------------------------------------------------------------------------
// Request channels
// ---------------------------------------------------------------------------------------------

const none = z.object({}).strict();
const jobId = z.object({ id: str(128).min(1) }).strict();

export const channels = {
  'app.info': { args: none, result: AppInfoSchema },
  'project.create': {
    args: z.object({ dir: pathStr, name: str(200).min(1).optional() }).strict(),
    result: ProjectSummarySchema,
  },
  'project.open': { args: z.object({ dir: pathStr }).strict(), result: ProjectSummarySchema },
  'project.current': { args: none, result: ProjectSummarySchema.nullable() },
  'project.recent': { args: none, result: z.object({ items: z.array(RecentProjectSchema) }) },
  'jobs.start': {
    args: z.object({ kind: JobKindSchema, params: z.record(z.string(), z.unknown()).default({}) }).strict(),
    result: JobInfoSchema,
  },
  'jobs.cancel': { args: jobId, result: JobInfoSchema },
  'jobs.pause': { args: jobId, result: JobInfoSchema },
  'jobs.resume': { args: jobId, result: JobInfoSchema },
  'jobs.discard': { args: jobId, result: z.object({ id: z.string() }) },
  'jobs.list': { args: none, result: z.object({ jobs: z.array(JobInfoSchema) }) },
  'problems.list': { args: none, result: z.object({ problems: z.array(ProblemSchema) }) },
  'problems.clear': { args: none, result: z.object({ cleared: z.number().int() }) },
  'capture.frames': { args: none, result: FrameIndexSchema },
  'capture.frame': {
    args: z.object({ index: z.number().int().min(0).max(10_000_000) }).strict(),
    result: FrameDetailSchema,
  },
  'map.info': { args: none, result: MapSummarySchema },
  'labels.overview': { args: none, result: LabelsOverviewSchema },
  'labels.frame': {
    args: z.object({ index: z.number().int().min(0).max(10_000_000) }).strict(),
    result: z.object({ detections: z.array(FrameDetectionSchema) }),
  },
  'labels.edit': { args: z.object({ edit: LabelEditSchema }).strict(), result: LabelsOverviewSchema },
  'labels.undo': { args: none, result: LabelsOverviewSchema },
  'labels.objects': { args: none, result: z.object({ objects: z.array(LabelObjectSchema) }) },
  'field.status': { args: none, result: FieldStatusSchema },
  'query.run': {
    args: z
      .object({
        text: z
          .string()
          .trim()
          .min(1, 'type what to look for')
          .max(1000, 'queries are limited to 1000 characters'),
        mode: QueryModeSchema.default('auto'),
        weight: z.number().min(0).max(1).optional(),
        top: z.number().int().min(1).max(50).default(5),
      })
      .strict(),
    result: QueryResultSchema,
  },
  'waypoints.list': { args: none, result: WaypointsStateSchema },
  'waypoints.add': {
    args: z.union([
      z.object({ name: waypointName, query: z.string().min(1).max(1000) }).strict(),
      z.object({ name: waypointName, map: mapPose }).strict(),
      /** Stand-off pose facing a point (e.g. a query hit's centroid) in the capture's world frame. */
      z
        .object({
          name: waypointName,
          target_world_m: vec3,
          /** Half the target object's size (e.g. half a hit's extent diagonal): line of sight may end this close to the centre. */
          target_radius_m: z.number().min(0).max(10).optional(),
          query: z.string().max(1000).optional(),
        })
        .strict(),
    ]),
    result: WaypointsStateSchema,
  },
  'waypoints.rename': {
    args: z.object({ id: waypointId, name: waypointName }).strict(),
    result: WaypointsStateSchema,
  },
  'waypoints.move': {
    args: z.object({ id: waypointId, map: mapPose }).strict(),
    result: WaypointsStateSchema,
  },
  'waypoints.reorder': {
    args: z.object({ ids: z.array(waypointId).max(10_000) }).strict(),
    result: WaypointsStateSchema,
  },
  'waypoints.delete': { args: z.object({ id: waypointId }).strict(), result: WaypointsStateSchema },
  'waypoints.export': {
    args: z
      .object({
        format: z.enum(['json', 'nav2', 'csv', 'occupancy', 'ply']),
        out: pathStr,
        query: z.string().min(1).max(1000).optional(),
      })
      .strict(),
    result: z.object({ files: z.array(z.string()) }),
  },
  'waypoints.send': {
    args: z
      .object({
        url: z
          .string()
          .max(500)
          .regex(/^wss?:\/\/[^\s]+$/, 'must be a ws:// or wss:// URL'),
        topic: z.string().max(200).optional(),
        action: z.boolean().optional(),
      })
      .strict(),
    result: z.object({
      url: z.string(),
      topic: z.string(),
      published: z.array(z.object({ id: z.string(), name: z.string() })),
    }),
  },
  'field.use': {
    args: z.object({ step: z.number().int().min(0).max(1e12) }).strict(),
    result: JobInfoSchema,
  },
  'report.generate': { args: none, result: z.object({ asset: z.string(), bytes: z.number() }) },
  'mapframe.set': {
    args: z.object({ origin_m: vec2, yaw_rad: finite }).strict(),
    result: WaypointsStateSchema,
  },
} as const;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type ChannelArgs<C extends ChannelName> = z.input<Channels[C]['args']>;
export type ChannelParsedArgs<C extends ChannelName> = z.output<Channels[C]['args']>;
export type ChannelResult<C extends ChannelName> = z.output<Channels[C]['result']>;

export function isChannelName(name: unknown): name is ChannelName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(channels, name);
}

// ---------------------------------------------------------------------------------------------
// Events (main -> renderer)
// ---------------------------------------------------------------------------------------------

export const StudioEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job.state'), job: JobInfoSchema }),
  z.object({ type: z.literal('job.progress'), id: z.string(), progress: JobProgressSchema }),
  z.object({
    type: z.literal('job.log'),
    id: z.string(),
    level: z.enum(['info', 'warn', 'error']),
    message: z.string(),
  }),
  z.object({
    type: z.literal('job.metrics'),
    id: z.string(),
    metrics: z.record(z.string(), z.number()),
  }),
  z.object({ type: z.literal('job.done'), id: z.string(), result: z.unknown() }),
  z.object({ type: z.literal('job.failed'), id: z.string(), code: ErrorCodeSchema, message: z.string() }),
  z.object({ type: z.literal('project.changed'), project: ProjectSummarySchema.nullable() }),
  z.object({ type: z.literal('problem.added'), problem: ProblemSchema }),
]);
export type StudioEvent = z.infer<typeof StudioEventSchema>;
export type StudioEventType = StudioEvent['type'];

// ---------------------------------------------------------------------------------------------
// Wire format of the web host's WebSocket (Electron IPC carries the same objects)
// ---------------------------------------------------------------------------------------------

export const RpcRequestSchema = z.object({
  kind: z.literal('req'),
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  channel: z.string().max(200),
  args: z.unknown(),
});
export type RpcRequest = z.infer<typeof RpcRequestSchema>;
export type RpcResponse = { kind: 'res'; id: number; result: Result<unknown> };
export type RpcEvent = { kind: 'event'; event: StudioEvent };

/** What the renderer sees, whichever host it runs on (window.studio in Electron). */
export interface StudioBridge {
  readonly host: 'electron' | 'web';
  invoke<C extends ChannelName>(channel: C, args: ChannelArgs<C>): Promise<Result<ChannelResult<C>>>;
  onEvent(listener: (event: StudioEvent) => void): () => void;
  /** URL from which the renderer may fetch a project-relative asset (binary map, frame images). */
  assetUrl(projectRelativePath: string): string;
  /** Native file/folder picker (Electron only); `path` is null when the operator cancels. */
  pick?(kind: 'capture-file' | 'folder'): Promise<Result<{ path: string | null }>>;
  /** Application-menu commands such as `view.theme.dark` (Electron only). Returns an unsubscribe. */
  onMenu?(listener: (command: string) => void): () => void;
}

export function errorResult(code: ErrorCode, message: string): Err {
  return { ok: false, code, message };
}
