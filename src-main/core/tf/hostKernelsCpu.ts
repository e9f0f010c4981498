// The fused kernels' maths in JavaScript over typed arrays: what the cpu backend runs, and the reference the
// WebAssembly SIMD versions (kernels/fused.c, hostKernels.ts) are tested against. Sums in float64.
import type { NamedAttrMap } from '@tensorflow/tfjs';

/** A kernel body over typed arrays: inputs, outputs (allocated by the caller), their shapes, the attributes. */
export type Compute = (
  inputs: Float32Array[],
  outputs: Float32Array[],
  shapes: number[][],
  attrs: NamedAttrMap,
) => void;

export const channels = (shapes: number[][]) => shapes[0]![shapes[0]!.length - 1]!;

/** Σdy and Σdy·(x − mean) per channel and dx = dy · scale / √(var + ε), in one pass. */
export const batchNormGrad: Compute = ([dy, x, mean, variance, scale], [dx, sumDy, sumDyXc], shapes, attrs) => {
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
export const batchNormTrain: Compute = ([x, scale, offset], [y, meanOut, varOut], shapes, attrs) => {
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
  const relu6 = attrs.relu6 === true;
  for (let base = 0; base < x!.length; base += c) {
    for (let j = 0; j < c; j++) {
      const v = x![base + j]! * a[j]! + b[j]!;
      y![base + j] = relu6 ? Math.min(Math.max(v, 0), 6) : v;
    }
  }
  meanOut!.set(mean);
  varOut!.set(v);
};

/**
 * The batch-statistics gradient: with x̂ = (x − mean)·r, r = 1/√(var + ε) and N values per channel,
 * dx = scale·r·(dy − Σdy/N − x̂·Σ(dy·x̂)/N), dscale = Σ(dy·x̂), doffset = Σdy.
 */
export const batchNormTrainGrad: Compute = (
  [dyIn, x, mean, variance, scale, y],
  [dx, dScale, dOffset],
  shapes,
  attrs,
) => {
  const c = channels(shapes);
  // With relu6, dyIn is the gradient of the clamped output: through the clamp first (0 where y is 0 or 6).
  const dy = attrs.relu6 === true ? dyIn!.map((g, i) => (y![i]! > 0 && y![i]! < 6 ? g : 0)) : dyIn;
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

export const maskGrad: Compute = ([dy, x], [dx], _shapes, attrs) => {
  const min = Number(attrs.min);
  const max = Number(attrs.max);
  const exclusive = attrs.minExclusive === true;
  for (let i = 0; i < x!.length; i++) {
    const v = x![i]!;
    dx![i] = (exclusive ? v > min : v >= min) && v <= max ? dy![i]! : 0;
  }
};

export const perChannel = (shapes: number[][]) => [shapes[0]![shapes[0]!.length - 1]!];

/** Geometry of a depthwise filter gradient: x [N, H, W, C], dy [N, OH, OW, C], attrs of the forward conv. */
export const dwGeometry = (shapes: number[][], attrs: NamedAttrMap) => {
  const [n, h, w, c] = shapes[0] as [number, number, number, number];
  const [, oh, ow] = shapes[1] as [number, number, number, number];
  const [kh, kw, sh, sw, pt, pl] = ['kh', 'kw', 'strideHeight', 'strideWidth', 'padTop', 'padLeft'].map((k) =>
    Number(attrs[k] ?? 0),
  ) as [number, number, number, number, number, number];
  return { n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl };
};

/** The filter gradient of a depthwise convolution with multiplier 1 (see fused.c dw_filter_grad). */
export const depthwiseFilterGrad: Compute = ([x, dy], [dw], shapes, attrs) => {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl } = dwGeometry(shapes, attrs);
  const acc = new Float64Array(kh * kw * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const g = ((b * oh + oy) * ow + ox) * c;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i - pt;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const xx = ox * sw + j - pl;
            if (xx < 0 || xx >= w) continue;
            const p = ((b * h + y) * w + xx) * c;
            const a = (i * kw + j) * c;
            for (let k = 0; k < c; k++) acc[a + k] += x![p + k]! * dy![g + k]!;
          }
        }
      }
    }
  }
  dw!.set(acc);
};

/**
 * One SGD-with-momentum update of a variable (decoupled weight decay): buf ← μ·buf + g; w ← w·(1 − lr·wd) − lr·buf.
 * On cpu in JavaScript; on wasm the same in SIMD (fused.c `sgd_step`). Either way one kernel instead of ~7 tfjs ops a variable.
 */
