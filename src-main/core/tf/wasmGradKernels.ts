// Gradient kernels for @tensorflow/tfjs-backend-wasm 4.22, which ships the forward convolutions but not
// Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter or DepthwiseConv2dNativeBackpropInput, so training a
// convnet on wasm fails with "Kernel ... not registered for backend 'wasm'". Each stand-in is built from ops wasm runs
// natively and fast: its XNNPACK forward convolutions, matMul, transpose and pad. Per-tap slicing is avoided on
// purpose: wasm's strided slice takes ~200 ms for one tap of a MobileNetV2 layer, and its slices are JS loops.
// 1x1 convolutions, forward and backward, run on our GEMM (hostKernels.ts `matMulBias`), and depthwise ones forward
// on our depthwiseConv, not XNNPACK's.
import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs';
import { K, registerHostKernels } from './hostKernels';
import { opKernel } from './opKernel';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];
type Tensors = Record<string, tf.Tensor4D>;
type ConvAttrs = Partial<Conv2DBackpropFilterAttrs & DepthwiseConv2dNativeBackpropInputAttrs>;

const WASM = 'wasm';

/** Whether a kernel is registered for the wasm backend (natively or by us). */
export function wasmHasKernel(name: string): boolean {
  return tf.getKernel(name, WASM) != null;
}

const standIns: Record<string, KernelFunc> = {
  [tf.Conv2DBackpropFilter]: opKernel(conv2dBackpropFilter),
  [tf.Conv2DBackpropInput]: opKernel(conv2dBackpropInput),
  [tf.DepthwiseConv2dNativeBackpropFilter]: opKernel(depthwiseBackpropFilter),
  [tf.DepthwiseConv2dNativeBackpropInput]: opKernel(depthwiseBackpropInput),
};
// wasm's native Conv2DBackpropInput is a scalar loop, ~10x slower than the forward conv on 1x1 layers.
const SLOW_NATIVE = new Set<string>([tf.Conv2DBackpropInput]);
const registered = new Map<string, KernelFunc>();

/**
 * Registers the gradient kernels wasm lacks and swaps in the stand-in for its slow native Conv2DBackpropInput (kept for
 * NCHW, which the stand-ins don't cover). Idempotent; other native kernels are never replaced.
 */
export function registerWasmGradKernels(): void {
  registerHostKernels();
  shareIdentityBuffers();
  shareSameTypeCasts();
  routeConvs();
  for (const [kernelName, standIn] of Object.entries(standIns)) {
    const existing = tf.getKernel(kernelName, WASM);
    if (existing == null) {
      tf.registerKernel({ kernelName, backendName: WASM, kernelFunc: standIn });
      registered.set(kernelName, standIn);
    } else if (SLOW_NATIVE.has(kernelName) && existing.kernelFunc !== registered.get(kernelName)) {
      const native = existing.kernelFunc;
      const kernelFunc: KernelFunc = (args) => (args.attrs?.dataFormat === 'NCHW' ? native : standIn)(args);
      tf.unregisterKernel(kernelName, WASM);
      tf.registerKernel({ ...existing, kernelFunc }); // keeps setupFunc, where wasm binds its native function
      registered.set(kernelName, kernelFunc);
    }
  }
}

/**
 * wasm's Identity copies its input, and the engine clones every tensor it saves for the backward pass: ~1,100 copies
 * (12 % of a MobileNetV2 step). Kernels never write into their inputs, so a clone can share the buffer, as tfjs's cpu
 * and webgl backends and wasm's own Reshape do (one more reference; the buffer is freed with the last one).
 */
