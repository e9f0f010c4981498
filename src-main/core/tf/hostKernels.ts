// Fused kernels for the backward passes that tfjs composes from many full-size ops: one pass over the data instead
// of four to ten for the batch-norm gradient (stock tfjs tiles a full-size tensor per layer), ReLU/clip gradients
// (four ops) and batch norm in training mode (moments + normalisation + their gradients). On wasm they are our own
// WebAssembly SIMD module (kernels/fused.c) run on tfjs-wasm's memory; on cpu the same maths in JavaScript over the
// backend's typed arrays (also the reference the SIMD build is tested against). Sums are accumulated in float64.
import * as tf from '@tensorflow/tfjs';
import type { KernelBackend, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import {
  FUSED_WASM_PLAIN,
  FUSED_WASM_PLAIN_RELAXED,
  FUSED_WASM_SHARED,
  FUSED_WASM_SHARED_RELAXED,
} from './kernels/fusedWasm';
import { relaxedSimd } from './relaxedSimd';
import { KernelThreads, PARALLEL_MIN_ELEMENTS, kernelThreadCount, splitRange } from './kernelThreads';
import {
  batchNormGrad,
  batchNormTrain,
  batchNormTrainGrad,
  depthwiseFilterGrad,
  dwGeometry,
  sgdStep,
  adamwStep,
  xtDy,
  matMulBias,
  matMulBiasShape,
  depthwiseConv,
  dwConvGeometry,
  scaleChannels,
  channelDots,
  MATMUL_ACTIVATIONS,
  activationOf,
  depthwiseInputGrad,
  dwInputGeometry,
  channelSums,
  im2col,
  im2colGeometry,
  maskGrad,
  perChannel,
  type Compute,
} from './hostKernelsCpu';

export const HOST_BACKENDS = ['wasm', 'cpu'] as const;

/** Kernel names; `Finetune` keeps them apart from tfjs's own. */
export const K = {
  /** dy, x, mean, variance, scale → dx, Σdy, Σdy·(x − mean) per channel (batch norm with fixed statistics). */
  batchNormGrad: 'FinetuneBatchNormGrad',
  /** x, scale, offset → y, batch mean, batch variance (biased, as tf.moments); attr relu6: y clamped to [0, 6]. */
  batchNormTrain: 'FinetuneBatchNormTrain',
  /**
   * dy, x, mean, variance, scale, y (the forward output) → dx, dscale, doffset for batch norm with batch statistics;
   * attr relu6: dy is the gradient of the clamped output, masked where y is 0 or 6 first.
   */
  batchNormTrainGrad: 'FinetuneBatchNormTrainGrad',
  /** dy, x → dy where the input was inside [min, max] (or (min, max] when `minExclusive`), else 0. */
  maskGrad: 'FinetuneMaskGrad',
  /**
   * x [N, H, W, C], dy [N, OH, OW, C] → the depthwise filter gradient [kh, kw, C, 1] (multiplier 1); attrs kh, kw,
   * strideHeight, strideWidth, padTop, padLeft (the forward convolution's).
   */
  depthwiseFilterGrad: 'FinetuneDepthwiseFilterGrad',
  /**
   * dy [N, OH, OW, C], filter [KH, KW, C, 1] → dx [N, H, W, C]: a depthwise convolution's input gradient; attrs
   * inputShape, strideHeight, strideWidth, padTop, padLeft (the forward convolution's).
   */
  depthwiseInputGrad: 'FinetuneDepthwiseInputGrad',
  /**
   * x [N, H, W, C] → [N·OH·OW, KH·KW·C]: the patches a convolution reads, zeros in the padding; attrs kh, kw,
   * strideHeight, strideWidth, padTop, padLeft, outHeight, outWidth.
   */
  im2col: 'FinetuneIm2col',
  /** x [..., C] → [C]: the sum of each channel (a convolution's bias gradient). */
  channelSums: 'FinetuneChannelSums',
  /** x [K, I], dy [K, O] → xᵀ·dy [I, O]: the filter gradient of a 1x1 convolution, its rows flattened. */
  xtDy: 'FinetuneXtDy',
  /**
   * a [M, K], b [K, N] (or [N, K] with attr transposeB), bias [N] (optional) → act(a·b + bias) [M, N]: a 1x1
   * convolution; attr activation: linear, relu6 or relu.
   */
  matMulBias: 'FinetuneMatMulBias',
  /**
   * x [N, H, W, C], filter [KH, KW, C, 1], bias [C] (optional) → act(depthwise conv + bias) [N, OH, OW, C]; attrs
   * strideHeight, strideWidth, padTop, padLeft, outHeight, outWidth, activation (linear, relu6 or relu).
   */
  depthwiseConv: 'FinetuneDepthwiseConv',
  /** x [..., C], k [C] → x·k per channel (a frozen batch norm's scale folded into a filter). */
  scaleChannels: 'FinetuneScaleChannels',
  /** a, b [..., C] → Σ a·b per channel [C] (scaleChannels' gradient for k). */
  channelDots: 'FinetuneChannelDots',
  /** w, g, buf → w, buf: one SGD-with-momentum update; attrs lr, momentum, weightDecay. */
  sgdStep: 'FinetuneSgdStep',
  /** w, g, m, s → w, m, s: one AdamW update; attrs lr, beta1, beta2, eps, weightDecay, bc1, bc2. */
  adamwStep: 'FinetuneAdamwStep',
} as const;

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  wasm: {
    wasmMemory?: WebAssembly.Memory;
    asm?: { memory?: WebAssembly.Memory };
    _malloc(bytes: number): number;
    _free(ptr: number): void;
  };
}

