/**
 * Stochastic weight averaging (Izmailov et al. 2018; fast.ai v0.7 `use_swa`): the element-wise mean of several
 * models' weights, here of step 8's cycle snapshots (model folders written by saveModelToDir).
 */
import * as tf from '@tensorflow/tfjs';
import { readModelArtifacts } from '../model/modelFiles';

/**
 * The element-wise mean of named weight maps with the same names and shapes (new tensors; the inputs are not
 * disposed). Throws naming the weight when the maps disagree: averaging different architectures means nothing.
 */
export function averageWeights(maps: readonly tf.NamedTensorMap[]): tf.NamedTensorMap {
  if (maps.length === 0) throw new RangeError('averageWeights needs at least one set of weights.');
  const first = maps[0]!;
  const names = Object.keys(first);
  for (const [i, m] of maps.entries()) {
    if (Object.keys(m).length !== names.length) {
      throw new Error(
        `Weight set ${i} has ${Object.keys(m).length} weights, the first ${names.length}: not one model.`,
      );
    }
    for (const name of names) {
      const t = m[name];
      if (!t) throw new Error(`Weight set ${i} has no weight ${name}: not the same model.`);
      if (!tf.util.arraysEqual(t.shape, first[name]!.shape)) {
        throw new Error(
          `Weight ${name} is [${t.shape.join(', ')}] in set ${i}, [${first[name]!.shape.join(', ')}] in the first.`,
        );
      }
    }
  }
  return tf.tidy(() => {
    const out: tf.NamedTensorMap = {};
    // Sum in float32 and divide once: for K ≤ 10 the rounding stays far below 1e-6 of the weights' scale.
    for (const name of names) out[name] = tf.addN(maps.map((m) => m[name]!.toFloat())).div(maps.length);
    return out;
  });
}

/** The weights of a saved model folder, by their original names (`Conv1/kernel`); the caller disposes them. */
export function readNamedWeights(dir: string): tf.NamedTensorMap {
  const a = readModelArtifacts(dir);
  return tf.io.decodeWeights(a.weightData as ArrayBuffer, a.weightSpecs ?? []);
}

/** Writes the mean of the weights saved in `dirs` into `model` (same architecture); leaves no tensors behind. */
export function averageSavedWeightsInto(model: tf.LayersModel, dirs: readonly string[]): void {
  const maps: tf.NamedTensorMap[] = [];
  try {
    for (const dir of dirs) maps.push(readNamedWeights(dir));
    const mean = averageWeights(maps);
    try {
      for (const v of model.weights) {
        const t = mean[v.originalName];
        if (!t) throw new Error(`${dirs[0]} has no weight ${v.originalName}: it is not a snapshot of this model.`);
        v.write(t);
      }
    } finally {
      tf.dispose(mean);
    }
  } finally {
    for (const m of maps) tf.dispose(m);
  }
}
