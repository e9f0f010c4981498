// Fused kernels written in plain JavaScript over the backend's own memory (the wasm heap, or the cpu backend's typed
// arrays), for the backward passes that tfjs composes from many full-size ops. One pass over the data instead of four
// to ten: the batch-norm gradient (stock tfjs tiles a full-size tensor per layer), ReLU/clip gradients (four ops) and
// batch norm in training mode (moments + normalisation + their gradients). Sums are accumulated in float64.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

export const HOST_BACKENDS = ['wasm', 'cpu'] as const;

/** Kernel names; `Finetune` keeps them apart from tfjs's own. */
export const K = {
  /** dy, x, mean, variance, scale → dx, Σdy, Σdy·(x − mean) per channel (batch norm with fixed statistics). */
  batchNormGrad: 'FinetuneBatchNormGrad',
  /** x, scale, offset → y, batch mean, batch variance (biased, as tf.moments). */
  batchNormTrain: 'FinetuneBatchNormTrain',
  /** dy, x, mean, variance, scale → dx, dscale, doffset for batch norm with batch statistics. */
  batchNormTrainGrad: 'FinetuneBatchNormTrainGrad',
  /** dy, x → dy where the input was inside [min, max] (or (min, max] when `minExclusive`), else 0. */
  maskGrad: 'FinetuneMaskGrad',
} as const;

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuLike extends KernelBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

type Compute = (inputs: Float32Array[], outputs: Float32Array[], shapes: number[][], attrs: NamedAttrMap) => void;

interface HostKernel {
  name: string;
  inputs: string[];
  /** Output shapes from the input shapes. */
  outputs: (shapes: number[][]) => number[][];
  compute: Compute;
}

function register({ name, inputs, outputs, compute }: HostKernel): void {
  for (const backendName of HOST_BACKENDS) {
    if (tf.getKernel(name, backendName)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ({ inputs: named, backend, attrs = {} }) => {
        const infos = inputs.map((n) => named[n] as TensorInfo);
        const shapes = infos.map((t) => t.shape);
        const outShapes = outputs(shapes);
        if (backendName === 'wasm') {
          const b = backend as WasmLike;
          const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
          // Views after every allocation: a heap that grows replaces its buffer.
          compute(
            infos.map((t) => b.typedArrayFromHeap(t)),
            outs.map((t) => b.typedArrayFromHeap(t)),
            shapes,
            attrs,
          );
          return outs;
        }
        const b = backend as CpuLike;
        const outValues = outShapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
        compute(
          infos.map((t) => b.data.get(t.dataId).values),
          outValues,
          shapes,
          attrs,
        );
        return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', outValues[i]!));
      },
    });
  }
}

const channels = (shapes: number[][]) => shapes[0]![shapes[0]!.length - 1]!;

/** Σdy and Σdy·(x − mean) per channel and dx = dy · scale / √(var + ε), in one pass. */
const batchNormGrad: Compute = ([dy, x, mean, variance, scale], [dx, sumDy, sumDyXc], shapes, attrs) => {
  const c = channels(shapes);
  const eps = Number(attrs.varianceEpsilon);
  const k = new Float64Array(c);
  for (let j = 0; j < c; j++) k[j] = scale![j]! / Math.sqrt(variance![j]! + eps);
  const s1 = new Float64Array(c);
  const s2 = new Float64Array(c);
  for (let base = 0; base < x!.length; base += c) {
    for (let j = 0; j < c; j++) {
      const g = dy![base + j]!;
      dx![base + j] = g * k[j]!;
      s1[j] += g;
      s2[j] += g * (x![base + j]! - mean![j]!);
    }
  }
  sumDy!.set(s1);
  sumDyXc!.set(s2);
};

