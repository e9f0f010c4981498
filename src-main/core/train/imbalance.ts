/**
 * Class imbalance: loss weights (sklearn's 'balanced'), a weighted cross-entropy, and an oversampling order in
 * which every class appears equally often per epoch.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy, type LossFn } from './learner';
import { shuffled } from '../util/random';

function checkCounts(counts: readonly number[]): void {
  if (counts.length === 0) throw new RangeError('no classes');
  if (counts.some((c) => !Number.isFinite(c) || c < 0)) throw new RangeError('class counts must be ≥ 0');
}

/**
 * sklearn's 'balanced' weights, N / (K · n_c) over the K classes present: inverse frequency scaled so the mean
 * weight over the examples is 1, which keeps the loss (and so the learning rate) on the unweighted scale.
 * A class with no examples gets 1: it never occurs as a target, and 1 is neutral if it ever does.
 */
export function classWeights(counts: readonly number[]): number[] {
  checkCounts(counts);
  const present = counts.filter((c) => c > 0);
  if (present.length === 0) throw new RangeError('every class is empty');
  const total = present.reduce((s, c) => s + c, 0);
  return counts.map((c) => (c > 0 ? total / (present.length * c) : 1));
}

/**
 * −Σ_c w_c·y_c·log(p_c + 1e-7), normalised by the batch's sum of w_c·y_c (PyTorch's `reduction='mean'` with
 * `weight`, which also takes soft targets), so weights of 1 give exactly `crossEntropy`. With one-hot targets it is
 * −w_y·log(p_y + 1e-7); with mixup's soft targets each class's share is weighted by its class. Like
 * `crossEntropy`, no clipping: a NaN must still reach the NaN guard.
 */
export function weightedCrossEntropy(weights: readonly number[]): LossFn {
  const w = Float32Array.from(weights);
  return (probs, y) =>
    tf.tidy(() => {
      const wy = tf.mul(y, tf.tensor1d(w));
      const perItem = tf.sum(tf.mul(wy, tf.log(probs.add(1e-7))), -1);
      return tf.neg(tf.div(tf.sum(perItem), tf.sum(wy))) as tf.Scalar;
    });
}

/**
 * Indices into `labels` for one epoch where each class present appears equally often (±1 when `length` does not
 * divide evenly): small classes are repeated, large ones subsampled. Each class cycles through shuffled passes of
 * its own items, so every item of a small class is used before any repeats. Pass a fresh seeded stream per epoch.
 */
export function balancedOrder(labels: readonly number[], rand: () => number, length = labels.length): number[] {
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label);
    if (list) list.push(i);
    else byClass.set(label, [i]);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  if (classes.length === 0 || length <= 0) return [];
  const base = Math.floor(length / classes.length);
  // The remainder goes to randomly chosen classes, one extra slot each.
  const extra = new Set(shuffled(classes, rand).slice(0, length - base * classes.length));
  const out: number[] = [];
  for (const c of classes) {
    const members = byClass.get(c)!;
    const want = base + (extra.has(c) ? 1 : 0);
    let pass: number[] = [];
    for (let k = 0; k < want; k++) {
      if (pass.length === 0) pass = shuffled(members, rand);
      out.push(pass.pop()!);
    }
  }
  return shuffled(out, rand);
}

/** Largest class count over the smallest (1 = balanced; Infinity when a class is empty). */
export function imbalanceRatio(counts: readonly number[]): number {
  checkCounts(counts);
  const max = Math.max(...counts);
  const min = Math.min(...counts);
  if (max === 0) throw new RangeError('every class is empty');
  return min === 0 ? Infinity : max / min;
}

/** The loss for a balance mode: class weights from the training labels' counts, or plain cross-entropy. */
export function lossForBalance(
  mode: 'none' | 'weights' | 'sampler' | undefined,
  labels: readonly number[],
  numClasses: number,
): LossFn {
  if (mode !== 'weights') return crossEntropy;
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of labels) counts[l]!++;
  return weightedCrossEntropy(classWeights(counts));
}
