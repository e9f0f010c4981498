/** The recipe's LR range tests (steps 2 and 7) and how each turns its curve into the LR the next steps train at. */
import { lrRangeTest, type LrRangeTestResult } from '../lrfind/lrRangeTest';
import { Learner, type DataSource } from '../train/learner';
import { fullLrFindIters } from '../machineDefaults';
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
import { DEFAULT_LR_RULE, step8Epochs, type LrRule, type StepResult } from './types';
import { unfrozenLr } from './plan';
import { lastMetrics, recipeGroupMults, stepName as name, type StepOutcome } from './fitStep';

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
  // Its own dropout masks, not those of the step that trains next on the same batches.
  learner.streamName = name(step);
  // lr_find2: a validation pass after every step (on the activations in step 2, on the images in step 7).
  const onValid = config.lrFindOn === 'valid';
  const result = await lrRangeTest(learner, data, {
    start,
    end,
    iters,
    groupLrMults,
    ...(onValid
      ? { validation: step === 7 ? validImagesSource(sess) : validRowsSource(sess), suggestFrom: 'valid' }
      : {}),
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
  const metrics = { validLoss: null, validAccuracy: null };
  return rangeTestOutcome(2, sess.state.lrHead, fixed === null ? pick : 'config', metrics);
}

/** 7. LR range test of the unfrozen network on augmented images, with the group multipliers. */
export async function step7LrFindAll(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  const mults = recipeGroupMults(sess.state.config.lrRatio, sess.groups.length);
  const learner = new Learner(sess.clf.model, newOptimizer(sess), sess.groups, [], lossFor(sess));
  learner.microBatch = sess.microBatch;
  learner.trainingMode = sess.state.config.trainBatchNorm ?? false;
  const r = await rangeTest(sess, ctx, 7, learner, augmentedSource(sess), mults);
  if (r.cancelled) return { ok: false, status: 'cancelled' };
  const fixed = sess.state.config.lrAll;
  const diverged = r.stoppedEarly && r.lr.length > 0 ? r.lr[r.lr.length - 1]! : null;
  const { lr, pick } = unfrozenLr(sess.state.lrHead!, sess.state.config.optimizer, diverged);
  sess.state.lrAll = fixed ?? lr;
  return rangeTestOutcome(7, sess.state.lrAll, fixed !== null ? 'config' : pick, {
    ...lastMetrics(sess),
    groupLrMults: mults,
  });
}

/** A range-test step's result: no epochs, the LR it settled on and how it was picked. */
function rangeTestOutcome(step: 2 | 7, lr: number, lrPick: string, rest: Partial<StepResult>): StepOutcome {
  const result = { validLoss: null, validAccuracy: null, ...rest, step, name: name(step), epochs: 0, lr, lrPick };
  return { ok: true, result };
}
