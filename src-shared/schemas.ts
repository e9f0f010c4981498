/**
 * The domain shapes the contract carries (datasets, configs, metrics, results, runs): zod schemas with their
 * inferred types. `contract.ts` re-exports them with the requests, events and frames built from them.
 */
import { z } from 'zod';
import { MessageSchema } from './messages';

export const ClassCount = z.object({
  name: z.string(),
  train: z.number().int().nonnegative(),
  valid: z.number().int().nonnegative(),
});
export type ClassCount = z.infer<typeof ClassCount>;

/** `reason` in English (logs, the CLI, older clients); `message`: the same as a code, said in the user's language. */
export const SkippedFile = z.object({ file: z.string(), reason: z.string(), message: MessageSchema.optional() });
export type SkippedFile = z.infer<typeof SkippedFile>;

export const Thumbnail = z.object({ className: z.string(), file: z.string(), dataUrl: z.string() });
export type Thumbnail = z.infer<typeof Thumbnail>;

/** sha256 over the sorted `relative/path<TAB>bytes` lines of a dataset's images (core/data/fingerprint.ts). */
export const DatasetFingerprint = z.object({
  sha256: z.string(),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});
export type DatasetFingerprint = z.infer<typeof DatasetFingerprint>;

export const DatasetSummary = z.object({
  dir: z.string(),
  /** `split`: DIR/train + DIR/valid given; `folders`: DIR/<class>, validation split made with the seed. */
  layout: z.enum(['split', 'folders']),
  validPct: z.number(),
  seed: z.number().int(),
  classes: z.array(ClassCount),
  skipped: z.array(SkippedFile),
  thumbnails: z.array(Thumbnail),
  warnings: z.array(z.string()),
  /** `warnings` as codes (src-shared/messages), in the same order; absent in older records. */
  warningMessages: z.array(MessageSchema).optional(),
  /** The images the run used, fingerprinted when it read them (absent for runs recorded before it was kept). */
  fingerprint: DatasetFingerprint.optional(),
});
export type DatasetSummary = z.infer<typeof DatasetSummary>;

/** The LR schedule of a training step (see core/schedules/training.ts: planSchedule). `lr` is its maximum. */
export const TrainingSchedule = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }),
  z.object({
    kind: z.literal('sgdr'),
    cycleLen: z.number().positive().max(100),
    cycleMult: z.number().int().min(1).max(10),
    cycles: z.number().int().min(1).max(20),
    etaMin: z.number().min(0).optional(),
    fastaiWarmStart: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('onecycle'),
    pctStart: z.number().min(0).max(1),
    divFactor: z.number().positive(),
    finalDivFactor: z.number().positive(),
  }),
  z.object({
    kind: z.literal('cyclic'),
    mode: z.enum(['triangular', 'triangular2', 'exp_range']),
    baseFraction: z.number().positive().max(1),
    stepSizeEpochs: z.number().positive().max(100),
    gamma: z.number().positive().max(1).optional(),
  }),
]);
export type TrainingSchedule = z.infer<typeof TrainingSchedule>;

export const HeadTrainConfig = z.object({
  dir: z.string().min(1),
  epochs: z.number().int().min(1).max(1000),
  lr: z.number().positive().max(10),
  size: z.number().int().min(32).max(512),
  batchSize: z.number().int().min(1).max(1024),
  seed: z.number().int(),
  validPct: z.number().min(0.05).max(0.5),
  dropout: z.number().min(0).max(0.9),
  /** Ignored epochs for SGDR: its cycles decide the length. */
  schedule: TrainingSchedule.default({ kind: 'constant' }),
  /** A backbone id from the registry (`finetune backbones`); default: the bundled offline MobileNetV2. */
  backbone: z.string().min(1).optional(),
  /** Class imbalance: 'weights' = class-weighted loss, 'sampler' = every class equally often per epoch. */
  balance: z.enum(['none', 'weights', 'sampler']).optional(),
});
export type HeadTrainConfig = z.infer<typeof HeadTrainConfig>;

