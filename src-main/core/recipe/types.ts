/** The eight-step recipe's configuration, results and events (fast.ai v0.7, lessons 1–2). */
import type { Message } from '../../../src-shared/messages';
import type { LrRangeTestResult } from '../lrfind/lrRangeTest';
import type { RecipeConfig as RecipeConfigSchema, RecipeStepResult } from '../../../src-shared/contract';
import type {
  EpochMetrics,
  RecommendedLr,
  SuggestionWarningMessages,
  SuggestionWarnings,
} from '../../../src-shared/contract';
import type { DatasetRecord } from '../data/runDataset';
import type { StepName } from '../../../src-shared/recipe/config';
import type { AugmentPreset } from '../data/augment';

export type { AugmentPreset };

/**
 * The recipe's configuration: the contract's schema is the one source (src-shared/contract.ts), so the core, the
 * service, the CLI and the wizard cannot disagree about it.
 */
export type RecipeConfig = RecipeConfigSchema;

export type BalanceMode = 'none' | 'weights' | 'sampler';

/** A finished step as the contract's `RecipeStepResult` sends it, with its name from STEP_NAMES. */
export type StepResult = Omit<RecipeStepResult, 'name'> & { name: StepName };

export interface EnsembleInfo {
  k: number;
  /** Snapshot folders relative to the run folder, oldest first. */
  snapshots: string[];
  validAccuracy: number;
  /**
   * Each member's own validation accuracy, in the order of `snapshots` (absent in runs made before it was recorded):
   * an ensemble below its best member says the members differ too much in quality.
   */
  memberAccuracies?: number[];
}

export interface BestInfo {
  step: number;
  cycle: number;
  validLoss: number;
}

export type TrainPhase = 'loading' | 'precompute' | 'lrfind' | 'train' | 'validate';

/** What the training loop reports (the core's side; the run controller turns it into the contract's RunEvent). */
export type TrainEvent =
  | {
      type: 'progress';
      phase: TrainPhase;
      label: string;
      /** `label` as a code, which the renderer says in the user's language. */
      message?: Message;
      done: number;
      total: number;
      etaSeconds: number | null;
    }
  | { type: 'dataset'; dataset: DatasetRecord }
  /** `step`: the step the iteration belongs to, as in the epoch events ('step3-head', 'step8-all', ...). */
  | { type: 'batch'; step: string; epoch: number; iteration: number; loss: number; lr: number }
  | ({ type: 'epoch' } & EpochMetrics);

/** What a recipe run emits while it runs (the worker posts these; `RunController` records and relays them). */
export type RecipeEvent =
  | TrainEvent
  | { type: 'step'; step: number; name: StepName; status: 'started' | 'done'; result?: StepResult }
  | { type: 'lrFindPoint'; step: 2 | 7; iteration: number; lr: number; loss: number; smoothedLoss: number }
  | {
      type: 'lrFind';
      step: 2 | 7;
      name: StepName;
      result: LrRangeTestResult;
      recommended: RecommendedLr;
      warnings: SuggestionWarnings;
      warningMessages?: SuggestionWarningMessages;
    }
  /** `message` in English (logs, the CLI); `coded`: the same as a code the renderer says in the user's language. */
  | { type: 'warning'; message: string; coded?: Message };

export interface RecipeResult {
  /** 'completed': the leg ran to its `untilStep` (all eight steps when `nextStep` is 9). */
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
