// Fused per-channel kernels for the backward pass, WebAssembly SIMD, run on tfjs-backend-wasm's own memory.
// Built by scripts/build-kernels.mjs (clang --target=wasm32 -msimd128) into fused-kernels.wasm.ts; see hostKernels.ts.
// Tensors are [M, C] rows of C channels (NHWC flattened). No stack, no data segment, no libc: the module imports the
// memory it works on and touches only the buffers it is given. Channel sums are kept per block of rows in float32
// and added to float64 totals, so long reductions stay accurate.
#include <wasm_simd128.h>

#define BLOCK 64

typedef float f32;
typedef double f64;

// a * b + c. Built with relaxed SIMD (scripts/build-kernels.mjs makes both builds), one fused multiply-add where the
// CPU has one: fewer instructions in the GEMM loops, and rounded once instead of twice.
#ifdef __wasm_relaxed_simd__
typedef float f32x4 __attribute__((__vector_size__(16), __aligned__(16)));
#define MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((f32x4)(a), (f32x4)(b), (f32x4)(c)))
#else
#define MADD(a, b, c) wasm_f32x4_add((c), wasm_f32x4_mul((a), (b)))
#endif

// a0..a3 += 16 channels of xp times 16 of wp (the depthwise kernels sum a block of channels in registers).
#define DW_TAP(xp, wp)                                           \
  a0 = MADD(wasm_v128_load(xp), wasm_v128_load(wp), a0);         \
  a1 = MADD(wasm_v128_load(xp + 4), wasm_v128_load(wp + 4), a1); \
  a2 = MADD(wasm_v128_load(xp + 8), wasm_v128_load(wp + 8), a2); \
  a3 = MADD(wasm_v128_load(xp + 12), wasm_v128_load(wp + 12), a3);

// v / s and v % s for v >= 0, without a division for the strides MobileNetV2 has (1 and 2): they run per tap and
// per block of channels.
#define DIV(v, s) ((s) == 1 ? (v) : (s) == 2 ? (v) >> 1 : (v) / (s))
#define MOD(v, s) ((s) == 1 ? 0 : (s) == 2 ? (v) & 1 : (v) % (s))

// dst[c] += src[c] (f64 += f32), then src[c] = 0.
static void flush(f64* dst, f32* src, int C) {
  for (int c = 0; c < C; c++) { dst[c] += (f64)src[c]; src[c] = 0.0f; }
}

// Where 0 < y < 6, g; else 0: the gradient through a ReLU6 read from its output y.
static inline v128_t relu6_mask(v128_t g, v128_t y) {
  v128_t inside = wasm_v128_and(wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)), wasm_f32x4_lt(y, wasm_f32x4_splat(6.0f)));
  return wasm_v128_and(g, inside);
}
static inline f32 relu6_mask1(f32 g, f32 y) { return (y > 0.0f && y < 6.0f) ? g : 0.0f; }

// Per-channel sums of dy and dy * (x - mean), into f64 s1, s2; optionally dx = dy * k (dx may be 0 to skip).
// y: a ReLU6 output after this batch norm (its gradient taken first, see relu6_mask), or 0. tmp: 2C floats.
__attribute__((export_name("bn_grad")))
void bn_grad(const f32* dy, const f32* x, const f32* mean, const f32* k, f32* dx, f64* s1, f64* s2, f32* tmp,
             int M, int C, const f32* y) {
  f32* b1 = tmp;
  f32* b2 = tmp + C;
  for (int c = 0; c < C; c++) { b1[c] = 0.0f; b2[c] = 0.0f; s1[c] = 0.0; s2[c] = 0.0; }
  int C4 = C & ~3;
  for (int m = 0; m < M; m++) {
    const f32* dyr = dy + (long)m * C;
    const f32* xr = x + (long)m * C;
    f32* dxr = dx ? dx + (long)m * C : 0;
    const f32* yr = y ? y + (long)m * C : 0;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t g = wasm_v128_load(dyr + c);
      if (yr) g = relu6_mask(g, wasm_v128_load(yr + c));
      v128_t xc = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      wasm_v128_store(b1 + c, wasm_f32x4_add(wasm_v128_load(b1 + c), g));
      wasm_v128_store(b2 + c, wasm_f32x4_add(wasm_v128_load(b2 + c), wasm_f32x4_mul(g, xc)));
      if (dxr) wasm_v128_store(dxr + c, wasm_f32x4_mul(g, wasm_v128_load(k + c)));
    }
    for (; c < C; c++) {
      f32 g = yr ? relu6_mask1(dyr[c], yr[c]) : dyr[c];
      b1[c] += g;
      b2[c] += g * (xr[c] - mean[c]);
      if (dxr) dxr[c] = g * k[c];
    }
    if ((m + 1) % BLOCK == 0) { flush(s1, b1, C); flush(s2, b2, C); }
  }
  flush(s1, b1, C);
  flush(s2, b2, C);
}