/**
 * The exports of kernels/fused.c (see there for their arguments); pointers are byte offsets into tfjs-wasm's memory.
 */
type KernelName =
  | 'bn_grad'
  | 'col_sum'
  | 'col_moments'
  | 'affine'
  | 'bn_train_dx'
  | 'mask_grad'
  | 'dw_filter_grad'
  | 'xt_dy'
  | 'dw_input_grad'
  | 'im2col'
  | 'pack_b'
  | 'gemm'
  | 'dw_pack'
  | 'dw_conv'
  | 'sgd_step';

/** Our module on one wasm memory: runs a kernel once per part, the parts in parallel where helper threads exist. */
interface Fused {
  threads: number;
  /** Whether this is the relaxed-SIMD build (fused multiply-add). */
  relaxed: boolean;
  run(name: KernelName, parts: number[][]): void;
}

const fusedByMemory = new WeakMap<WebAssembly.Memory, Fused>();

/** Our SIMD module, instantiated on the wasm backend's memory (shared when tfjs runs threaded, with helper threads). */
function fusedFor(b: WasmLike): Fused {
  const memory = b.wasm.wasmMemory ?? b.wasm.asm?.memory;
  if (!memory) throw new Error('tfjs-backend-wasm exposes no memory for the fused kernels');
  let fused = fusedByMemory.get(memory);
  if (!fused) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const relaxed = relaxedSimd(Buffer.from(shared ? FUSED_WASM_SHARED_RELAXED : FUSED_WASM_PLAIN_RELAXED, 'base64'));
    const bytes = relaxed ?? Buffer.from(shared ? FUSED_WASM_SHARED : FUSED_WASM_PLAIN, 'base64');
    const module = new WebAssembly.Module(bytes);
    const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Record<
      string,
      (...a: number[]) => void
    >;
    const threads = shared ? kernelThreadCount() : 1;
    const pool = threads > 1 ? new KernelThreads(module, memory, exports, threads) : null;
    fused = {
      threads,
      relaxed: relaxed != null,
      run: pool
        ? (name, parts) => pool.run(name, parts)
        : (name, parts) => {
            for (const part of parts) exports[name]!(...part);
          },
    };
    fusedByMemory.set(memory, fused);
  }
  return fused;
}

/** Ranges of `n` units for one kernel call: one per thread when the call touches enough data, else one. */
function ranges(f: Fused, n: number, elements: number, align = 1): Array<[number, number]> {
  return splitRange(n, elements >= PARALLEL_MIN_ELEMENTS ? f.threads : 1, align);
}

type Block<T> = { ptr: number; view: () => T };

