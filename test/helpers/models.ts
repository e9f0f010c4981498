/** Small seeded models and labelled feature rows for the unit tests of the training code. */
import * as tf from '@tensorflow/tfjs';
import { mulberry32 } from '../../src-main/core/util/random';

/** A dense softmax layer with a seeded Glorot kernel: the same initial weights on every run. */
export function softmaxDense(units: number, seed: number, inputShape?: number[]) {
  return tf.layers.dense({
    ...(inputShape ? { inputShape } : {}),
    units,
    activation: 'softmax',
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
}

/** `n` rows labelled round-robin (row i has class i % numClasses), each drawn by `row` from the shared `rand`. */
export function labelledRows(
  n: number,
  numClasses: number,
  rand: () => number,
  row: (label: number, rand: () => number) => Float32Array,
): { rows: Float32Array[]; labels: number[] } {
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % numClasses;
    rows.push(row(label, rand));
    labels.push(label);
  }
  return { rows, labels };
}

/** Classes and width of `reluBlobs`' rows. */
export const BLOB_CLASSES = 3;
export const BLOB_FEATURES = 64;

/** `n` rows of ReLU-like features (like pooled backbone activations): Gaussian-ish blobs around sparse centres. */
export function reluBlobs(n: number, seed: number): { rows: Float32Array[]; labels: number[] } {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: BLOB_CLASSES }, () =>
    Float32Array.from({ length: BLOB_FEATURES }, () => (rand() < 0.5 ? 0 : rand())),
  );
  return labelledRows(n, BLOB_CLASSES, rand, (c) =>
    Float32Array.from(centers[c]!, (v) => Math.max(0, v + 2 * (rand() + rand() + rand() - 1.5))),
  );
}

/** A softmax head over `reluBlobs`' features (seed 1). */
export const blobSoftmaxHead = () => tf.sequential({ layers: [softmaxDense(BLOB_CLASSES, 1, [BLOB_FEATURES])] });