// Per-channel sums of x, into f64 sum. tmp: C floats. (A part is a range of rows, so helper threads can each take one.)
__attribute__((export_name("col_sum")))
void col_sum(const f32* x, f64* sum, f32* tmp, int M, int C) {
  int C4 = C & ~3;
  for (int c = 0; c < C; c++) { tmp[c] = 0.0f; sum[c] = 0.0; }
  for (int m = 0; m < M; m++) {
    const f32* xr = x + (long)m * C;
    int c = 0;
    for (; c < C4; c += 4) wasm_v128_store(tmp + c, wasm_f32x4_add(wasm_v128_load(tmp + c), wasm_v128_load(xr + c)));
    for (; c < C; c++) tmp[c] += xr[c];
    if ((m + 1) % BLOCK == 0) flush(sum, tmp, C);
  }
  flush(sum, tmp, C);
}

// Per-channel sums of d = x - shift and of d^2, into f64 s1 and s2: the batch mean and variance in one read of x
// (shift is a row of x, so that E[d^2] - E[d]^2 does not cancel). tmp: 2C floats.
__attribute__((export_name("col_moments")))
void col_moments(const f32* x, const f32* shift, f64* s1, f64* s2, f32* tmp, int M, int C) {
  f32* b1 = tmp;
  f32* b2 = tmp + C;
  int C4 = C & ~3;
  for (int c = 0; c < C; c++) { b1[c] = 0.0f; b2[c] = 0.0f; s1[c] = 0.0; s2[c] = 0.0; }
  for (int m = 0; m < M; m++) {
    const f32* xr = x + (long)m * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(shift + c));
      wasm_v128_store(b1 + c, wasm_f32x4_add(wasm_v128_load(b1 + c), d));
      wasm_v128_store(b2 + c, wasm_f32x4_add(wasm_v128_load(b2 + c), wasm_f32x4_mul(d, d)));
    }
    for (; c < C; c++) { f32 d = xr[c] - shift[c]; b1[c] += d; b2[c] += d * d; }
    if ((m + 1) % BLOCK == 0) { flush(s1, b1, C); flush(s2, b2, C); }
  }
  flush(s1, b1, C);
  flush(s2, b2, C);
}

// y = (x - center) * a + b per channel; clamped to [0, 6] when relu6 (a ReLU6 after the batch norm).
__attribute__((export_name("affine")))
void affine(const f32* x, const f32* center, const f32* a, const f32* b, f32* y, int M, int C, int relu6) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.0f), six = wasm_f32x4_splat(6.0f);
  for (int m = 0; m < M; m++) {
    const f32* xr = x + (long)m * C;
    f32* yr = y + (long)m * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(center + c));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(a + c)), wasm_v128_load(b + c));
      if (relu6) v = wasm_f32x4_pmin(wasm_f32x4_pmax(zero, v), six);
      wasm_v128_store(yr + c, v);
    }
    for (; c < C; c++) {
      f32 v = (xr[c] - center[c]) * a[c] + b[c];
      if (relu6) v = v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
      yr[c] = v;
    }
  }
}

