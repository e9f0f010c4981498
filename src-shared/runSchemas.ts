/**
 * The run history's shapes (runs, their details and comparisons, re-runs, the data cleaner's moves): zod schemas
 * with their inferred types, built on the domain shapes of schemas.ts. `contract.ts` re-exports them.
 */
import { z } from 'zod';
import {
  DatasetSummary,
  EpochMetrics,
  HeadTrainConfig,
  IterationMetrics,
  RecipeConfig,
  RecipeStepResult,
  RunTiming,
} from './schemas';

/** One move of the data cleaner (core/data/cleaner.ts), paths relative to the dataset folder with '/'. */
export const CleanEntry = z.object({
  id: z.number().int(),
  kind: z.enum(['relabel', 'exclude']),
  from: z.string(),
  to: z.string(),
  fromClass: z.string(),
  /** The class it moved to; null when excluded. */
  toClass: z.string().nullable(),
  at: z.string(),
  /** Written before the move and not yet confirmed: a crash came in between; undo settles it from the disk. */
  pending: z.boolean().optional(),
});
export type CleanEntry = z.infer<typeof CleanEntry>;

/** The cleaner's undo list for a run's dataset folder, oldest move first. */
export const CleanState = z.object({ dir: z.string(), entries: z.array(CleanEntry) });
export type CleanState = z.infer<typeof CleanState>;

/**
 * 'paused': stopped at the `untilStep` it was asked for, waiting for `run.continue`; 'cancelled' and 'interrupted'
 * (its process ended mid-step) continue from their checkpoint too; 'completed': all eight steps done.
 */
export const RunStatus = z.enum(['running', 'paused', 'completed', 'cancelled', 'failed', 'interrupted']);
export type RunStatus = z.infer<typeof RunStatus>;

export const RunSummary = z.object({
  id: z.number().int(),
  /** 'fastai8' (the eight-step recipe, stopped anywhere from step 3 on for a head-only model); 'head': older runs. */
  kind: z.string(),
  /** The step the run's plan stops after (3: head only, 8: the eight steps); with `status`, recipe/runKind.ts words it. */
  untilStep: z.number().int().min(1).max(8),
  createdAt: z.string(),
  dir: z.string(),
  status: RunStatus,
  backend: z.string(),
  /** The backend in words, threads included (null for runs recorded before schema 3). */
  backendNote: z.string().nullable(),
  classes: z.array(z.string()),
  bestValidAccuracy: z.number().nullable(),
  epochs: z.number().int(),
  /** The run whose settings this one was started with ("Run again", `finetune runs rerun`); null otherwise. */
  rerunOf: z.number().int().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/**
 * What a new run needs to repeat a recorded one: the recipe config it ran with (a 'head' run of older versions as the
 * recipe stopped after step 3) and the step it stopped after.
 */
export const RerunConfig = z.object({
  runId: z.number().int(),
  kind: z.string(),
  config: RecipeConfig,
  untilStep: z.number().int().min(1).max(8),
});
export type RerunConfig = z.infer<typeof RerunConfig>;

export const RunDetail = RunSummary.extend({
  config: HeadTrainConfig,
  /** The recipe config as stored (overrides of every continuation applied); null for older head runs. */
  recipe: RecipeConfig.nullable(),
  /** Each finished step's result (its LR and how it was picked, epochs, validation metrics). */
  steps: z.array(RecipeStepResult),
  dataset: DatasetSummary.omit({ thumbnails: true }),
  metrics: z.array(EpochMetrics),
  error: z.string().nullable(),
  timing: RunTiming.nullable(),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** A training iteration in `runs.compare`; `index`: its position among all of the run's iterations (the x axis). */
export const IterationPoint = IterationMetrics.extend({ index: z.number().int().nonnegative() });
export type IterationPoint = z.infer<typeof IterationPoint>;

/** One run as the Compare view overlays it. */
export const RunComparison = RunSummary.pick({
  id: true,
  kind: true,
  untilStep: true,
  createdAt: true,
  dir: true,
  status: true,
  backend: true,
}).extend({
  config: z.record(z.string(), z.unknown()),
  metrics: z.array(EpochMetrics),
  /** At most ~2000 points: above that, consecutive iterations are averaged (loss) and sampled (LR, step, epoch). */
  iterations: z.array(IterationPoint),
  /** How many iterations the run recorded before downsampling. */
  iterationCount: z.number().int().nonnegative(),
  /** The recipe's finished steps (empty for head runs). */
  steps: z.array(RecipeStepResult),
});
export type RunComparison = z.infer<typeof RunComparison>;

/** A config key whose values differ between the compared runs: dotted path, one value per run (null: absent). */
export const ConfigDiffRow = z.object({ key: z.string(), values: z.array(z.string().nullable()) });
export type ConfigDiffRow = z.infer<typeof ConfigDiffRow>;