function shareIdentityBuffers(): void {
  const existing = tf.getKernel(tf.Identity, WASM);
  if (existing == null || existing.kernelFunc === sharedIdentity) return;
  const copy = existing.kernelFunc;
  sharedIdentity = (args) => {
    const x = args.inputs.x!;
    if (x.dtype === 'string') return copy(args);
    (args.backend as KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel(tf.Identity, WASM);
  tf.registerKernel({ ...existing, kernelFunc: sharedIdentity });
}
let sharedIdentity: KernelFunc | undefined;

/**
 * wasm's Cast copies even to the same dtype, and Identity's gradient is such a cast (`dy.toFloat()`): every layer
 * that hands its input on unchanged (a folded batch norm, its ReLU6; tfjs-layers clones such outputs) cost a full copy
 * of its gradient. A same-dtype cast shares the buffer instead, as Identity does.
 */
function shareSameTypeCasts(): void {
  const existing = tf.getKernel(tf.Cast, WASM);
  if (existing == null || existing.kernelFunc === sharedCast) return;
  const convert = existing.kernelFunc;
  sharedCast = (args) => {
    const x = args.inputs.x!;
    if (x.dtype !== (args.attrs as { dtype?: string } | undefined)?.dtype || x.dtype === 'string') return convert(args);
    (args.backend as KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  tf.unregisterKernel(tf.Cast, WASM);
  tf.registerKernel({ ...existing, kernelFunc: sharedCast });
}
let sharedCast: KernelFunc | undefined;

/** The activations our matMulBias and depthwiseConv kernels fuse (FusedConv2D's others stay on XNNPACK). */
const FUSED_ACTIVATIONS = new Set(['linear', 'relu', 'relu6']);

type ConvInputs = Record<string, TensorInfo | undefined>;

/** An attribute that is 1, all ones, or left out (strides, dilations). */
const ones = (v: unknown) => v == null || (Array.isArray(v) ? v.every((e) => e === 1) : v === 1);

/** NHWC, dilation 1, an activation we fuse, no PReLU weights, a bias of one value per output channel if any. */
function isPlainConv(inputs: ConvInputs, attrs: NamedAttrMap, outChannels: number): boolean {
  const { bias, preluActivationWeights } = inputs;
  return (
    ones(attrs.dilations) &&
    (attrs.dataFormat ?? 'NHWC') === 'NHWC' &&
    (bias == null || (bias.shape.length === 1 && bias.shape[0] === outChannels)) &&
    preluActivationWeights == null &&
    FUSED_ACTIVATIONS.has(String(attrs.activation ?? 'linear'))
  );
}

/** A 1x1 convolution our matMulBias kernel runs: filter [1, 1, I, O], strides 1, no padding (1x1 'same' is none). */
function isPointwise(inputs: ConvInputs, attrs: NamedAttrMap): boolean {
  const [kh, kw, , out] = inputs.filter?.shape ?? [];
  const p = attrs.pad;
  const noPad = p === 'same' || p === 'valid' || p === 0 || (Array.isArray(p) && p.flat().every((e) => e === 0));
  return kh === 1 && kw === 1 && ones(attrs.strides) && noPad && isPlainConv(inputs, attrs, out ?? -1);
}

/** A depthwise convolution our depthwiseConv kernel runs: channel multiplier 1. */
function isPlainDepthwise(inputs: ConvInputs, attrs: NamedAttrMap): boolean {
  const [, , channels, mult] = inputs.filter?.shape ?? [];
  return mult === 1 && isPlainConv(inputs, attrs, channels ?? -1);
}

/** Runs one of our kernels (hostKernels.ts) from inside a kernel, on TensorInfos. */
function runOurs(name: string, args: Parameters<KernelFunc>[0], inputs: ConvInputs, attrs: NamedAttrMap): TensorInfo {
  const present = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t != null)) as Record<string, TensorInfo>;
  const [out] = tf.getKernel(name, WASM)!.kernelFunc({ inputs: present, backend: args.backend, attrs }) as TensorInfo[];
  return out!;
}

/** act(conv(x, filter) + bias) for a 1x1 convolution, on our GEMM: x's rows [N·H·W, I] times the filter [I, O]. */
function pointwiseConv(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, filter, bias } = args.inputs as Record<'x' | 'filter', TensorInfo> & { bias?: TensorInfo };
  const [n, h, w, i] = x.shape as Shape4;
  const o = filter.shape[3]!;
  const a = { ...x, shape: [n * h * w, i] };
  const b = { ...filter, shape: [i, o] };
  const y = runOurs(K.matMulBias, args, { a, b, bias }, { activation: args.attrs?.activation ?? 'linear' });
  return { ...y, shape: [n, h, w, o] };
}

/** A first layer our kernels run as im2col + GEMM: a spatial filter over few input channels (KH·KW·I columns). */
function isPatchConv(inputs: ConvInputs, attrs: NamedAttrMap): boolean {
  const [kh, kw, inChannels, out] = inputs.filter?.shape ?? [];
  if (kh == null || kw == null || inChannels == null || (kh === 1 && kw === 1)) return false;
  return kh * kw * inChannels <= IM2COL_MAX_COLUMNS && isPlainConv(inputs, attrs, out ?? -1);
}

/** act(conv(x, filter) + bias) as the patches x reads (im2col) times the filter as [KH·KW·I, O], on our GEMM. */
function patchConv(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, filter, bias } = args.inputs as Record<'x' | 'filter', TensorInfo> & { bias?: TensorInfo };
  const info = convInfo(tf.Conv2D, x.shape, filter.shape, args.attrs ?? {}, false);
  const { padInfo, outHeight, outWidth, filterHeight: kh, filterWidth: kw, inChannels, outChannels } = info;
  const patches = runOurs(
    K.im2col,
    args,
    { x },
    {
      kh,
      kw,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: padInfo.top,
      padLeft: padInfo.left,
      outHeight,
      outWidth,
    },
  );
  try {
    const b = { ...filter, shape: [kh * kw * inChannels, outChannels] };
    const y = runOurs(K.matMulBias, args, { a: patches, b, bias }, { activation: args.attrs?.activation ?? 'linear' });
    return { ...y, shape: [x.shape[0]!, outHeight, outWidth, outChannels] };
  } finally {
    (args.backend as KernelBackend).disposeData(patches.dataId);
  }
}