// dx = g * k - (x - mean) * km2 - km1 per channel (the batch-statistics batch-norm gradient), g = dy, or dy through
// the ReLU6 whose output is y (y may be 0).
__attribute__((export_name("bn_train_dx")))
void bn_train_dx(const f32* dy, const f32* x, const f32* mean, const f32* k, const f32* km2, const f32* km1, f32* dx,
                 int M, int C, const f32* y) {
  int C4 = C & ~3;
  for (int m = 0; m < M; m++) {
    const f32* dyr = dy + (long)m * C;
    const f32* xr = x + (long)m * C;
    f32* dxr = dx + (long)m * C;
    const f32* yr = y ? y + (long)m * C : 0;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t xc = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      v128_t g = wasm_v128_load(dyr + c);
      if (yr) g = relu6_mask(g, wasm_v128_load(yr + c));
      v128_t v = wasm_f32x4_mul(g, wasm_v128_load(k + c));
      v = wasm_f32x4_sub(v, wasm_f32x4_mul(xc, wasm_v128_load(km2 + c)));
      wasm_v128_store(dxr + c, wasm_f32x4_sub(v, wasm_v128_load(km1 + c)));
    }
    for (; c < C; c++) {
      f32 g = yr ? relu6_mask1(dyr[c], yr[c]) : dyr[c];
      dxr[c] = g * k[c] - (xr[c] - mean[c]) * km2[c] - km1[c];
    }
  }
}

// dx = dy where lo <= x <= hi (lo < x when exclusive), else 0.
__attribute__((export_name("mask_grad")))
void mask_grad(const f32* dy, const f32* x, f32* dx, int n, f32 lo, f32 hi, int exclusive) {
  v128_t vlo = wasm_f32x4_splat(lo);
  v128_t vhi = wasm_f32x4_splat(hi);
  int n4 = n & ~3;
  int i = 0;
  for (; i < n4; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t above = exclusive ? wasm_f32x4_gt(v, vlo) : wasm_f32x4_ge(v, vlo);
    v128_t inside = wasm_v128_and(above, wasm_f32x4_le(v, vhi));
    wasm_v128_store(dx + i, wasm_v128_and(wasm_v128_load(dy + i), inside));
  }
  for (; i < n; i++) {
    f32 v = x[i];
    dx[i] = ((exclusive ? v > lo : v >= lo) && v <= hi) ? dy[i] : 0.0f;
  }
}

// Depthwise-convolution filter gradient (channel multiplier 1):
// dw[i][j][c] = sum over n, oy, ox of x[n][oy*sh + i - pt][ox*sw + j - pl][c] * dy[n][oy][ox][c], taps that fall in
// the padding skipped, so x is read as it is: no padded or cropped copy. acc: KH*KW*C floats; dw: KH*KW*C doubles.
__attribute__((export_name("dw_filter_grad")))
void dw_filter_grad(const f32* x, const f32* dy, f64* dw, f32* acc, int N, int H, int W, int C, int OH, int OW,
                    int KH, int KW, int sh, int sw, int pt, int pl) {
  int taps = KH * KW;
  for (int t = 0; t < taps * C; t++) { acc[t] = 0.0f; dw[t] = 0.0; }
  int C16 = C & ~15, C4 = C & ~3;
  int pixels = 0;
  for (int n = 0; n < N; n++) {
    for (int oy = 0; oy < OH; oy++) {
      const f32* grow = dy + ((long)n * OH + oy) * OW * C;
      for (int i = 0; i < KH; i++) {
        int y = oy * sh + i - pt;
        if (y < 0 || y >= H) continue;
        const f32* xrow = x + ((long)n * H + y) * W * C;
        for (int j = 0; j < KW; j++) {
          // Output columns whose tap j lands inside the row: 0 <= ox*sw - lo < W.
          int lo = pl - j, hi = W - 1 + lo;
          if (hi < 0) continue;
          int ox0 = lo <= 0 ? 0 : DIV(lo + sw - 1, sw);
          int ox1 = DIV(hi, sw) + 1;
          if (ox1 > OW) ox1 = OW;
          f32* a = acc + (i * KW + j) * C;
          // Along the row for each block of channels, summed in registers; then into this tap's block sums.
          int c = 0;
          for (; c < C16; c += 16) {
            v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
            for (int ox = ox0; ox < ox1; ox++) {
              const f32* xp = xrow + (long)(ox * sw - lo) * C + c;
              const f32* g = grow + (long)ox * C + c;
              s0 = MADD(wasm_v128_load(xp), wasm_v128_load(g), s0);
              s1 = MADD(wasm_v128_load(xp + 4), wasm_v128_load(g + 4), s1);
              s2 = MADD(wasm_v128_load(xp + 8), wasm_v128_load(g + 8), s2);
              s3 = MADD(wasm_v128_load(xp + 12), wasm_v128_load(g + 12), s3);
            }
            wasm_v128_store(a + c, wasm_f32x4_add(wasm_v128_load(a + c), s0));
            wasm_v128_store(a + c + 4, wasm_f32x4_add(wasm_v128_load(a + c + 4), s1));
            wasm_v128_store(a + c + 8, wasm_f32x4_add(wasm_v128_load(a + c + 8), s2));
            wasm_v128_store(a + c + 12, wasm_f32x4_add(wasm_v128_load(a + c + 12), s3));
          }
          for (; c < C4; c += 4) {
            v128_t s0 = wasm_f32x4_splat(0.0f);
            for (int ox = ox0; ox < ox1; ox++) {
              s0 = MADD(wasm_v128_load(xrow + (long)(ox * sw - lo) * C + c), wasm_v128_load(grow + (long)ox * C + c),
                        s0);
            }
            wasm_v128_store(a + c, wasm_f32x4_add(wasm_v128_load(a + c), s0));
          }
          for (; c < C; c++) {
            f32 s0 = 0.0f;
            for (int ox = ox0; ox < ox1; ox++) s0 += xrow[(long)(ox * sw - lo) * C + c] * grow[(long)ox * C + c];
            a[c] += s0;
          }
        }
      }
      pixels += OW;
      if (pixels >= BLOCK) { flush(dw, acc, taps * C); pixels = 0; }
    }
  }
  flush(dw, acc, taps * C);
}

