/** The recipe's LR range tests (steps 2 and 7) and how each turns its curve into the LR the next steps train at. */
import { englishText, type Message } from '../../../src-shared/messages';
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
import { type StepResult } from './types';
import { DEFAULT_LR_RULE, step8Epochs, type LrRule } from '../../../src-shared/recipe/config';
import { guardUnfrozenLr } from './lrGuard';
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
  step: 2 | 7,
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
  const rangeTestLabel: Message = { code: 'progress.lrRangeTest', params: { step } };
  // Its own dropout masks, not those of the step that trains next on the same batches.
  learner.streamName = name(step);
  // lr_find2: a validation pass after every step (on the activations in step 2, on the images in step 7).
  const onValid = config.lrFindOn === 'valid';
  const result = await lrRangeTest(learner, data, {
    start,
    end,
    iters,
    mode: config.lrFind.mode ?? 'exp',
    groupLrMults,
    ...(onValid
      ? { validation: step === 7 ? validImagesSource(sess) : validRowsSource(sess), suggestFrom: 'valid' }
      : {}),
    shouldCancel: ctx.shouldCancel,
    onStep: (i, lr, loss, smoothedLoss) => {
      ctx.emit({ type: 'lrFindPoint', step, iteration: i, lr, loss, smoothedLoss });
      const done = i + 1;
      const eta = ((Date.now() - started) / 1000 / done) * (iters - done);
      ctx.emit({
        type: 'progress',
        phase: 'lrfind',
        label: englishText(rangeTestLabel),
        message: rangeTestLabel,
        done,
        total: iters,
        etaSeconds: eta,
      });
    },
  });
  return result;
}

/** 2. LR range test of the head on the precomputed activations; the head LR is the user's, else the rule's pick. */
export async function step2LrFindHead(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  const { state } = sess;
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
  const { lr, pick } = pickLr(r, state.config.lrRule ?? DEFAULT_LR_RULE, 1e-2);
  const recommended = { lr, pick, warning: null };
  const none = { valley: null, steep: null, minDiv10: null };
  ctx.emit({ type: 'lrFind', step: 2, name: name(2), result: r, recommended, warnings: none });
  const fixed = state.config.lrHead;
  state.lrHead = fixed ?? lr;
  // 'picked': a continuation's override (applyOverrides), else the config's from the start.
  state.lrHeadPick = fixed === null ? pick : (state.lrHeadPick ?? 'config');
  return rangeTestOutcome(2, state.lrHead, state.lrHeadPick, { validLoss: null, validAccuracy: null });
}

/**
 * 7. LR range test of the unfrozen network on augmented images, with the group multipliers. Step 8's LR: the user's
 * (`lrAll`), else the guarded recommendation (lrGuard.ts); a recommendation that may stall training says so.
 */
export async function step7LrFindAll(sess: RecipeSession, ctx: RecipeContext): Promise<StepOutcome> {
  const { state } = sess;
  const mults = recipeGroupMults(state.config.lrRatio, sess.groups.length);
  const learner = new Learner(sess.clf.model, newOptimizer(sess), sess.groups, [], lossFor(sess));
  learner.microBatch = sess.microBatch;
  learner.trainingMode = state.config.trainBatchNorm ?? false;
  const r = await rangeTest(sess, ctx, 7, learner, augmentedSource(sess), mults);
  if (r.cancelled) return { ok: false, status: 'cancelled' };
  const guard = guardUnfrozenLr(r, state.lrHead!, state.config.optimizer);
  ctx.emit({ type: 'lrFind', step: 7, name: name(7), result: r, ...guard });
  const fixed = state.config.lrAll;
  state.lrAll = fixed ?? guard.recommended.lr;
  state.lrAllPick = fixed !== null ? (state.lrAllPick ?? 'config') : guard.recommended.pick;
  const warning = fixed === null ? guard.recommended.warning : null;
  state.lrAllWarning = warning ?? undefined;
  if (warning) {
    const coded: Message = { code: 'warning.lrAllTooLow', params: guard.recommended.warningMessage?.params ?? {} };
    ctx.emit({ type: 'warning', message: englishText(coded), coded });
  }
  return rangeTestOutcome(7, state.lrAll, state.lrAllPick, {
    ...lastMetrics(sess),
    groupLrMults: mults,
    ...(warning ? { lrWarning: warning } : {}),
    ...(warning && guard.recommended.warningMessage ? { lrWarningMessage: guard.recommended.warningMessage } : {}),
  });
}

/** A range-test step's result: no epochs, the LR it settled on and how it was picked. */
function rangeTestOutcome(step: 2 | 7, lr: number, lrPick: string, rest: Partial<StepResult>): StepOutcome {
  const result = { validLoss: null, validAccuracy: null, ...rest, step, name: name(step), epochs: 0, lr, lrPick };
  return { ok: true, result };
}