/** act(depthwise conv(x, filter) + bias) on our kernel, with the cpu backend's padding and output geometry. */
function depthwiseConv(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, filter, bias } = args.inputs as Record<'x' | 'filter', TensorInfo> & { bias?: TensorInfo };
  const attrs = args.attrs ?? {};
  const info = convInfo(tf.DepthwiseConv2dNative, x.shape, filter.shape, attrs, true);
  return runOurs(
    K.depthwiseConv,
    args,
    { x, filter, bias },
    {
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: info.padInfo.top,
      padLeft: info.padInfo.left,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      activation: attrs.activation ?? 'linear',
    },
  );
}

/**
 * 1x1, depthwise and first-layer convolutions (nearly all of MobileNetV2's work) on our kernels instead of XNNPACK's: in training
 * every step's weights are new tensors, for which XNNPACK makes and packs a new operator at every call; and with one
 * thread pool instead of two taking turns, no pool waits to be woken between layers. Other convolutions stay native.
 */
function routeConvs(): void {
  type Route = [(i: ConvInputs, a: NamedAttrMap) => boolean, (a: Parameters<KernelFunc>[0]) => TensorInfo];
  const conv: Route[] = [
    [isPointwise, pointwiseConv],
    [isPatchConv, patchConv],
  ];
  const depthwise: Route[] = [[isPlainDepthwise, depthwiseConv]];
  const routes: Record<string, Route[]> = {
    [tf.Conv2D]: conv,
    [tf.FusedConv2D]: conv,
    [tf.DepthwiseConv2dNative]: depthwise,
    [tf.FusedDepthwiseConv2D]: depthwise,
  };
  for (const [kernelName, ours] of Object.entries(routes)) {
    const existing = tf.getKernel(kernelName, WASM);
    if (existing == null || existing.kernelFunc === registered.get(kernelName)) continue;
    const native = existing.kernelFunc;
    const kernelFunc: KernelFunc = (args) => {
      const route = ours.find(([applies]) => applies(args.inputs as ConvInputs, args.attrs ?? {}));
      return route ? route[1](args) : native(args);
    };
    tf.unregisterKernel(kernelName, WASM);
    tf.registerKernel({ ...existing, kernelFunc }); // keeps setupFunc, where wasm binds its native function
    registered.set(kernelName, kernelFunc);
  }
}

