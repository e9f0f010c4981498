/**
 * One run through fast.ai's eight steps, as the contract carries it (docs/run-lifecycle.md): the settings a
 * continuation may change, the one event type every transport relays (`run.event`), and the run's whole state as the
 * server holds it (`run.state`), enough for a freshly loaded page to redraw a run in the middle of a step.
 */
import { z } from 'zod';
import { MessageSchema } from './messages';
import { EpochMetrics, LrFindResult, RecipeConfig, RecipeStepResult, RunTiming } from './schemas';
import { IterationPoint, RunStatus } from './runSchemas';

/** A step number, 1–8. */
export const StepNumber = z.number().int().min(1).max(8);

/**
 * The settings of steps not yet run that `run.continue` may change (e.g. the head LR clicked on step 2's plot,
 * step 3's epochs, step 7's LR as `lrAll`, step 8's cycles). The dataset, split, seed, image size and backbone are
 * the run's own: a continuation cannot change them.
 */
export const RecipeOverrides = RecipeConfig.omit({
  dir: true,
  seed: true,
  validPct: true,
  size: true,
  backbone: true,
}).partial();
export type RecipeOverrides = z.infer<typeof RecipeOverrides>;

/** Why a suggestion of step 7's range test would stall step 8 (null: it is safe); see core/recipe/lrGuard.ts. */
export const SuggestionWarnings = z.object({
  valley: z.string().nullable(),
  steep: z.string().nullable(),
  minDiv10: z.string().nullable(),
});
export type SuggestionWarnings = z.infer<typeof SuggestionWarnings>;

/** `SuggestionWarnings` as codes: each flagged suggestion's problems (null: not flagged). */
export const SuggestionWarningMessages = z.object({
  valley: z.array(MessageSchema).nullable(),
  steep: z.array(MessageSchema).nullable(),
  minDiv10: z.array(MessageSchema).nullable(),
});
export type SuggestionWarningMessages = z.infer<typeof SuggestionWarningMessages>;

/** The LR the step settles on unless the user picks another: its value, how it was chosen, and a warning if any. */
export const RecommendedLr = z.object({
  lr: z.number(),
  /** 'valley' | 'steep' | 'minDiv10' | 'fallback' (step 2); step 7: the rule of core/recipe/lrGuard.ts in words. */
  pick: z.string(),
  /** Set when even the recommended LR may stall training (e.g. a sweep that diverged early or stayed flat). */
  warning: z.string().nullable(),
  /** `warning` as a code, said in the user's language (absent in older records). */
  warningMessage: MessageSchema.optional(),
});
export type RecommendedLr = z.infer<typeof RecommendedLr>;

/** A finished range test of step 2 or 7: its curve (non-finite losses as null), suggestions and guard. */
export const LrFindCurve = LrFindResult.omit({ lrFindId: true }).extend({
  step: z.union([z.literal(2), z.literal(7)]),
  recommended: RecommendedLr,
  /** Step 7: which suggestions would stall step 8 and why (all null for step 2). */
  warnings: SuggestionWarnings,
  warningMessages: SuggestionWarningMessages.optional(),
});
export type LrFindCurve = z.infer<typeof LrFindCurve>;

/** One point of a range test in progress. */
export const LrFindPoint = z.object({
  step: z.union([z.literal(2), z.literal(7)]),
  iteration: z.number().int(),
  lr: z.number(),
  loss: z.number().nullable(),
  smoothedLoss: z.number().nullable(),
});
export type LrFindPoint = z.infer<typeof LrFindPoint>;

export const RunPhase = z.enum(['loading', 'precompute', 'lrfind', 'train', 'validate']);
export type RunPhase = z.infer<typeof RunPhase>;

export const RunProgress = z.object({
  /** The step it belongs to (null while the images are read, before step 1). */
  step: StepNumber.nullable(),
  phase: RunPhase,
  /** English (logs, the CLI, older clients); `message`: the same as a code, said in the user's language. */
  label: z.string(),
  message: MessageSchema.optional(),
  done: z.number(),
  total: z.number(),
  etaSeconds: z.number().nullable(),
});
export type RunProgress = z.infer<typeof RunProgress>;

