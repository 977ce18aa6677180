/**
 * The training form: fields as typed, their explanations and defaults, and the conversion to the
 * `train` job's params (main validates them again with its own schema).
 */
export type Preset = 'cpu' | 'paper' | 'custom';
export type Engine = 'onnx' | 'tfjs';

export interface TrainForm {
  preset: Preset;
  engine: Engine;
  steps: string;
  seed: string;
  threads: string;
  checkpoint_every: string;
  eval_every: string;
  heldout_fraction: string;
  // Custom-only (empty = the preset's value).
  batch_size: string;
  lr: string;
  weight_decay: string;
  levels: string;
  features_per_level: string;
  log2_table_size: string;
  base_resolution: string;
  max_resolution: string;
  mlp_width: string;
  mlp_depth: string;
}

export const DEFAULT_TRAIN_FORM: TrainForm = {
  preset: 'cpu',
  engine: 'onnx',
  steps: '3000',
  seed: '0',
  threads: '2',
  checkpoint_every: '500',
  eval_every: '200',
  heldout_fraction: '0.05',
  batch_size: '',
  lr: '',
  weight_decay: '',
  levels: '',
  features_per_level: '',
  log2_table_size: '',
  base_resolution: '',
  max_resolution: '',
  mlp_width: '',
  mlp_depth: '',
};

/** The presets' model sizes as main defines them (shown as placeholders for custom fields). */
export const PRESET_VALUES: Record<'cpu' | 'paper', Record<string, string>> = {
  cpu: {
    batch_size: '2048',
    lr: '0.0001',
    weight_decay: '0.003',
    levels: '16',
    features_per_level: '2',
    log2_table_size: '19',
    base_resolution: '16',
    max_resolution: '1024',
    mlp_width: '256',
    mlp_depth: '1',
  },
  paper: {
    batch_size: '12544',
    lr: '0.0001',
    weight_decay: '0.003',
    levels: '18',
    features_per_level: '8',
    log2_table_size: '20',
    base_resolution: '16',
    max_resolution: '2048',
    mlp_width: '600',
    mlp_depth: '1',
  },
};

interface FieldSpec {
  label: string;
  help: string;
  int: boolean;
  min: number;
  max: number;
}

export const FIELD_SPECS: Record<Exclude<keyof TrainForm, 'preset' | 'engine'>, FieldSpec> = {
  steps: {
    label: 'Steps',
    help: 'Optimiser steps to run (default 3000). More steps, better field, longer run.',
    int: true,
    min: 1,
    max: 10_000_000,
  },
  seed: {
    label: 'Seed',
    help: 'Random seed for batch sampling and initialisation (default 0); same seed, same run.',
    int: true,
    min: 0,
    max: 2 ** 31 - 1,
  },
  threads: { label: 'Threads', help: 'CPU threads for the engine (default 2).', int: true, min: 1, max: 64 },
  checkpoint_every: {
    label: 'Checkpoint every',
    help: 'Save a resumable checkpoint every N steps (default 500; 0 = only at the end).',
    int: true,
    min: 0,
    max: 10_000_000,
  },
  eval_every: {
    label: 'Evaluate every',
    help: 'Measure held-out accuracy every N steps (default 200).',
    int: true,
    min: 1,
    max: 10_000_000,
  },
  heldout_fraction: {
    label: 'Held-out fraction',
    help: 'Share of labeled points kept out of training to measure accuracy (default 0.05).',
    int: false,
    min: 0,
    max: 0.5,
  },
  batch_size: {
    label: 'Batch size',
    help: 'Points per step (cpu 2048, paper 12544). Larger = smoother loss, slower steps.',
    int: true,
    min: 2,
    max: 131072,
  },
  lr: { label: 'Learning rate', help: 'Adam step size (default 1e-4).', int: false, min: 1e-9, max: 1 },
  weight_decay: {
    label: 'Weight decay',
    help: 'L2 penalty on MLP weights (default 0.003).',
    int: false,
    min: 0,
    max: 1,
  },
  levels: {
    label: 'Grid levels',
    help: 'Hash-grid resolution levels (cpu 16, paper 18).',
    int: true,
    min: 1,
    max: 32,
  },
  features_per_level: {
    label: 'Features / level',
    help: 'Features stored per grid level (cpu 2, paper 8).',
    int: true,
    min: 1,
    max: 16,
  },
  log2_table_size: {
    label: 'log2 table size',
    help: 'Hash table entries per level as a power of two (cpu 19, paper 20). Memory grows 2× per step.',
    int: true,
    min: 4,
    max: 24,
  },
  base_resolution: {
    label: 'Base resolution',
    help: 'Coarsest grid cells per axis (default 16).',
    int: true,
    min: 2,
    max: 1 << 20,
  },
  max_resolution: {
    label: 'Max resolution',
    help: 'Finest grid cells per axis (cpu 1024, paper 2048).',
    int: true,
    min: 2,
    max: 1 << 20,
  },
  mlp_width: {
    label: 'MLP width',
    help: 'Hidden units of the MLP head (cpu 256, paper 600).',
    int: true,
    min: 1,
    max: 8192,
  },
  mlp_depth: {
    label: 'MLP depth',
    help: 'Hidden layers of the MLP head (default 1).',
    int: true,
    min: 0,
    max: 16,
  },
};