export const LrFindConfig = z.object({
  dir: z.string().min(1),
  /** 'head': fast.ai step 2, on precomputed activations; 'full': step 7, the unfrozen network (3 layer groups). */
  stage: z.enum(['head', 'full']),
  size: z.number().int().min(32).max(512),
  batchSize: z.number().int().min(1).max(1024),
  seed: z.number().int(),
  validPct: z.number().min(0.05).max(0.5),
  dropout: z.number().min(0).max(0.9),
  start: z.number().positive(),
  end: z.number().positive(),
  iters: z.number().int().min(5).max(1000),
  mode: z.enum(['exp', 'linear']),
  /** Stage 'full': start from this run's trained classifier. */
  runId: z.number().int().optional(),
});
export type LrFindConfig = z.infer<typeof LrFindConfig>;

export const LrFindResult = z.object({
  lr: z.array(z.number()),
  /** Raw loss per step; null where it was NaN/Infinity (divergence). */
  loss: z.array(z.number().nullable()),
  smoothedLoss: z.array(z.number().nullable()),
  suggestions: z.object({
    valley: z.number().nullable(),
    steep: z.number().nullable(),
    minDiv10: z.number().nullable(),
  }),
  /** How each suggestion was picked (shown to the user), or why there is none. */
  rules: z.object({ valley: z.string(), steep: z.string(), minDiv10: z.string() }),
  /** `rules` as codes, said in the user's language (absent in older records). */
  ruleMessages: z
    .object({ valley: z.array(MessageSchema), steep: z.array(MessageSchema), minDiv10: z.array(MessageSchema) })
    .optional(),
  minIndex: z.number().int().nullable(),
  stoppedEarly: z.boolean(),
  /** The curve the suggestions come from: the smoothed training loss (absent too) or the validation loss. */
  curve: z.enum(['train', 'valid']).optional(),
  /** Validation loss after every step, when the test recorded it (null where it was NaN/Infinity). */
  validLoss: z.array(z.number().nullable()).optional(),
  lrFindId: z.number().int(),
});
export type LrFindResult = z.infer<typeof LrFindResult>;

export const EpochMetrics = z.object({
  step: z.string(),
  epoch: z.number().int(),
  trainLoss: z.number(),
  validLoss: z.number(),
  validAccuracy: z.number(),
  lr: z.number(),
  seconds: z.number(),
});
export type EpochMetrics = z.infer<typeof EpochMetrics>;

/** One training iteration as the history keeps it (`train.batch`, with its step); loss null where not finite. */
export const IterationMetrics = z.object({
  step: z.string(),
  epoch: z.number().int(),
  iteration: z.number().int(),
  loss: z.number().nullable(),
  lr: z.number(),
});
export type IterationMetrics = z.infer<typeof IterationMetrics>;

/**
 * Mixup or cutmix on the training images of recipe steps 4 and 8 (core/train/mix.ts): each batch blended with a
 * shuffle of itself, λ ~ Beta(alpha, alpha), soft targets to match. A regulariser for few images.
 */
export const MixConfig = z.object({
  kind: z.enum(['mixup', 'cutmix']),
  alpha: z.number().positive().max(10),
});
export type MixConfig = z.infer<typeof MixConfig>;