/**
 * Every event of a run, one type for all transports and both the app and the server (`run.event`). All carry the
 * run's id; the renderer keeps one job store keyed by it.
 */
export const RunEvent = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), runId: z.number().int() }).extend(RunProgress.shape),
  /** One per mini-batch; `epoch` 0-based, `iteration` counts from 0 across the step; loss null where not finite. */
  z.object({
    type: z.literal('batch'),
    runId: z.number().int(),
    step: z.string(),
    epoch: z.number().int(),
    iteration: z.number().int(),
    loss: z.number().nullable(),
    /** The LR applied to this batch (the head's group, when groups differ). */
    lr: z.number(),
  }),
  /** `step`: the step's name ('step3-head', …); `epoch` 0-based within it. */
  z.object({ type: z.literal('epoch'), runId: z.number().int() }).extend(EpochMetrics.shape),
  z.object({
    type: z.literal('step'),
    runId: z.number().int(),
    step: StepNumber,
    name: z.string(),
    status: z.enum(['started', 'done']),
    result: RecipeStepResult.nullable(),
  }),
  z.object({ type: z.literal('lrfindPoint'), runId: z.number().int() }).extend(LrFindPoint.shape),
  z.object({ type: z.literal('lrfind'), runId: z.number().int(), result: LrFindCurve }),
  /** `message` in English; `coded`: the same as a code, said in the user's language. */
  z.object({
    type: z.literal('warning'),
    runId: z.number().int(),
    message: z.string(),
    coded: MessageSchema.optional(),
  }),
  /** The run left the worker: `status` as stored ('paused' = stopped at `untilStep`, continuable). */
  z.object({
    type: z.literal('done'),
    runId: z.number().int(),
    status: RunStatus,
    error: z.string().nullable(),
    /** The first step not done (9: all eight are). */
    nextStep: z.number().int().min(1).max(9),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent['type'];

/** Everything a page needs to redraw a run, running or not (`run.state`, `run.active`). */
export const RunState = z.object({
  runId: z.number().int(),
  kind: z.string(),
  createdAt: z.string(),
  status: RunStatus,
  /** The recipe config as stored: the run's start config with every continuation's overrides applied. */
  config: RecipeConfig,
  /** Where the current (or last) leg stops; 8 when it runs to the end. */
  untilStep: StepNumber,
  /** The first step not done (9: all eight are). */
  nextStep: z.number().int().min(1).max(9),
  /** The step running now; null when the run is not running. */
  currentStep: StepNumber.nullable(),
  /** The latest progress of the running step; null when not running. */
  progress: RunProgress.nullable(),
  classes: z.array(z.string()),
  steps: z.array(RecipeStepResult),
  /** The finished range tests (steps 2 and 7). */
  lrFinds: z.array(LrFindCurve),
  /** The points of the range test running now (empty otherwise). */
  lrFindPoints: z.array(LrFindPoint),
  epochs: z.array(EpochMetrics),
  /** The training iterations, downsampled to ~2000 points (loss averaged, LR sampled). */
  iterations: z.array(IterationPoint),
  iterationCount: z.number().int().nonnegative(),
  /** The LRs settled so far: the head's (steps 3–4) and the unfrozen network's (step 8); null until decided. */
  lrHead: z.number().nullable(),
  lrAll: z.number().nullable(),
  best: z.object({ step: z.number().int(), cycle: z.number().int(), validLoss: z.number() }).nullable(),
  ensemble: z
    .object({
      k: z.number().int(),
      validAccuracy: z.number(),
      /** Each member's own accuracy, oldest first (absent for runs from before it was recorded). */
      memberAccuracies: z.array(z.number()).optional(),
    })
    .nullable(),
  timing: RunTiming.nullable(),
  warnings: z.array(z.string()),
  /** `warnings` as codes, in the same order (null: said only in English); absent from older servers. */
  warningMessages: z.array(MessageSchema.nullable()).optional(),
  error: z.string().nullable(),
  /** Whether a trained model is on disk (after step 3): export, predict, evaluate and interpret need one. */
  hasModel: z.boolean(),
  canCancel: z.boolean(),
  canContinue: z.boolean(),
  rerunOf: z.number().int().nullable(),
});
export type RunState = z.infer<typeof RunState>;
