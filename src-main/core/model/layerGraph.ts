/**
 * Reading a tfjs-layers model as a graph, for the passes that patch or fold its layers (padsInConvs, fusedBatchNorm,
 * frozenBatchNormFold, foldedInference): who feeds a layer, who consumes it, and the layer fields they read.
 */
import * as tf from '@tensorflow/tfjs';

type Layer = tf.layers.Layer;

/** The fields of tfjs-layers' convolution layers that folding reads (not in their public typings). */
export interface ConvFields {
  kernel?: tf.LayerVariable;
  depthwiseKernel?: tf.LayerVariable;
  bias?: tf.LayerVariable | null;
  strides: number[];
  padding: 'same' | 'valid';
  dilationRate: number | number[];
  dataFormat: string;
  activation?: { getClassName(): string };
}

/**
 * A convolution the folding passes may patch: no bias, linear activation, dilation 1, channels last (MobileNetV2's
 * convolutions before their batch norms). Their patched calls assume exactly this.
 */
export function isPlainConv(conv: ConvFields): boolean {
  const activation = conv.activation?.getClassName().toLowerCase() ?? 'linear';
  const dilations = [conv.dilationRate].flat();
  return !conv.bias && activation === 'linear' && dilations.every((d) => d === 1) && conv.dataFormat === 'channelsLast';
}

/** The layers whose outputs `layer` takes. */
export const inboundOf = (layer: Layer): Layer[] =>
  ((layer as unknown as { inboundNodes: Array<{ inboundLayers: Layer[] }> }).inboundNodes[0]?.inboundLayers ??
    []) as Layer[];

/** Each layer's consumers among `layers`, by name. */
export function consumersOf(layers: Layer[]): Map<string, Layer[]> {
  const consumers = new Map<string, Layer[]>();
  for (const l of layers) for (const i of inboundOf(l)) consumers.set(i.name, [...(consumers.get(i.name) ?? []), l]);
  return consumers;
}

/** The one layer that consumes `layer`'s output (from `consumersOf`), or null when there are none or several. */
export function onlyConsumer(consumers: Map<string, Layer[]>, layer: Layer): Layer | null {
  const c = consumers.get(layer.name) ?? [];
  return c.length === 1 ? c[0]! : null;
}

/** Whether `layer` is a ReLU capped at 6. */
export const isRelu6 = (layer: Layer | null): boolean =>
  layer?.getClassName() === 'ReLU' && (layer as unknown as { maxValue?: number | null }).maxValue === 6;

/** A single-input layer's input, as `call` receives it. */
export const firstInput = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0]! : inputs);