export const sgdStep: Compute = ([w, g, buf], [wOut, bufOut], _shapes, attrs) => {
  const lr = Number(attrs.lr);
  const mu = Number(attrs.momentum);
  const keep = 1 - lr * Number(attrs.weightDecay);
  for (let i = 0; i < w!.length; i++) {
    const b = mu * buf![i]! + g![i]!;
    bufOut![i] = b;
    wOut![i] = w![i]! * keep - lr * b;
  }
};

/**
 * One AdamW update: m ← β1·m + (1 − β1)·g; s ← β2·s + (1 − β2)·g²; w ← w·(1 − lr·wd) − lr·m̂ / (√ŝ + ε), with the
 * bias corrections m̂ = m / bc1, ŝ = s / bc2 (bc = 1 − βᵗ, from the attributes).
 */
export const adamwStep: Compute = ([w, g, m, s], [wOut, mOut, sOut], _shapes, attrs) => {
  const lr = Number(attrs.lr);
  const [b1, b2, eps] = [Number(attrs.beta1), Number(attrs.beta2), Number(attrs.eps)];
  const [bc1, bc2] = [Number(attrs.bc1), Number(attrs.bc2)];
  const keep = 1 - lr * Number(attrs.weightDecay);
  for (let i = 0; i < w!.length; i++) {
    const gi = g![i]!;
    const mi = b1 * m![i]! + (1 - b1) * gi;
    const si = b2 * s![i]! + (1 - b2) * gi * gi;
    mOut![i] = mi;
    sOut![i] = si;
    wOut![i] = w![i]! * keep - (lr * (mi / bc1)) / (Math.sqrt(si / bc2) + eps);
  }
};

/** The filter gradient of a 1x1 convolution, x [K, I] and dy [K, O] (NHWC rows) → dw [I, O] = xᵀ·dy. */
export const xtDy: Compute = ([x, dy], [dw], shapes) => {
  const [k, i] = shapes[0] as [number, number];
  const o = shapes[1]![1]!;
  const sums = new Float64Array(i * o);
  for (let r = 0; r < k; r++) {
    for (let a = 0; a < i; a++) {
      const xv = x![r * i + a]!;
      for (let b = 0; b < o; b++) sums[a * o + b] += xv * dy![r * o + b]!;
    }
  }
  dw!.set(sums);
};

/** The activations matMulBias applies after the bias, by the number fused.c's gemm takes. */
export const MATMUL_ACTIVATIONS = { linear: 0, relu6: 1, relu: 2 } as const;
export type MatMulActivation = keyof typeof MATMUL_ACTIVATIONS;

/** The activation a kernel's attrs name (linear when none). */
export const activationOf = (attrs: NamedAttrMap): MatMulActivation =>
  (attrs.activation as MatMulActivation | undefined) ?? 'linear';

/** v through the activation, as fused.c's `activate`. */
const activate = (v: number, act: MatMulActivation) =>
  act === 'relu6' ? Math.min(6, Math.max(0, v)) : act === 'relu' ? Math.max(0, v) : v;

/** [M, N] from a [M, K] and b [K, N], or b [N, K] with attr transposeB. */
export const matMulBiasShape = (shapes: number[][], attrs: NamedAttrMap): [number, number] => [
  shapes[0]![0]!,
  attrs.transposeB === true ? shapes[1]![0]! : shapes[1]![1]!,
];

/** act(a·b + bias) (a 1x1 convolution, its rows flattened); bias may be absent; attrs transposeB, activation. */
export const matMulBias: Compute = ([a, b, bias], [c], shapes, attrs) => {
  const [m, n] = matMulBiasShape(shapes, attrs);
  const k = shapes[0]![1]!;
  const t = attrs.transposeB === true;
  const act = activationOf(attrs);
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) {
      let sum = bias ? bias[j]! : 0;
      for (let q = 0; q < k; q++) sum += a![r * k + q]! * (t ? b![j * k + q]! : b![q * n + j]!);
      c![r * n + j] = activate(sum, act);
    }
  }
};

/** Geometry of a depthwise input gradient: dy [N, OH, OW, C], the filter [KH, KW, C, 1], attrs of the forward conv. */
export const dwInputGeometry = (shapes: number[][], attrs: NamedAttrMap) => {
  const [n, oh, ow, c] = shapes[0] as [number, number, number, number];
  const [kh, kw] = shapes[1] as [number, number];
  const [, h, w] = attrs.inputShape as number[];
  const [sh, sw, pt, pl] = ['strideHeight', 'strideWidth', 'padTop', 'padLeft'].map((k) => Number(attrs[k]));
  return { n, oh, ow, c, kh, kw, h: h!, w: w!, sh: sh!, sw: sw!, pt: pt!, pl: pl! };
};

