/**
 * fast.ai's eight steps (v0.7, lessons 1–2), each a function over the session, and the table the recipe runs them
 * from. The LR range tests (2, 7) are in lrSteps.ts; the training steps share fitStep.ts.
 */
import type { Message } from '../../../src-shared/messages';
import { join } from 'node:path';
import { BACKBONE_ID } from '../model/backbone';
import { saveModelToDir } from '../model/modelFiles';
import type { Callback, FitState } from '../train/learner';
import { precomputeSplits } from '../train/precompute';
import { datasetRecord } from '../data/runDataset';
import type { OptimizerState } from '../train/optimizers';
import { planSchedule, type PlannedSchedule } from '../../../src-shared/schedules/training';
import { freeze, unfreeze } from './freeze';
import { cycleSizes, resizeSession, sizeSegments } from './progressive';
import { DEFAULT_STEP8_WARMUP_EPOCHS, sgdrStepPlan } from '../../../src-shared/recipe/plan';
import { FeaturesDataSource } from './featuresSource';
import {
  mixedAugmentedSource,
  trainRowsSource,
  validImagesSource,
  validRowsSource,
  type RecipeContext,
  type RecipeSession,
} from './session';
import type { StepResult } from './types';
import type { StepName } from '../../../src-shared/recipe/config';
import {
  fitOutcome,
  fitStep,
  headGroups,
  lastMetrics,
  recipeGroupMults,
  stepName as name,
  type FitSpec,
  type StepOutcome,
} from './fitStep';
import { step2LrFindHead, step7LrFindAll } from './lrSteps';

export { recipeGroupMults, type StepOutcome };

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
  // Images deleted since the scan were left out: later steps use the rest, and the history records it.
  if (rows.ds !== sess.ds) ctx.emit({ type: 'dataset', dataset: datasetRecord((sess.ds = rows.ds)) });
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
      noteMessage: { code: 'stepNote.images', params: { count: sess.ds.train.length + sess.ds.valid.length } },
    },
  };
}

/** Step 3's epochs: 2 for tiny data (fewer than 200 training images), else 1 (fast.ai: `learn.fit(lr, 1)`). */
export function headEpochsFor(configured: number | null, trainItems: number): number {
  return configured ?? (trainItems < 200 ? 2 : 1);
}

/** 3. Train the head on the precomputed activations at a constant LR (or the config's `headSchedule`). */
export async function step3Head(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const lr = sess.state.lrHead!;
  const train = trainRowsSource(sess);
  const epochs = headEpochsFor(sess.state.config.headEpochs, train.numItems);
  const schedule = sess.state.config.headSchedule ?? { kind: 'constant' };
  const plan = planSchedule(lr, schedule, epochs, train.numBatches);
  return fitHead(sess, ctx, restored, lr, { step: 3, train, plan, label: { code: 'progress.step3Head', params: {} } });
}

/**
 * 4. Precompute off: augmented images (mixed, when the run asks for mixup or cutmix) through the frozen backbone
 * (inference mode), SGDR with cycle_len=1.
 */
export async function step4Augment(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const lr = sess.state.lrHead!;
  const train = new FeaturesDataSource(mixedAugmentedSource(sess), sess.clf.features, sess.microBatch);
  const cycles = sess.state.config.augmentEpochs;
  const plan = sgdrStepPlan(lr, cycles, 1, train.numBatches);
  return fitHead(sess, ctx, restored, lr, {
    step: 4,
    train,
    plan,
    label: { code: 'progress.step4Augment', params: {} },
  });
}

/**
 * Steps 3 and 4: the head alone trains on the frozen backbone's features (`fit.train`), validated on the precomputed
 * rows, from step 2's head LR `lr`; the result names how that LR was chosen.
 */
async function fitHead(
  sess: RecipeSession,
  ctx: RecipeContext,
  restored: OptimizerState | null,
  lr: number,
  fit: Pick<FitSpec, 'step' | 'train' | 'plan' | 'label'>,
): Promise<StepOutcome> {
  const spec: FitSpec = { ...fit, model: sess.clf.head, groups: headGroups(sess), valid: validRowsSource(sess) };
  const done = await fitStep(sess, ctx, spec, restored);
  return fitOutcome(sess, fit.step, done, lr, sess.state.lrHeadPick ? { lrPick: sess.state.lrHeadPick } : {});
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
      noteMessage: { code: 'stepNote.trainableWeights', params: { count: trainable } },
    },
  };
}

/**
 * 6. Differential LRs: one LR multiplier per layer group, earliest smallest. It stores no LR of its own: the LR they
 * multiply is step 8's, picked at step 7 (it once stored the head's LR here, which the step tables then showed).
 */
export function step6DifferentialLrs(sess: RecipeSession): StepOutcome {
  const mults = recipeGroupMults(sess.state.config.lrRatio, sess.groups.length);
  return {
    ok: true,
    result: { step: 6, name: name(6), epochs: 0, lr: null, ...lastMetrics(sess), groupLrMults: mults },
  };
}

