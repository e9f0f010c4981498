// Faster gradients for the ops that dominate a MobileNetV2 backward pass, on backends that run our fused kernels
// (wasm, cpu); other backends keep tfjs's own. Gradients are registered per kernel name for every backend, so each
// override dispatches on the backend that runs it. `useStockGradients(true)` switches back (tests, benchmarks).
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { hostKernelsActive, K, registerHostKernels } from './hostKernels';
import { registerConvBiasAct } from './convBiasAct';

let registered = false;
let forceStock = false;

/** For comparisons: true makes every overridden gradient and the fused batch norm use tfjs's own ops. */
export function useStockGradients(on: boolean): void {
  forceStock = on;
}

/** Whether the fused kernels run for the current backend (and stock gradients are not forced). */
export function fusedActive(): boolean {
  return !forceStock && hostKernelsActive();
}

/** Runs one of our kernels; they always return a list of outputs. */
const run = (name: string, inputs: Record<string, Tensor>, attrs: NamedAttrMap = {}) =>
  tf.engine().runKernel(name, inputs as never, attrs) as Tensor[];

function override(kernelName: string, make: (original: GradConfig) => GradConfig): void {
  const original = tf.getGradient(kernelName);
  if (original) tf.registerGradient(make(original));
}

/**
 * Batch norm with fixed statistics (inference mode; the backbone's BatchNorm in steps 4–8 by default). tfjs tiles
 * 1/√(var + ε) to the full input shape; here one fused pass gives dx and the two per-channel sums every other input's
 * gradient is made from.
 */
function fusedBatchNormGrad(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved as Tensor[];
      const channels = x!.shape[x!.rank - 1];
      if (!fusedActive() || mean!.rank !== 1 || mean!.shape[0] !== channels || x!.dtype !== 'float32') {
        return original.gradFunc(dy, saved, attrs);
      }
      const eps = Number((attrs as NamedAttrMap).varianceEpsilon);
      const scaleValue = scale ?? tf.onesLike(mean!);
      const [dx, sumDy, sumDyXc] = run(
        K.batchNormGrad,
        { dy: dy as Tensor, x: x!, mean: mean!, variance: variance!, scale: scaleValue },
        { varianceEpsilon: eps },
      );
      const rsqrt = () => tf.rsqrt(tf.add(variance!, eps));
      return {
        x: () => dx!,
        mean: () => tf.mul(tf.mul(rsqrt(), scaleValue), tf.neg(sumDy!)),
        variance: () => tf.mul(tf.mul(tf.pow(rsqrt(), 3), scaleValue), tf.mul(sumDyXc!, -0.5)),
        scale: () => tf.mul(sumDyXc!, rsqrt()),
        offset: () => sumDy!,
      };
    },
  };
}

/** Relu6, ClipByValue and Relu: one masking pass instead of compare, compare, and, select (or step and multiply). */
function maskGrad(bounds: (attrs: NamedAttrMap) => NamedAttrMap) {
  return (original: GradConfig): GradConfig => ({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as Tensor[];
      if (!fusedActive() || x!.dtype !== 'float32') return original.gradFunc(dy, saved, attrs);
      const [dx] = run(K.maskGrad, { dy: dy as Tensor, x: x! }, bounds(attrs as NamedAttrMap));
      return { x: () => dx! };
    },
  });
}

/** Our batch norm with batch statistics: the fused training kernel and its gradient (see `batchNormTraining`). */
const batchNormTrainGrad: GradConfig = {
  kernelName: K.batchNormTrain,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [true, true, true],
  // The mean and variance outputs only feed the moving averages, which are not differentiated: their dys are ignored.
  // y is kept (a reference, not a copy) for the ReLU6 mask when one is fused in.
  gradFunc: (dys, saved, attrs) => {
    const [x, scale, y, mean, variance] = saved as Tensor[];
    const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
    const { varianceEpsilon = 1e-3, relu6 = false } = attrs as NamedAttrMap;
    const [dx, dScale, dOffset] = run(
      K.batchNormTrainGrad,
      { dy, x: x!, mean: mean!, variance: variance!, scale: scale!, y: y! },
      { varianceEpsilon, relu6 },
    );
    return { x: () => dx!, scale: () => dScale!, offset: () => dOffset! };
  },
};

/** x·k per channel: dx = dy·k per channel, dk = Σ dy·x per channel. */
const scaleChannelsGrad: GradConfig = {
  kernelName: K.scaleChannels,
  inputsToSave: ['x', 'k'],
  gradFunc: (dy, saved) => {
    const [x, k] = saved as Tensor[];
    return {
      x: () => run(K.scaleChannels, { x: dy as Tensor, k: k! })[0]!,
      k: () => run(K.channelDots, { a: dy as Tensor, b: x! })[0]!,
    };
  },
};

/** x [..., C] times k [C] per channel, with its gradient: one pass where tfjs-wasm's broadcast Multiply is slow. */
export function scaleChannels(x: Tensor, k: Tensor): Tensor {
  return run(K.scaleChannels, { x, k })[0]!;
}

/** Registers the fused kernels and the gradient overrides once per process. */
export function registerGradients(): void {
  if (registered) return;
  registered = true;
  registerHostKernels();
  override(tf.FusedBatchNorm, fusedBatchNormGrad);
  override(
    tf.ClipByValue,
    maskGrad((a) => ({ min: Number(a.clipValueMin), max: Number(a.clipValueMax) })),
  );
  override(
    tf.Relu6,
    maskGrad(() => ({ min: 0, max: 6, minExclusive: true })),
  );
  override(
    tf.Relu,
    maskGrad(() => ({ min: 0, max: Infinity, minExclusive: true })),
  );
  tf.registerGradient(batchNormTrainGrad);
  tf.registerGradient(scaleChannelsGrad);
  registerConvBiasAct();
}

/**
 * Batch normalisation with the batch's own statistics, as tfjs-layers computes it in training mode
 * (`tf.moments` then `tf.batchNorm`), in one fused kernel with a fused gradient. Returns [y, mean, variance]. With
 * `relu6`, y is ReLU6 of it, in the same pass (its gradient 0 at exactly 6, as PyTorch's).
 */
export function batchNormTraining(
  x: Tensor,
  scale: Tensor,
  offset: Tensor,
  varianceEpsilon: number,
  relu6 = false,
): Tensor[] {
  return run(K.batchNormTrain, { x, scale, offset }, { varianceEpsilon, relu6 });
}
