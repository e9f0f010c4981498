/** The eight-step recipe's configuration, results and events (fast.ai v0.7, lessons 1–2). */
import type { LrRangeTestResult } from '../lrfind/lrRangeTest';
import type { RecipeConfig as RecipeConfigSchema, RecipeStepResult } from '../../../src-shared/contract';
import type { TrainEvent } from '../train/headJob';
import { DEFAULT_HEAD_CONFIG } from '../defaults';
import type { AugmentPreset } from '../data/augment';

export type { AugmentPreset };

/**
 * The recipe's configuration: the contract's schema is the one source (src-shared/contract.ts), so the core, the
 * service, the CLI and the wizard cannot disagree about it.
 */
export type RecipeConfig = RecipeConfigSchema;

/** Which range-test suggestion step 2 takes for the head (`RecipeConfig.lrRule`). */
export type LrRule = NonNullable<RecipeConfig['lrRule']>;
/** The rule when a config has none (configs saved before it existed too): see the README's LR grid. */
export const DEFAULT_LR_RULE: LrRule = 'minDiv10';

export type BalanceMode = 'none' | 'weights' | 'sampler';

export const DEFAULT_RECIPE_CONFIG: Omit<RecipeConfig, 'dir'> = {
  size: DEFAULT_HEAD_CONFIG.size,
  batchSize: DEFAULT_HEAD_CONFIG.batchSize,
  seed: DEFAULT_HEAD_CONFIG.seed,
  validPct: DEFAULT_HEAD_CONFIG.validPct,
  dropout: DEFAULT_HEAD_CONFIG.dropout,
  preset: 'side-on',
  optimizer: 'adamw',
  lrRule: DEFAULT_LR_RULE,
  headEpochs: null,
  augmentEpochs: 3,
  lrRatio: 3,
  cycles: 4,
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

/** A finished step as the contract's `RecipeStepResult` sends it, with its name from STEP_NAMES. */
export type StepResult = Omit<RecipeStepResult, 'name'> & { name: StepName };

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
