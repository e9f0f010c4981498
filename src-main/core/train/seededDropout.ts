/**
 * Seeded dropout, so that a run with the same seed repeats exactly. tfjs's Dropout layer draws its mask with
 * `Math.random` when it has no seed, and the *same* mask at every call when it has one (a seeded generator is
 * rebuilt per call). Here each training call gets the next seed of a stream derived from the run seed; inference
 * is untouched and the layer still saves as a plain Keras `Dropout`, so exported models load anywhere.
 */
import type * as tf from '@tensorflow/tfjs';
import { subSeed } from '../util/random';

interface DropoutInternals {
  seed?: number;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/** Give every Dropout layer of `model` a mask stream seeded by `seed` (call k uses subSeed(seed, `dropout-k`)). */
export function seedDropout(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Dropout') continue;
    const inner = layer as unknown as DropoutInternals;
    const call = inner.call.bind(layer);
    let calls = 0;
    const own = inner.seed;
    inner.call = (inputs, kwargs) => {
      if (kwargs['training'] === true) inner.seed = subSeed(seed, `dropout-${layer.name}-${calls++}`);
      try {
        return call(inputs, kwargs);
      } finally {
        // The saved config keeps the layer's own seed (null here): the stream is the run's, not the model's.
        inner.seed = own;
      }
    };
  }
}
