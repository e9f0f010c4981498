/**
 * Seeded dropout, so that a run with the same seed repeats exactly. tfjs's Dropout layer draws its mask with
 * `Math.random` when it has no seed, and the *same* mask at every call when it has one (a seeded generator is
 * rebuilt per call). Here each training call gets a seed derived from the run seed and the training loop's position
 * (`setDropoutPosition`: the fit, epoch and batch), never from how many calls this process made before: a run
 * resumed from a checkpoint draws the masks the uninterrupted run drew. Inference is untouched and the layer still
 * saves as a plain Keras `Dropout`, so exported models load anywhere.
 */
import type * as tf from '@tensorflow/tfjs';
import { subSeed } from '../util/random';

interface DropoutInternals {
  seed?: number;
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/** Where a seeded Dropout layer's masks come from: the position last set, and the training calls since. */
interface MaskStream {
  position: string;
  calls: number;
}

// Keyed by the layer object: a head sub-model shares its Dropout layer with the full classifier.
const streams = new WeakMap<object, MaskStream>();

/**
 * Give every Dropout layer of `model` a mask stream seeded by `seed`: the k-th training call since the last
 * `setDropoutPosition(…, p)` uses subSeed(seed, `dropout-<layer>@p-k`) (before any position: `dropout-<layer>-k`).
 */
export function seedDropout(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'Dropout' || streams.has(layer)) continue;
    const stream: MaskStream = { position: '', calls: 0 };
    streams.set(layer, stream);
    const inner = layer as unknown as DropoutInternals;
    const call = inner.call.bind(layer);
    const own = inner.seed;
    inner.call = (inputs, kwargs) => {
      if (kwargs['training'] === true) {
        const at = stream.position === '' ? '' : `@${stream.position}`;
        inner.seed = subSeed(seed, `dropout-${layer.name}${at}-${stream.calls++}`);
      }
      try {
        return call(inputs, kwargs);
      } finally {
        // The saved config keeps the layer's own seed (null here): the stream is the run's, not the model's.
        inner.seed = own;
      }
    };
  }
}

/**
 * Tell `model`'s seeded Dropout layers where training is (e.g. `step4-augment/2/5`: fit, epoch, batch): their next
 * masks depend on this position only, so the same batch of the same epoch gets the same masks in any process.
 */
export function setDropoutPosition(model: tf.LayersModel, position: string): void {
  for (const layer of model.layers) {
    const stream = streams.get(layer);
    if (!stream) continue;
    stream.position = position;
    stream.calls = 0;
  }
}
