/**
 * Field model and training configuration, with the presets offered by the studio and the CLI.
 *
 * Defaults follow notmahi/clip-fields (train.yaml / GridCLIPModel): Adam lr 1e-4, betas (0.9, 0.999),
 * weight decay 0.003 (torch Adam semantics: L2 added to the gradient, applied to every parameter including
 * the temperature), log-temperature initialised at log(1/0.07) and clamped at log(100) after each step,
 * image_to_label and label_to_image loss ratios 1, vision weight exp(-0.5 * distance_m), MLP with ReLU and
 * `depth` hidden layers (clip-fields: mlp_depth 1, mlp_width 600), hash grid base resolution 16.
 */
export interface GridConfig {
  levels: number;
  featuresPerLevel: number;
  log2TableSize: number;
  baseResolution: number;
  /** Finest grid resolution N_max over the normalised [0,1]^3 box; per-level scale b = (N_max/N_min)^(1/(L-1)). */
  maxResolution: number;
  /** Table entries are initialised uniform in [-initScale, initScale]. */
  initScale: number;
}

export interface MlpConfig {
  width: number;
  /** Number of hidden layers (0 = a single linear layer). */
  depth: number;
}

export interface OptimizerConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /**
   * 'lazy': hash-table rows are updated only in steps whose batch touched them (LazyAdam); measured to give the
   * same training result as 'dense' (see field tests / report) at a fraction of the cost. 'dense': every table
   * entry every step (exact torch.optim.Adam semantics).
   */
  gridUpdate: 'lazy' | 'dense';
}

export interface LossConfig {
  imageToLabelRatio: number;
  labelToImageRatio: number;
  initLogTemperature: number;
  maxLogTemperature: number;
  /** Vision-head per-sample weight is exp(-visionDistanceDecay * distance_m). */
  visionDistanceDecay: number;
}

export interface FieldConfig {
  preset: PresetName;
  grid: GridConfig;
  mlp: MlpConfig;
  batchSize: number;
  optimizer: OptimizerConfig;
  loss: LossConfig;
}

export type PresetName = 'cpu' | 'paper' | 'custom';

export const DEFAULT_OPTIMIZER: OptimizerConfig = {
  lr: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.003,
  gridUpdate: 'lazy',
};

export const DEFAULT_LOSS: LossConfig = {
  imageToLabelRatio: 1,
  labelToImageRatio: 1,
  initLogTemperature: Math.log(1 / 0.07),
  maxLogTemperature: Math.log(100),
  visionDistanceDecay: 0.5,
};

const PRESETS: Record<'cpu' | 'paper', Omit<FieldConfig, 'optimizer' | 'loss'>> = {
  cpu: {
    preset: 'cpu',
    grid: {
      levels: 16,
      featuresPerLevel: 2,
      log2TableSize: 19,
      baseResolution: 16,
      maxResolution: 1024,
      initScale: 1e-4,
    },
    mlp: { width: 256, depth: 1 },
    batchSize: 2048,
  },
  paper: {
    preset: 'paper',
    grid: {
      levels: 18,
      featuresPerLevel: 8,
      log2TableSize: 20,
      baseResolution: 16,
      maxResolution: 2048,
      initScale: 1e-4,
    },
    mlp: { width: 600, depth: 1 },
    batchSize: 12544,
  },
};

export interface ConfigOverrides {
  grid?: Partial<GridConfig>;
  mlp?: Partial<MlpConfig>;
  batchSize?: number;
  optimizer?: Partial<OptimizerConfig>;
  loss?: Partial<LossConfig>;
}

export class FieldConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FieldConfigError';
  }
}

/** A preset with overrides applied ('custom' starts from 'cpu'); validated. */
export function makeConfig(preset: PresetName, overrides: ConfigOverrides = {}): FieldConfig {
  const base = PRESETS[preset === 'custom' ? 'cpu' : preset];
  const cfg: FieldConfig = {
    preset,
    grid: { ...base.grid, ...overrides.grid },
    mlp: { ...base.mlp, ...overrides.mlp },
    batchSize: overrides.batchSize ?? base.batchSize,
    optimizer: { ...DEFAULT_OPTIMIZER, ...overrides.optimizer },
    loss: { ...DEFAULT_LOSS, ...overrides.loss },
  };
  validateConfig(cfg);
  return cfg;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new FieldConfigError(`invalid field config: ${what}`);
}

export function validateConfig(c: FieldConfig): void {
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  check(int(c.grid.levels, 1, 32), `grid.levels ${c.grid.levels} must be an integer in [1, 32]`);
  check(
    int(c.grid.featuresPerLevel, 1, 16),
    `grid.featuresPerLevel ${c.grid.featuresPerLevel} must be in [1, 16]`,
  );
  check(int(c.grid.log2TableSize, 4, 24), `grid.log2TableSize ${c.grid.log2TableSize} must be in [4, 24]`);
  check(
    c.grid.baseResolution >= 2 && c.grid.maxResolution >= c.grid.baseResolution,
    'grid resolutions need 2 <= base <= max',
  );
  check(c.grid.maxResolution <= 1 << 20, 'grid.maxResolution must be <= 2^20');
  check(c.grid.initScale >= 0 && Number.isFinite(c.grid.initScale), 'grid.initScale must be finite and >= 0');
  check(int(c.mlp.width, 1, 8192), `mlp.width ${c.mlp.width} must be in [1, 8192]`);
  check(int(c.mlp.depth, 0, 16), `mlp.depth ${c.mlp.depth} must be in [0, 16]`);
  check(int(c.batchSize, 2, 1 << 17), `batchSize ${c.batchSize} must be in [2, 131072]`);
  const o = c.optimizer;
  check(
    o.lr > 0 && o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1 && o.eps > 0 && o.weightDecay >= 0,
    'optimizer values out of range',
  );
  check(o.gridUpdate === 'lazy' || o.gridUpdate === 'dense', 'optimizer.gridUpdate must be lazy or dense');
  const l = c.loss;
  check(
    l.imageToLabelRatio >= 0 && l.labelToImageRatio >= 0 && l.visionDistanceDecay >= 0,
    'loss ratios must be >= 0',
  );
  check(
    Number.isFinite(l.initLogTemperature) && Number.isFinite(l.maxLogTemperature),
    'loss temperatures must be finite',
  );
}