/**
 * Scratch space on the wasm heap for per-channel values, sized from its blocks: float64 blocks first (8-byte
 * aligned), then float32 ones.
 */
class Scratch {
  private readonly ptr: number;
  readonly f64: Block<Float64Array>[];
  readonly f32: Block<Float32Array>[];
  constructor(
    private readonly b: WasmLike,
    f64Sizes: number[],
    f32Sizes: number[],
  ) {
    const bytes = 8 * f64Sizes.reduce((a, n) => a + n, 0) + 4 * f32Sizes.reduce((a, n) => a + n, 0);
    // Addresses above 2 GiB come back from wasm as negative int32: read them as unsigned.
    this.ptr = b.wasm._malloc(bytes + 8) >>> 0;
    if (this.ptr === 0) {
      throw new Error('The WebAssembly heap (4 GB) is full: use a smaller image size or batch size.');
    }
    let next = Math.ceil(this.ptr / 8) * 8;
    const block = <T>(n: number, width: number, make: (buf: ArrayBufferLike, at: number, n: number) => T): Block<T> => {
      const at = next;
      next += width * n;
      return { ptr: at, view: () => make(this.memory(), at, n) };
    };
    this.f64 = f64Sizes.map((n) => block(n, 8, (buf, at, len) => new Float64Array(buf, at, len)));
    this.f32 = f32Sizes.map((n) => block(n, 4, (buf, at, len) => new Float32Array(buf, at, len)));
  }
  private memory(): ArrayBufferLike {
    return (this.b.wasm.wasmMemory ?? this.b.wasm.asm!.memory!).buffer;
  }
  free(): void {
    this.b.wasm._free(this.ptr);
  }
}

/** Runs `fn` with scratch blocks on the wasm heap (float64 sizes, float32 sizes), freed afterwards. */
function withScratch(
  b: WasmLike,
  f64Sizes: number[],
  f32Sizes: number[],
  fn: (f64: Block<Float64Array>[], f32: Block<Float32Array>[]) => void,
): void {
  const scratch = new Scratch(b, f64Sizes, f32Sizes);
  try {
    fn(scratch.f64, scratch.f32);
  } finally {
    scratch.free();
  }
}

/** Channels, rows per channel and ε of a per-channel kernel, from the shape of its full-size input `at`. */
function perChannelGeometry(shapes: number[][], at: number, attrs: NamedAttrMap) {
  const c = shapes[at]![shapes[at]!.length - 1]!;
  return { c, m: tf.util.sizeFromShape(shapes[at]!) / c, eps: Number(attrs.varianceEpsilon) };
}

/** A wasm kernel body: byte offsets of the inputs and outputs, their shapes, the attributes. */
type WasmCompute = (
  f: Fused,
  b: WasmLike,
  inputs: number[],
  outputs: number[],
  shapes: number[][],
  attrs: NamedAttrMap,
) => void;
interface CpuLike extends KernelBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

interface HostKernel {
  name: string;
  /** Input names; a name ending in `?` may be absent (wasm: offset 0; cpu: no array; shape []). */
  inputs: string[];
  /** Output shapes from the input shapes (and attributes). */
  outputs: (shapes: number[][], attrs: NamedAttrMap) => number[][];
  /** JavaScript, for the cpu backend. */
  compute: Compute;
  /** WebAssembly SIMD, for the wasm backend. */
  wasm: WasmCompute;
}

function register({ name, inputs, outputs, compute, wasm }: HostKernel): void {
  for (const backendName of HOST_BACKENDS) {
    if (tf.getKernel(name, backendName)) continue;
    tf.registerKernel({
      kernelName: name,
      backendName,
      kernelFunc: ({ inputs: named, backend, attrs = {} }) => {
        const infos = inputs.map((n) => named[n.replace(/\?$/, '')] as TensorInfo | undefined);
        inputs.forEach((n, i) => {
          if (!infos[i] && !n.endsWith('?')) throw new Error(`${name}: input ${n} is missing`);
        });
        const shapes = infos.map((t) => t?.shape ?? []);
        const outShapes = outputs(shapes, attrs);
        if (backendName === 'wasm') {
          const b = backend as WasmLike;
          const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
          const offset = (t: TensorInfo | undefined) => (t ? b.typedArrayFromHeap(t).byteOffset : 0);
          wasm(fusedFor(b), b, infos.map(offset), outs.map(offset), shapes, attrs);
          return outs;
        }
        const b = backend as CpuLike;
        const outValues = outShapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
        compute(
          infos.map((t) => (t ? b.data.get(t.dataId).values : (undefined as unknown as Float32Array))),
          outValues,
          shapes,
          attrs,
        );
        return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', outValues[i]!));
      },
    });
  }
}