/** Padding and output geometry exactly as the cpu backend computes them; rejects what the stand-ins don't cover. */
function convInfo(kernelName: string, inShape: number[], filterShape: number[], attrs: ConvAttrs, depthwise: boolean) {
  // tfjs-layers passes null for the attributes it leaves at their defaults.
  const strides = attrs.strides ?? 1;
  const dilations = attrs.dilations ?? 1;
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`${kernelName} on wasm: only NHWC is supported, got ${dataFormat}`);
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error(`${kernelName} on wasm: dilations > 1 are not supported, got ${String(dilations)}`);
  }
  const [x, f] = [inShape as Shape4, filterShape as Shape4];
  return tf.backend_util.computeConv2DInfo(x, f, strides, 1, attrs.pad ?? 'valid', attrs.dimRoundingMode, depthwise);
}

/** x padded (or cropped) to exactly the rows and columns the forward conv reads: [N, (oh-1)*sh+kh, (ow-1)*sw+kw, C]. */
function inputWindow(x: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const { top, left } = info.padInfo;
  const rows = (info.outHeight - 1) * info.strideHeight + info.filterHeight;
  const cols = (info.outWidth - 1) * info.strideWidth + info.filterWidth;
  return padOrCrop(x, top, rows - info.inHeight - top, left, cols - info.inWidth - left);
}

/**
 * From this many rows (N·H·W) a 1x1 filter gradient runs our kernel (hostKernels.ts `xtDy`, one pass over x and dy);
 * below, on the last stage's few rows and many channels, xᵀ·dy as a transposed copy of x and our GEMM is faster
 * (at 128 px all of them: the step took 25 % longer when every layer went that way, transposing 16,384-row inputs).
 */
const XT_DY_MIN_ROWS = 1024;
/** Patch widths (KH·KW·C_in) up to this go through im2col + xᵀ·dy: the patch matrix stays ~KH·KW times x's size. */
const IM2COL_MAX_COLUMNS = 64;

/**
 * dW is the correlation of the padded input with dy, summed over the batch. For 1x1 convs it is one matMul; else
 * wasm's conv2d computes it with batch and channels swapped: input [Cin, H, W, N], "filter" dy as [oh, ow, N, Cout],
 * dilated by the strides, giving [Cin, kh, kw, Cout].
 */