// The filter gradient of a 1x1 convolution: dw[i][o] = sum over k of x[k][i] * dy[k][o], x: [K, I], dy: [K, O] (NHWC
// rows; ldx: x's row stride, so that a thread can take a range of input channels), dw: [I, O]. XNNPACK's matMul
// needs one operand transposed and packs the other anew at every call, since in training both are new tensors; this reads each once. Rows go in blocks of KB, which stay in cache while every 4x8
// tile of dw is summed in registers; each block's sums are then added to dw (blocked float32 summation).
#define KB 256
__attribute__((export_name("xt_dy")))
void xt_dy(const f32* x, const f32* dy, f32* dw, int K, int I, int O, int ldx) {
  for (long t = 0; t < (long)I * O; t++) dw[t] = 0.0f;
  int I4 = I & ~3;
  int O8 = O & ~7;
  for (int k0 = 0; k0 < K; k0 += KB) {
    int k1 = k0 + KB < K ? k0 + KB : K;
    for (int i = 0; i < I4; i += 4) {
      for (int o = 0; o < O8; o += 8) {
        v128_t a00 = wasm_f32x4_splat(0.0f), a01 = a00, a10 = a00, a11 = a00;
        v128_t a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int k = k0; k < k1; k++) {
          const f32* xr = x + (long)k * ldx + i;
          const f32* g = dy + (long)k * O + o;
          v128_t g0 = wasm_v128_load(g);
          v128_t g1 = wasm_v128_load(g + 4);
          v128_t s = wasm_f32x4_splat(xr[0]);
          a00 = MADD(s, g0, a00);
          a01 = MADD(s, g1, a01);
          s = wasm_f32x4_splat(xr[1]);
          a10 = MADD(s, g0, a10);
          a11 = MADD(s, g1, a11);
          s = wasm_f32x4_splat(xr[2]);
          a20 = MADD(s, g0, a20);
          a21 = MADD(s, g1, a21);
          s = wasm_f32x4_splat(xr[3]);
          a30 = MADD(s, g0, a30);
          a31 = MADD(s, g1, a31);
        }
        f32* w = dw + (long)i * O + o;
        wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a00));
        wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a01));
        w += O;
        wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a10));
        wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a11));
        w += O;
        wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a20));
        wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a21));
        w += O;
        wasm_v128_store(w, wasm_f32x4_add(wasm_v128_load(w), a30));
        wasm_v128_store(w + 4, wasm_f32x4_add(wasm_v128_load(w + 4), a31));
      }
      // Output channels past the last multiple of 8, four input channels at a time.
      for (int o = O8; o < O; o++) {
        for (int r = 0; r < 4; r++) {
          f32 sum = 0.0f;
          for (int k = k0; k < k1; k++) sum += x[(long)k * ldx + i + r] * dy[(long)k * O + o];
          dw[(long)(i + r) * O + o] += sum;
        }
      }
    }
    // Input channels past the last multiple of 4.
    for (int i = I4; i < I; i++) {
      for (int o = 0; o < O; o++) {
        f32 sum = 0.0f;
        for (int k = k0; k < k1; k++) sum += x[(long)k * ldx + i] * dy[(long)k * O + o];
        dw[(long)i * O + o] += sum;
      }
    }
  }
}

