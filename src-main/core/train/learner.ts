/**
 * The training loop, fastai-style: one small loop; every behaviour (LR schedule, metrics, progress, checkpoints,
 * early stopping, cancel, NaN guard) is a callback.
 */
import * as tf from '@tensorflow/tfjs';
import type { Optimizer } from './optimizers';
import { setDropoutPosition } from './seededDropout';

export interface Batch {
  x: tf.Tensor;
  /** Targets: one-hot labels, or soft targets (rows summing to 1) from mixup/cutmix (mix.ts). */
  y: tf.Tensor;
}

/** Yields batches; the learner disposes each batch after use. */
export interface DataSource {
  readonly numBatches: number;
  readonly numItems: number;
  batches(epoch: number): AsyncIterable<Batch>;
}

export interface FitState {
  epoch: number;
  epochs: number;
  /** Iteration within this fit, 0-based. */
  iteration: number;
  totalIterations: number;
  batchInEpoch: number;
  /** Hyper-parameters for the coming batch; schedule callbacks set them. */
  lr: number;
  momentum: number;
  /** Per-group LR multipliers, indexed like `Learner.groups`. */
  groupLrMults: number[];
  lastLoss: number;
  /** Mean training loss of the current epoch so far. */
  epochLoss: number;
  metrics: Record<string, number>;
  /**
   * Set by a callback to end the fit: from `afterBatch` (or `afterEpoch`) it ends after the current batch (epoch);
   * from `beforeEpoch` or `beforeBatch` the coming batch is skipped (no step, no `afterBatch`).
   */
  stopReason: StopReason | null;
}

/**
 * Why a fit ended early: the plan's last iteration ('done'), a cancel, a non-finite loss ('diverged'), or step 8's
 * patience ('overfitting').
 */
export type StopReason = 'done' | 'cancelled' | 'diverged' | 'overfitting';

/**
 * One behaviour of the training loop. The learner runs its callbacks sorted by `order` (lower first, as in fastai;
 * equal orders keep their position in the array), so a callback's place in the list does not matter — give it an
 * order instead (see `CallbackOrder` in callbacks.ts for the built-in ones).
 */
export interface Callback {
  /** Where this callback runs relative to the others at every hook; default 0 (`DEFAULT_CALLBACK_ORDER`). */
  order?: number;
  beforeFit?(s: FitState, l: Learner): void | Promise<void>;
  beforeEpoch?(s: FitState, l: Learner): void | Promise<void>;
  beforeBatch?(s: FitState, l: Learner): void | Promise<void>;
  afterBatch?(s: FitState, l: Learner): void | Promise<void>;
  afterEpoch?(s: FitState, l: Learner): void | Promise<void>;
  afterFit?(s: FitState, l: Learner): void | Promise<void>;
}

export type CallbackHook = Exclude<keyof Callback, 'order'>;

/** A callback without an order: after the built-in schedule and validation, before the stop rules and reporting. */
export const DEFAULT_CALLBACK_ORDER = 0;

/** The callbacks in the order they run: by `order`, ties in array order (Array.prototype.sort is stable). */
export function sortCallbacks(callbacks: readonly Callback[]): Callback[] {
  const orderOf = (cb: Callback) => cb.order ?? DEFAULT_CALLBACK_ORDER;
  return [...callbacks].sort((a, b) => orderOf(a) - orderOf(b));
}

/** A loss of softmax outputs against targets that are one-hot or soft (rows of probabilities). */
export type LossFn = (probs: tf.Tensor, targets: tf.Tensor) => tf.Scalar;

/**
 * Cross-entropy on softmax outputs: −Σ_c y_c·log(p_c + ε), mean over the batch. With one-hot targets it is
 * −log(p_true + ε), to the bit; with mixup's soft targets it is fastai's λ·CE(a) + (1 − λ)·CE(b). Written without
 * clipping on purpose: clipping would turn a NaN probability into a finite loss and hide divergence from the NaN guard.
 */
