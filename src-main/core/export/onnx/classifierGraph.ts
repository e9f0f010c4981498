/**
 * A classifier (tfjs layers model, image in, probabilities out) written into an ONNX graph: the folded program of
 * foldedInference.ts (each BatchNormalization folded into the convolution before it, its ReLU/ReLU6 after), as Conv
 * (depthwise = grouped Conv, group = channels) + Relu / Clip(0, 6), with explicit pads computed as TensorFlow's
 * 'same' does (the extra row/column at the end); ZeroPadding2D as Pad, Add, GlobalAveragePool + Flatten, Dropout as
 * nothing, the head's Dense as Gemm, its softmax as Softmax. Values are NCHW inside (ONNX's convolution layout); the
 * caller transposes the NHWC image once. Any other layer stops the export with its name.
 */
import * as tf from '@tensorflow/tfjs';
import { compile, foldedWeights, type ConvFields, type FoldedOp } from '../../model/foldedInference';
import type { BatchNormFields } from '../../model/fusedBatchNorm';
import type { OnnxGraphBuilder } from './onnxGraph';

type Layer = tf.layers.Layer;
/** A value of the graph: its name and rank (4: NCHW feature maps; 2: [batch, features]). */
interface Value {
  name: string;
  rank: 2 | 4;
}

interface DenseFields {
  kernel: tf.LayerVariable;
  bias: tf.LayerVariable | null;
  activation: { getClassName(): string };
}

/** A model the ONNX export cannot write (a layer it has no translation for): the TF.js export still can. */
export class OnnxUnsupportedError extends Error {}

const unsupported = (layer: Layer, why: string) =>
  new OnnxUnsupportedError(`The ONNX export cannot write layer "${layer.name}" (${layer.getClassName()}): ${why}.`);

/** [height, width] of a layer's input (channels last): the classifier's input size is fixed. */
function inputHw(layer: Layer): [number, number] {
  const shape = (layer.input as tf.SymbolicTensor).shape;
  const [h, w] = [shape[1], shape[2]];
  if (typeof h !== 'number' || typeof w !== 'number') throw unsupported(layer, 'its input size is not fixed');
  return [h, w];
}