// The input gradient of a depthwise convolution (channel multiplier 1), gathered per input pixel:
// dx[n][y][x][c] = sum over taps (i, j) with y + pt - i = oy*sh and x + pl - j = ox*sw inside dy of
// dy[n][oy][ox][c] * w[i][j][c]. No padded, stride-spread copy of dy and no flipped filter, as a transposed
// convolution would need. w: [KH, KW, C]; pt, pl: the forward convolution's top and left padding.
__attribute__((export_name("dw_input_grad")))
void dw_input_grad(const f32* dy, const f32* w, f32* dx, int N, int H, int W, int C, int OH, int OW, int KH, int KW,
                   int sh, int sw, int pt, int pl) {
  int C16 = C & ~15, C4 = C & ~3;
  for (int n = 0; n < N; n++) {
    for (int y = 0; y < H; y++) {
      for (int x = 0; x < W; x++) {
        f32* out = dx + (((long)n * H + y) * W + x) * C;
        // Channels 16 at a time, summed in registers over the taps that reach this pixel, then 4, then one.
        int c = 0;
        for (; c < C16; c += 16) {
          v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
          for (int i = 0; i < KH; i++) {
            int ty = y + pt - i;
            if (ty < 0 || MOD(ty, sh) != 0 || DIV(ty, sh) >= OH) continue;
            for (int j = 0; j < KW; j++) {
              int tx = x + pl - j;
              if (tx < 0 || MOD(tx, sw) != 0 || DIV(tx, sw) >= OW) continue;
              const f32* g = dy + (((long)n * OH + DIV(ty, sh)) * OW + DIV(tx, sw)) * C + c;
              const f32* wk = w + (i * KW + j) * C + c;
              DW_TAP(g, wk)
            }
          }
          wasm_v128_store(out + c, a0);
          wasm_v128_store(out + c + 4, a1);
          wasm_v128_store(out + c + 8, a2);
          wasm_v128_store(out + c + 12, a3);
        }
        for (int k = c; k < C; k++) out[k] = 0.0f;
        for (int i = 0; i < KH; i++) {
          int ty = y + pt - i;
          if (ty < 0 || MOD(ty, sh) != 0 || DIV(ty, sh) >= OH) continue;
          for (int j = 0; j < KW; j++) {
            int tx = x + pl - j;
            if (tx < 0 || MOD(tx, sw) != 0 || DIV(tx, sw) >= OW) continue;
            const f32* g = dy + (((long)n * OH + DIV(ty, sh)) * OW + DIV(tx, sw)) * C;
            const f32* wk = w + (i * KW + j) * C;
            int k = c;
            for (; k < C4; k += 4) {
              v128_t p = wasm_f32x4_mul(wasm_v128_load(g + k), wasm_v128_load(wk + k));
              wasm_v128_store(out + k, wasm_f32x4_add(wasm_v128_load(out + k), p));
            }
            for (; k < C; k++) out[k] += g[k] * wk[k];
          }
        }
      }
    }
  }
}