/** Reads `n` float32 values at a wasm offset (per-channel inputs: mean, variance, scale). */
const f32At = (b: WasmLike, ptr: number, n: number) =>
  new Float32Array((b.wasm.wasmMemory ?? b.wasm.asm!.memory!).buffer, ptr, n);

/** Adds each part's float64 per-channel sums (blocks of `n`) into the first part's. */
function addParts(blocks: Block<Float64Array>[], n: number): Float64Array {
  const total = blocks[0]!.view();
  for (const block of blocks.slice(1)) {
    const v = block.view();
    for (let j = 0; j < n; j++) total[j]! += v[j]!;
  }
  return total;
}

/** addParts for kernels that write two sums per part (blocks 2i and 2i + 1): both totals. */
function addPairedParts(blocks: Block<Float64Array>[], n: number): [Float64Array, Float64Array] {
  return [
    addParts(
      blocks.filter((_, i) => i % 2 === 0),
      n,
    ),
    addParts(
      blocks.filter((_, i) => i % 2 === 1),
      n,
    ),
  ];
}

/**
 * Per-channel sums of dy and of dy·(x − mean) over rows [M, C], the rows split between threads (each part its own
 * scratch, added up after); with `k`, also dx = dy·k.
 */
function bnGradSums(
  f: Fused,
  b: WasmLike,
  dy: number,
  x: number,
  mean: number,
  k: number,
  dx: number,
  m: number,
  c: number,
  y = 0,
) {
  const parts = ranges(f, m, m * c, 16);
  const out = { sumDy: new Float64Array(c), sumDyXc: new Float64Array(c) };
  const p = parts.length;
  withScratch(b, Array<number>(2 * p).fill(c), Array<number>(p).fill(2 * c), (f64, f32) => {
    f.run(
      'bn_grad',
      parts.map(([r0, r1], i) => {
        const off = 4 * r0 * c;
        return [
          dy + off,
          x + off,
          mean,
          k,
          k ? dx + off : 0,
          f64[2 * i]!.ptr,
          f64[2 * i + 1]!.ptr,
          f32[i]!.ptr,
          r1 - r0,
          c,
          y ? y + off : 0,
        ];
      }),
    );
    const [sumDy, sumDyXc] = addPairedParts(f64, c);
    out.sumDy.set(sumDy);
    out.sumDyXc.set(sumDyXc);
  });
  return out;
}

/** Per-channel float64 sums of x over rows [M, C], split between threads. */
function columnSums(f: Fused, b: WasmLike, x: number, m: number, c: number): Float64Array {
  const parts = ranges(f, m, m * c, 16);
  const p = parts.length;
  const out = new Float64Array(c);
  withScratch(b, Array<number>(p).fill(c), Array<number>(p).fill(c), (f64, f32) => {
    f.run(
      'col_sum',
      parts.map(([r0, r1], i) => [x + 4 * r0 * c, f64[i]!.ptr, f32[i]!.ptr, r1 - r0, c]),
    );
    out.set(addParts(f64, c));
  });
  return out;
}

/**
 * Per-channel batch mean and (biased) variance of rows [M, C] in one read of x, split between threads: sums of
 * d = x − x[0] and d², so that the variance E[d²] − E[d]² is taken around a value near the mean.
 */
