/**
 * fast.ai's eight steps (v0.7, lessons 1–2), each a function over the session. The training steps share `fitStep`:
 * one Learner, behaviour in callbacks, LRs from a pure schedule of the iteration (so resuming at iteration i
 * replays the same LRs).
 */
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { BACKBONE_ID } from '../model/backbone';
import { saveModelToDir } from '../model/modelFiles';
import { lrRangeTest, type LrRangeTestResult } from '../lrfind/lrRangeTest';
import { Learner, type Callback, type DataSource, type FitState, type ParamGroupSpec } from '../train/learner';
import {
  CallbackOrder,
  cancelCallback,
  iterationLimitCallback,
  nanGuardCallback,
  reportingCallback,
  scheduleCallback,
  validationCallback,
} from '../train/callbacks';
import { precomputeSplits } from '../train/precompute';
import type { OptimizerState } from '../train/optimizers';
import { planSchedule, type PlannedSchedule } from '../schedules/training';
import { groupMultipliers } from '../schedules/groups';
import { freeze, unfreeze } from './freeze';
import { FeaturesDataSource } from './featuresSource';
import { saveCheckpoint } from './checkpoint';
import {
  augmentedSource,
  newOptimizer,
  trainRowsSource,
  validImagesSource,
  validRowsSource,
  lossFor,
  type RecipeContext,
  type RecipeSession,
} from './session';
import { DEFAULT_LR_RULE, STEP_NAMES, step8Epochs, type LrRule, type StepName, type StepResult } from './types';
import { fullLrFindIters } from '../machineDefaults';

/** A step either finishes with a result or stops the recipe. */
export type StepOutcome =
  { ok: true; result: StepResult } | { ok: false; status: 'cancelled' | 'failed'; error?: string };

const name = (step: number): StepName => STEP_NAMES[step - 1]!;
const at = (xs: number[]) => (i: number) => xs[Math.min(i, xs.length - 1)]!;
const lastMetrics = (sess: RecipeSession) => {
  const r = sess.state.results[sess.state.results.length - 1];
  return { validLoss: r?.validLoss ?? null, validAccuracy: r?.validAccuracy ?? null };
};

/** 1. Precompute: backbone activations of the un-augmented images, cached on disk (fast.ai's precompute=True). */
export async function step1Precompute(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  freeze(sess.clf.model, sess.groups);
  const rows = await precomputeSplits(sess.clf.features, sess.ds, {
    cacheDir: ctx.featureCache,
    backboneId: sess.state.config.backbone ?? BACKBONE_ID,
    size: sess.state.config.size,
    batchSize: Math.min(16, sess.microBatch),
    shouldCancel: ctx.shouldCancel,
    emit: ctx.emit,
  });
  sess.trainRows = rows.train;
  sess.validRows = rows.valid;
  return {
    ok: true,
    result: {
      step: 1,
      name: name(1),
      epochs: 0,
      lr: null,
      validLoss: null,
      validAccuracy: null,
      note: `${sess.ds.train.length + sess.ds.valid.length} images`,
    },
  };
}

/** The LR a range test suggests: the configured rule, else the others in turn (valley, steep, minDiv10), else the fallback. */
export function pickLr(r: LrRangeTestResult, rule: LrRule, fallback: number): { lr: number; pick: string } {
  const order: LrRule[] = [rule, ...(['valley', 'steep', 'minDiv10'] as const).filter((x) => x !== rule)];
  for (const x of order) {
    const lr = r.suggestions[x];
    if (lr !== null) return { lr, pick: x };
  }
  return { lr: fallback, pick: 'fallback' };
}