/** The eight-step recipe (core/recipe/types.ts RecipeConfig). */
export const RecipeConfig = z.object({
  dir: z.string().min(1),
  size: z.number().int().min(32).max(512),
  batchSize: z.number().int().min(1).max(1024),
  seed: z.number().int(),
  validPct: z.number().min(0.05).max(0.5),
  dropout: z.number().min(0).max(0.9),
  preset: z.enum(['none', 'side-on', 'top-down']),
  /** fastai v2 trains with AdamW (our default: it wins on few images, see the README); fast.ai v0.7 with SGD. */
  optimizer: z.enum(['sgd', 'adamw']),
  /**
   * Which range-test suggestion step 2 takes for the head (steps 3–4); the unfrozen net gets a tenth of it.
   * Absent: minDiv10 (fast.ai v0.7's "a decade below the minimum"): within 2x of a grid's best LR in our checks.
   */
  lrRule: z.enum(['minDiv10', 'valley', 'steep']).optional(),
  /** Step 3 epochs; null: 2 for tiny data, else 1. */
  headEpochs: z.number().int().min(1).max(100).nullable(),
  /** Step 3's LR schedule (`finetune train --steps head --schedule`); absent: constant, as fast.ai. */
  headSchedule: TrainingSchedule.optional(),
  augmentEpochs: z.number().int().min(1).max(100),
  lrRatio: z.number().min(1).max(100),
  cycles: z.number().int().min(1).max(10),
  cycleMult: z.number().int().min(1).max(4),
  patience: z.number().int().min(0).max(10),
  /** Step 8: epochs at the start of its first cycle over which the LR ramps up from 5 %; absent: 0.5, 0: none. */
  warmupEpochs: z.number().min(0).max(4).optional(),
  ensembleK: z.number().int().min(1).max(10),
  lrFind: z.object({
    start: z.number().positive(),
    end: z.number().positive(),
    iters: z.number().int().min(5).max(1000),
    /** How the LR grows over the sweep; absent: 'exp'. */
    mode: z.enum(['exp', 'linear']).optional(),
  }),
  /** Step 7's LR range test iterations; absent or null: at most half of step 8's iterations (machineDefaults.ts). */
  lrFindAllIters: z.number().int().min(5).max(1000).nullable().optional(),
  /** Fixed LRs instead of the LR finder's suggestions. */
  lrHead: z.number().positive().nullable(),
  lrAll: z.number().positive().nullable(),
  balance: z.enum(['none', 'weights', 'sampler']).optional(),
  trainBatchNorm: z.boolean().optional(),
  /** A registry backbone that can be fine-tuned (Keras layers model); default: the bundled one. */
  backbone: z.string().min(1).optional(),
  /** Mixup or cutmix in steps 4 and 8; absent or null: off. */
  mix: MixConfig.nullable().optional(),
  /** Stochastic weight averaging (fast.ai v0.7 `use_swa`) of step 8's last K cycle snapshots; absent or null: off. */
  swa: z.number().int().min(2).max(10).nullable().optional(),
  /** Which loss curve the range tests of steps 2 and 7 suggest from (fast.ai v0.7 `lr_find2`); absent: 'train'. */
  lrFindOn: z.enum(['train', 'valid']).optional(),
  /**
   * Progressive resizing (fast.ai lesson 2): smaller image sizes, increasing, for step 8's first cycles; its last
   * cycle runs at `size` (core/recipe/progressive.ts). Fewer sizes than cycles. Absent, null or empty: off.
   */
  progressive: z.array(z.number().int().min(32).max(512)).max(4).nullable().optional(),
});
export type RecipeConfig = z.infer<typeof RecipeConfig>;

/** The run time the recipe should take on this machine (core/recipe/estimate.ts). */
export const RecipeEstimate = z.object({
  steps: z.array(z.object({ step: z.number().int().min(1).max(8), name: z.string(), seconds: z.number().min(0) })),
  /** The snapshot ensemble's validation passes after step 8. */
  ensembleSeconds: z.number().min(0),
  totalSeconds: z.number().min(0),
  /** Steps that may end sooner (divergence in step 7, patience in step 8): their estimate is an upper bound. */
  upperBoundSteps: z.array(z.number().int()),
  /** The measured milliseconds per batch the estimate is built from. */
  timings: z.object({ loadMs: z.number(), forwardMs: z.number(), headStepMs: z.number(), fullStepMs: z.number() }),
  sizes: z.object({ train: z.number().int(), valid: z.number().int() }),
});
export type RecipeEstimate = z.infer<typeof RecipeEstimate>;

/** Estimated vs real seconds of a run, per step and in total (null: not estimated, or not run yet). */
export const RunTiming = z.object({
  steps: z.array(
    z.object({
      step: z.number().int(),
      name: z.string(),
      estimate: z.number().nullable(),
      actual: z.number().nullable(),
    }),
  ),
  total: z.object({ estimate: z.number().nullable(), actual: z.number().nullable() }),
});
export type RunTiming = z.infer<typeof RunTiming>;