function columnMoments(f: Fused, b: WasmLike, x: number, m: number, c: number) {
  const parts = ranges(f, m, m * c, 16);
  const p = parts.length;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  withScratch(b, Array<number>(2 * p).fill(c), Array<number>(p).fill(2 * c), (f64, f32) => {
    f.run(
      'col_moments',
      parts.map(([r0, r1], i) => [x + 4 * r0 * c, x, f64[2 * i]!.ptr, f64[2 * i + 1]!.ptr, f32[i]!.ptr, r1 - r0, c]),
    );
    const [s1, s2] = addPairedParts(f64, c);
    const shift = f32At(b, x, c);
    for (let j = 0; j < c; j++) {
      const d = s1[j]! / m;
      mean[j] = shift[j]! + d;
      variance[j] = Math.max(0, s2[j]! / m - d * d);
    }
  });
  return { mean, variance };
}

/** Runs a row-wise kernel over [M, C] rows split between threads; `args(offset, rows)` gives one part's arguments. */
function byRows(f: Fused, name: KernelName, m: number, c: number, args: (offset: number, rows: number) => number[]) {
  f.run(
    name,
    ranges(f, m, m * c, 16).map(([r0, r1]) => args(4 * r0 * c, r1 - r0)),
  );
}

const wasmBatchNormGrad: WasmCompute = (f, b, [dy, x, mean, variance, scale], [dx, sumDy, sumDyXc], shapes, attrs) => {
  const { c, m, eps } = perChannelGeometry(shapes, 1, attrs);
  withScratch(b, [], [c], (_, [k]) => {
    const [kv, sc, va] = [k!.view(), f32At(b, scale!, c), f32At(b, variance!, c)];
    for (let j = 0; j < c; j++) kv[j] = sc[j]! / Math.sqrt(va[j]! + eps);
    const sums = bnGradSums(f, b, dy!, x!, mean!, k!.ptr, dx!, m, c);
    f32At(b, sumDy!, c).set(sums.sumDy);
    f32At(b, sumDyXc!, c).set(sums.sumDyXc);
  });
};

const wasmBatchNormTrain: WasmCompute = (f, b, [x, scale, offset], [y, meanOut, varOut], shapes, attrs) => {
  const { c, m, eps } = perChannelGeometry(shapes, 0, attrs);
  withScratch(b, [], [c, c], (_, [meanF, a]) => {
    const { mean, variance } = columnMoments(f, b, x!, m, c);
    meanF!.view().set(mean);
    const [av, sc] = [a!.view(), f32At(b, scale!, c)];
    for (let j = 0; j < c; j++) av[j] = sc[j]! / Math.sqrt(variance[j]! + eps);
    const relu6 = attrs.relu6 === true ? 1 : 0;
    byRows(f, 'affine', m, c, (off, rows) => [x! + off, meanF!.ptr, a!.ptr, offset!, y! + off, rows, c, relu6]);
    f32At(b, meanOut!, c).set(mean);
    f32At(b, varOut!, c).set(variance);
  });
};

const wasmBatchNormTrainGrad: WasmCompute = (
  f,
  b,
  [dy, x, mean, variance, scale, y],
  [dx, dScale, dOffset],
  shapes,
  attrs,
) => {
  const { c, m, eps } = perChannelGeometry(shapes, 1, attrs);
  const relu6Out = attrs.relu6 === true ? y! : 0; // the gradient through the ReLU6 first, masked by its output
  withScratch(b, [], [c, c, c], (_, [k, km2, km1]) => {
    const { sumDy: sDy, sumDyXc: sDyXc } = bnGradSums(f, b, dy!, x!, mean!, 0, 0, m, c, relu6Out);
    const [kv, km2v, km1v] = [k!.view(), km2!.view(), km1!.view()];
    const [sc, va, dS, dO] = [f32At(b, scale!, c), f32At(b, variance!, c), f32At(b, dScale!, c), f32At(b, dOffset!, c)];
    for (let j = 0; j < c; j++) {
      const r = 1 / Math.sqrt(va[j]! + eps);
      kv[j] = sc[j]! * r;
      km1v[j] = (kv[j]! * sDy[j]!) / m;
      km2v[j] = (kv[j]! * sDyXc[j]! * r * r) / m;
      dS[j] = sDyXc[j]! * r;
      dO[j] = sDy[j]!;
    }
    byRows(f, 'bn_train_dx', m, c, (off, rows) => [
      dy! + off,
      x! + off,
      mean!,
      k!.ptr,
      km2!.ptr,
      km1!.ptr,
      dx! + off,
      rows,
      c,
      relu6Out ? relu6Out + off : 0,
    ]);
  });
};