function conv2dBackpropFilter({ x, dy }: Tensors, attrs: NamedAttrMap): tf.Tensor {
  const { filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  const info = convInfo(tf.Conv2DBackpropFilter, x.shape, filterShape, attrs, false);
  const { inChannels, outChannels, strideHeight, strideWidth } = info;
  const patchColumns = info.filterHeight * info.filterWidth * inChannels;
  const [n] = x.shape;
  const spatial = info.filterHeight > 1 || info.filterWidth > 1;
  const undilated = info.dilationHeight === 1 && info.dilationWidth === 1;
  if (
    spatial &&
    undilated &&
    patchColumns <= IM2COL_MAX_COLUMNS &&
    n * info.outHeight * info.outWidth >= XT_DY_MIN_ROWS
  ) {
    // A first layer (few input channels): its patches as rows, then one xᵀ·dy (both our kernels, both threads).
    const { padInfo, outHeight, outWidth } = info;
    const geometry = {
      kh: info.filterHeight,
      kw: info.filterWidth,
      strideHeight,
      strideWidth,
      padTop: padInfo.top,
      padLeft: padInfo.left,
      outHeight,
      outWidth,
    };
    const [patches] = tf.engine().runKernel(K.im2col, { x }, geometry) as tf.Tensor[];
    const [dw] = tf.engine().runKernel(K.xtDy, { x: patches!, dy: tf.reshape(dy, [-1, outChannels]) }) as tf.Tensor[];
    return tf.reshape(dw!, filterShape);
  }
  const window = inputWindow(x, info);
  const [, rows, cols] = window.shape;
  if (info.filterHeight === 1 && info.filterWidth === 1 && rows === info.outHeight && cols === info.outWidth) {
    const x2d = tf.reshape(window, [-1, inChannels]);
    const dy2d = tf.reshape(dy, [-1, outChannels]);
    if (x2d.shape[0] >= XT_DY_MIN_ROWS) {
      const [dw] = tf.engine().runKernel(K.xtDy, { x: x2d, dy: dy2d }) as tf.Tensor[];
      return tf.reshape(dw!, filterShape);
    }
    // Few rows, many channels (the last stage): xᵀ as a copy, then our GEMM, which packs dy as it goes. Above
    // XT_DY_MIN_ROWS the copy of x costs more than xt_dy's strided reads.
    const [dw] = tf.engine().runKernel(K.matMulBias, { a: tf.transpose(x2d), b: dy2d }, {}) as tf.Tensor[];
    return tf.reshape(dw!, filterShape);
  }
  const stridesAsDilations: [number, number] = [strideHeight, strideWidth];
  const xT = tf.transpose(window, [3, 1, 2, 0]);
  const dwT = tf.conv2d(xT, tf.transpose(dy, [1, 2, 0, 3]), 1, 'valid', 'NHWC', stridesAsDilations);
  return tf.transpose(dwT, [1, 2, 0, 3]);
}

/** Like conv2dBackpropFilter, with (batch, channel) pairs as the channels of one depthwise conv: [1, H, W, N*C]. */
function depthwiseBackpropFilter({ x, dy }: Tensors, attrs: NamedAttrMap): tf.Tensor {
  const { filterShape } = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = convInfo(tf.DepthwiseConv2dNativeBackpropFilter, x.shape, filterShape, attrs, true);
  const [n, oh, ow] = dy.shape;
  const [kh, kw, channels, mult] = filterShape;
  if (mult === 1) {
    // One SIMD pass over dy per tap (hostKernels.ts), reading x as it is: no padded copy, no transposes, no depthwise
    // conv with a dy-sized kernel.
    const { strideHeight, strideWidth, padInfo } = info;
    const geometry = { kh, kw, strideHeight, strideWidth, padTop: padInfo.top, padLeft: padInfo.left };
    const [dw] = tf.engine().runKernel(K.depthwiseFilterGrad, { x, dy }, geometry) as tf.Tensor[];
    return dw!;
  }
  const window = inputWindow(x, info);
  const xT = tf.reshape(tf.transpose(window, [1, 2, 0, 3]), [1, window.shape[1], window.shape[2], n * channels]);
  const dyT = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * channels, mult]);
  const stridesAsDilations: [number, number] = [info.strideHeight, info.strideWidth];
  const perBatch = tf.depthwiseConv2d(xT as tf.Tensor4D, dyT as tf.Tensor4D, 1, 'valid', 'NHWC', stridesAsDilations);
  return tf.reshape(tf.sum(tf.reshape(perBatch, [kh, kw, n, channels * mult]), 2), filterShape);
}

