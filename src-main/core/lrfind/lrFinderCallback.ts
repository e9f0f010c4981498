/**
 * The LR range test as Learner callbacks (fastai's `LRFinder`): the swept LR comes from `scheduleCallback`, the
 * planned end from `iterationLimitCallback`, and one recorder callback keeps the curve, smooths it with
 * `smoothLosses`, stops the fit once the smoothed loss diverges (a NaN or infinite loss included: it poisons the
 * average) and checks `shouldCancel` before every step.
 */
import type { Callback, DataSource } from '../train/learner';
import { evaluate } from '../train/learner';
import { CallbackOrder, iterationLimitCallback, scheduleCallback } from '../train/callbacks';
import { shouldStop, smoothLosses } from './suggest';

export interface LrFinderOptions {
  /** The swept LR of every planned iteration (`lrRangeSchedule`); its length is the number of iterations. */
  schedule: readonly number[];
  /** Stop once the smoothed loss exceeds `stopFactor` times the best smoothed loss so far. Default 4. */
  stopFactor?: number;
  /** Smoothing of the loss (bias-corrected EMA, `smoothLosses`). Default 0.98. */
  beta?: number;
  /** Also evaluate this data after every step and record its loss. */
  validation?: DataSource;
  /** Checked before every step; when true the fit stops before training on the batch (`cancelled`). */
  shouldCancel?: () => boolean;
  /** Called after every step with the iteration, its LR, the raw and the smoothed training loss. */
  onStep?: (iteration: number, lr: number, loss: number, smoothedLoss: number) => void;
}

/** What the finder saw, filled in while the fit runs. */
export interface LrFinderRecord {
  lr: number[];
  loss: number[];
  smoothedLoss: number[];
  /** Empty unless `validation` was given. */
  validLoss: number[];
  /** The loss diverged before the planned iterations were done. */
  stoppedEarly: boolean;
  cancelled: boolean;
  /** Passes over the data that were started. */
  epochs: number;
}

export interface LrFinder {
  /** For `Learner.fit` (each with its `order`; their position in the array does not matter). */
  callbacks: Callback[];
  record: LrFinderRecord;
}

export function lrFinder(opts: LrFinderOptions): LrFinder {
  const { schedule, stopFactor = 4, beta = 0.98 } = opts;
  const iters = schedule.length;
  const record: LrFinderRecord = {
    lr: [],
    loss: [],
    smoothedLoss: [],
    validLoss: [],
    stoppedEarly: false,
    cancelled: false,
    epochs: 0,
  };
  let best = Infinity;
  const recorder: Callback = {
    // A stop rule like the NaN guard: after the iteration limit, so a divergence on the last step reads 'diverged'.
    order: CallbackOrder.nanGuard,
    beforeEpoch() {
      record.epochs++;
    },
    beforeBatch(s) {
      if (opts.shouldCancel?.()) {
        record.cancelled = true;
        s.stopReason = 'cancelled';
      }
    },
    async afterBatch(s, l) {
      record.lr.push(s.lr);
      record.loss.push(s.lastLoss);
      // The one smoothing implementation, over the whole curve each step: O(points), nothing next to a training step.
      record.smoothedLoss = smoothLosses(record.loss, beta);
      const n = record.loss.length;
      const smooth = record.smoothedLoss[n - 1]!;
      if (opts.validation) record.validLoss.push((await evaluate(l.model, opts.validation, l.loss)).loss);
      opts.onStep?.(s.iteration, s.lr, s.lastLoss, smooth);
      // fastai: update the best loss first, then test for divergence.
      if (n === 1 || smooth < best) best = smooth;
      if (shouldStop(smooth, best, stopFactor)) {
        record.stoppedEarly = s.iteration + 1 < iters;
        s.stopReason = 'diverged';
      }
    },
  };
  return {
    callbacks: [scheduleCallback((i) => schedule[i]!), iterationLimitCallback(iters), recorder],
    record,
  };
}