async function rangeTest(
  sess: RecipeSession,
  ctx: RecipeContext,
  step: number,
  learner: Learner,
  data: DataSource,
  groupLrMults?: number[],
): Promise<LrRangeTestResult> {
  const { config } = sess.state;
  const { start, end } = config.lrFind;
  const iters =
    step === 7
      ? fullLrFindIters({
          configured: config.lrFind.iters,
          step8Iterations: step8Epochs(config.cycles, config.cycleMult) * data.numBatches,
          override: config.lrFindAllIters,
        })
      : config.lrFind.iters;
  const started = Date.now();
  const result = await lrRangeTest(learner, data, {
    start,
    end,
    iters,
    groupLrMults,
    shouldCancel: ctx.shouldCancel,
    onStep: (i) => {
      const done = i + 1;
      const eta = ((Date.now() - started) / 1000 / done) * (iters - done);
      ctx.emit({
        type: 'progress',
        phase: 'train',
        label: `LR range test (step ${step})`,
        done,
        total: iters,
        etaSeconds: eta,
      });
    },
  });
  if (!result.cancelled) ctx.emit({ type: 'lrFind', step, name: name(step), result });
  return result;
}

/** 2. LR range test of the head on the precomputed activations. */
export async function step2LrFindHead(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  const opt = newOptimizer(sess);
  const learner = new Learner(
    sess.clf.head,
    opt,
    [{ name: 'head', variables: sess.clf.head.trainableWeights }],
    [],
    lossFor(sess),
  );
  const r = await rangeTest(sess, ctx, 2, learner, trainRowsSource(sess));
  if (r.cancelled) return { ok: false, status: 'cancelled' };
  const { lr, pick } = pickLr(r, sess.state.config.lrRule ?? DEFAULT_LR_RULE, 1e-2);
  const fixed = sess.state.config.lrHead;
  sess.state.lrHead = fixed ?? lr;
  return {
    ok: true,
    result: {
      step: 2,
      name: name(2),
      epochs: 0,
      lr: sess.state.lrHead,
      validLoss: null,
      validAccuracy: null,
      lrPick: fixed === null ? pick : 'config',
    },
  };
}

interface FitSpec {
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
  label: string;
}

/** One training step: a fresh optimizer (or the checkpoint's when resuming into this step) and the shared loop. */
async function fitStep(
  sess: RecipeSession,
  ctx: RecipeContext,
  spec: FitSpec,
  restored: OptimizerState | null,
): Promise<FitState> {
  const { state } = sess;
  const stepName = name(spec.step);
  const opt = newOptimizer(sess, state.epochsDone > 0 ? restored : null);
  const epochs = Math.ceil(spec.plan.epochs);
  // After validation and the step's own epoch callback (snapshots, best, patience), so the checkpoint holds them.
  const checkpoint: Callback = {
    order: CallbackOrder.default + 2,
    async afterEpoch(s) {
      state.epochsDone = s.epoch + 1;
      state.iteration = s.iteration;
      await saveCheckpoint(ctx.runDir, sess.clf.model, opt, state);
    },
  };
  const learner = new Learner(
    spec.model,
    opt,
    spec.groups,
    [
      scheduleCallback(at(spec.plan.lr), spec.plan.momentum ? at(spec.plan.momentum) : undefined),
      iterationLimitCallback(spec.plan.lr.length),
      cancelCallback(ctx.shouldCancel),
      nanGuardCallback(),
      validationCallback(spec.valid),
      ...(spec.afterEpoch ? [{ order: CallbackOrder.default + 1, afterEpoch: spec.afterEpoch }] : []),
      checkpoint,
      reportingCallback({
        batch: (b) => ctx.emit({ type: 'batch', ...b }),
        epoch: (e) => ctx.emit({ type: 'epoch', step: stepName, ...e }),
        progress: (p) => ctx.emit({ type: 'progress', phase: 'train', label: spec.label, ...p }),
      }),
      ...(ctx.callbacks?.(stepName) ?? []),
    ],
    lossFor(sess),
  );
  if (spec.microBatch) learner.microBatch = spec.microBatch;
  if (spec.model === sess.clf.model) learner.trainingMode = sess.state.config.trainBatchNorm ?? false;
  const ipe = spec.train.numBatches;
  return learner.fit(epochs, spec.train, {
    epoch: state.epochsDone,
    iteration: state.epochsDone * ipe,
    groupLrMults: spec.groupLrMults ?? spec.groups.map(() => 1),
  });
}

function fitOutcome(
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
  return {
    ok: true,
    result: {
      step,
      name: name(step),
      epochs: sess.state.epochsDone,
      lr,
      validLoss: fit.metrics.validLoss ?? null,
      validAccuracy: fit.metrics.validAccuracy ?? null,
      ...extra,
    },
  };
}

