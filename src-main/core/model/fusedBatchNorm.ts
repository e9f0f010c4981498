/**
 * BatchNormalization layers that, in training mode, normalise with the batch's statistics through one fused kernel
 * and a fused gradient (`batchNormTraining`) instead of tfjs-layers' moments + batchNorm chain and its ten-op
 * backward pass. Same maths, same moving-average updates; inference mode and other backends run the layer unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, fusedActive } from '../tf/gradients';

/** The fields of tfjs-layers' BatchNormalization that its `call` uses (not in its public typings). */
export interface BatchNormFields {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

type Call = tf.layers.Layer['call'];

/** Swaps in the fused training path on every BatchNormalization layer of `model` (idempotent). */
export function useFusedBatchNorm(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || patched.has(layer)) continue;
    patched.add(layer);
    const bn = layer as unknown as BatchNormFields;
    const stockCall: Call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const lastAxis = bn.axis === -1 || bn.axis === x.rank - 1;
      if (!kwargs?.training || !lastAxis || !bn.gamma || !bn.beta || !fusedActive()) return stockCall(inputs, kwargs);
      return tf.tidy(() => {
        const [y, mean, variance] = batchNormTraining(x, bn.gamma!.read(), bn.beta!.read(), bn.epsilon);
        // As tfjs-layers: moving ← moving − (moving − batch)·(1 − momentum).
        for (const [moving, batch] of [
          [bn.movingMean, mean!],
          [bn.movingVariance, variance!],
        ] as const) {
          const orig = moving.read();
          moving.write(tf.sub(orig, tf.mul(tf.sub(orig, batch), 1 - bn.momentum)));
        }
        return y!;
      });
    };
  }
}

const patched = new WeakSet<tf.layers.Layer>();
