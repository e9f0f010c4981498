/** Small seeded models and labelled feature rows for the unit tests of the training code. */
import * as tf from '@tensorflow/tfjs';

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
