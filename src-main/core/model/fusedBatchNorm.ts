/**
 * BatchNormalization layers that, in training mode, normalise with the batch's statistics through one fused kernel
 * and a fused gradient (`batchNormTraining`) instead of tfjs-layers' moments + batchNorm chain and its ten-op
 * backward pass. Same maths, same moving-average updates; inference mode and other backends run the layer unchanged.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTraining, fusedActive } from '../tf/gradients';
import { consumersOf, firstInput, isRelu6, onlyConsumer } from './layerGraph';

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
type Kwargs = Parameters<Call>[1];

/**
 * Swaps in the fused training path on every BatchNormalization layer of `model` (idempotent). A ReLU6 layer that is
 * a batch norm's only consumer runs in the same pass (and passes its input on) when the fused path runs.
 */
export function useFusedBatchNorm(model: tf.LayersModel): void {
  const consumers = consumersOf(model.layers);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization' || patched.has(layer)) continue;
    patched.add(layer);
    const bn = layer as unknown as BatchNormFields;
    const stockCall: Call = layer.call.bind(layer);
    const next = onlyConsumer(consumers, layer);
    const relu = next && isRelu6(next) && !patched.has(next) ? next : null;
    const fuses = (x: tf.Tensor, kwargs: Kwargs) =>
      Boolean(kwargs?.training) &&
      (bn.axis === -1 || bn.axis === x.rank - 1) &&
      bn.gamma != null &&
      bn.beta != null &&
      fusedActive();
    if (relu) {
      patched.add(relu);
      const reluCall: Call = relu.call.bind(relu);
      relu.call = (inputs, kwargs) => {
        const x = firstInput(inputs);
        return fuses(x, kwargs) ? x : reluCall(inputs, kwargs);
      };
    }
    layer.call = (inputs, kwargs) => {
      const x = firstInput(inputs);
      if (!fuses(x, kwargs)) return stockCall(inputs, kwargs);
      return tf.tidy(() => {
        const [y, mean, variance] = batchNormTraining(x, bn.gamma!.read(), bn.beta!.read(), bn.epsilon, relu != null);
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