// The patches a convolution reads, one row per output pixel: p[(n, oy, ox)][(i, j, c)] = x[n][oy*sh + i - pt]
// [ox*sw + j - pl][c], 0 in the padding. Its filter gradient is then pᵀ·dy (xt_dy): for a first layer (3 input
// channels, a 3x3 kernel: 27 columns) instead of transposes of x and dy and a dilated convolution.
__attribute__((export_name("im2col")))
void im2col(const f32* x, f32* p, int N, int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int pt,
            int pl) {
  long cols = (long)KH * KW * C;
  for (int n = 0; n < N; n++) {
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        f32* row = p + (((long)n * OH + oy) * OW + ox) * cols;
        for (int i = 0; i < KH; i++) {
          int y = oy * sh + i - pt;
          for (int j = 0; j < KW; j++) {
            int xx = ox * sw + j - pl;
            f32* dst = row + ((long)i * KW + j) * C;
            if (y < 0 || y >= H || xx < 0 || xx >= W) {
              for (int c = 0; c < C; c++) dst[c] = 0.0f;
            } else {
              const f32* src = x + (((long)n * H + y) * W + xx) * C;
              for (int c = 0; c < C; c++) dst[c] = src[c];
            }
          }
        }
      }
    }
  }
}

// A 1x1 convolution as C = act(A·B + bias): our own GEMM instead of XNNPACK's, which in training packs each step's
// new weights into a new operator at every call. B is first packed by pack_b into panels of 8 columns, each its 8
// bias values (0 without bias) then K rows of 8, columns past N zero; with t, B is Wᵀ for a W of [N, K] (a
// convolution's input gradient). A part is a range of panels [p0, p1), so threads can share the packing.
#define NR 8
__attribute__((export_name("pack_b")))
void pack_b(const f32* b, const f32* bias, f32* packed, int K, int N, int t, int p0, int p1) {
  for (int p = p0; p < p1; p++) {
    f32* dst = packed + (long)p * (K + 1) * NR;
    for (int j = 0; j < NR; j++) dst[j] = (bias && p * NR + j < N) ? bias[p * NR + j] : 0.0f;
    dst += NR;
    for (int k = 0; k < K; k++) {
      for (int j = 0; j < NR; j++) {
        int n = p * NR + j;
        dst[(long)k * NR + j] = n < N ? (t ? b[(long)n * K + k] : b[(long)k * N + n]) : 0.0f;
      }
    }
  }
}

// Writes the first n (< 8) columns of a tile row; lanes are constants, so no stack is needed.
static inline void store_cols(f32* out, v128_t y0, v128_t y1, int n) {
  if (n > 0) out[0] = wasm_f32x4_extract_lane(y0, 0);
  if (n > 1) out[1] = wasm_f32x4_extract_lane(y0, 1);
  if (n > 2) out[2] = wasm_f32x4_extract_lane(y0, 2);
  if (n > 3) out[3] = wasm_f32x4_extract_lane(y0, 3);
  if (n > 4) out[4] = wasm_f32x4_extract_lane(y1, 0);
  if (n > 5) out[5] = wasm_f32x4_extract_lane(y1, 1);
  if (n > 6) out[6] = wasm_f32x4_extract_lane(y1, 2);
}

static inline v128_t activate(v128_t v, int act) {
  if (act == 1) return wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), v), wasm_f32x4_splat(6.0f));
  if (act == 2) return wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), v);
  return v;
}

// One row of a tile: 8 columns, or the first `cols`, activated.
static inline void store_row(f32* out, v128_t y0, v128_t y1, int cols, int act) {
  y0 = activate(y0, act);
  y1 = activate(y1, act);
  if (cols == NR) {
    wasm_v128_store(out, y0);
    wasm_v128_store(out + 4, y1);
  } else {
    store_cols(out, y0, y1, cols);
  }
}

