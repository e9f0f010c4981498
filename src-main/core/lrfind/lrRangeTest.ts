/**
 * The LR range test (Leslie Smith, "Cyclical Learning Rates", 2015; fastai's `lr_find`): train one mini-batch per
 * step while the LR grows from `start` to `end`, record the (smoothed) loss, stop once it diverges, then suggest LRs
 * from the curve. It runs on the Learner's loop (`Learner.fit` with the `lrFinder` callbacks). The test leaves no
 * trace: the model's weights (trainable and not, e.g. BatchNorm statistics) and the optimizer's state are snapshotted
 * before and restored bit for bit afterwards, also when it fails or is cancelled.
 */
import * as tf from '@tensorflow/tfjs';
import type { Message } from '../../../src-shared/messages';
import type { DataSource, Learner } from '../train/learner';
import type { OptimizerState } from '../train/optimizers';
import { lrFinder, type LrFinderOptions } from './lrFinderCallback';
import { lrRangeSchedule, suggestLrs, type LrRangeMode } from './suggest';

/** What the range test shares with its callbacks: divergence, smoothing, validation, cancel and per-step reports. */
export interface LrRangeTestOptions extends Pick<LrFinderOptions, 'stopFactor' | 'beta' | 'shouldCancel' | 'onStep'> {
  /** First LR of the sweep. Default 1e-7. */
  start?: number;
  /** Last LR of the sweep (reached at the last planned iteration). Default 10. */
  end?: number;
  /**
   * Planned iterations (mini-batches), default 100. When the data has fewer batches than this, the test runs over
   * several epochs of it (re-shuffled by the data source each epoch) until `iters` batches are done.
   */
  iters?: number;
  /** How the LR grows: exponentially (default, as fastai) or linearly (Leslie Smith's original plots). */
  mode?: LrRangeMode;
  /**
   * Per-group LR multipliers (indexed like `learner.groups`) applied on top of the swept LR, e.g. [1/9, 1/3, 1] for
   * discriminative LRs in step 7; the recorded `lr` is the swept (last group's) LR. Default: 1 for every group.
   */
  groupLrMults?: number[];
  /**
   * Leslie Smith's variant: also evaluate this data after every step and record the validation loss (slower: one
   * full pass over it per step). The suggestions come from the smoothed training loss unless `suggestFrom` is
   * 'valid'.
   */
  validation?: DataSource;
  /**
   * The curve the suggestions are computed from: the smoothed training loss (default) or, with `validation`, the
   * validation loss (fast.ai v0.7 `lr_find2`). The validation loss is used as recorded, not smoothed: each point is
   * already a mean over the whole validation set, without the batch-to-batch noise the smoothing is for.
   */
  suggestFrom?: 'train' | 'valid';
  /** Momentum (or Adam's beta1) during the test. Default: the optimizer's configured momentum. */
  momentum?: number;
}

export interface LrRangeTestResult {
  /** The swept LR of every completed step. */
  lr: number[];
  /** Raw training loss of every step (may end in NaN/Infinity when it diverged). */
  loss: number[];
  /** Bias-corrected EMA of `loss` (what fastai plots and the rules use). */
  smoothedLoss: number[];
  /** Validation loss after each step, when `validation` was given. */
  validLoss?: number[];
  /** The curve `suggestions`, `rules` and `minIndex` come from (`suggestFrom`). */
  curve: 'train' | 'valid';
  suggestions: { valley: number | null; steep: number | null; minDiv10: number | null };
  /** How each suggestion was picked, or why there is none. */
  rules: { valley: string; steep: string; minDiv10: string };
  /** `rules` as codes, said in the user's language (the reasons, when a suggestion is null). */
  ruleMessages: { valley: Message[]; steep: Message[]; minDiv10: Message[] };
  /** Index of the lowest smoothed loss within the window the rules looked at. */
  minIndex: number | null;
  /** The loss diverged (or became NaN/Infinity) before the planned iterations were done. */
  stoppedEarly: boolean;
  /** `shouldCancel` ended the test. */
  cancelled: boolean;
  /** Planned iterations and the number of passes over the data that were started. */
  iters: number;
  epochs: number;
}

interface Snapshot {
  weights: Array<{ variable: tf.LayerVariable; values: Float32Array | Int32Array | Uint8Array }>;
  optimizer: OptimizerState;
}