export const crossEntropy: LossFn = (probs, y) =>
  tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(probs.add(1e-7))), -1))) as tf.Scalar);

export interface ParamGroupSpec {
  name: string;
  variables: tf.LayerVariable[];
}

export class Learner {
  constructor(
    readonly model: tf.LayersModel,
    readonly optimizer: Optimizer,
    /** Layer groups, earliest first; only trainable variables are updated. */
    readonly groups: ParamGroupSpec[],
    readonly callbacks: Callback[] = [],
    readonly loss: LossFn = crossEntropy,
  ) {}

  /**
   * A learner on the same model, optimizer, layer groups and loss (and with the same `microBatch` and
   * `trainingMode`) that runs `callbacks` instead of this one's, e.g. the LR range test's own fit.
   */
  withCallbacks(callbacks: Callback[]): Learner {
    const other = new Learner(this.model, this.optimizer, this.groups, callbacks, this.loss);
    other.microBatch = this.microBatch;
    other.trainingMode = this.trainingMode;
    other.streamName = this.streamName;
    return other;
  }

  private async run(callbacks: readonly Callback[], hook: CallbackHook, s: FitState) {
    for (const cb of callbacks) await cb[hook]?.(s, this);
  }

  /**
   * Largest number of images per forward/backward pass. A larger batch is split into micro-batches whose gradients
   * are summed (weighted by size) before one update: the same step for most layers, less memory (wasm's 4 GB heap).
   * BatchNorm in training mode then normalises with each micro-batch's statistics.
   */
  microBatch = Infinity;

  /**
   * The `training` flag layers are called with: true = dropout on, BatchNorm uses and updates batch statistics;
   * false = both in inference mode while the weights (BatchNorm's gamma/beta included) still learn — Keras'
   * advice for fine-tuning a pretrained network on little data.
   */
  trainingMode = true;

  /**
   * Names this fit's seeded randomness (dropout masks; a recipe step's name): each batch's masks are drawn from
   * (seed, streamName, epoch, batch), not from what ran before in this process, so a resumed fit repeats them.
   */
  streamName = '';

  trainableVariables(): tf.LayerVariable[] {
    return this.groups.flatMap((g) => g.variables.filter((v) => v.trainable));
  }

  /** One optimisation step on a batch; returns the loss. */
  trainStep(batch: Batch, s: FitState): number {
    const vars = this.trainableVariables();
    const groupOf = new Map<string, number>();
    this.groups.forEach((g, i) => g.variables.forEach((v) => groupOf.set((v.read() as tf.Variable).name, i)));
    const raw = vars.map((v) => v.read() as tf.Variable);
    setDropoutPosition(this.model, `${this.streamName}/${s.epoch}/${s.batchInEpoch}`);
    const { value, grads } = this.gradients(batch, raw);
    const lossValue = value.dataSync()[0]!;
    if (Number.isFinite(lossValue)) {
      this.optimizer.apply(raw, grads, {
        momentum: s.momentum,
        lrOf: (name) => s.lr * (s.groupLrMults[groupOf.get(name) ?? this.groups.length - 1] ?? 1),
      });
    }
    value.dispose();
    tf.dispose(grads);
    return lossValue;
  }