/** What dw_filter_grad, dw_input_grad and im2col (fused.c) take after their pointers and image count, in order. */
function convGeometryArgs(
  g: Record<'h' | 'w' | 'c' | 'oh' | 'ow' | 'kh' | 'kw' | 'sh' | 'sw' | 'pt' | 'pl', number>,
): number[] {
  return [g.h, g.w, g.c, g.oh, g.ow, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl];
}

const wasmDepthwiseFilterGrad: WasmCompute = (f, b, [x, dy], [dw], shapes, attrs) => {
  const g = dwGeometry(shapes, attrs);
  const { n, h, w, c, oh, ow, kh, kw } = g;
  const taps = kh * kw * c;
  // Images split between threads, each part summing into its own block.
  const parts = ranges(f, n, n * oh * ow * taps);
  const p = parts.length;
  withScratch(b, Array<number>(p).fill(taps), Array<number>(p).fill(taps), (sums, accs) => {
    f.run(
      'dw_filter_grad',
      parts.map(([n0, n1], i) => [
        x! + 4 * n0 * h * w * c,
        dy! + 4 * n0 * oh * ow * c,
        sums[i]!.ptr,
        accs[i]!.ptr,
        n1 - n0,
        ...convGeometryArgs(g),
      ]),
    );
    f32At(b, dw!, taps).set(addParts(sums, taps));
  });
};

const wasmMaskGrad: WasmCompute = (f, _b, [dy, x], [dx], shapes, attrs) => {
  const n = tf.util.sizeFromShape(shapes[1]!);
  const [lo, hi, exclusive] = [Number(attrs.min), Number(attrs.max), attrs.minExclusive === true ? 1 : 0];
  byRows(f, 'mask_grad', n, 1, (off, count) => [dy! + off, x! + off, dx! + off, count, lo, hi, exclusive]);
};

const wasmDepthwiseInputGrad: WasmCompute = (f, _b, [dy, filter], [dx], shapes, attrs) => {
  const g = dwInputGeometry(shapes, attrs);
  const { n, oh, ow, c, kh, kw, h, w } = g;
  f.run(
    'dw_input_grad',
    ranges(f, n, n * h * w * c * kh * kw).map(([n0, n1]) => [
      dy! + 4 * n0 * oh * ow * c,
      filter!,
      dx! + 4 * n0 * h * w * c,
      n1 - n0,
      ...convGeometryArgs(g),
    ]),
  );
};

/** The 1x1 filter gradient; threads take ranges of input channels (multiples of 4, the kernel's tile). */
const wasmXtDy: WasmCompute = (f, _b, [x, dy], [dw], [[k, i], [, o]]) => {
  f.run(
    'xt_dy',
    ranges(f, i!, k! * (i! + o!), 4).map(([i0, i1]) => [x! + 4 * i0, dy!, dw! + 4 * i0 * o!, k!, i1 - i0, o!, i!]),
  );
};

/** The number fused.c's gemm and dw_conv take for a kernel's activation attr. */
function activationCode(kernel: string, attrs: NamedAttrMap): number {
  const act = MATMUL_ACTIVATIONS[activationOf(attrs)];
  if (act === undefined) throw new Error(`${kernel}: unknown activation ${String(attrs.activation)}`);
  return act;
}

/** Columns per panel of fused.c's packed b (gemm's tile width). */
const GEMM_NR = 8;

/**
 * act(a·b + bias): b (with the bias) packed into panels of 8 columns, the panels split between threads, then the rows
 * of a in multiples of 4 (the kernel's tile). Each output is one thread's sum in a fixed order: results do not depend
 * on the thread count.
 */
