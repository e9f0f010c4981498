import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradKernels, wasmHasKernel } from '../../src-main/core/tf/wasmGradKernels';

const STAND_INS = [
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.DepthwiseConv2dNativeBackpropFilter,
  tf.DepthwiseConv2dNativeBackpropInput,
];
const CASES = 48;
const TOLERANCE = 1e-5; // max abs difference relative to the largest cpu gradient magnitude

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];
interface ConvCase {
  xShape: Shape4;
  filterShape: Shape4;
  stride: number;
  pad: Pad;
}

/** mulberry32: a tiny seeded PRNG, so failures reproduce. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCase(rand: () => number, depthwise: boolean): ConvCase {
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(options: T[]): T => options[int(0, options.length - 1)];
  const k = pick([1, 3]);
  const inChannels = int(1, 8);
  const pads: Pad[] = [
    'same',
    'valid',
    'same',
    'valid',
    1,
    [
      [0, 0],
      [int(0, 2), int(0, 2)],
      [int(0, 2), int(0, 2)],
      [0, 0],
    ],
  ];
  return {
    xShape: [int(1, 3), int(5, 17), int(5, 17), inChannels],
    filterShape: [k, k, inChannels, depthwise ? pick([1, 1, 2]) : int(1, 8)],
    stride: pick([1, 2]),
    pad: pick(pads),
  };
}

function randomValues(rand: () => number, shape: number[]): Float32Array {
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
}

/** d/dx and d/dw of sum(conv(x, w) * upstream) on the given backend, as plain arrays. */
async function gradients(backendName: string, c: ConvCase, depthwise: boolean, seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backendName);
  const rand = seededRandom(seed); // same seed on both backends gives the same x, w and upstream
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(rand, c.xShape), c.xShape);
    const w = tf.tensor4d(randomValues(rand, c.filterShape), c.filterShape);
    const conv = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      depthwise ? tf.depthwiseConv2d(a, b, c.stride, c.pad) : tf.conv2d(a, b, c.stride, c.pad);
    const outShape = conv(x, w).shape;
    const upstream = tf.tensor4d(randomValues(rand, outShape), outShape);
    const grads = tf.grads((a, b) => tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D), upstream)))([x, w]);
    return grads.map((g) => Float32Array.from(g.dataSync()));
  });
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let maxDiff = 0;
  let maxMagnitude = 1e-6;
  expected.forEach((e, i) => {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - e));
    maxMagnitude = Math.max(maxMagnitude, Math.abs(e));
  });
  return maxDiff / maxMagnitude;
}

