/** Learner callbacks: each one behaviour, a few lines. */
import type { Callback, DataSource, FitState, Learner } from './learner';
import { DEFAULT_CALLBACK_ORDER, evaluate } from './learner';
import type { EpochMetrics } from '../../../src-shared/contract';
import type { Schedule } from '../../../src-shared/schedules/types';

/**
 * The `order` of the built-in callbacks (lower runs first at every hook; equal orders keep their array position).
 * A callback without an order (a checkpoint, a tracker, an observer) runs at `DEFAULT_CALLBACK_ORDER` (0): after the
 * schedule has set the batch's hyper-parameters and validation has filled in `metrics`, before the stop rules (so
 * what it counts or records can feed `shouldCancel`) and before reporting.
 */
export const CallbackOrder = {
  /** beforeBatch: sets `lr` / `momentum` before anything reads them. */
  schedule: -20,
  /** afterEpoch: validation metrics, before the callbacks that act on them (best model, patience, checkpoints). */
  validation: -10,
  default: DEFAULT_CALLBACK_ORDER,
  /**
   * afterBatch: the stop rules, after the other callbacks have seen the batch. When several fire on one batch the
   * last one wins: 'diverged' (NaN guard) over 'cancelled' over 'done' (iteration limit).
   */
  iterationLimit: 10,
  cancel: 11,
  nanGuard: 12,
  /** Last: batch, epoch and progress reports see the final state of each batch and epoch. */
  reporting: 50,
} as const;

/** Sets the LR (and momentum) for every iteration from a precomputed schedule. */
export function scheduleCallback(
  lr: (iteration: number) => number,
  momentum?: (iteration: number) => number,
): Callback {
  return {
    order: CallbackOrder.schedule,
    beforeBatch(s) {
      s.lr = lr(s.iteration);
      if (momentum) s.momentum = momentum(s.iteration);
    },
  };
}

/** Ends the fit after `total` iterations (schedules may end mid-epoch, e.g. fractional SGDR cycles). */
export function iterationLimitCallback(total: number): Callback {
  return {
    order: CallbackOrder.iterationLimit,
    afterBatch(s) {
      if (s.iteration + 1 >= total) s.stopReason = 'done';
    },
  };
}

/** Stops within one batch once `shouldCancel` turns true. */
export function cancelCallback(shouldCancel: () => boolean): Callback {
  return {
    order: CallbackOrder.cancel,
    afterBatch(s) {
      if (shouldCancel()) s.stopReason = 'cancelled';
    },
  };
}

/** A NaN or infinite loss means the LR is too high: stop instead of training garbage. */
export function nanGuardCallback(): Callback {
  return {
    order: CallbackOrder.nanGuard,
    afterBatch(s) {
      if (!Number.isFinite(s.lastLoss)) s.stopReason = 'diverged';
    },
  };
}

/** Validation loss and accuracy after each epoch, in inference mode (dropout off). */
export function validationCallback(valid: DataSource): Callback {
  return {
    order: CallbackOrder.validation,
    async afterEpoch(s: FitState, l: Learner) {
      const r = await evaluate(l.model, valid, l.loss);
      s.metrics.validLoss = r.loss;
      s.metrics.validAccuracy = r.accuracy;
    },
  };
}

export interface BatchReport {
  epoch: number;
  iteration: number;
  loss: number;
  lr: number;
}
/** An epoch's metrics; the job that runs the Learner adds which step it was. */
export type EpochReport = Omit<EpochMetrics, 'step'>;
export interface ProgressReport {
  done: number;
  total: number;
  etaSeconds: number | null;
}

/** Reports batches, epochs and progress with an ETA. */
export function reportingCallback(report: {
  batch?: (b: BatchReport) => void;
  epoch?: (e: EpochReport) => void;
  progress?: (p: ProgressReport) => void;
}): Callback {
  let fitStart = 0;
  let epochStart = 0;
  return {
    order: CallbackOrder.reporting,
    beforeFit() {
      fitStart = Date.now();
    },
    beforeEpoch() {
      epochStart = Date.now();
    },
    afterBatch(s) {
      report.batch?.({ epoch: s.epoch, iteration: s.iteration, loss: s.lastLoss, lr: s.lr });
      const done = s.iteration + 1;
      const perIter = (Date.now() - fitStart) / 1000 / done;
      report.progress?.({ done, total: s.totalIterations, etaSeconds: perIter * (s.totalIterations - done) });
    },
    afterEpoch(s) {
      report.epoch?.({
        epoch: s.epoch,
        trainLoss: s.epochLoss,
        validLoss: s.metrics.validLoss ?? NaN,
        validAccuracy: s.metrics.validAccuracy ?? NaN,
        lr: s.lr,
        seconds: (Date.now() - epochStart) / 1000,
      });
    },
  };
}

/** A planned schedule's value at iteration i (the last one past the end). */
const at = (xs: number[]) => (i: number) => xs[Math.min(i, xs.length - 1)]!;

/**
 * The callbacks every training run shares (each training step of the recipe): the plan's LR (and momentum) per
 * iteration, stop at the plan's end, on cancel and on a non-finite loss, validate every epoch, report.
 */
export function trainingCallbacks(opts: {
  plan: Pick<Schedule, 'lr' | 'momentum'>;
  valid: DataSource;
  shouldCancel: () => boolean;
  report: Parameters<typeof reportingCallback>[0];
}): Callback[] {
  const { plan } = opts;
  return [
    scheduleCallback(at(plan.lr), plan.momentum ? at(plan.momentum) : undefined),
    iterationLimitCallback(plan.lr.length),
    cancelCallback(opts.shouldCancel),
    nanGuardCallback(),
    validationCallback(opts.valid),
    reportingCallback(opts.report),
  ];
}