/** TensorFlow's padding: 'same' pads (k − 1)·d + 1 − stride-rounded, the odd one at the end (ONNX SAME_UPPER). */
function tfPads(padding: 'same' | 'valid', size: number, kernel: number, stride: number, dilation: number) {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function activationNode(g: OnnxGraphBuilder, kind: string, x: Value, out: string, layer: Layer): Value {
  switch (kind) {
    case 'linear':
      return x;
    case 'relu':
      return { name: g.node('Relu', [x.name], out), rank: x.rank };
    case 'relu6': {
      const [lo, hi] = [
        g.floats(`${out}/min`, [], new Float32Array([0])),
        g.floats(`${out}/max`, [], new Float32Array([6])),
      ];
      return { name: g.node('Clip', [x.name, lo, hi], out), rank: x.rank };
    }
    case 'sigmoid':
      return { name: g.node('Sigmoid', [x.name], out), rank: x.rank };
    case 'softmax':
      if (x.rank !== 2) throw unsupported(layer, 'softmax over feature maps');
      return { name: g.node('Softmax', [x.name], out, { axis: { int: 1 } }), rank: 2 };
    default:
      throw unsupported(layer, `activation ${kind}`);
  }
}

function convNode(g: OnnxGraphBuilder, op: Extract<FoldedOp, { kind: 'conv' }>, x: Value, prefix: string): Value {
  const conv = op.conv as unknown as ConvFields;
  const depthwise = conv.depthwiseKernel !== undefined;
  const [h, w] = inputHw(op.conv);
  const { weights, dims, bias, inChannels } = tf.tidy(() => {
    const folded = foldedWeights(op);
    const [kh, kw, cin, k] = folded.filter.shape;
    // ONNX: [out, in / group, kh, kw]; a depthwise filter's output channel c·multiplier + m, as TensorFlow's.
    const onnx = depthwise
      ? tf.transpose(tf.reshape(folded.filter, [kh, kw, cin * k, 1]), [2, 3, 0, 1])
      : tf.transpose(folded.filter, [3, 2, 0, 1]);
    return {
      weights: onnx.dataSync() as Float32Array,
      dims: onnx.shape,
      bias: folded.bias?.dataSync() as Float32Array,
      inChannels: cin,
    };
  });
  const [kh, kw] = [dims[2]!, dims[3]!];
  const strides = conv.strides;
  const dil = Array.isArray(conv.dilationRate) ? conv.dilationRate : [conv.dilationRate, conv.dilationRate];
  const [top, bottom] = tfPads(conv.padding, h, kh, strides[0]!, dil[0]!);
  const [left, right] = tfPads(conv.padding, w, kw, strides[1]!, dil[1]!);
  const name = `${prefix}${op.conv.name}`;
  const inputs = [x.name, g.floats(`${name}/W`, dims, weights)];
  if (bias) inputs.push(g.floats(`${name}/B`, [bias.length], bias));
  const y = g.node('Conv', inputs, op.activation === 'linear' ? `${prefix}${op.out}` : name, {
    kernel_shape: { ints: [kh, kw] },
    strides: { ints: strides },
    dilations: { ints: dil },
    pads: { ints: [top, left, bottom, right] },
    // Depthwise: one group per input channel, each with `multiplier` filters.
    group: { int: depthwise ? inChannels : 1 },
  });
  return activationNode(g, op.activation, { name: y, rank: 4 }, `${prefix}${op.out}`, op.conv);
}

function denseNode(g: OnnxGraphBuilder, layer: Layer, x: Value, prefix: string): Value {
  if (x.rank !== 2) throw unsupported(layer, 'a dense layer on feature maps');
  const d = layer as unknown as DenseFields;
  const kernel = d.kernel.read();
  const name = `${prefix}${layer.name}`;
  const inputs = [x.name, g.floats(`${name}/B`, kernel.shape, kernel.dataSync() as Float32Array)];
  if (d.bias) inputs.push(g.floats(`${name}/C`, d.bias.shape as number[], d.bias.read().dataSync() as Float32Array));
  const kind = d.activation.getClassName().toLowerCase();
  const y = g.node('Gemm', inputs, kind === 'linear' ? name : `${name}/linear`);
  return activationNode(g, kind, { name: y, rank: 2 }, name, layer);
}

/** A standalone BatchNormalization (not after a convolution): x·s + (β − mean·s) per channel. */
function batchNormNode(g: OnnxGraphBuilder, layer: Layer, x: Value, prefix: string): Value {
  const bn = layer as unknown as BatchNormFields;
  const { s, b } = tf.tidy(() => {
    let scale = tf.rsqrt(tf.add(bn.movingVariance.read(), bn.epsilon));
    if (bn.gamma) scale = tf.mul(scale, bn.gamma.read());
    let shift = tf.neg(tf.mul(bn.movingMean.read(), scale));
    if (bn.beta) shift = tf.add(shift, bn.beta.read());
    return { s: scale.dataSync() as Float32Array, b: shift.dataSync() as Float32Array };
  });
  const dims = x.rank === 4 ? [1, s.length, 1, 1] : [1, s.length];
  const name = `${prefix}${layer.name}`;
  const scaled = g.node('Mul', [x.name, g.floats(`${name}/scale`, dims, s)], `${name}/scaled`);
  return { name: g.node('Add', [scaled, g.floats(`${name}/shift`, dims, b)], name), rank: x.rank };
}

function layerNode(g: OnnxGraphBuilder, layer: Layer, xs: Value[], prefix: string): Value {
  const x = xs[0]!;
  const name = `${prefix}${layer.name}`;
  const cls = layer.getClassName();
  switch (cls) {
    case 'Dropout':
      return x;
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = (layer as unknown as { padding: [[number, number], [number, number]] }).padding;
      return { name: g.node('Pad', [x.name, g.int64s(`${name}/pads`, [0, 0, t, l, 0, 0, b, r])], name), rank: 4 };
    }
    case 'Add': {
      let sum = x.name;
      for (const [i, y] of xs.slice(1).entries())
        sum = g.node('Add', [sum, y.name], i === xs.length - 2 ? name : `${name}/${i}`);
      return { name: sum, rank: x.rank };
    }
    case 'ReLU': {
      const max = (layer as unknown as { maxValue?: number | null }).maxValue;
      if (max != null && max !== 6) throw unsupported(layer, `ReLU capped at ${max}`);
      return activationNode(g, max == null ? 'relu' : 'relu6', x, name, layer);
    }
    case 'Activation':
      return activationNode(
        g,
        (layer as unknown as DenseFields).activation.getClassName().toLowerCase(),
        x,
        name,
        layer,
      );
    case 'BatchNormalization':
      return batchNormNode(g, layer, x, prefix);
    case 'Rescaling': {
      // x·scale + offset (downloaded backbones map [0, 1] to their own input range).
      const { scale, offset } = layer as unknown as { scale: number; offset: number };
      const scaled = g.node(
        'Mul',
        [x.name, g.floats(`${name}/scale`, [], new Float32Array([scale]))],
        `${name}/scaled`,
      );
      return {
        name: g.node('Add', [scaled, g.floats(`${name}/offset`, [], new Float32Array([offset]))], name),
        rank: x.rank,
      };
    }
    case 'GlobalAveragePooling2D': {
      if (x.rank !== 4) throw unsupported(layer, 'its input is not a feature map');
      const pooled = g.node('GlobalAveragePool', [x.name], `${name}/pool`);
      return { name: g.node('Flatten', [pooled], name, { axis: { int: 1 } }), rank: 2 };
    }
    case 'Flatten': {
      if (x.rank === 2) return x;
      // Keras flattens channels last: back to NHWC first.
      const nhwc = g.node('Transpose', [x.name], `${name}/nhwc`, { perm: { ints: [0, 2, 3, 1] } });
      return { name: g.node('Flatten', [nhwc], name, { axis: { int: 1 } }), rank: 2 };
    }
    case 'Dense':
      return denseNode(g, layer, x, prefix);
    default:
      throw unsupported(layer, 'no ONNX translation for this kind of layer');
  }
}

