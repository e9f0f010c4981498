/**
 * Inference through the backbone with every BatchNormalization folded into the convolution before it and its ReLU6
 * fused in: one XNNPACK kernel per convolution instead of conv + batch norm + ReLU + clip (the frozen forward pass
 * spent more time in those three than in the convolutions). Used by `predict` of the features and classifier models
 * (precompute, step 4's frozen backbone, evaluation, prediction); training (`apply`) is untouched. The folded weights
 * are kept per convolution until one of the weights they come from is assigned (a new buffer), so fine-tuned weights
 * are always the ones used and a frozen backbone folds once: refolding every call cost ~20 % of the forward pass, half
 * of it because XNNPACK re-packs a convolution whose filter is a new tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchNormFields } from './fusedBatchNorm';
import { foldablePads, type Pads } from './padsInConvs';
import { consumersOf, inboundOf, onlyConsumer as onlyOf, type ConvFields } from './layerGraph';

export type { ConvFields };

type Layer = tf.layers.Layer;
type Activation = 'linear' | 'relu' | 'relu6';

/** One step of the folded program: a fused convolution, or a layer applied as it is. */
export type FoldedOp =
  | {
      kind: 'conv';
      out: string;
      input: string;
      conv: Layer;
      bn: Layer | null;
      activation: Activation;
      /** [[top, bottom], [left, right]] of a ZeroPadding2D folded in (`padsIntoConvs`); the conv's own otherwise. */
      pads?: [[number, number], [number, number]];
    }
  | { kind: 'layer'; out: string; inputs: string[]; layer: Layer };

let enabled = true;
/** For comparisons (tests, benchmarks): false makes `predict` run the layers one by one again. */
export function useFoldedInference(on: boolean): void {
  enabled = on;
}

const reluActivation = (layer: Layer): Activation | null => {
  if (layer.getClassName() !== 'ReLU') return null;
  const max = (layer as unknown as { maxValue?: number | null }).maxValue;
  return max == null ? 'relu' : max === 6 ? 'relu6' : null;
};

/**
 * The folded program of a model's layers, or null when its graph has a shape we do not fold. The ONNX export
 * (export/onnx/) writes the same program as a graph; with `ownActivations` a convolution with its own relu or relu6
 * (and so no batch norm folded after it) is one op too, as the export needs every layer written.
 */
export function compile(
  model: tf.LayersModel,
  options: { ownActivations?: boolean; padsIntoConvs?: boolean } = {},
): FoldedOp[] | null {
  const layers = model.layers;
  const consumers = consumersOf(layers);
  const onlyConsumer = (l: Layer) => onlyOf(consumers, l);
  const absorbed = new Map<string, string>(); // layer → the op output that stands for it
  const padsOf = new Map<string, Pads>(); // conv → the zero padding folded into it
  const ops: FoldedOp[] = [];
  for (const layer of layers) {
    if (layer.getClassName() === 'InputLayer' || absorbed.has(layer.name)) continue;
    const inputs = inboundOf(layer).map((i) => absorbed.get(i.name) ?? i.name);
    const cls = layer.getClassName();
    const conv = layer as unknown as ConvFields;
    // A zero padding folded into its convolution (padsInConvs.ts).
    const padding = options.padsIntoConvs && inputs.length === 1 ? foldablePads(layer, onlyConsumer(layer)) : null;
    if (padding) {
      const next = onlyConsumer(layer)!;
      absorbed.set(layer.name, inputs[0]!);
      padsOf.set(next.name, padding);
      continue;
    }
    if ((cls === 'Conv2D' || cls === 'DepthwiseConv2D') && inputs.length === 1) {
      if (conv.dataFormat !== 'channelsLast') return null;
      const pads = padsOf.has(layer.name) ? { pads: padsOf.get(layer.name)! } : {};
      const own = conv.activation?.getClassName().toLowerCase() ?? 'linear';
      if (own !== 'linear') {
        if (!options.ownActivations || (own !== 'relu' && own !== 'relu6')) return null;
        ops.push({ kind: 'conv', out: layer.name, input: inputs[0]!, conv: layer, bn: null, activation: own, ...pads });
        continue;
      }
      let bn = onlyConsumer(layer);
      if (bn?.getClassName() !== 'BatchNormalization' || ![-1, 3].includes((bn as unknown as BatchNormFields).axis)) {
        bn = null;
      }
      const next = onlyConsumer(bn ?? layer);
      const activation = (next && reluActivation(next)) ?? 'linear';
      const out = activation !== 'linear' ? next!.name : (bn ?? layer).name;
      for (const l of [layer, bn, activation !== 'linear' ? next : null]) if (l) absorbed.set(l.name, out);
      ops.push({ kind: 'conv', out, input: inputs[0]!, conv: layer, bn, activation, ...pads });
    } else {
      ops.push({ kind: 'layer', out: layer.name, inputs, layer });
    }
  }
  return ops;
}

