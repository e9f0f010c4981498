/**
 * Fine-tuning with frozen batch statistics (the default: BatchNorm in inference mode while its gamma and beta learn)
 * runs each conv → BatchNorm → ReLU6 as one fused convolution: the batch norm is folded into the filter and a bias
 * (W·k and β − μ·k, with k = γ/√(σ² + ε), built from the variables each call so that gradients reach W, γ and β),
 * and ReLU6 is the convolution's activation. Forward, one XNNPACK kernel instead of a convolution, a batch-norm pass
 * and a ReLU6 pass; back, one mask pass on the output and the convolution's gradients, instead of a ReLU6 mask, a
 * batch-norm gradient and the same convolution gradients (tf/convBiasAct.ts). Training with batch statistics, and backends without our
 * kernels, run the layers unchanged.
 *
 * One difference from the layers run one by one: at a pre-activation of exactly 6, ReLU6's gradient is taken as 0
 * (the mask is read from the output, where 6 also means "clipped"), as PyTorch does; tfjs takes it as 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchNormFields } from './fusedBatchNorm';
import { convPadding } from './padsInConvs';
import { consumersOf, firstInput, isPlainConv, isRelu6, onlyConsumer, type ConvFields } from './layerGraph';
import { fusedActive, scaleChannels } from '../tf/gradients';
import { convBiasAct, type ConvBiasActSpec } from '../tf/convBiasAct';

type Layer = tf.layers.Layer;
type Call = Layer['call'];

const patched = new WeakSet<Layer>();

/**
 * Patches every conv (no bias, linear activation, dilation 1, channels last) → BatchNormalization (its only consumer,
 * last axis, with gamma and beta) → optional ReLU(max 6) (the batch norm's only consumer) of `model` (idempotent).
 * Each layer keeps its own `call` for training with batch statistics.
 */
export function useFrozenBatchNormFold(model: tf.LayersModel): void {
  const consumers = consumersOf(model.layers);
  const only = (l: Layer) => onlyConsumer(consumers, l);
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if ((cls !== 'Conv2D' && cls !== 'DepthwiseConv2D') || patched.has(layer)) continue;
    const conv = layer as unknown as ConvFields & { depthMultiplier?: number };
    if (!isPlainConv(conv)) continue;
    if (cls === 'DepthwiseConv2D' && conv.depthMultiplier !== 1) continue;
    const bnLayer = only(layer);
    if (!bnLayer || bnLayer.getClassName() !== 'BatchNormalization') continue;
    const bn = bnLayer as unknown as BatchNormFields;
    if (bn.axis !== -1 && bn.axis !== 3) continue;
    if (!bn.gamma || !bn.beta) continue;
    const next = only(bnLayer);
    const relu = isRelu6(next) ? next : null;
    const spec: ConvBiasActSpec = {
      depthwise: cls === 'DepthwiseConv2D',
      strides: conv.strides as [number, number],
      pad: convPadding(layer),
      activation: relu ? 'relu6' : 'linear',
    };
    // Frozen statistics and our kernels: the conv does all three layers' work, the other two pass it on.
    const folds = (kwargs: tf.serialization.ConfigDict | undefined) => !kwargs?.training && fusedActive();
    const own = { conv: layer.call.bind(layer), bn: bnLayer.call.bind(bnLayer), relu: relu?.call.bind(relu) };
    layer.call = ((inputs, kwargs) => {
      if (!folds(kwargs)) return own.conv(inputs, kwargs);
      return tf.tidy(() => {
        const k = tf.mul(bn.gamma!.read(), tf.rsqrt(tf.add(bn.movingVariance.read(), bn.epsilon)));
        const kernel = (spec.depthwise ? conv.depthwiseKernel : conv.kernel)!.read();
        // k scales output channels: the last axis of a conv filter, the third of a depthwise one (multiplier 1 makes
        // it the last of [taps, C]). tfjs-wasm's broadcast Multiply took ~80 ms of a 128 px step for these.
        const oneByChannel = !spec.depthwise || kernel.shape[3] === 1;
        const w = oneByChannel
          ? tf.reshape(scaleChannels(tf.reshape(kernel, [-1, k.shape[0]!]), k), kernel.shape)
          : tf.mul(kernel, tf.reshape(k, [1, 1, -1, 1]));
        const bias = tf.sub(bn.beta!.read(), tf.mul(bn.movingMean.read(), k));
        return convBiasAct(firstInput(inputs), w, bias, spec);
      });
    }) as Call;
    bnLayer.call = ((inputs, kwargs) => (folds(kwargs) ? firstInput(inputs) : own.bn(inputs, kwargs))) as Call;
    if (relu && own.relu) {
      const reluCall = own.relu;
      relu.call = ((inputs, kwargs) => (folds(kwargs) ? firstInput(inputs) : reluCall(inputs, kwargs))) as Call;
      patched.add(relu);
    }
    patched.add(layer);
    patched.add(bnLayer);
  }
}