/** Deep copies of every weight of the model (and of the learner's groups) and of the optimizer state. */
function snapshot(learner: Learner): Snapshot {
  const seen = new Set<tf.LayerVariable>();
  const all = [...learner.model.weights, ...learner.groups.flatMap((g) => g.variables)].filter((v) => {
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  });
  return {
    weights: all.map((variable) => {
      const data = variable.read().dataSync() as Float32Array | Int32Array | Uint8Array;
      return { variable, values: data.slice() };
    }),
    optimizer: learner.optimizer.getState(),
  };
}

function restore(learner: Learner, snap: Snapshot): void {
  for (const { variable, values } of snap.weights) {
    const current = variable.read();
    const t = tf.tensor(values, current.shape, current.dtype);
    variable.write(t);
    t.dispose();
  }
  learner.optimizer.setState(snap.optimizer);
}

/**
 * Runs the range test on `data`: `Learner.fit` over as many passes as `iters` needs, with the finder's callbacks
 * instead of the learner's own (which do not run), and the learner's optimizer, loss, `microBatch` and
 * `trainingMode`. The optimizer keeps whatever state it had during the test (as fastai does); both are restored
 * afterwards.
 */
export async function lrRangeTest(
  learner: Learner,
  data: DataSource,
  opts: LrRangeTestOptions = {},
): Promise<LrRangeTestResult> {
  const { start = 1e-7, end = 10, iters = 100, mode = 'exp', stopFactor = 4, beta = 0.98 } = opts;
  const schedule = lrRangeSchedule(start, end, iters, mode);
  if (!(end > start)) throw new RangeError(`end (${end}) must be larger than start (${start})`);
  if (!(stopFactor > 1)) throw new RangeError(`stopFactor must be > 1 (got ${stopFactor})`);
  if (!(beta >= 0 && beta < 1)) throw new RangeError(`beta must be in [0, 1) (got ${beta})`);
  if (data.numBatches < 1) throw new Error('The LR range test needs at least one batch of training data.');
  const curve = opts.suggestFrom ?? 'train';
  if (curve === 'valid' && !opts.validation) {
    throw new Error(
      "Suggestions from the validation loss need validation data: pass `validation` with suggestFrom 'valid'.",
    );
  }
  const groupLrMults = opts.groupLrMults ?? learner.groups.map(() => 1);
  if (groupLrMults.length !== learner.groups.length) {
    throw new RangeError(`groupLrMults has ${groupLrMults.length} entries for ${learner.groups.length} groups`);
  }

  const finder = lrFinder({
    schedule,
    stopFactor,
    beta,
    validation: opts.validation,
    shouldCancel: opts.shouldCancel,
    onStep: opts.onStep,
  });
  const snap = snapshot(learner);
  try {
    await learner.withCallbacks(finder.callbacks).fit(Math.ceil(iters / data.numBatches), data, {
      totalIterations: iters,
      momentum: opts.momentum ?? learner.optimizer.config.momentum,
      groupLrMults,
    });
  } finally {
    restore(learner, snap);
  }

  const { lr, loss, smoothedLoss, validLoss, stoppedEarly, cancelled, epochs } = finder.record;
  const sug = suggestLrs(lr, curve === 'valid' ? validLoss : smoothedLoss, { numIt: iters });
  const none = sug.note ?? 'Not enough points in the loss curve.';
  const noneMessages: Message[] = sug.noteMessages ?? [{ code: 'lrRule.noPoints', params: {} }];
  const result: LrRangeTestResult = {
    lr,
    loss,
    smoothedLoss,
    suggestions: {
      valley: sug.valley?.lr ?? null,
      steep: sug.steep?.lr ?? null,
      minDiv10: sug.minDiv10?.lr ?? null,
    },
    rules: {
      valley: sug.valley?.rule ?? none,
      steep: sug.steep?.rule ?? none,
      minDiv10: sug.minDiv10?.rule ?? none,
    },
    ruleMessages: {
      valley: sug.valley ? [sug.valley.ruleMessage] : noneMessages,
      steep: sug.steep ? [sug.steep.ruleMessage] : noneMessages,
      minDiv10: sug.minDiv10 ? [sug.minDiv10.ruleMessage] : noneMessages,
    },
    minIndex: sug.minIndex,
    stoppedEarly,
    cancelled,
    iters,
    epochs,
    curve,
  };
  if (opts.validation) result.validLoss = validLoss;
  return result;
}