// C[m][n] = act(sum over k of A[m][k]·B[k][n] + bias[n]) for rows [0, M) of A [*, K] and C [*, N]; act: 0 none,
// 1 ReLU6, 2 ReLU. Tiles of 4 rows x 8 columns summed in registers (rows past M repeat the last row and are not
// stored); the panels go in chunks that stay in cache while every row of A passes them.
#define PANEL_CHUNK_FLOATS 65536
__attribute__((export_name("gemm")))
void gemm(const f32* a, const f32* packed, f32* c, int M, int K, int N, int act) {
  int P = (N + NR - 1) / NR;
  long panel = (long)(K + 1) * NR;
  int chunk = (int)(PANEL_CHUNK_FLOATS / panel);
  if (chunk < 1) chunk = 1;
  for (int p0 = 0; p0 < P; p0 += chunk) {
    int p1 = p0 + chunk < P ? p0 + chunk : P;
    for (int m = 0; m < M; m += 4) {
      const f32* a0 = a + (long)m * K;
      const f32* a1 = m + 1 < M ? a0 + K : a0;
      const f32* a2 = m + 2 < M ? a1 + K : a1;
      const f32* a3 = m + 3 < M ? a2 + K : a2;
      for (int p = p0; p < p1; p++) {
        const f32* pb = packed + p * panel;
        v128_t c00 = wasm_v128_load(pb), c01 = wasm_v128_load(pb + 4);
        v128_t c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
        pb += NR;
        for (int k = 0; k < K; k++, pb += NR) {
          v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load(pb + 4);
          v128_t s = wasm_v128_load32_splat(a0 + k);
          c00 = MADD(s, b0, c00);
          c01 = MADD(s, b1, c01);
          s = wasm_v128_load32_splat(a1 + k);
          c10 = MADD(s, b0, c10);
          c11 = MADD(s, b1, c11);
          s = wasm_v128_load32_splat(a2 + k);
          c20 = MADD(s, b0, c20);
          c21 = MADD(s, b1, c21);
          s = wasm_v128_load32_splat(a3 + k);
          c30 = MADD(s, b0, c30);
          c31 = MADD(s, b1, c31);
        }
        int n = p * NR;
        int cols = N - n < NR ? N - n : NR;
        f32* out = c + (long)m * N + n;
        store_row(out, c00, c01, cols, act);
        if (m + 1 < M) store_row(out + N, c10, c11, cols, act);
        if (m + 2 < M) store_row(out + 2 * (long)N, c20, c21, cols, act);
        if (m + 3 < M) store_row(out + 3 * (long)N, c30, c31, cols, act);
      }
    }
  }
}

// Packs a depthwise filter w [T taps, C] and bias (C values or 0) for dw_conv: per block of 16 channels, its 16 bias
// values then each tap's 16 weights; channels past the last multiple of 16 are not packed (dw_conv reads w for them).
__attribute__((export_name("dw_pack")))
void dw_pack(const f32* w, const f32* bias, f32* packed, int T, int C) {
  for (int c = 0; c + 16 <= C; c += 16) {
    f32* dst = packed + (long)(c / 16) * 16 * (T + 1);
    for (int k = 0; k < 16; k++) dst[k] = bias ? bias[c + k] : 0.0f;
    for (int t = 0; t < T; t++)
      for (int k = 0; k < 16; k++) dst[16 * (t + 1) + k] = w[(long)t * C + c + k];
  }
}