const headGroups = (sess: RecipeSession): ParamGroupSpec[] => [
  { name: 'head', variables: sess.clf.head.trainableWeights },
];

/** Step 3's epochs: 2 for tiny data (fewer than 200 training images), else 1 (fast.ai: `learn.fit(lr, 1)`). */
export function headEpochsFor(configured: number | null, trainItems: number): number {
  return configured ?? (trainItems < 200 ? 2 : 1);
}

/** 3. Train the head on the precomputed activations at a constant LR. */
export async function step3Head(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const lr = sess.state.lrHead!;
  const train = trainRowsSource(sess);
  const epochs = headEpochsFor(sess.state.config.headEpochs, train.numItems);
  const plan = planSchedule(lr, { kind: 'constant' }, epochs, train.numBatches);
  const fit = await fitStep(
    sess,
    ctx,
    {
      step: 3,
      model: sess.clf.head,
      groups: headGroups(sess),
      train,
      valid: validRowsSource(sess),
      plan,
      label: 'Step 3: head on activations',
    },
    restored,
  );
  return fitOutcome(sess, 3, fit, lr);
}

/** 4. Precompute off: augmented images through the frozen backbone (inference mode), SGDR with cycle_len=1. */
export async function step4Augment(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const lr = sess.state.lrHead!;
  const train = new FeaturesDataSource(augmentedSource(sess), sess.clf.features, sess.microBatch);
  const cycles = sess.state.config.augmentEpochs;
  const plan = planSchedule(lr, { kind: 'sgdr', cycleLen: 1, cycleMult: 1, cycles }, cycles, train.numBatches);
  const fit = await fitStep(
    sess,
    ctx,
    {
      step: 4,
      model: sess.clf.head,
      groups: headGroups(sess),
      train,
      valid: validRowsSource(sess),
      plan,
      label: 'Step 4: head with augmentation',
    },
    restored,
  );
  return fitOutcome(sess, 4, fit, lr);
}

/** 5. Unfreeze the backbone: every group trains from now on (BatchNorm too, in training mode). */
export function step5Unfreeze(sess: RecipeSession): StepOutcome {
  unfreeze(sess.clf.model, sess.groups);
  const trainable = sess.clf.model.trainableWeights.length;
  return {
    ok: true,
    result: {
      step: 5,
      name: name(5),
      epochs: 0,
      lr: null,
      ...lastMetrics(sess),
      note: `${trainable} trainable weights`,
    },
  };
}

/** Step 6's multipliers: [1/r², 1/r, 1] for the three groups. */
export function recipeGroupMults(ratio: number, groups: number): number[] {
  return groupMultipliers({ ratio, groups });
}

/** 6. Differential LRs: one LR per layer group, earliest smallest. */
export function step6DifferentialLrs(sess: RecipeSession): StepOutcome {
  const mults = recipeGroupMults(sess.state.config.lrRatio, sess.groups.length);
  return {
    ok: true,
    result: { step: 6, name: name(6), epochs: 0, lr: sess.state.lrHead, ...lastMetrics(sess), groupLrMults: mults },
  };
}

/** 7. LR range test of the unfrozen network on augmented images, with the group multipliers. */
export async function step7LrFindAll(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  const mults = recipeGroupMults(sess.state.config.lrRatio, sess.groups.length);
  const learner = new Learner(sess.clf.model, newOptimizer(sess), sess.groups, [], lossFor(sess));
  learner.microBatch = sess.microBatch;
  learner.trainingMode = sess.state.config.trainBatchNorm ?? false;
  const r = await rangeTest(sess, ctx, 7, learner, augmentedSource(sess), mults);
  if (r.cancelled) return { ok: false, status: 'cancelled' };
  // A decade below the head's LR for the last group (groups below it lower still, step 6): with AdamW this is where
  // whole-network fine-tuning gained most in our checks (fastai v2's fine_tune also lowers the LR on unfreezing).
  // The curve's minimum sits in noise when the head is already trained, so it is not used; where the loss diverged,
  // stay a decade below that LR (at 128 px a tenth of the head's LR was past it and step 8 fell to chance).
  const fixed = sess.state.config.lrAll;
  const tenth = sess.state.lrHead! / 10;
  const edge = r.stoppedEarly && r.lr.length > 0 ? r.lr[r.lr.length - 1]! / 10 : Infinity;
  sess.state.lrAll = fixed ?? Math.min(tenth, edge);
  const pick = edge < tenth ? 'a decade below where the loss diverged' : 'a decade below the head LR';
  return {
    ok: true,
    result: {
      step: 7,
      name: name(7),
      epochs: 0,
      lr: sess.state.lrAll,
      ...lastMetrics(sess),
      groupLrMults: mults,
      lrPick: fixed !== null ? 'config' : pick,
    },
  };
}