/** The input gradient of a depthwise convolution with multiplier 1, dy and filter → dx (see fused.c dw_input_grad). */
export const depthwiseInputGrad: Compute = ([dy, filter], [dx], shapes, attrs) => {
  const { n, oh, ow, c, kh, kw, h, w, sh, sw, pt, pl } = dwInputGeometry(shapes, attrs);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const out = ((b * h + y) * w + x) * c;
        for (let i = 0; i < kh; i++) {
          const ty = y + pt - i;
          if (ty < 0 || ty % sh !== 0 || ty / sh >= oh) continue;
          for (let j = 0; j < kw; j++) {
            const tx = x + pl - j;
            if (tx < 0 || tx % sw !== 0 || tx / sw >= ow) continue;
            const g = ((b * oh + ty / sh) * ow + tx / sw) * c;
            const wk = (i * kw + j) * c;
            for (let k = 0; k < c; k++) dx![out + k] += dy![g + k]! * filter![wk + k]!;
          }
        }
      }
};

/** Geometry of a depthwise convolution: x [N, H, W, C], filter [KH, KW, C, 1]; attrs strides, padTop, padLeft, out size. */
export const dwConvGeometry = (shapes: number[][], attrs: NamedAttrMap) => {
  const [n, h, w, c] = shapes[0] as [number, number, number, number];
  const [kh, kw] = shapes[1] as [number, number];
  const [sh, sw, pt, pl, oh, ow] = ['strideHeight', 'strideWidth', 'padTop', 'padLeft', 'outHeight', 'outWidth'].map(
    (k) => Number(attrs[k]),
  ) as [number, number, number, number, number, number];
  return { n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl };
};

/** act(depthwise conv(x, filter) + bias) with multiplier 1 (see fused.c dw_conv); bias may be absent. */
export const depthwiseConv: Compute = ([x, filter, bias], [y], shapes, attrs) => {
  const { n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl } = dwConvGeometry(shapes, attrs);
  const act = activationOf(attrs);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let k = 0; k < c; k++) {
          let sum = bias ? bias[k]! : 0;
          for (let i = 0; i < kh; i++) {
            const yy = oy * sh + i - pt;
            if (yy < 0 || yy >= h) continue;
            for (let j = 0; j < kw; j++) {
              const xx = ox * sw + j - pl;
              if (xx >= 0 && xx < w) sum += x![((b * h + yy) * w + xx) * c + k]! * filter![(i * kw + j) * c + k]!;
            }
          }
          y![((b * oh + oy) * ow + ox) * c + k] = activate(sum, act);
        }
};

/** x [..., C] times k [C], channel by channel (a batch norm's scale folded into a filter). */
export const scaleChannels: Compute = ([x, k], [y], shapes) => {
  const c = channels(shapes);
  for (let i = 0; i < x!.length; i++) y![i] = x![i]! * k![i % c]!;
};

/** Σ a·b per channel over rows of a, b [..., C] → [C], in float64 (scaleChannels' gradient for k). */
export const channelDots: Compute = ([a, b], [out], shapes) => {
  const c = channels(shapes);
  const sums = new Float64Array(c);
  for (let i = 0; i < a!.length; i += c) for (let j = 0; j < c; j++) sums[j] += a![i + j]! * b![i + j]!;
  out!.set(sums);
};

/** The sum of each channel of x [..., C], in float64. */
export const channelSums: Compute = ([x], [out], shapes) => {
  const c = shapes[0]![shapes[0]!.length - 1]!;
  const sums = new Float64Array(c);
  for (let i = 0; i < x!.length; i += c) for (let k = 0; k < c; k++) sums[k] += x![i + k]!;
  out!.set(sums);
};

/** Geometry of im2col: x [N, H, W, C]; attrs kh, kw, strides, padTop, padLeft, outHeight, outWidth. */
export const im2colGeometry = (shapes: number[][], attrs: NamedAttrMap) => {
  const [n, h, w, c] = shapes[0] as [number, number, number, number];
  const [kh, kw, sh, sw, pt, pl, oh, ow] = [
    'kh',
    'kw',
    'strideHeight',
    'strideWidth',
    'padTop',
    'padLeft',
    'outHeight',
    'outWidth',
  ].map((k) => Number(attrs[k])) as [number, number, number, number, number, number, number, number];
  return { n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow };
};

/** The patches a convolution reads, a row per output pixel, zeros in the padding (see fused.c im2col). */
export const im2col: Compute = ([x], [p], shapes, attrs) => {
  const { n, h, w, c, kh, kw, sh, sw, pt, pl, oh, ow } = im2colGeometry(shapes, attrs);
  let at = 0;
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const y = oy * sh + i - pt;
            const xx = ox * sw + j - pl;
            const inside = y >= 0 && y < h && xx >= 0 && xx < w;
            const src = ((b * h + y) * w + xx) * c;
            for (let k = 0; k < c; k++) p![at++] = inside ? x![src + k]! : 0;
          }
};