// A depthwise convolution (channel multiplier 1) with bias and activation, for images [0, N) of x [N, H, W, C]:
// y[n][oy][ox][c] = act(sum over taps (i, j) inside x of x[n][oy*sh + i - pt][ox*sw + j - pl][c] * w[i][j][c]
// + bias[c]); w: [KH, KW, C], bias: C values or 0, packed: dw_pack's blocks; act as gemm's. Blocks of 16 channels
// are summed in registers over the taps, the nine taps of a 3x3 window inside x unrolled; other channels 4, then 1
// at a time.
__attribute__((export_name("dw_conv")))
void dw_conv(const f32* x, const f32* w, const f32* bias, const f32* packed, f32* y, int N, int H, int W, int C, int OH,
             int OW, int KH, int KW, int sh, int sw, int pt, int pl, int act) {
  int C16 = C & ~15, C4 = C & ~3;
  long block = 16L * (KH * KW + 1);
  long rowStride = (long)W * C;
  for (int n = 0; n < N; n++) {
    const f32* xn = x + (long)n * H * W * C;
    for (int oy = 0; oy < OH; oy++) {
      int y0 = oy * sh - pt;
      int i0 = y0 < 0 ? -y0 : 0, i1 = H - y0 < KH ? H - y0 : KH;
      for (int ox = 0; ox < OW; ox++) {
        int x0 = ox * sw - pl;
        int j0 = x0 < 0 ? -x0 : 0, j1 = W - x0 < KW ? W - x0 : KW;
        f32* out = y + (((long)n * OH + oy) * OW + ox) * C;
        int inside3x3 = KH == 3 && KW == 3 && i0 == 0 && j0 == 0 && i1 == 3 && j1 == 3;
        const f32* r0 = xn + (long)y0 * rowStride + (long)x0 * C; // valid only where the window is inside x
        const f32* r1 = r0 + rowStride;
        const f32* r2 = r1 + rowStride;
        int c = 0;
        for (; c < C16; c += 16) {
          const f32* pw = packed + (long)(c / 16) * block;
          v128_t a0 = wasm_v128_load(pw), a1 = wasm_v128_load(pw + 4);
          v128_t a2 = wasm_v128_load(pw + 8), a3 = wasm_v128_load(pw + 12);
          pw += 16;
          if (inside3x3) {
            DW_TAP(r0 + c, pw)
            DW_TAP(r0 + C + c, pw + 16)
            DW_TAP(r0 + 2 * C + c, pw + 32)
            DW_TAP(r1 + c, pw + 48)
            DW_TAP(r1 + C + c, pw + 64)
            DW_TAP(r1 + 2 * C + c, pw + 80)
            DW_TAP(r2 + c, pw + 96)
            DW_TAP(r2 + C + c, pw + 112)
            DW_TAP(r2 + 2 * C + c, pw + 128)
          } else {
            for (int i = i0; i < i1; i++) {
              for (int j = j0; j < j1; j++) {
                const f32* xp = xn + ((long)(y0 + i) * W + x0 + j) * C + c;
                const f32* wp = pw + 16 * (i * KW + j);
                DW_TAP(xp, wp)
              }
            }
          }
          wasm_v128_store(out + c, activate(a0, act));
          wasm_v128_store(out + c + 4, activate(a1, act));
          wasm_v128_store(out + c + 8, activate(a2, act));
          wasm_v128_store(out + c + 12, activate(a3, act));
        }
        for (; c < C4; c += 4) {
          v128_t a0 = bias ? wasm_v128_load(bias + c) : wasm_f32x4_splat(0.0f);
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
              const f32* xp = xn + ((long)(y0 + i) * W + x0 + j) * C + c;
              a0 = MADD(wasm_v128_load(xp), wasm_v128_load(w + (i * KW + j) * C + c), a0);
            }
          }
          wasm_v128_store(out + c, activate(a0, act));
        }
        for (; c < C; c++) {
          f32 s = bias ? bias[c] : 0.0f;
          for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) s += xn[((long)(y0 + i) * W + x0 + j) * C + c] * w[(i * KW + j) * C + c];
          }
          out[c] = act == 1 ? (s < 0.0f ? 0.0f : (s > 6.0f ? 6.0f : s)) : (act == 2 && s < 0.0f ? 0.0f : s);
        }
      }
    }
  }
}

// One SGD-with-momentum update with decoupled weight decay, elements [0, n): b = mu * buf + g; buf' = b;
// w' = w * keep - lr * b (keep = 1 - lr * weight decay).
__attribute__((export_name("sgd_step")))
void sgd_step(const f32* w, const f32* g, const f32* buf, f32* wOut, f32* bufOut, int n, f32 lr, f32 mu, f32 keep) {
  v128_t vlr = wasm_f32x4_splat(lr), vmu = wasm_f32x4_splat(mu), vkeep = wasm_f32x4_splat(keep);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(vmu, wasm_v128_load(buf + i)), wasm_v128_load(g + i));
    wasm_v128_store(bufOut + i, b);
    wasm_v128_store(wOut + i, wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(w + i), vkeep), wasm_f32x4_mul(vlr, b)));
  }
  for (; i < n; i++) {
    f32 b = mu * buf[i] + g[i];
    bufOut[i] = b;
    wOut[i] = w[i] * keep - lr * b;
  }
}