  /** Loss and gradients of the whole batch, accumulated over micro-batches when it is larger than `microBatch`. */
  private gradients(batch: Batch, raw: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const lossOf = (x: tf.Tensor, y: tf.Tensor) =>
      this.loss(this.model.apply(x, { training: this.trainingMode }) as tf.Tensor, y);
    const n = batch.x.shape[0]!;
    if (n <= this.microBatch) return tf.variableGrads(() => lossOf(batch.x, batch.y), raw);
    let value = tf.scalar(0);
    let grads: tf.NamedTensorMap = {};
    for (let start = 0; start < n; start += this.microBatch) {
      const size = Math.min(this.microBatch, n - start);
      const part = tf.tidy(() =>
        tf.variableGrads(
          () => lossOf(tf.slice(batch.x, start, size), tf.slice(batch.y, start, size)).mul(size / n) as tf.Scalar,
          raw,
        ),
      );
      const next = tf.tidy(() => ({
        value: value.add(part.value) as tf.Scalar,
        grads: Object.fromEntries(
          Object.entries(part.grads).map(([k, g]) => [k, grads[k] ? tf.add(grads[k], g) : g.clone()]),
        ),
      }));
      tf.dispose([value, part.value, grads, part.grads]);
      value = next.value;
      grads = next.grads;
    }
    return { value, grads };
  }

  async fit(epochs: number, train: DataSource, init: Partial<FitState> = {}): Promise<FitState> {
    const s: FitState = {
      epoch: 0,
      epochs,
      iteration: 0,
      totalIterations: epochs * train.numBatches,
      batchInEpoch: 0,
      lr: 1e-3,
      momentum: this.optimizer.config.momentum,
      groupLrMults: this.groups.map(() => 1),
      lastLoss: NaN,
      epochLoss: NaN,
      metrics: {},
      stopReason: null,
      ...init,
    };
    // Sorted once per fit: the order is fixed for the whole fit.
    const cbs = sortCallbacks(this.callbacks);
    await this.run(cbs, 'beforeFit', s);
    for (; s.epoch < epochs && !s.stopReason; s.epoch++) {
      s.batchInEpoch = 0;
      s.epochLoss = 0;
      s.metrics = {};
      await this.run(cbs, 'beforeEpoch', s);
      for await (const batch of train.batches(s.epoch)) {
        try {
          await this.run(cbs, 'beforeBatch', s);
          // A stop set before the batch (e.g. a cancel checked before each step) skips it: no step, no afterBatch.
          if (s.stopReason) break;
          s.lastLoss = this.trainStep(batch, s);
        } finally {
          tf.dispose([batch.x, batch.y]);
        }
        s.epochLoss += (s.lastLoss - s.epochLoss) / (s.batchInEpoch + 1);
        await this.run(cbs, 'afterBatch', s);
        s.iteration++;
        s.batchInEpoch++;
        if (s.stopReason) break;
      }
      // A planned end ('done') mid-epoch still validates; cancel and divergence do not.
      if (s.stopReason && s.stopReason !== 'done' && s.batchInEpoch < train.numBatches) break;
      await this.run(cbs, 'afterEpoch', s);
    }
    await this.run(cbs, 'afterFit', s);
    return s;
  }
}

/** Loss and accuracy of a model on a data source, in inference mode. */
export async function evaluate(
  model: tf.LayersModel,
  data: DataSource,
  loss: LossFn = crossEntropy,
): Promise<{ loss: number; accuracy: number; probabilities: Float32Array[] }> {
  let total = 0;
  let correct = 0;
  let lossSum = 0;
  const probabilities: Float32Array[] = [];
  for await (const batch of data.batches(0)) {
    const [l, c, p] = tf.tidy(() => {
      const probs = model.predict(batch.x) as tf.Tensor;
      const n = batch.x.shape[0]!;
      const hits = tf.equal(tf.argMax(probs, -1), tf.argMax(batch.y, -1)).sum();
      return [loss(probs, batch.y).mul(n), hits, probs];
    });
    const n = batch.x.shape[0]!;
    lossSum += (await l.data())[0]!;
    correct += (await c.data())[0]!;
    const flat = (await p.data()) as Float32Array;
    const k = p.shape[1]!;
    for (let i = 0; i < n; i++) probabilities.push(flat.slice(i * k, (i + 1) * k));
    total += n;
    tf.dispose([l, c, p, batch.x, batch.y]);
  }
  return { loss: lossSum / Math.max(1, total), accuracy: correct / Math.max(1, total), probabilities };
}