/** Step 8's starting weights (step 4's head on the pretrained backbone), relative to the run folder. */
export const BEFORE_STEP8_DIR = 'before-step8';

/** The planned schedule of step 8: SGDR cycle_len=1, cycle_mult, `cycles` cycles, its start ramped up. */
export function step8Plan(
  lr: number,
  cycles: number,
  cycleMult: number,
  itersPerEpoch: number,
  warmupEpochs = DEFAULT_STEP8_WARMUP_EPOCHS,
): PlannedSchedule {
  return sgdrStepPlan(lr, cycles, cycleMult, itersPerEpoch, warmupEpochs);
}

/**
 * 8. Train the whole network with SGDR until it overfits: a snapshot at every cycle end, the best by validation
 * loss kept in `best/`, stop after `patience` cycles without improvement. The caller restores the best. With
 * progressive sizes, the first cycles run at the smaller sizes (one fit per size, progressive.ts) and only the cycles
 * at the run's size snapshot and count.
 */
export async function step8All(sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) {
  const { state } = sess;
  const { cycles, cycleMult, patience, size } = state.config;
  const lr = state.lrAll!;
  const mults = recipeGroupMults(state.config.lrRatio, sess.groups.length);
  const ipe = mixedAugmentedSource(sess).numBatches;
  const plan = step8Plan(lr, cycles, cycleMult, ipe, state.config.warmupEpochs);
  const sizes = cycleSizes(state.config);
  if (state.stoppedEarly) return { ok: true, result: step8Result(sess, lr, mults) } satisfies StepOutcome;
  // The weights step 8 starts from: the run keeps them if no cycle beats them (recipeJob's finishStep8).
  if (state.epochsDone === 0) await saveModelToDir(sess.clf.model, join(ctx.runDir, BEFORE_STEP8_DIR));
  const snapshot: Callback['afterEpoch'] = async (s) => {
    const cycle = plan.cycleEnds.indexOf(s.iteration - 1) + 1;
    if (cycle === 0 || sizes[cycle - 1] !== size) return;
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
  let fit: FitState | null = null;
  let optimizer = restored;
  for (const seg of sizeSegments(state.config)) {
    if (state.epochsDone >= seg.untilEpoch) continue;
    if (sess.clf.size !== seg.size) optimizer = await resizeSession(sess, ctx, seg.size, optimizer);
    const label: Message =
      seg.size === size
        ? { code: 'progress.step8All', params: {} }
        : { code: 'progress.step8AllAtSize', params: { size: seg.size } };
    fit = await fitStep(
      sess,
      ctx,
      {
        step: 8,
        model: sess.clf.model,
        groups: sess.groups,
        train: mixedAugmentedSource(sess),
        valid: validImagesSource(sess),
        plan,
        groupLrMults: mults,
        microBatch: sess.microBatch,
        afterEpoch: snapshot,
        label,
        untilEpoch: seg.untilEpoch,
      },
      optimizer,
    );
    if (fit.stopReason && fit.stopReason !== 'done') break;
    optimizer = sess.optimizer?.getState() ?? null;
  }
  // Whatever happened, the session ends at the run's size: the best weights, SWA and the export use it.
  if (sess.clf.size !== size) await resizeSession(sess, ctx, size, null);
  if (!fit) return { ok: true, result: step8Result(sess, lr, mults) } satisfies StepOutcome;
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
    ...(state.lrAllPick ? { lrPick: state.lrAllPick } : {}),
    ...(state.lrAllWarning ? { lrWarning: state.lrAllWarning } : {}),
    bestCycle: state.best?.cycle,
    stoppedEarly: state.stoppedEarly,
    ...(state.config.progressive?.length ? { cycleSizes: cycleSizes(state.config) } : {}),
  };
}

/** One row of the recipe: its number and name, whether it trains (epochs, checkpoints, resumable), and how it runs. */
export interface RecipeStep {
  step: number;
  name: StepName;
  trains: boolean;
  run: (sess: RecipeSession, ctx: RecipeContext, restored: OptimizerState | null) => Promise<StepOutcome> | StepOutcome;
}

/** fast.ai's eight steps, in order: `recipeJob` runs them from this table. */
export const RECIPE_STEPS: readonly RecipeStep[] = [
  { step: 1, name: name(1), trains: false, run: (s, c) => step1Precompute(s, c) },
  { step: 2, name: name(2), trains: false, run: (s, c) => step2LrFindHead(s, c) },
  { step: 3, name: name(3), trains: true, run: step3Head },
  { step: 4, name: name(4), trains: true, run: step4Augment },
  { step: 5, name: name(5), trains: false, run: (s) => step5Unfreeze(s) },
  { step: 6, name: name(6), trains: false, run: (s) => step6DifferentialLrs(s) },
  { step: 7, name: name(7), trains: false, run: (s, c) => step7LrFindAll(s, c) },
  { step: 8, name: name(8), trains: true, run: step8All },
];
