/** Messages between the main process and its training worker. */
import type { HeadTrainConfig } from '../../src-shared/contract';
import type { BackendChoice } from '../core/tf/backend';
import type { EvaluationResult } from '../core/train/evaluateJob';
import type { InterpretResult } from '../core/train/interpretJob';
import type { RecipeConfig, RecipeEvent, RecipeResult } from '../core/recipe/types';
import type { RecipeLeg } from '../core/recipe/recipeJob';
import type { RecipeEstimate } from '../core/recipe/estimate';

export type WorkerJob =
  | { kind: 'evaluate'; runId: number; runDir: string; config: HeadTrainConfig }
  | { kind: 'interpret'; runDir: string; config: HeadTrainConfig; tta: boolean }
  | { kind: 'estimate'; config: RecipeConfig; home: string }
  /** One leg of a run (core/recipe/recipeJob.ts `runRecipeLeg`). */
  | { kind: 'recipe'; runId: number; runDir: string; featureCache: string; home: string; leg: RecipeLeg };

export interface WorkerInit {
  job: WorkerJob;
  backend: BackendChoice;
  /** Int32Array over this buffer: [0] set to 1 means cancel (read between batches, no message round-trip). */
  cancel: SharedArrayBuffer;
}

/** What each kind of job answers with and emits: the host's result type follows from the job, not from its caller. */
export interface WorkerResults {
  evaluate: EvaluationResult;
  interpret: InterpretResult;
  estimate: RecipeEstimate;
  recipe: RecipeResult;
}
export interface WorkerEvents {
  evaluate: never;
  interpret: never;
  estimate: never;
  recipe: RecipeEvent;
}
export type JobKind = WorkerJob['kind'];
export type JobOf<K extends JobKind> = Extract<WorkerJob, { kind: K }>;

export type WorkerMessage<K extends JobKind = JobKind> =
  | { type: 'backend'; name: string; note: string }
  | { type: 'event'; event: WorkerEvents[K] }
  | { type: 'done'; result: WorkerResults[K] }
  | { type: 'error'; message: string };
