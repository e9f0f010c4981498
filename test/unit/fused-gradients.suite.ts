// Shared by fused-gradients-*.test.ts. The fused gradients (batch norm with fixed and with batch statistics, ReLU/ReLU6 masks) against the cpu backend's
// own tfjs gradients, on random inputs, to 1e-5 relative; and the batch-norm layer's moving statistics.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { mulberry32 } from '../../src-main/core/util/random';
import { batchNormTraining, useStockGradients } from '../../src-main/core/tf/gradients';
import { useFusedBatchNorm } from '../../src-main/core/model/fusedBatchNorm';
import { useRelu6 } from '../../src-main/core/model/fusedRelu6';
import { K, hostKernelThreads, usesRelaxedSimd } from '../../src-main/core/tf/hostKernels';
import { assertCloseToScale } from '../helpers/exactChecks';

const TOLERANCE = 1e-5; // max abs difference relative to the largest reference magnitude
const assertClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string) =>
  assertCloseToScale(actual, expected, what, TOLERANCE);

function randomArray(n: number, rand: () => number, lo = -3, hi = 3): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

type Inputs = Record<string, { shape: number[]; values: Float32Array }>;

/** Gradients of sum(f(inputs) * weights) for every input, on one backend, with stock or fused gradients. */
async function gradients(
  backend: 'cpu' | 'wasm',
  stock: boolean,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor,
  weights: Float32Array,
): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  useStockGradients(stock);
  try {
    const names = Object.keys(inputs);
    const out = tf.tidy(() => {
      const ts = names.map((n) => tf.tensor(inputs[n]!.values, inputs[n]!.shape));
      const g = tf.grads((...xs: tf.Tensor[]) => {
        const y = f(Object.fromEntries(names.map((n, i) => [n, xs[i]!])));
        return tf.sum(tf.mul(y, tf.tensor(weights, y.shape)));
      });
      return g(ts);
    });
    const result = Object.fromEntries(names.map((n, i) => [n, out[i]!.dataSync() as Float32Array]));
    tf.dispose(out);
    return result;
  } finally {
    useStockGradients(false);
  }
}

// Channel counts with SIMD tails of 0 to 3 (the kernels work on 4 channels at a time).
const SHAPES: number[][] = [
  [2, 5, 7, 3],
  [4, 8, 8, 16],
  [1, 3, 3, 40],
  [3, 6, 5, 1],
  [2, 9, 4, 6],
  [3, 4, 6, 7],
  [4, 24, 20, 67], // above PARALLEL_MIN_ELEMENTS: split between threads where there are two
];

/**
 * The suite, on the wasm build that `threads` selects (1: plain memory; more: shared memory and a thread pool), with
 * relaxed SIMD (fused multiply-add) or without: both builds ship, and the engine picks one.
 */
