/**
 * A ZeroPadding2D whose only consumer is a 'valid' convolution is that convolution's explicit padding (MobileNetV2
 * pads before each stride-2 depthwise convolution). Folded in, the padded copy of the activations (forward) and its
 * crop (the pad's gradient) go: one full pass each way per pad. The folded inference program and training both fold.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExplicitPads } from '../tf/convBiasAct';
import { consumersOf, firstInput, isPlainConv, onlyConsumer, type ConvFields } from './layerGraph';

type Layer = tf.layers.Layer;

/** [[top, bottom], [left, right]] */
export type Pads = [[number, number], [number, number]];

/** The pads of `layer` when it is a channels-last ZeroPadding2D and `next`, its only consumer, a 'valid' conv. */
export function foldablePads(layer: Layer, next: Layer | null): Pads | null {
  const pad = layer as unknown as { padding?: Pads; dataFormat?: string };
  if (layer.getClassName() !== 'ZeroPadding2D' || !pad.padding || pad.dataFormat !== 'channelsLast') return null;
  if (!next || !['Conv2D', 'DepthwiseConv2D'].includes(next.getClassName())) return null;
  const conv = next as unknown as ConvFields;
  if (conv.padding !== 'valid' || conv.dataFormat !== 'channelsLast') return null;
  return pad.padding;
}

const patched = new WeakSet<Layer>();
const explicitPads = new WeakMap<Layer, ExplicitPads>();

/** The padding a convolution layer runs with: its own, or the explicit pads of a zero padding folded into it. */
export const convPadding = (conv: Layer): 'same' | 'valid' | ExplicitPads =>
  explicitPads.get(conv) ?? (conv as unknown as ConvFields).padding;

/**
 * Folds every foldable zero padding of `model` into its convolution for `apply` (training) and `predict` alike: the
 * pad layer passes its input through and the convolution pads explicitly. Only plain convolutions (layerGraph.ts
 * `isPlainConv`: no bias or activation, dilation 1, channels last: MobileNetV2's) are patched; the layers' configs, weights and exports are unchanged.
 * Idempotent.
 */
export function usePadsInConvs(model: tf.LayersModel): void {
  const consumers = consumersOf(model.layers);
  for (const layer of model.layers) {
    const next = onlyConsumer(consumers, layer);
    const pads = foldablePads(layer, next);
    if (!pads || !next || patched.has(layer) || patched.has(next)) continue;
    const conv = next as unknown as ConvFields;
    if (!isPlainConv(conv)) continue;
    const explicit: ExplicitPads = [[0, 0], pads[0], pads[1], [0, 0]];
    const strides = conv.strides as [number, number];
    patched.add(layer);
    patched.add(next);
    explicitPads.set(next, explicit);
    layer.call = (inputs) => firstInput(inputs);
    next.call =
      next.getClassName() === 'DepthwiseConv2D'
        ? (inputs) =>
            tf.depthwiseConv2d(
              firstInput(inputs) as tf.Tensor4D,
              conv.depthwiseKernel!.read() as tf.Tensor4D,
              strides,
              explicit,
            )
        : (inputs) =>
            tf.conv2d(firstInput(inputs) as tf.Tensor4D, conv.kernel!.read() as tf.Tensor4D, strides, explicit);
  }
}
