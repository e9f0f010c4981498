// activation(conv(x, filter) + bias) as one kernel with a gradient, for training: tfjs's fused conv ops unfuse
// whenever a gradient is being taken (they have no ReLU6 gradient), which costs a bias pass and a ReLU6 pass forward.
// Here the forward is XNNPACK's fused kernel, and the backward one mask pass on the output, the bias gradient as
// channel sums, and the convolution's input and filter gradients, each computed only when the engine asks for it (the
// first layer's input needs none). The mask is always made: the bias and filter gradients need it.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { HOST_BACKENDS, K } from './hostKernels';
import { opKernel } from './opKernel';

export const CONV_BIAS_ACT = 'FinetuneConvBiasAct';

/** NHWC explicit padding, as tf.conv2d takes it. */
export type ExplicitPads = [[0, 0], [number, number], [number, number], [0, 0]];

export interface ConvBiasActSpec {
  depthwise: boolean;
  strides: [number, number];
  pad: 'same' | 'valid' | ExplicitPads;
  activation: 'linear' | 'relu6';
}

/** The largest float32 below 6: a mask `0 < y <= RELU6_BELOW` on ReLU6's output is `0 < y < 6`. */
const RELU6_BELOW = 6 - 2 ** -21;

const kernel = (name: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap) =>
  tf.engine().runKernel(name, inputs as never, attrs);

const convAttrs = (attrs: NamedAttrMap) => ({
  strides: attrs.strides,
  pad: attrs.pad,
  dataFormat: 'NHWC',
  dilations: [1, 1],
});

const gradient: GradConfig = {
  kernelName: CONV_BIAS_ACT,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [Tensor, Tensor, Tensor];
    const a = attrs as NamedAttrMap;
    const depthwise = a.depthwise === true;
    // ReLU6's gradient from its output: 0 where clipped (at 0 and at 6, as PyTorch; tfjs passes it at exactly 6).
    // Made here, not in a thunk: the engine disposes what each thunk makes but its result.
    const mask = { min: 0, max: RELU6_BELOW, minExclusive: true };
    const masked =
      a.activation === 'relu6'
        ? (kernel(K.maskGrad, { dy: dy as Tensor, x: y }, mask) as Tensor[])[0]!
        : (dy as Tensor);
    const g = () => masked;
    const common = convAttrs(a);
    return {
      x: () =>
        kernel(depthwise ? tf.DepthwiseConv2dNativeBackpropInput : tf.Conv2DBackpropInput, { dy: g(), filter }, {
          ...common,
          inputShape: x.shape,
        } as unknown as NamedAttrMap) as Tensor,
      filter: () =>
        kernel(depthwise ? tf.DepthwiseConv2dNativeBackpropFilter : tf.Conv2DBackpropFilter, { x, dy: g() }, {
          ...common,
          filterShape: filter.shape,
        } as unknown as NamedAttrMap) as Tensor,
      bias: () => (kernel(K.channelSums, { x: g() }, {}) as Tensor[])[0]!,
    };
  },
};

/** Registers the kernel (wasm, cpu: the backends with our mask and channel-sum kernels) and its gradient, once. */
export function registerConvBiasAct(): void {
  for (const backendName of HOST_BACKENDS) {
    if (tf.getKernel(CONV_BIAS_ACT, backendName)) continue;
    tf.registerKernel({
      kernelName: CONV_BIAS_ACT,
      backendName,
      kernelFunc: opKernel(({ x, filter, bias }, attrs) => {
        const fused = { ...convAttrs(attrs), activation: attrs.activation } as unknown as NamedAttrMap;
        const name = attrs.depthwise === true ? tf.FusedDepthwiseConv2D : tf.FusedConv2D;
        return kernel(name, { x: x!, filter: filter!, bias: bias! }, fused) as Tensor;
      }),
    });
  }
  if (!tf.getGradient(CONV_BIAS_ACT)) tf.registerGradient(gradient);
}

/** activation(conv(x, filter) + bias), NHWC, dilation 1 (see the module comment). */
export function convBiasAct(x: Tensor, filter: Tensor, bias: Tensor, spec: ConvBiasActSpec): Tensor {
  const attrs = { ...spec } as unknown as NamedAttrMap;
  return tf.engine().runKernel(CONV_BIAS_ACT, { x, filter, bias } as never, attrs) as Tensor;
}