/** dx as a transposed conv: wasm's conv2d over the stride-spread, padded dy with the kernel flipped and transposed. */
function conv2dBackpropInput({ dy, filter }: Tensors, attrs: NamedAttrMap): tf.Tensor {
  const { inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = convInfo(tf.Conv2DBackpropInput, inputShape, filter.shape, attrs, false);
  const [, , inChannels, outChannels] = filter.shape;
  if (isPointwise({ filter }, attrs)) {
    // dy·Wᵀ: our kernel reads the filter transposed while packing it, so no transposed copy.
    const a = tf.reshape(dy, [-1, outChannels]);
    const [dx] = tf.engine().runKernel(
      K.matMulBias,
      { a, b: tf.reshape(filter, [inChannels, outChannels]) },
      {
        transposeB: true,
      },
    ) as tf.Tensor[];
    return tf.reshape(dx!, inputShape);
  }
  return tf.conv2d(transposedConvInput(dy, info), tf.transpose(flipTaps(filter), [0, 1, 3, 2]), 1, 'valid');
}

/** dx as a transposed depthwise conv; with multiplier m, dy's C*m channels run as multiplier 1 and are summed per C. */
function depthwiseBackpropInput({ dy, filter }: Tensors, attrs: NamedAttrMap): tf.Tensor {
  const { inputShape } = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  const info = convInfo(tf.DepthwiseConv2dNativeBackpropInput, inputShape, filter.shape, attrs, true);
  const [kh, kw, channels, mult] = filter.shape;
  if (mult === 1) {
    // Gathered per input pixel by our kernel (hostKernels.ts): no stride-spread, padded copy of dy, no flipped filter.
    const { strideHeight, strideWidth, padInfo } = info;
    const geometry = { inputShape, strideHeight, strideWidth, padTop: padInfo.top, padLeft: padInfo.left };
    const [dx] = tf.engine().runKernel(K.depthwiseInputGrad, { dy, filter }, geometry) as tf.Tensor[];
    return dx!;
  }
  const flipped = tf.reshape(flipTaps(filter), [kh, kw, channels * mult, 1]) as tf.Tensor4D;
  const dx = tf.depthwiseConv2d(transposedConvInput(dy, info), flipped, 1, 'valid');
  return mult === 1 ? dx : tf.sum(tf.reshape(dx, [...inputShape, mult]), 4);
}

/** The kernel rotated by 180° (rows and columns reversed); a 1x1 kernel is its own rotation, and wasm's Reverse is slow. */
function flipTaps(filter: tf.Tensor4D): tf.Tensor4D {
  return filter.shape[0] === 1 && filter.shape[1] === 1 ? filter : tf.reverse(filter, [0, 1]);
}

/** dy spread out by the strides and padded by the kernel size minus the forward padding (cropped where negative). */
function transposedConvInput(dy: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  const { filterHeight: kh, filterWidth: kw, inHeight, inWidth } = info;
  const spread = spreadByStrides(dy, info.strideHeight, info.strideWidth);
  const top = kh - 1 - info.padInfo.top;
  const left = kw - 1 - info.padInfo.left;
  return padOrCrop(
    spread,
    top,
    inHeight + kh - 1 - top - spread.shape[1],
    left,
    inWidth + kw - 1 - left - spread.shape[2],
  );
}

/** Inserts (stride - 1) zeros after every row and column of t: [N, H, W, C] -> [N, H * sh, W * sw, C]. */
function spreadByStrides(t: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  const [n, h, w, ch] = t.shape;
  // Viewed as [N, H, 1, W*C], padding the unit axis to sh puts sh - 1 zero rows after each row; likewise for columns.
  const rows: tf.Tensor4D =
    sh === 1 ? t : tf.reshape(zerosAfter(tf.reshape(t, [n, h, 1, w * ch]), sh - 1), [n, h * sh, w, ch]);
  if (sw === 1) return rows;
  return tf.reshape(zerosAfter(tf.reshape(rows, [n * h * sh, w, 1, ch]), sw - 1), [n, h * sh, w * sw, ch]);
}

/** Appends `count` zeros along axis 2 of a 4D tensor. */
function zerosAfter(t: tf.Tensor, count: number): tf.Tensor {
  return tf.pad(t, [
    [0, 0],
    [0, 0],
    [0, count],
    [0, 0],
  ]);
}

/** Pads rows/columns where an amount is positive and crops where it is negative. */
function padOrCrop(t: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  if (top === 0 && bottom === 0 && left === 0 && right === 0) return t;
  const [n, h, w, ch] = t.shape;
  const padded = tf.pad(t, [
    [0, 0],
    [Math.max(0, top), Math.max(0, bottom)],
    [Math.max(0, left), Math.max(0, right)],
    [0, 0],
  ]);
  if (Math.min(top, bottom, left, right) >= 0) return padded;
  return tf.slice(padded, [0, Math.max(0, -top), Math.max(0, -left), 0], [n, h + top + bottom, w + left + right, ch]);
}
