import type { HeadTrainConfig, LrFindConfig } from './contract';

/** Defaults shared by the CLI and the wizard (fast.ai-like for the head on precomputed activations). */
export const DEFAULT_HEAD_CONFIG: Omit<HeadTrainConfig, 'dir'> = {
  epochs: 3,
  lr: 3e-3,
  size: 224,
  batchSize: 32,
  seed: 42,
  validPct: 0.2,
  dropout: 0.25,
  schedule: { kind: 'constant' },
};

/** fastai's lr_find defaults. */
export const DEFAULT_LR_FIND: Pick<LrFindConfig, 'start' | 'end' | 'iters' | 'mode'> = {
  start: 1e-7,
  end: 10,
  iters: 100,
  mode: 'exp',
};
