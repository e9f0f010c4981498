import type { HeadTrainConfig } from '../ipc/contract';

/** Defaults shared by the CLI and the wizard (fast.ai-like for the head on precomputed activations). */
export const DEFAULT_HEAD_CONFIG: Omit<HeadTrainConfig, 'dir'> = {
  epochs: 3,
  lr: 3e-3,
  size: 224,
  batchSize: 32,
  seed: 42,
  validPct: 0.2,
  dropout: 0.25,
};