const wasmMatMulBias: WasmCompute = (f, b, [a, w, bias], [c], shapes, attrs) => {
  const [m, n] = matMulBiasShape(shapes, attrs);
  const k = shapes[0]![1]!;
  const act = activationCode(K.matMulBias, attrs);
  const panels = Math.ceil(n / GEMM_NR);
  withScratch(b, [], [panels * (k + 1) * GEMM_NR], (_, [packed]) => {
    const t = attrs.transposeB === true ? 1 : 0;
    f.run(
      'pack_b',
      ranges(f, panels, k * n).map(([p0, p1]) => [w!, bias!, packed!.ptr, k, n, t, p0, p1]),
    );
    f.run(
      'gemm',
      ranges(f, m, m * (k + n), 4).map(([r0, r1]) => [
        a! + 4 * r0 * k,
        packed!.ptr,
        c! + 4 * r0 * n,
        r1 - r0,
        k,
        n,
        act,
      ]),
    );
  });
};

/** A depthwise convolution with bias and activation: the filter packed first, then threads take ranges of images. */
const wasmDepthwiseConv: WasmCompute = (f, b, [x, filter, bias], [y], shapes, attrs) => {
  const g = dwConvGeometry(shapes, attrs);
  const { n, h, w, c, oh, ow, kh, kw } = g;
  const act = activationCode(K.depthwiseConv, attrs);
  const blocks = Math.floor(c / 16);
  withScratch(b, [], [Math.max(1, blocks * 16 * (kh * kw + 1))], (_, [packed]) => {
    f.run('dw_pack', [[filter!, bias!, packed!.ptr, kh * kw, c]]);
    f.run(
      'dw_conv',
      ranges(f, n, n * oh * ow * c * kh * kw).map(([n0, n1]) => [
        x! + 4 * n0 * h * w * c,
        filter!,
        bias!,
        packed!.ptr,
        y! + 4 * n0 * oh * ow * c,
        n1 - n0,
        ...convGeometryArgs(g),
        act,
      ]),
    );
  });
};

/** The SGD update in SIMD, the elements split between threads. */
const wasmSgdStep: WasmCompute = (f, _b, [w, g, buf], [wOut, bufOut], shapes, attrs) => {
  const n = tf.util.sizeFromShape(shapes[0]!);
  const lr = Number(attrs.lr);
  const keep = 1 - lr * Number(attrs.weightDecay);
  f.run(
    'sgd_step',
    ranges(f, n, 5 * n, 4).map(([i0, i1]) => {
      const at = (p: number) => p + 4 * i0;
      return [at(w!), at(g!), at(buf!), at(wOut!), at(bufOut!), i1 - i0, lr, Number(attrs.momentum), keep];
    }),
  );
};

/**
 * A kernel whose JavaScript body runs on the wasm heap too (element-wise or filter-sized work, where a SIMD build
 * would add little); every output has `outSize` values (by default as many as the first input).
 */
const onHeap =
  (compute: Compute, outSize = (shapes: number[][]) => tf.util.sizeFromShape(shapes[0]!)): WasmCompute =>
  (_f, b, inputs, outputs, shapes, attrs) => {
    compute(
      inputs.map((ptr, i) => f32At(b, ptr, tf.util.sizeFromShape(shapes[i]!))),
      outputs.map((ptr) => f32At(b, ptr, outSize(shapes))),
      shapes,
      attrs,
    );
  };

