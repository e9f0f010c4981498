/** The eight-step recipe's configuration, results and events (fast.ai v0.7, lessons 1–2). */
import type { LrRangeTestResult } from '../lrfind/lrRangeTest';
import type { OptimizerKind } from '../train/optimizers';
import type { TrainEvent } from '../train/headJob';
import { DEFAULT_HEAD_CONFIG } from '../defaults';
import type { AugmentPreset } from '../data/augment';

export type { AugmentPreset };

export interface RecipeConfig {
  dir: string;
  size: number;
  batchSize: number;
  /** One seed drives the split, augmentation, initialisation and shuffling. */
  seed: number;
  validPct: number;
  dropout: number;
  /** Step 1: augmentation used from step 4 on (fast.ai: transforms_side_on). */
  preset: AugmentPreset;
  /** fast.ai v0.7 trains with SGD with momentum 0.9; AdamW is the alternative. */
  optimizer: OptimizerKind;
  /** Step 3 epochs on precomputed activations; null: 2 for tiny data (< 200 training images), else 1. */
  headEpochs: number | null;
  /** Step 4 epochs with augmentation, each one SGDR cycle (fast.ai: 3, cycle_len=1). */
  augmentEpochs: number;
  /** Step 6: group LRs are [lr/ratio², lr/ratio, lr] (fast.ai: 3 to 10). */
  lrRatio: number;
  /** Step 8: SGDR cycles (cycle_len=1, cycle_mult below); 3 cycles of 1, 2, 4 epochs. */
  cycles: number;
  cycleMult: number;
  /** Step 8: stop after this many cycles without a lower validation loss, then restore the best. */
  patience: number;
  /** Snapshot ensemble: average the predictions of the last K cycle snapshots. */
  ensembleK: number;
  /** LR range tests (steps 2 and 7). */
  lrFind: { start: number; end: number; iters: number };
  /** Step 7's iterations; absent or null: `lrFind.iters` capped at half of step 8's iterations (full steps are dear). */
  lrFindAllIters?: number | null;
  /** Fixed LRs instead of the range tests' suggestions (the tests still run and are stored). */
  lrHead: number | null;
  lrAll: number | null;
  /**
   * Steps 7–8: let BatchNorm use and update batch statistics (fastai) instead of keeping its pretrained statistics
   * (Keras' advice for small data). Off by default: on our Fashion-MNIST benchmark training BN lost accuracy.
   */
  trainBatchNorm?: boolean;
  /** A registry backbone that can be fine-tuned; default: the bundled offline MobileNetV2. */
  backbone?: string;
  /** Class imbalance: class-weighted loss or a balanced sampler (warned about in step 1). */
  balance?: BalanceMode;
}

export type BalanceMode = 'none' | 'weights' | 'sampler';

export const DEFAULT_RECIPE_CONFIG: Omit<RecipeConfig, 'dir'> = {
  size: DEFAULT_HEAD_CONFIG.size,
  batchSize: DEFAULT_HEAD_CONFIG.batchSize,
  seed: DEFAULT_HEAD_CONFIG.seed,
  validPct: DEFAULT_HEAD_CONFIG.validPct,
  dropout: DEFAULT_HEAD_CONFIG.dropout,
  preset: 'side-on',
  optimizer: 'sgd',
  headEpochs: null,
  augmentEpochs: 3,
  lrRatio: 3,
  cycles: 3,
  cycleMult: 2,
  patience: 1,
  ensembleK: 3,
  lrFind: { start: 1e-7, end: 10, iters: 100 },
  lrHead: null,
  lrAll: null,
};

/** Epochs of step 8 when no cycle stops it early: cycle_len=1, so 1 + m + m² + … */
export function step8Epochs(cycles: number, cycleMult: number): number {
  return Array.from({ length: cycles }, (_, k) => cycleMult ** k).reduce((a, b) => a + b, 0);
}

export const STEP_NAMES = [
  'step1-precompute',
  'step2-lrfind-head',
  'step3-head',
  'step4-augment',
  'step5-unfreeze',
  'step6-differential-lrs',
  'step7-lrfind-all',
  'step8-all',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

export interface StepResult {
  step: number;
  name: StepName;
  epochs: number;
  /** The LR of the step (the head's, for differential LRs). */
  lr: number | null;
  validLoss: number | null;
  validAccuracy: number | null;
  /** Per-group LR multipliers (steps 6–8). */
  groupLrMults?: number[];
  /** LR range tests: which suggestion was taken. */
  lrPick?: string;
  /** Step 8: the cycle whose weights were kept, and whether patience ended it early. */
  bestCycle?: number;
  stoppedEarly?: boolean;
  note?: string;
}

export interface EnsembleInfo {
  k: number;
  /** Snapshot folders relative to the run folder, oldest first. */
  snapshots: string[];
  validAccuracy: number;
}

export interface BestInfo {
  step: number;
  cycle: number;
  validLoss: number;
}

export type RecipeEvent =
  | TrainEvent
  | { type: 'step'; step: number; name: StepName; status: 'started' | 'done'; result?: StepResult }
  | { type: 'lrFind'; step: number; name: StepName; result: LrRangeTestResult };

export interface RecipeResult {
  status: 'completed' | 'cancelled' | 'failed';
  error: string | null;
  modelDir: string | null;
  steps: StepResult[];
  ensemble: EnsembleInfo | null;
  best: BestInfo | null;
  seed: number;
  /** The step a resume would start with; 9 when all eight are done (`untilStep` can stop earlier). */
  nextStep: number;
}