/** Filter and bias with the batch norm folded in: w·s per output channel, beta − mean·s (+ bias·s). */
export function foldedWeights(op: Extract<FoldedOp, { kind: 'conv' }>): {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D | undefined;
} {
  const conv = op.conv as unknown as ConvFields;
  const depthwise = conv.depthwiseKernel !== undefined;
  const kernel = (depthwise ? conv.depthwiseKernel! : conv.kernel!).read() as tf.Tensor4D;
  const bias = conv.bias ? (conv.bias.read() as tf.Tensor1D) : undefined;
  if (!op.bn) return { filter: kernel, bias };
  const bn = op.bn as unknown as BatchNormFields;
  const variance = bn.movingVariance.read();
  let s = tf.rsqrt(tf.add(variance, bn.epsilon));
  if (bn.gamma) s = tf.mul(s, bn.gamma.read());
  // Output channels: the last axis of a Conv2D kernel; in_channel × multiplier of a depthwise one.
  const filter = tf.mul(kernel, depthwise ? tf.reshape(s, [kernel.shape[2], kernel.shape[3]]) : s) as tf.Tensor4D;
  let b = tf.neg(tf.mul(bn.movingMean.read(), s));
  if (bn.beta) b = tf.add(b, bn.beta.read());
  if (bias) b = tf.add(b, tf.mul(bias, s));
  return { filter, bias: b as tf.Tensor1D };
}

interface KeptFold {
  /** The buffers of the weights the fold was made from; an assignment gives a variable a new one. */
  from: unknown[];
  filter: tf.Tensor4D;
  bias: tf.Tensor1D | undefined;
}
const kept = new Map<Layer, KeptFold>();

function keptFoldedWeights(op: Extract<FoldedOp, { kind: 'conv' }>): { filter: tf.Tensor4D; bias?: tf.Tensor1D } {
  if (!op.bn) return foldedWeights(op); // nothing to fold: the layer's own variables
  const conv = op.conv as unknown as ConvFields;
  const bn = op.bn as unknown as BatchNormFields;
  const from = [conv.kernel, conv.depthwiseKernel, conv.bias, bn.gamma, bn.beta, bn.movingMean, bn.movingVariance].map(
    (v) => v?.read().dataId,
  );
  const hit = kept.get(op.conv);
  if (hit?.from.every((id, i) => id === from[i])) return hit;
  releaseFold(op.conv);
  const fold = tf.tidy(() => foldedWeights(op)); // tidy returns them kept out of the caller's tidy
  const entry = { from, ...fold };
  tf.keep(entry.filter);
  if (entry.bias) tf.keep(entry.bias);
  kept.set(op.conv, entry);
  return entry;
}

function releaseFold(layer: Layer): void {
  const entry = kept.get(layer);
  if (!entry) return;
  kept.delete(layer);
  tf.dispose([entry.filter, ...(entry.bias ? [entry.bias] : [])]);
}

/** Frees the folded weights kept for `model`'s layers (with the model; tensors are not garbage-collected). */
export function releaseFoldedWeights(model: tf.LayersModel): void {
  for (const layer of model.layers) releaseFold(layer);
}

function run(ops: FoldedOp[], inputName: string, x: tf.Tensor, outName: string): tf.Tensor {
  return tf.tidy(() => {
    const values = new Map<string, tf.Tensor>([[inputName, x]]);
    for (const op of ops) {
      if (op.kind === 'layer') {
        const ins = op.inputs.map((n) => values.get(n)!);
        values.set(op.out, op.layer.apply(ins.length === 1 ? ins[0]! : ins, { training: false }) as tf.Tensor);
        continue;
      }
      const conv = op.conv as unknown as ConvFields;
      const { filter, bias } = keptFoldedWeights(op);
      const input = values.get(op.input) as tf.Tensor4D;
      const strides = conv.strides as [number, number];
      const dilations = (
        Array.isArray(conv.dilationRate) ? conv.dilationRate : [conv.dilationRate, conv.dilationRate]
      ) as [number, number];
      const pad: 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] = op.pads
        ? [[0, 0], op.pads[0], op.pads[1], [0, 0]]
        : conv.padding;
      const args = { x: input, filter, strides, pad, dilations, bias, activation: op.activation };
      values.set(
        op.out,
        conv.depthwiseKernel !== undefined
          ? // Its typings omit explicit padding, which the op and the kernels take (computeConv2DInfo), as conv2d's do.
            tf.fused.depthwiseConv2d({ ...args, pad: args.pad as 'valid' })
          : tf.fused.conv2d({ ...args, dataFormat: 'NHWC' }),
      );
    }
    return values.get(outName)!;
  });
}

/**
 * Makes `predict` of `model` run the folded program (in batches, like tfjs's own `predict`). `head`, when given, is
 * applied after it (the classifier = features + head). Models whose graphs do not fold keep their `predict`.
 */
export function useFoldedPredict(model: tf.LayersModel, features: tf.LayersModel, head?: tf.LayersModel): void {
  const ops = compile(features, { padsIntoConvs: true });
  if (!ops || features.inputs.length !== 1 || features.outputs.length !== 1) return;
  const inputName = features.inputs[0]!.sourceLayer.name;
  const outName = features.outputs[0]!.sourceLayer.name;
  const stock = model.predict.bind(model);
  model.predict = (x, args = {}) => {
    if (!enabled || Array.isArray(x)) return stock(x, args);
    const batchSize = args.batchSize ?? 32;
    const n = x.shape[0]!;
    return tf.tidy(() => {
      const parts: tf.Tensor[] = [];
      for (let start = 0; start < n; start += batchSize) {
        const chunk = n <= batchSize ? x : tf.slice(x, start, Math.min(batchSize, n - start));
        const feats = run(ops, inputName, chunk, outName);
        parts.push(head ? (head.apply(feats, { training: false }) as tf.Tensor) : feats);
      }
      return parts.length === 1 ? parts[0]! : tf.concat(parts, 0);
    });
  };
}