/** Registers the fused kernels for the wasm and cpu backends (idempotent). */
export function registerHostKernels(): void {
  register({
    name: K.batchNormGrad,
    inputs: ['dy', 'x', 'mean', 'variance', 'scale'],
    outputs: (s) => [s[1]!, perChannel(s.slice(1)), perChannel(s.slice(1))],
    compute: batchNormGrad,
    wasm: wasmBatchNormGrad,
  });
  register({
    name: K.batchNormTrain,
    inputs: ['x', 'scale', 'offset'],
    outputs: (s) => [s[0]!, perChannel(s), perChannel(s)],
    compute: batchNormTrain,
    wasm: wasmBatchNormTrain,
  });
  register({
    name: K.batchNormTrainGrad,
    inputs: ['dy', 'x', 'mean', 'variance', 'scale', 'y'],
    outputs: (s) => [s[1]!, perChannel(s.slice(1)), perChannel(s.slice(1))],
    compute: batchNormTrainGrad,
    wasm: wasmBatchNormTrainGrad,
  });
  register({ name: K.maskGrad, inputs: ['dy', 'x'], outputs: (s) => [s[1]!], compute: maskGrad, wasm: wasmMaskGrad });
  register({
    name: K.depthwiseFilterGrad,
    inputs: ['x', 'dy'],
    outputs: (s, a) => [[Number(a.kh), Number(a.kw), s[0]![3]!, 1]],
    compute: depthwiseFilterGrad,
    wasm: wasmDepthwiseFilterGrad,
  });
  register({
    name: K.depthwiseInputGrad,
    inputs: ['dy', 'filter'],
    outputs: (_s, a) => [a.inputShape as number[]],
    compute: depthwiseInputGrad,
    wasm: wasmDepthwiseInputGrad,
  });
  register({
    name: K.xtDy,
    inputs: ['x', 'dy'],
    outputs: (s) => [[s[0]![1]!, s[1]![1]!]],
    compute: xtDy,
    wasm: wasmXtDy,
  });
  register({
    name: K.matMulBias,
    inputs: ['a', 'b', 'bias?'],
    outputs: (s, a) => [matMulBiasShape(s, a)],
    compute: matMulBias,
    wasm: wasmMatMulBias,
  });
  register({
    name: K.depthwiseConv,
    inputs: ['x', 'filter', 'bias?'],
    outputs: (s, a) => {
      const { n, c, oh, ow } = dwConvGeometry(s, a);
      return [[n, oh, ow, c]];
    },
    compute: depthwiseConv,
    wasm: wasmDepthwiseConv,
  });
  register({
    name: K.im2col,
    inputs: ['x'],
    outputs: (s, a) => {
      const { n, c, kh, kw, oh, ow } = im2colGeometry(s, a);
      return [[n * oh * ow, kh * kw * c]];
    },
    compute: im2col,
    wasm: (f, _b, [x], [p], shapes, attrs) => {
      const g = im2colGeometry(shapes, attrs);
      const { n, h, w, c, kh, kw, oh, ow } = g;
      // Images split between threads.
      f.run(
        'im2col',
        ranges(f, n, n * oh * ow * kh * kw * c).map(([n0, n1]) => [
          x! + 4 * n0 * h * w * c,
          p! + 4 * n0 * oh * ow * kh * kw * c,
          n1 - n0,
          ...convGeometryArgs(g),
        ]),
      );
    },
  });
  register({
    name: K.channelSums,
    inputs: ['x'],
    outputs: (s) => [perChannel(s)],
    compute: channelSums,
    wasm: (f, b, [x], [out], [shape]) => {
      const c = shape![shape!.length - 1]!;
      f32At(b, out!, c).set(columnSums(f, b, x!, tf.util.sizeFromShape(shape!) / c, c));
    },
  });
  register({
    name: K.scaleChannels,
    inputs: ['x', 'k'],
    outputs: (s) => [s[0]!],
    compute: scaleChannels,
    wasm: onHeap(scaleChannels),
  });
  register({
    name: K.channelDots,
    inputs: ['a', 'b'],
    outputs: (s) => [perChannel(s)],
    compute: channelDots,
    wasm: onHeap(channelDots, (s) => s[0]![s[0]!.length - 1]!),
  });
  const same = (shapes: number[][]) => shapes.slice(0, -1).map(() => shapes[0]!);
  register({ name: K.sgdStep, inputs: ['w', 'g', 'buf'], outputs: same, compute: sgdStep, wasm: wasmSgdStep });
  register({
    name: K.adamwStep,
    inputs: ['w', 'g', 'm', 's'],
    outputs: same,
    compute: adamwStep,
    wasm: onHeap(adamwStep),
  });
}

/** Whether the active backend runs the fused kernels. */
export function hostKernelsActive(): boolean {
  return tf.getKernel(K.maskGrad, tf.getBackend()) != null;
}

/** Threads our kernels use on the active backend (1 off wasm, or on its single-threaded build). */
export function hostKernelThreads(): number {
  if (tf.getBackend() !== 'wasm') return 1;
  return fusedFor(tf.backend() as unknown as WasmLike).threads;
}

/** Whether our kernels on the active wasm backend run the relaxed-SIMD build (false off wasm). */
export function usesRelaxedSimd(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  return fusedFor(tf.backend() as unknown as WasmLike).relaxed;
}
