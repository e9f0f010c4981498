/**
 * What the recipe's training steps share: the outcome type, `fitStep` (one Learner, behaviour in callbacks, LRs from
 * a pure schedule of the iteration, so resuming at iteration i replays the same LRs) and the group multipliers.
 */
import { englishText, type Message } from '../../../src-shared/messages';
import type * as tf from '@tensorflow/tfjs';
import { Learner, type Callback, type DataSource, type FitState, type ParamGroupSpec } from '../train/learner';
import { CallbackOrder, trainingCallbacks } from '../train/callbacks';
import type { OptimizerState } from '../train/optimizers';
import type { PlannedSchedule } from '../../../src-shared/schedules/training';
import { groupMultipliers } from '../../../src-shared/schedules/groups';
import { saveCheckpoint } from './checkpoint';
import { newOptimizer, lossFor, type RecipeContext, type RecipeSession } from './session';
import { type StepResult } from './types';
import { STEP_NAMES, type StepName } from '../../../src-shared/recipe/config';

/** A step either finishes with a result or stops the recipe. */
export type StepOutcome =
  { ok: true; result: StepResult } | { ok: false; status: 'cancelled' | 'failed'; error?: string };

export const stepName = (step: number): StepName => STEP_NAMES[step - 1]!;

/** The validation metrics of the last step that had any (steps that do not train repeat them). */
export const lastMetrics = (sess: RecipeSession) => {
  const r = sess.state.results[sess.state.results.length - 1];
  return { validLoss: r?.validLoss ?? null, validAccuracy: r?.validAccuracy ?? null };
};

export interface FitSpec {
  step: number;
  model: tf.LayersModel;
  groups: ParamGroupSpec[];
  train: DataSource;
  valid: DataSource;
  plan: PlannedSchedule;
  groupLrMults?: number[];
  microBatch?: number;
  /** Runs after validation and before the checkpoint (step 8: snapshots, best, patience). */
  afterEpoch?: Callback['afterEpoch'];
  /** What the progress bar says (a `progress.*` code). */
  label: Message;
  /** End the fit before this epoch of the step instead of the plan's end (step 8's progressive sizes). */
  untilEpoch?: number;
}

/** One training step: a fresh optimizer (or the checkpoint's when resuming into this step) and the shared loop. */
export async function fitStep(
  sess: RecipeSession,
  ctx: RecipeContext,
  spec: FitSpec,
  restored: OptimizerState | null,
): Promise<FitState> {
  const { state } = sess;
  const name = stepName(spec.step);
  const opt = newOptimizer(sess, state.epochsDone > 0 ? restored : null);
  const epochs = Math.min(Math.ceil(spec.plan.epochs), spec.untilEpoch ?? Infinity);
  if (state.epochsDone === 0) state.lastEpoch = null;
  // Last of all, after the epoch is reported (in the history): a kill between the two then redoes the epoch, which
  // repeats it exactly and rewrites its row, where a checkpoint first would leave the epoch out of the history.
  // After the step's own epoch callback (snapshots, best, patience), so the checkpoint holds them.
  const checkpoint: Callback = {
    order: CallbackOrder.reporting + 1,
    async afterEpoch(s) {
      state.epochsDone = s.epoch + 1;
      state.iteration = s.iteration;
      state.lastEpoch = { validLoss: finite(s.metrics.validLoss), validAccuracy: finite(s.metrics.validAccuracy) };
      await saveCheckpoint(ctx.runDir, sess.clf.model, opt, state);
    },
  };
  const learner = new Learner(
    spec.model,
    opt,
    spec.groups,
    [
      ...trainingCallbacks({
        plan: spec.plan,
        valid: spec.valid,
        shouldCancel: ctx.shouldCancel,
        report: {
          batch: (b) => ctx.emit({ type: 'batch', step: name, ...b }),
          epoch: (e) => ctx.emit({ type: 'epoch', step: name, ...e }),
          progress: (p) =>
            ctx.emit({ type: 'progress', phase: 'train', label: englishText(spec.label), message: spec.label, ...p }),
        },
      }),
      ...(spec.afterEpoch ? [{ order: CallbackOrder.default + 1, afterEpoch: spec.afterEpoch }] : []),
      checkpoint,
      ...(ctx.callbacks?.(name) ?? []),
    ],
    lossFor(sess),
  );
  learner.streamName = name;
  if (spec.microBatch) learner.microBatch = spec.microBatch;
  if (spec.model === sess.clf.model) learner.trainingMode = sess.state.config.trainBatchNorm ?? false;
  const ipe = spec.train.numBatches;
  return learner.fit(epochs, spec.train, {
    epoch: state.epochsDone,
    iteration: state.epochsDone * ipe,
    groupLrMults: spec.groupLrMults ?? spec.groups.map(() => 1),
  });
}

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);

export function fitOutcome(
  sess: RecipeSession,
  step: number,
  fit: FitState,
  lr: number,
  extra: Partial<StepResult> = {},
): StepOutcome {
  if (fit.stopReason === 'cancelled') return { ok: false, status: 'cancelled' };
  if (fit.stopReason === 'diverged') {
    return {
      ok: false,
      status: 'failed',
      error: `Step ${step}: the loss became ${fit.lastLoss} at iteration ${fit.iteration}: the learning rate ${lr} is too high.`,
    };
  }
  // A resume that finds every epoch of the step done runs none: the checkpoint kept the last one's validation.
  const ranNone = fit.metrics.validLoss === undefined;
  return {
    ok: true,
    result: {
      step,
      name: stepName(step),
      epochs: sess.state.epochsDone,
      lr,
      validLoss: ranNone ? (sess.state.lastEpoch?.validLoss ?? null) : (fit.metrics.validLoss ?? null),
      validAccuracy: ranNone ? (sess.state.lastEpoch?.validAccuracy ?? null) : (fit.metrics.validAccuracy ?? null),
      ...extra,
    },
  };
}

export const headGroups = (sess: RecipeSession): ParamGroupSpec[] => [
  { name: 'head', variables: sess.clf.head.trainableWeights },
];

/** Step 6's multipliers: [1/r², 1/r, 1] for the three groups. */
export function recipeGroupMults(ratio: number, groups: number): number[] {
  return groupMultipliers({ ratio, groups });
}