export const BASIC_FIELDS = [
  'steps',
  'seed',
  'threads',
  'checkpoint_every',
  'eval_every',
  'heldout_fraction',
] as const;
export const CUSTOM_FIELDS = [
  'batch_size',
  'lr',
  'weight_decay',
  'levels',
  'features_per_level',
  'log2_table_size',
  'base_resolution',
  'max_resolution',
  'mlp_width',
  'mlp_depth',
] as const;

function num(f: TrainForm, key: keyof typeof FIELD_SPECS): number | { error: string } {
  const spec = FIELD_SPECS[key];
  const raw = f[key].trim();
  const v = Number(raw);
  if (
    raw === '' ||
    !Number.isFinite(v) ||
    (spec.int && !Number.isInteger(v)) ||
    v < spec.min ||
    v > spec.max
  ) {
    return {
      error: `${spec.label} must be ${spec.int ? 'a whole number' : 'a number'} from ${spec.min} to ${spec.max}.`,
    };
  }
  return v;
}

export function trainParamsFrom(f: TrainForm): { params: Record<string, unknown> } | { error: string } {
  const params: Record<string, unknown> = { preset: f.preset, engine: f.engine };
  for (const k of BASIC_FIELDS) {
    const v = num(f, k);
    if (typeof v !== 'number') return v;
    params[k] = v;
  }
  if (f.preset !== 'custom') return { params };
  const got: Partial<Record<(typeof CUSTOM_FIELDS)[number], number>> = {};
  for (const k of CUSTOM_FIELDS) {
    if (f[k].trim() === '') continue;
    const v = num(f, k);
    if (typeof v !== 'number') return v;
    got[k] = v;
  }
  if (got.batch_size !== undefined) params.batch_size = got.batch_size;
  if (got.lr !== undefined) params.lr = got.lr;
  if (got.weight_decay !== undefined) params.weight_decay = got.weight_decay;
  const grid: Record<string, number> = {};
  for (const k of [
    'levels',
    'features_per_level',
    'log2_table_size',
    'base_resolution',
    'max_resolution',
  ] as const)
    if (got[k] !== undefined) grid[k] = got[k];
  if (
    grid.base_resolution !== undefined &&
    grid.max_resolution !== undefined &&
    grid.max_resolution < grid.base_resolution
  ) {
    return { error: 'Max resolution must be at least the base resolution.' };
  }
  if (Object.keys(grid).length) params.grid = grid;
  const mlp: Record<string, number> = {};
  if (got.mlp_width !== undefined) mlp.width = got.mlp_width;
  if (got.mlp_depth !== undefined) mlp.depth = got.mlp_depth;
  if (Object.keys(mlp).length) params.mlp = mlp;
  return { params };
}