/** Step 8's starting weights (step 4's head on the pretrained backbone), relative to the run folder. */
export const BEFORE_STEP8_DIR = 'before-step8';

/** The planned schedule of step 8: SGDR cycle_len=1, cycle_mult, `cycles` cycles. */
export function step8Plan(lr: number, cycles: number, cycleMult: number, itersPerEpoch: number): PlannedSchedule {
  return planSchedule(lr, { kind: 'sgdr', cycleLen: 1, cycleMult, cycles }, 0, itersPerEpoch);
}

/**
 * 8. Train the whole network with SGDR until it overfits: a snapshot at every cycle end, the best by validation
 * loss kept in `best/`, stop after `patience` cycles without improvement. The caller restores the best.
 */
export async function step8All(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const { state } = sess;
  const { cycles, cycleMult, patience } = state.config;
  const lr = state.lrAll!;
  const mults = recipeGroupMults(state.config.lrRatio, sess.groups.length);
  const train = augmentedSource(sess);
  const plan = step8Plan(lr, cycles, cycleMult, train.numBatches);
  if (state.stoppedEarly) return { ok: true, result: step8Result(sess, lr, mults) } satisfies StepOutcome;
  // The weights step 8 starts from: the run keeps them if no cycle beats them (recipeJob's finishStep8).
  if (state.epochsDone === 0) await saveModelToDir(sess.clf.model, join(ctx.runDir, BEFORE_STEP8_DIR));
  const snapshot: Callback['afterEpoch'] = async (s) => {
    const cycle = plan.cycleEnds.indexOf(s.iteration - 1) + 1;
    if (cycle === 0) return;
    const rel = `snapshots/cycle-${cycle}`;
    await saveModelToDir(sess.clf.model, join(ctx.runDir, rel));
    if (!state.snapshots.includes(rel)) state.snapshots.push(rel);
    const validLoss = s.metrics.validLoss ?? NaN;
    if (state.best === null || validLoss < state.best.validLoss) {
      await saveModelToDir(sess.clf.model, join(ctx.runDir, 'best'));
      state.best = { step: 8, cycle, validLoss };
      state.cyclesSinceBest = 0;
    } else {
      state.cyclesSinceBest++;
    }
    if (state.cyclesSinceBest >= patience && cycle < cycles) {
      state.stoppedEarly = true;
      s.stopReason = 'overfitting';
    }
  };
  const fit = await fitStep(
    sess,
    ctx,
    {
      step: 8,
      model: sess.clf.model,
      groups: sess.groups,
      train,
      valid: validImagesSource(sess),
      plan,
      groupLrMults: mults,
      microBatch: sess.microBatch,
      afterEpoch: snapshot,
      label: 'Step 8: whole network',
    },
    restored,
  );
  const out = fitOutcome(sess, 8, fit, lr);
  return out.ok ? ({ ok: true, result: step8Result(sess, lr, mults) } satisfies StepOutcome) : out;
}

function step8Result(sess: RecipeSession, lr: number, mults: number[]): StepResult {
  const { state } = sess;
  return {
    step: 8,
    name: name(8),
    epochs: state.epochsDone,
    lr,
    validLoss: state.best?.validLoss ?? null,
    validAccuracy: null,
    groupLrMults: mults,
    bestCycle: state.best?.cycle,
    stoppedEarly: state.stoppedEarly,
  };
}