/** Batch statistics (two passes, float64) and y = (x − mean) · scale / √(var + ε) + offset. */
const batchNormTrain: Compute = ([x, scale, offset], [y, meanOut, varOut], shapes, attrs) => {
  const c = channels(shapes);
  const n = x!.length / c;
  const eps = Number(attrs.varianceEpsilon);
  const mean = new Float64Array(c);
  for (let base = 0; base < x!.length; base += c) for (let j = 0; j < c; j++) mean[j] += x![base + j]!;
  for (let j = 0; j < c; j++) mean[j] /= n;
  const v = new Float64Array(c);
  for (let base = 0; base < x!.length; base += c) {
    for (let j = 0; j < c; j++) {
      const d = x![base + j]! - mean[j]!;
      v[j] += d * d;
    }
  }
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    v[j] /= n;
    a[j] = scale![j]! / Math.sqrt(v[j]! + eps);
    b[j] = offset![j]! - mean[j]! * a[j]!;
  }
  for (let base = 0; base < x!.length; base += c)
    for (let j = 0; j < c; j++) y![base + j] = x![base + j]! * a[j]! + b[j]!;
  meanOut!.set(mean);
  varOut!.set(v);
};

/**
 * The batch-statistics gradient: with x̂ = (x − mean)·r, r = 1/√(var + ε) and N values per channel,
 * dx = scale·r·(dy − Σdy/N − x̂·Σ(dy·x̂)/N), dscale = Σ(dy·x̂), doffset = Σdy.
 */
const batchNormTrainGrad: Compute = ([dy, x, mean, variance, scale], [dx, dScale, dOffset], shapes, attrs) => {
  const c = channels(shapes);
  const n = x!.length / c;
  const eps = Number(attrs.varianceEpsilon);
  const r = new Float64Array(c);
  for (let j = 0; j < c; j++) r[j] = 1 / Math.sqrt(variance![j]! + eps);
  const sDy = new Float64Array(c);
  const sDyXh = new Float64Array(c);
  for (let base = 0; base < x!.length; base += c) {
    for (let j = 0; j < c; j++) {
      const g = dy![base + j]!;
      sDy[j] += g;
      sDyXh[j] += g * (x![base + j]! - mean![j]!) * r[j]!;
    }
  }
  const k = new Float64Array(c);
  const m1 = new Float64Array(c);
  const m2 = new Float64Array(c);
  for (let j = 0; j < c; j++) {
    k[j] = scale![j]! * r[j]!;
    m1[j] = sDy[j]! / n;
    m2[j] = (sDyXh[j]! / n) * r[j]!;
  }
  for (let base = 0; base < x!.length; base += c) {
    for (let j = 0; j < c; j++) {
      const i = base + j;
      dx![i] = k[j]! * (dy![i]! - m1[j]! - (x![i]! - mean![j]!) * m2[j]!);
    }
  }
  dScale!.set(sDyXh);
  dOffset!.set(sDy);
};

const maskGrad: Compute = ([dy, x], [dx], _shapes, attrs) => {
  const min = Number(attrs.min);
  const max = Number(attrs.max);
  const exclusive = attrs.minExclusive === true;
  for (let i = 0; i < x!.length; i++) {
    const v = x![i]!;
    dx![i] = (exclusive ? v > min : v >= min) && v <= max ? dy![i]! : 0;
  }
};

const perChannel = (shapes: number[][]) => [shapes[0]![shapes[0]!.length - 1]!];

/** Registers the fused kernels for the wasm and cpu backends (idempotent). */
export function registerHostKernels(): void {
  register({
    name: K.batchNormGrad,
    inputs: ['dy', 'x', 'mean', 'variance', 'scale'],
    outputs: (s) => [s[1]!, perChannel(s.slice(1)), perChannel(s.slice(1))],
    compute: batchNormGrad,
  });
  register({
    name: K.batchNormTrain,
    inputs: ['x', 'scale', 'offset'],
    outputs: (s) => [s[0]!, perChannel(s), perChannel(s)],
    compute: batchNormTrain,
  });
  register({
    name: K.batchNormTrainGrad,
    inputs: ['dy', 'x', 'mean', 'variance', 'scale'],
    outputs: (s) => [s[1]!, perChannel(s.slice(1)), perChannel(s.slice(1))],
    compute: batchNormTrainGrad,
  });
  register({ name: K.maskGrad, inputs: ['dy', 'x'], outputs: (s) => [s[1]!], compute: maskGrad });
}

/** Whether the active backend runs the fused kernels. */
export function hostKernelsActive(): boolean {
  return tf.getKernel(K.maskGrad, tf.getBackend()) != null;
}