export function fusedGradientSuite(threads: number, relaxed: boolean): void {
  const build = relaxed ? 'relaxed SIMD' : 'SIMD';
  describe(`fused gradients match the cpu backend (tfjs stock) to 1e-5, wasm with ${threads} thread(s), ${build}`, () => {
    before(async () => {
      process.env.FINETUNE_WASM_THREADS = String(threads);
      process.env.FINETUNE_WASM_RELAXED = relaxed ? '1' : '0';
      const b = await initBackend('wasm');
      assert.equal(usesRelaxedSimd(), relaxed, `our kernels run the ${build} build`);
      assert.equal(b.name, 'wasm');
      assert.equal(b.threads, threads, b.note);
      assert.equal(hostKernelThreads(), threads, 'our kernels use as many threads as XNNPACK');
    });

    for (const [i, shape] of SHAPES.entries()) {
      test(`batch norm with fixed statistics, ${shape.join('x')}`, async () => {
        const rand = mulberry32(100 + i);
        const c = shape[3]!;
        const n = shape.reduce((a, b) => a * b, 1);
        const inputs: Inputs = {
          x: { shape, values: randomArray(n, rand) },
          mean: { shape: [c], values: randomArray(c, rand) },
          variance: { shape: [c], values: randomArray(c, rand, 0.1, 2) },
          offset: { shape: [c], values: randomArray(c, rand) },
          scale: { shape: [c], values: randomArray(c, rand) },
        };
        const weights = randomArray(n, rand);
        const f = (t: Record<string, tf.Tensor>) => tf.batchNorm(t.x!, t.mean!, t.variance!, t.offset!, t.scale!, 1e-3);
        const ref = await gradients('cpu', true, inputs, f, weights);
        for (const backend of ['wasm', 'cpu'] as const) {
          const got = await gradients(backend, false, inputs, f, weights);
          for (const name of Object.keys(inputs)) assertClose(got[name]!, ref[name]!, `${backend} d${name}`);
        }
      });

      test(`batch norm with batch statistics (training), ${shape.join('x')}`, async () => {
        const rand = mulberry32(200 + i);
        const c = shape[3]!;
        const n = shape.reduce((a, b) => a * b, 1);
        const inputs: Inputs = {
          x: { shape, values: randomArray(n, rand, -2, 4) },
          gamma: { shape: [c], values: randomArray(c, rand) },
          beta: { shape: [c], values: randomArray(c, rand) },
        };
        const weights = randomArray(n, rand);
        // tfjs-layers' training path (moments + batchNorm) against the fused kernel.
        const functional = (fused: boolean) => (t: Record<string, tf.Tensor>) => {
          if (!fused) {
            const { mean, variance } = tf.moments(t.x!, [0, 1, 2]);
            return tf.batchNorm(t.x!, mean, variance, t.beta!, t.gamma!, 1e-3);
          }
          return batchNormTraining(t.x!, t.gamma!, t.beta!, 1e-3)[0]!;
        };
        const ref = await gradients('cpu', true, inputs, functional(false), weights);
        for (const backend of ['wasm', 'cpu'] as const) {
          const got = await gradients(backend, false, inputs, functional(true), weights);
          for (const name of Object.keys(inputs)) assertClose(got[name]!, ref[name]!, `${backend} d${name}`);
        }
      });

      test(`batch statistics of values far from zero (mean 500, spread 1), ${shape.join('x')}`, async () => {
        // The wasm kernel takes mean and variance in one pass (sums of x − x[0] and its square): a plain
        // E[x²] − E[x]² in float32 would lose the variance here. Against float64 sums.
        const rand = mulberry32(700 + i);
        const c = shape[3]!;
        const n = shape.reduce((a, b) => a * b, 1);
        const x = Float32Array.from({ length: n }, (_, k) => 500 + (k % c) * 0.25 + (rand() - 0.5));
        const [mean64, var64] = [new Float64Array(c), new Float64Array(c)];
        for (let k = 0; k < n; k++) mean64[k % c]! += x[k]! / (n / c);
        for (let k = 0; k < n; k++) var64[k % c]! += (x[k]! - mean64[k % c]!) ** 2 / (n / c);
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          const outs = batchNormTraining(tf.tensor(x, shape), tf.ones([c]), tf.zeros([c]), 1e-3);
          const [mean, variance] = [outs[1]!.dataSync(), outs[2]!.dataSync()];
          tf.dispose(outs);
          for (let j = 0; j < c; j++) {
            assert.ok(Math.abs(mean[j]! - mean64[j]!) <= 1e-4, `${backend} mean[${j}] ${mean[j]} vs ${mean64[j]}`);
            assert.ok(
              Math.abs(variance[j]! - var64[j]!) <= 1e-4 * Math.max(1, var64[j]!),
              `${backend} variance[${j}] ${variance[j]} vs ${var64[j]}`,
            );
          }
        }
      });

      test(`batch norm with batch statistics (training), then ReLU6 in the same pass, ${shape.join('x')}`, async () => {
        const rand = mulberry32(500 + i);
        const c = shape[3]!;
        const n = shape.reduce((a, b) => a * b, 1);
        const inputs: Inputs = {
          x: { shape, values: randomArray(n, rand, -2, 4) },
          // Outputs on both sides of 0 and of 6, so that both clamps are exercised.
          gamma: { shape: [c], values: randomArray(c, rand, 2, 5) },
          beta: { shape: [c], values: randomArray(c, rand, 1, 4) },
        };
        const weights = randomArray(n, rand);
        // tfjs-layers' training path (moments + batchNorm) against the fused kernel.
        const functional = (fused: boolean) => (t: Record<string, tf.Tensor>) => {
          if (!fused) {
            const { mean, variance } = tf.moments(t.x!, [0, 1, 2]);
            return tf.relu6(tf.batchNorm(t.x!, mean, variance, t.beta!, t.gamma!, 1e-3));
          }
          return batchNormTraining(t.x!, t.gamma!, t.beta!, 1e-3, true)[0]!;
        };
        const ref = await gradients('cpu', true, inputs, functional(false), weights);
        for (const backend of ['wasm', 'cpu'] as const) {
          const got = await gradients(backend, false, inputs, functional(true), weights);
          for (const name of Object.keys(inputs)) assertClose(got[name]!, ref[name]!, `${backend} d${name}`);
        }
      });

      test(`ReLU then ReLU6 clip, ${shape.join('x')}`, async () => {
        const rand = mulberry32(300 + i);
        const n = shape.reduce((a, b) => a * b, 1);
        // Values on the kinks (0 and 6) too: the masks must treat them as tfjs does.
        const values = randomArray(n, rand, -4, 10).map((v, k) => (k % 7 === 0 ? 0 : k % 11 === 0 ? 6 : v));
        const inputs: Inputs = { x: { shape, values } };
        const weights = randomArray(n, rand);
        const f = (t: Record<string, tf.Tensor>) => tf.clipByValue(tf.relu(t.x!), 0, 6);
        const ref = await gradients('cpu', true, inputs, f, weights);
        for (const backend of ['wasm', 'cpu'] as const) {
          const got = await gradients(backend, false, inputs, f, weights);
          // Exactly, up to the sign of zero (tfjs multiplies dy by 0, which gives −0 for negative dy).
          const differ = got.x!.findIndex((v, k) => v !== ref.x![k]);
          assert.equal(differ, -1, `${backend}: masks differ at ${differ}: ${got.x![differ]} vs ${ref.x![differ]}`);
        }
      });

      test(`ReLU6 as one kernel (useRelu6) against ReLU then clip, ${shape.join('x')}`, async () => {
        const rand = mulberry32(400 + i);
        const n = shape.reduce((a, b) => a * b, 1);
        const values = randomArray(n, rand, -4, 10).map((v, k) => (k % 7 === 0 ? 0 : k % 11 === 0 ? 6 : v));
        const inputs: Inputs = { x: { shape, values } };
        const weights = randomArray(n, rand);
        const stock = (t: Record<string, tf.Tensor>) => tf.clipByValue(tf.relu(t.x!), 0, 6);
        const ref = await gradients('cpu', true, inputs, stock, weights);
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          const input = tf.input({ shape: shape.slice(1) });
          const model = tf.model({
            inputs: input,
            outputs: tf.layers.reLU({ maxValue: 6 }).apply(input) as tf.SymbolicTensor,
          });
          useRelu6(model);
          const kernels = (await tf.profile(() => model.apply(tf.zeros(shape)) as tf.Tensor)).kernelNames;
          assert.deepEqual(
            kernels.filter((k) => k !== 'Fill'),
            ['Relu6'],
            `${backend}: one kernel`,
          );
          const got = await gradients(backend, false, inputs, (t) => model.apply(t.x!) as tf.Tensor, weights);
          const differ = got.x!.findIndex((v, k) => v !== ref.x![k]);
          assert.equal(differ, -1, `${backend}: gradients differ at ${differ}: ${got.x![differ]} vs ${ref.x![differ]}`);
          const out = tf.tidy(() => (model.apply(tf.tensor(values, shape)) as tf.Tensor).dataSync());
          const expected = values.map((v) => Math.min(Math.max(v, 0), 6));
          assert.deepEqual(Array.from(out), Array.from(expected), `${backend}: values`);
        }
      });
    }

    test('xᵀ·dy, the 1x1 filter gradient kernel, matches matMul on cpu: channel tails and row-block edges', async () => {
      // Rows around the kernel's block of 256; input channels around its 4, output channels around its 8.
      for (const [k, i, o] of [
        [1, 1, 1],
        [255, 3, 7],
        [256, 4, 8],
        [257, 5, 9],
        [1500, 8, 17],
        [700, 13, 24],
      ] as const) {
        const rand = mulberry32(k + 10 * i + o);
        const x = randomArray(k * i, rand);
        const dy = randomArray(k * o, rand);
        await tf.setBackend('cpu');
        const ref = tf.tidy(() => tf.matMul(tf.tensor2d(x, [k, i]), tf.tensor2d(dy, [k, o]), true, false).dataSync());
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          const got = tf.tidy(() => {
            const inputs = { x: tf.tensor2d(x, [k, i]), dy: tf.tensor2d(dy, [k, o]) };
            const [dw] = tf.engine().runKernel(K.xtDy, inputs) as tf.Tensor[];
            assert.deepEqual(dw!.shape, [i, o]);
            return dw!.dataSync();
          });
          assertClose(got as Float32Array, ref as Float32Array, `${backend} ${k}x${i} · ${k}x${o}`);
        }
      }
    });

    test('a·b + bias, the 1x1 convolution kernel, matches matMul on cpu: row and column tails, bias, activations, b transposed', async () => {
      // Rows around the kernel's tile of 4, columns around its panel of 8; the last case is split between threads.
      for (const [m, k, n] of [
        [1, 1, 1],
        [3, 5, 7],
        [4, 8, 8],
        [5, 9, 9],
        [66, 13, 23],
        [2051, 40, 30],
      ] as const) {
        const rand = mulberry32(m + 10 * k + n);
        const a = randomArray(m * k, rand);
        const b = randomArray(k * n, rand);
        const bias = randomArray(n, rand);
        for (const activation of ['linear', 'relu6', 'relu'] as const) {
          for (const withBias of [true, false]) {
            await tf.setBackend('cpu');
            const ref = tf.tidy(() => {
              let y = tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n]));
              if (withBias) y = tf.add(y, tf.tensor1d(bias));
              if (activation === 'relu6') y = tf.clipByValue(y, 0, 6);
              if (activation === 'relu') y = tf.relu(y);
              return y.dataSync();
            });
            for (const backend of ['wasm', 'cpu'] as const) {
              for (const transposeB of [false, true]) {
                await tf.setBackend(backend);
                const got = tf.tidy(() => {
                  const bT = transposeB ? tf.transpose(tf.tensor2d(b, [k, n])) : tf.tensor2d(b, [k, n]);
                  const inputs = { a: tf.tensor2d(a, [m, k]), b: bT, ...(withBias ? { bias: tf.tensor1d(bias) } : {}) };
                  const [y] = tf.engine().runKernel(K.matMulBias, inputs, { activation, transposeB }) as tf.Tensor[];
                  assert.deepEqual(y!.shape, [m, n]);
                  return y!.dataSync();
                });
                const what = `${backend} ${m}x${k}·${k}x${n} ${activation} bias ${withBias} transposed ${transposeB}`;
                assertClose(got as Float32Array, ref as Float32Array, what);
              }
            }
          }
        }
      }
    });

    test('1x1 convolutions on wasm (our kernel) match the cpu backend: conv2d and fused conv2d with bias and ReLU6', async () => {
      const [n, h, w, i, o] = [3, 9, 7, 21, 19];
      const rand = mulberry32(7);
      const x = randomArray(n * h * w * i, rand);
      const f = randomArray(i * o, rand);
      const bias = randomArray(o, rand);
      const run = (backend: 'cpu' | 'wasm') =>
        tf.setBackend(backend).then(() =>
          tf.tidy(() => {
            const xs = tf.tensor4d(x, [n, h, w, i]);
            const fs = tf.tensor4d(f, [1, 1, i, o]);
            const plain = tf.conv2d(xs, fs, 1, 'same');
            const fused = tf.fused.conv2d({
              x: xs,
              filter: fs,
              strides: 1,
              pad: 'valid',
              bias: tf.tensor1d(bias),
              activation: 'relu6',
            });
            return [plain.dataSync(), fused.dataSync()];
          }),
        );
      const [ref, got] = [await run('cpu'), await run('wasm')];
      assertClose(got[0] as Float32Array, ref[0] as Float32Array, 'conv2d 1x1');
      assertClose(got[1] as Float32Array, ref[1] as Float32Array, 'fused conv2d 1x1, bias, ReLU6');
    });

    test('first-layer convolutions on wasm (im2col + our GEMM) match the cpu backend: sizes, strides, paddings, bias, ReLU6', async () => {
      for (const [n, h, w, i, o, k, s, pad] of [
        [2, 17, 15, 3, 32, 3, 2, 'same'],
        [1, 9, 9, 1, 5, 5, 1, 'valid'],
        [
          3,
          8,
          10,
          2,
          9,
          3,
          1,
          [
            [0, 0],
            [1, 0],
            [2, 1],
            [0, 0],
          ],
        ],
        [16, 32, 32, 3, 32, 3, 2, 'same'], // split between threads
      ] as const) {
        const rand = mulberry32(n * 100 + h + o);
        const x = randomArray(n * h * w * i, rand);
        const f = randomArray(k * k * i * o, rand);
        const bias = randomArray(o, rand);
        const run = (backend: 'cpu' | 'wasm') =>
          tf.setBackend(backend).then(() =>
            tf.tidy(() => {
              const xs = tf.tensor4d(x, [n, h, w, i]);
              const fs = tf.tensor4d(f, [k, k, i, o]);
              const padding = pad as 'same' | 'valid';
              const plain = tf.conv2d(xs, fs, s, padding);
              const fused = tf.fused.conv2d({
                x: xs,
                filter: fs,
                strides: s,
                pad: padding,
                bias: tf.tensor1d(bias),
                activation: 'relu6',
              });
              return [plain.dataSync(), fused.dataSync()];
            }),
          );
        const [ref, got] = [await run('cpu'), await run('wasm')];
        const what = `${n}x${h}x${w}x${i} -> ${o}, ${k}x${k} s${s} ${JSON.stringify(pad)}`;
        assertClose(got[0] as Float32Array, ref[0] as Float32Array, `${what}: conv2d`);
        assertClose(got[1] as Float32Array, ref[1] as Float32Array, `${what}: fused, bias, ReLU6`);
      }
    });

    test('depthwise convolutions on wasm (our kernel) match the cpu backend: strides, paddings, channel tails, bias, activations', async () => {
      // Channels around the kernel's blocks of 16 and 4; the last case is split between threads.
      for (const [n, h, w, c, k, s, pad] of [
        [2, 7, 5, 3, 3, 1, 'same'],
        [1, 8, 8, 16, 3, 2, 'same'],
        [3, 9, 6, 21, 3, 2, 'valid'],
        [2, 5, 7, 36, 5, 1, 'same'],
        [
          1,
          6,
          6,
          7,
          3,
          1,
          [
            [0, 0],
            [1, 2],
            [2, 0],
            [0, 0],
          ],
        ],
        [8, 20, 20, 40, 3, 1, 'same'],
      ] as const) {
        const rand = mulberry32(n * 1000 + c * 10 + k);
        const x = randomArray(n * h * w * c, rand);
        const f = randomArray(k * k * c, rand);
        const bias = randomArray(c, rand);
        const run = (backend: 'cpu' | 'wasm') =>
          tf.setBackend(backend).then(() =>
            tf.tidy(() => {
              const xs = tf.tensor4d(x, [n, h, w, c]);
              const fs = tf.tensor4d(f, [k, k, c, 1]);
              const padding = pad as 'same' | 'valid';
              const plain = tf.depthwiseConv2d(xs, fs, s, padding);
              const fused = ['relu6', 'relu'].map((activation) =>
                tf.fused.depthwiseConv2d({
                  x: xs,
                  filter: fs,
                  strides: s,
                  pad: padding,
                  bias: tf.tensor1d(bias),
                  activation: activation as 'relu6' | 'relu',
                }),
              );
              return [plain, ...fused].map((t) => t.dataSync());
            }),
          );
        const [ref, got] = [await run('cpu'), await run('wasm')];
        ['plain', 'bias + ReLU6', 'bias + ReLU'].forEach((what, i) =>
          assertClose(
            got[i] as Float32Array,
            ref[i] as Float32Array,
            `${n}x${h}x${w}x${c} k${k} s${s} ${JSON.stringify(pad)}: ${what}`,
          ),
        );
      }
    });

    test('the depthwise input and filter gradient kernels match tfjs stock on cpu: strides 1 and 2, odd sizes, same and valid, channel tails', async () => {
      for (const [n, h, w, c, k, s, pad] of [
        [2, 7, 5, 3, 3, 1, 'same'],
        [1, 8, 8, 16, 3, 2, 'same'],
        [2, 9, 7, 6, 3, 2, 'same'],
        [1, 9, 9, 5, 3, 2, 'valid'],
        [3, 6, 5, 1, 5, 1, 'same'],
        [1, 11, 10, 7, 3, 2, 'valid'],
        [5, 16, 15, 35, 3, 1, 'same'], // split between threads where there are two
      ] as const) {
        const rand = mulberry32(n * 1000 + h * 100 + w * 10 + c);
        const x = randomArray(n * h * w * c, rand);
        const filter = randomArray(k * k * c, rand);
        await tf.setBackend('cpu');
        useStockGradients(true);
        const { ref, refFilter, dyShape, dy } = tf.tidy(() => {
          const outShape = tf.depthwiseConv2d(tf.tensor4d(x, [n, h, w, c]), tf.zeros([k, k, c, 1]), s, pad).shape;
          const dyValues = randomArray(tf.util.sizeFromShape(outShape), rand);
          const [dx, dw] = tf.grads((xs: tf.Tensor, fs: tf.Tensor) =>
            tf.sum(
              tf.mul(tf.depthwiseConv2d(xs as tf.Tensor4D, fs as tf.Tensor4D, s, pad), tf.tensor(dyValues, outShape)),
            ),
          )([tf.tensor4d(x, [n, h, w, c]), tf.tensor4d(filter, [k, k, c, 1])]);
          return { ref: dx!.dataSync(), refFilter: dw!.dataSync(), dyShape: outShape, dy: dyValues };
        });
        useStockGradients(false);
        // tfjs's 'same': the extra row or column of padding goes at the bottom/right.
        const padBefore = (size: number, out: number) =>
          pad === 'valid' ? 0 : Math.floor(Math.max((out - 1) * s + k - size, 0) / 2);
        const attrs = {
          inputShape: [n, h, w, c],
          strideHeight: s,
          strideWidth: s,
          padTop: padBefore(h, dyShape[1]!),
          padLeft: padBefore(w, dyShape[2]!),
        };
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          const got = tf.tidy(() => {
            const inputs = { dy: tf.tensor(dy, dyShape), filter: tf.tensor4d(filter, [k, k, c, 1]) };
            const [dx] = tf.engine().runKernel(K.depthwiseInputGrad, inputs, attrs) as tf.Tensor[];
            assert.deepEqual(dx!.shape, [n, h, w, c]);
            return dx!.dataSync();
          });
          assertClose(got as Float32Array, ref as Float32Array, `${backend} ${[n, h, w, c]} k${k} s${s} ${pad}`);
          const gotFilter = tf.tidy(() => {
            const inputs = { x: tf.tensor4d(x, [n, h, w, c]), dy: tf.tensor(dy, dyShape) };
            const [dw] = tf
              .engine()
              .runKernel(K.depthwiseFilterGrad, inputs, { ...attrs, kh: k, kw: k }) as tf.Tensor[];
            assert.deepEqual(dw!.shape, [k, k, c, 1]);
            return dw!.dataSync();
          });
          assertClose(
            gotFilter as Float32Array,
            refFilter as Float32Array,
            `${backend} filter ${[n, h, w, c]} k${k} s${s} ${pad}`,
          );
        }
      }
    });

    test('a first layer filter gradient (im2col + xᵀ·dy) matches tfjs stock: 3x3 and 5x5, strides 1 and 2, same and valid', async () => {
      for (const [shape, k, s, pad, co] of [
        [[4, 32, 32, 3], 3, 2, 'same', 32],
        [[2, 33, 31, 3], 3, 2, 'valid', 8],
        [[1, 40, 36, 2], 5, 1, 'same', 12],
        [[3, 27, 29, 4], 3, 1, 'same', 16],
      ] as const) {
        const rand = mulberry32(shape[1] * 7 + k + co);
        const n = shape.reduce((a: number, b: number) => a * b, 1);
        const inputs: Inputs = {
          x: { shape: [...shape], values: randomArray(n, rand) },
          filter: { shape: [k, k, shape[3], co], values: randomArray(k * k * shape[3] * co, rand) },
        };
        const f = (t: Record<string, tf.Tensor>) => tf.conv2d(t.x as tf.Tensor4D, t.filter as tf.Tensor4D, s, pad);
        await tf.setBackend('cpu');
        const outSize = tf.tidy(() => f({ x: tf.zeros([...shape]), filter: tf.zeros([k, k, shape[3], co]) }).size);
        const weights = randomArray(outSize, rand);
        const ref = await gradients('cpu', true, inputs, f, weights);
        const got = await gradients('wasm', false, inputs, f, weights);
        assertClose(got.filter!, ref.filter!, `wasm dfilter ${shape} k${k} s${s} ${pad}`);
        assertClose(got.x!, ref.x!, `wasm dx ${shape} k${k} s${s} ${pad}`);
        // The cpu twin of im2col, through the kernel itself, against the wasm one.
        const attrsFor = () => {
          const info = tf.backend_util.computeConv2DInfo([...shape], [k, k, shape[3], co], s, 1, pad);
          return {
            kh: k,
            kw: k,
            strideHeight: s,
            strideWidth: s,
            padTop: info.padInfo.top,
            padLeft: info.padInfo.left,
            outHeight: info.outHeight,
            outWidth: info.outWidth,
          };
        };
        const patches: Float32Array[] = [];
        for (const backend of ['wasm', 'cpu'] as const) {
          await tf.setBackend(backend);
          patches.push(
            tf.tidy(() => {
              const [p] = tf
                .engine()
                .runKernel(K.im2col, { x: tf.tensor(inputs.x!.values, [...shape]) }, attrsFor()) as tf.Tensor[];
              return p!.dataSync() as Float32Array;
            }),
          );
        }
        assert.deepEqual(patches[1], patches[0], 'im2col: cpu and wasm agree');
      }
    });

    test('depthwise convolution gradients (input and filter) at sizes split between threads', async () => {
      for (const [shape, k, s, pad] of [
        [[6, 18, 17, 40], 3, 1, 'same'],
        [[5, 21, 20, 35], 3, 2, 'same'],
        [[3, 17, 17, 24], 3, 2, 'valid'],
      ] as const) {
        const rand = mulberry32(shape[1] * k + s);
        const c = shape[3];
        const n = shape.reduce((a, b) => a * b, 1);
        const inputs: Inputs = {
          x: { shape: [...shape], values: randomArray(n, rand) },
          filter: { shape: [k, k, c, 1], values: randomArray(k * k * c, rand) },
        };
        const f = (t: Record<string, tf.Tensor>) =>
          tf.depthwiseConv2d(t.x as tf.Tensor4D, t.filter as tf.Tensor4D, s, pad);
        await tf.setBackend('cpu');
        const outSize = tf.tidy(() => f({ x: tf.zeros([...shape]), filter: tf.zeros([k, k, c, 1]) }).size);
        const weights = randomArray(outSize, rand);
        const ref = await gradients('cpu', true, inputs, f, weights);
        const got = await gradients('wasm', false, inputs, f, weights);
        for (const name of Object.keys(inputs))
          assertClose(got[name]!, ref[name]!, `wasm d${name} ${shape} s${s} ${pad}`);
      }
    });

    test('a BatchNormalization layer in training mode: same output, gradients and moving statistics as tfjs-layers', async () => {
      const shape = [4, 6, 6, 8];
      const rand = mulberry32(7);
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randomArray(n, rand, -1, 3);
      const weights = randomArray(n, rand);
      const run = async (backend: 'cpu' | 'wasm', fused: boolean) => {
        await tf.setBackend(backend);
        useStockGradients(!fused);
        try {
          const input = tf.input({ shape: shape.slice(1) });
          const output = tf.layers
            .batchNormalization({
              axis: -1,
              momentum: 0.9,
              gammaInitializer: 'randomNormal',
              betaInitializer: 'randomNormal',
            })
            .apply(input) as tf.SymbolicTensor;
          const model = tf.model({ inputs: input, outputs: output });
          // Same initial weights for every run.
          model.setWeights(
            model.weights.map((w, k) => {
              const wShape = w.shape as number[];
              return tf.tensor(randomArray(tf.util.sizeFromShape(wShape), mulberry32(50 + k), 0.5, 1.5), wShape);
            }),
          );
          useFusedBatchNorm(model);
          const xs = tf.tensor(x, shape);
          const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
          const { value, grads } = tf.variableGrads(
            () =>
              tf.sum(tf.mul(model.apply(xs, { training: true }) as tf.Tensor, tf.tensor(weights, shape))) as tf.Scalar,
            trainable,
          );
          const result = {
            loss: value.dataSync()[0]!,
            grads: trainable.map((v) => grads[v.name]!.dataSync() as Float32Array),
            moving: model.weights.slice(2).map((w) => w.read().dataSync() as Float32Array),
          };
          tf.dispose([xs, value, ...Object.values(grads)]);
          model.dispose();
          return result;
        } finally {
          useStockGradients(false);
        }
      };
      const ref = await run('cpu', false);
      for (const backend of ['wasm', 'cpu'] as const) {
        const got = await run(backend, true);
        assert.ok(Math.abs(got.loss - ref.loss) <= 1e-4 * Math.max(1, Math.abs(ref.loss)), `${backend} loss`);
        got.grads.forEach((g, k) => assertClose(g, ref.grads[k]!, `${backend} grad ${k}`));
        got.moving.forEach((m, k) => assertClose(m, ref.moving[k]!, `${backend} moving ${k}`));
      }
    });
  });
}