/** Step 8's weight average of its last cycle snapshots (core/recipe/swaStep.ts). */
export const SwaResult = z.object({
  k: z.number().int(),
  /** Snapshot folders relative to the run folder, oldest first. */
  snapshots: z.array(z.string()),
  validLoss: z.number(),
  validAccuracy: z.number(),
  /** The best checkpoint's validation loss it was compared with. */
  bestValidLoss: z.number().nullable(),
  /** Whether the averaged weights became the run's model (lower validation loss than the best checkpoint). */
  kept: z.boolean(),
  /** BatchNorm statistics: unchanged (BatchNorm trained in inference mode) or recomputed on the training images. */
  batchNorm: z.enum(['unchanged', 'recomputed']),
});
export type SwaResult = z.infer<typeof SwaResult>;

export const RecipeStepResult = z.object({
  step: z.number().int().min(1).max(8),
  name: z.string(),
  epochs: z.number(),
  lr: z.number().nullable(),
  validLoss: z.number().nullable(),
  validAccuracy: z.number().nullable(),
  groupLrMults: z.array(z.number()).optional(),
  /** How the step's LR was chosen: a rule ('valley', …), 'picked' (the user's, a continuation's override), 'config'. */
  lrPick: z.string().optional(),
  /** Set when the LR may stall training (step 7's guard: core/recipe/lrGuard.ts). */
  lrWarning: z.string().optional(),
  lrWarningMessage: MessageSchema.optional(),
  bestCycle: z.number().optional(),
  stoppedEarly: z.boolean().optional(),
  note: z.string().optional(),
  /** `note` as a code, said in the user's language. */
  noteMessage: MessageSchema.optional(),
  /** A note of several parts (step 8: the weights kept, SWA), each as a code; `note` is their English. */
  noteMessages: z.array(MessageSchema).optional(),
  /** Step 8 with `swa`: the averaged model's metrics and whether it was kept. */
  swa: SwaResult.optional(),
  /** Step 8 with `progressive`: the image size of each cycle (the last at the run's size). */
  cycleSizes: z.array(z.number().int()).optional(),
});
export type RecipeStepResult = z.infer<typeof RecipeStepResult>;

export const Interpretation = z.object({
  classes: z.array(z.string()),
  accuracy: z.number(),
  /** Rows: actual class; columns: predicted class. */
  matrix: z.array(z.array(z.number().int())),
  perClass: z.array(
    z.object({ class: z.string(), precision: z.number(), recall: z.number(), f1: z.number(), support: z.number() }),
  ),
  /** Every validation image, worst loss first; thumbnails only for the first few. */
  items: z.array(
    z.object({
      file: z.string(),
      actual: z.string(),
      predicted: z.string(),
      probability: z.number(),
      actualProbability: z.number(),
      loss: z.number(),
      thumbnail: z.string().nullable(),
    }),
  ),
  tta: z.boolean(),
});
export type Interpretation = z.infer<typeof Interpretation>;

export const Prediction = z.object({
  file: z.string(),
  label: z.string(),
  probabilities: z.record(z.string(), z.number()),
});
export type Prediction = z.infer<typeof Prediction>;

export const AppInfo = z.object({
  version: z.string(),
  mode: z.enum(['electron', 'headless']),
  backend: z.string(),
  backendNote: z.string(),
  backendMessage: MessageSchema.optional(),
  /** Why the default image size fits this machine's backend. */
  machineFit: z.string(),
  machineFitMessage: MessageSchema.optional(),
  home: z.string(),
  canPickFolder: z.boolean(),
  backbone: z.object({
    name: z.string(),
    note: z.string(),
    noteMessage: MessageSchema.optional(),
    preprocessing: z.string(),
  }),
  /** The registry: the bundled backbone first, then downloadable ones (`canFineTune`: usable in steps 5–8). */
  backbones: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      format: z.string(),
      offline: z.boolean(),
      canFineTune: z.boolean(),
      note: z.string(),
      noteMessage: MessageSchema.optional(),
    }),
  ),
  defaults: HeadTrainConfig.omit({ dir: true }),
  lrFindDefaults: LrFindConfig.pick({ start: true, end: true, iters: true, mode: true }),
});
export type AppInfo = z.infer<typeof AppInfo>;