before(async () => {
  // Node runs only the single-threaded wasm build; point it at the package's dist/ folder.
  setWasmPaths(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  await tf.setBackend('wasm');
  registerWasmGradKernels();
});

describe('wasm gradient stand-in kernels', () => {
  test('registration covers the missing kernels, keeps native setup, and is idempotent', () => {
    assert.ok(STAND_INS.every(wasmHasKernel));
    // Conv2DBackpropInput is native in wasm but slow; the swapped-in stand-in keeps wasm's setupFunc.
    assert.ok(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.setupFunc);
    const registered = STAND_INS.map((name) => tf.getKernel(name, 'wasm'));
    registerWasmGradKernels();
    assert.deepEqual(
      STAND_INS.map((name) => tf.getKernel(name, 'wasm')),
      registered,
    );
  });

  test('Conv2DBackpropInput still handles NCHW (through the native kernel)', async () => {
    const rand = seededRandom(3);
    const dyValues = randomValues(rand, [2, 4, 5, 5]);
    const filterValues = randomValues(rand, [3, 3, 3, 4]);
    const attrs = { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 9, 9] };
    const dx = async (backendName: string) => {
      await tf.setBackend(backendName);
      return tf.tidy(() => {
        const inputs = { dy: tf.tensor4d(dyValues, [2, 4, 5, 5]), filter: tf.tensor4d(filterValues, [3, 3, 3, 4]) };
        return Float32Array.from(
          (tf.engine().runKernel(tf.Conv2DBackpropInput, inputs, attrs) as tf.Tensor).dataSync(),
        );
      });
    };
    assert.ok(relativeError(await dx('wasm'), await dx('cpu')) < TOLERANCE);
    await tf.setBackend('wasm');
  });

  for (const depthwise of [false, true]) {
    test(`${depthwise ? 'depthwiseConv2d' : 'conv2d'} gradients match the cpu backend on ${CASES} shapes`, async (t) => {
      const rand = seededRandom(depthwise ? 2 : 1);
      const tensorsBefore = tf.memory().numTensors;
      // IS_TEST makes the engine throw if a kernel leaves data ids behind (too strict for customGrad ops elsewhere).
      tf.env().set('IS_TEST', true);
      let worst = 0;
      try {
        for (let i = 0; i < CASES; i++) {
          const c = randomCase(rand, depthwise);
          const seed = 1000 + i;
          const expected = await gradients('cpu', c, depthwise, seed);
          const actual = await gradients('wasm', c, depthwise, seed);
          ['dx', 'dw'].forEach((name, j) => {
            const error = relativeError(actual[j], expected[j]);
            worst = Math.max(worst, error);
            assert.ok(error < TOLERANCE, `${name} off by ${error.toExponential(2)} for ${JSON.stringify(c)}`);
          });
        }
      } finally {
        tf.env().set('IS_TEST', false);
        await tf.setBackend('wasm');
      }
      assert.equal(tf.memory().numTensors, tensorsBefore);
      t.diagnostic(`worst relative error ${worst.toExponential(2)}`);
    });
  }

  test('rejects dilations > 1 with a clear error', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const dy = tf.ones([1, 3, 3, 2]);
      const filter = tf.ones([3, 3, 2, 1]);
      const attrs = { strides: 1, dilations: 2, pad: 'valid', inputShape: [1, 7, 7, 2] };
      assert.throws(
        () => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy, filter }, attrs),
        /dilations > 1 are not supported/,
      );
    });
  });

  test('a tiny conv + depthwise + batch-norm model trains on wasm without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const rand = seededRandom(7);
    const random = (shape: number[], scale = 1) =>
      tf.tensor(
        randomValues(rand, shape).map((v) => v * scale),
        shape,
      );
    const x = random([4, 12, 12, 3]) as tf.Tensor4D;
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
    const stem = tf.variable(random([3, 3, 3, 8], 0.5) as tf.Tensor4D);
    const gamma = tf.variable(tf.ones([8]));
    const beta = tf.variable(tf.zeros([8]));
    const depthwise = tf.variable(random([3, 3, 8, 1], 0.5) as tf.Tensor4D);
    const project = tf.variable(random([1, 1, 8, 3], 0.5) as tf.Tensor4D);
    const loss = () => {
      const stemOut = tf.conv2d(x, stem, 2, 'same');
      const { mean, variance } = tf.moments(stemOut, [0, 1, 2]);
      const normed = tf.relu6(tf.batchNorm(stemOut, mean, variance, beta, gamma, 1e-3)) as tf.Tensor4D;
      const dwOut = tf.depthwiseConv2d(normed, depthwise, 2, 'same');
      const logits = tf.mean(tf.conv2d(dwOut, project, 1, 'valid'), [1, 2]);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };
    const optimizer = tf.train.sgd(0.5);
    const step = () => tf.tidy(() => optimizer.minimize(loss, true)!.dataSync()[0]);

    const firstLoss = step(); // the first step also creates the optimizer's learning-rate scalar
    const memoryBefore = tf.memory();
    let lastLoss = firstLoss;
    for (let i = 0; i < 5; i++) lastLoss = step();
    assert.equal(tf.memory().numTensors, memoryBefore.numTensors);
    assert.equal(tf.memory().numDataBuffers, memoryBefore.numDataBuffers);
    assert.ok(lastLoss < firstLoss, `loss went from ${firstLoss} to ${lastLoss}`);
    tf.dispose([x, labels, stem, gamma, beta, depthwise, project]);
    optimizer.dispose();
  });
});

describe('wasm Identity (the engine clones every tensor it saves for the backward pass)', () => {
  test('a clone shares its source buffer, outlives the source, and the buffer goes with the last reference', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const source = tf.tensor([1, 2, 3, 4], [2, 2]);
    const copy = source.clone();
    // One buffer for both: a copying Identity would add a second 16 bytes.
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers + 1);
    source.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1, 2, 3, 4]);
    copy.dispose();
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
    assert.equal(tf.memory().numTensors, before.numTensors);
  });

  test('a cast to the same dtype shares the buffer too; a real cast still converts', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory();
    const source = tf.tensor([1.5, -2, 3, 4], [2, 2]);
    const same = tf.cast(source, 'float32');
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers + 1);
    const ints = tf.cast(source, 'int32');
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers + 2);
    assert.deepEqual(Array.from(await ints.data()), [1, -2, 3, 4]);
    source.dispose();
    assert.deepEqual(Array.from(await same.data()), [1.5, -2, 3, 4]);
    tf.dispose([same, ints]);
    assert.equal(tf.memory().numDataBuffers, before.numDataBuffers);
  });
});
