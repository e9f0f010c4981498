/**
 * The eight-step recipe's defaults and step names: pure, so the wizard, the CLI and the core read the same ones.
 */
import type { RecipeConfig } from '../schemas';
import { DEFAULT_HEAD_CONFIG } from '../defaults';

/** Which range-test suggestion step 2 takes for the head (`RecipeConfig.lrRule`). */
export type LrRule = NonNullable<RecipeConfig['lrRule']>;
/** The rule when a config has none (configs saved before it existed too): see the README's LR grid. */
export const DEFAULT_LR_RULE: LrRule = 'minDiv10';

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