/**
 * Add `model` to `g`, reading the NCHW image `input`; returns the name of its probabilities ([batch, classes]).
 * `prefix` keeps an ensemble's members apart.
 */
export function addClassifier(g: OnnxGraphBuilder, model: tf.LayersModel, input: string, prefix: string): string {
  const ops = compile(model, { ownActivations: true });
  if (!ops || model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxUnsupportedError(
      'The ONNX export needs a single-input, single-output classifier with channels-last convolutions.',
    );
  }
  const values = new Map<string, Value>([[model.inputs[0]!.sourceLayer.name, { name: input, rank: 4 }]]);
  const get = (n: string) => {
    const v = values.get(n);
    if (!v) throw new Error(`The ONNX export met layer input ${n} before it was computed.`);
    return v;
  };
  for (const op of ops) {
    if (op.kind === 'conv') {
      const bn = op.bn as unknown as BatchNormFields | null;
      if (bn && ![-1, 3].includes(bn.axis)) throw unsupported(op.bn!, 'batch norm on another axis than channels');
      values.set(op.out, convNode(g, op, get(op.input), prefix));
    } else values.set(op.out, layerNode(g, op.layer, op.inputs.map(get), prefix));
  }
  const out = get(model.outputs[0]!.sourceLayer.name);
  if (out.rank !== 2) throw new OnnxUnsupportedError('The classifier does not end in [batch, classes] probabilities.');
  return out.name;
}
