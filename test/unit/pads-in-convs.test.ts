// Zero paddings folded into the convolution after them, for training: the same outputs and gradients as the layers
// run one by one, on wasm and cpu, without the padded copy forward (PadV2) or its crop back (Slice).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { mulberry32 } from '../../src-main/core/util/random';
import { usePadsInConvs } from '../../src-main/core/model/padsInConvs';
import { buildClassifier, disposeClassifier } from '../../src-main/core/model/backbone';
import { assertCloseToScale } from '../helpers/exactChecks';

/** Pad (asymmetric, as MobileNetV2's before a stride-2 conv) → depthwise stride 2 → pad 1 → conv 3x3; a pad with two consumers stays. */
function model(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [9, 8, 5] });
  const init = (s: number) => tf.initializers.randomNormal({ seed: seed + s });
  let x = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [1, 0],
      ],
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', useBias: false, depthwiseInitializer: init(1) })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.zeroPadding2d({ padding: 1 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, padding: 'valid', useBias: false, kernelInitializer: init(2) })
    .apply(x) as tf.SymbolicTensor;
  const shared = tf.layers.zeroPadding2d({ padding: 1 }).apply(x) as tf.SymbolicTensor;
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, useBias: false, kernelInitializer: init(3) }).apply(shared);
  const b = tf.layers.conv2d({ filters: 2, kernelSize: 3, useBias: false, kernelInitializer: init(4) }).apply(shared);
  const out = tf.layers.add().apply([a as tf.SymbolicTensor, b as tf.SymbolicTensor]) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Output and gradients (input and every weight) of sum(model(x) * w). */
function run(m: tf.LayersModel, x: tf.Tensor, w: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const weights = m.trainableWeights.map((v) => v.read() as tf.Variable);
    const f = (xs: tf.Tensor) => tf.sum(tf.mul(m.apply(xs, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    const dx = tf.grad(f)(x);
    const { grads } = tf.variableGrads(() => f(x), weights);
    const out = m.apply(x, { training: true }) as tf.Tensor;
    return [out, dx, ...weights.map((v) => grads[v.name]!)].map((t) => t.dataSync() as Float32Array);
  });
}

before(async () => {
  await initBackend('wasm');
});

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: same outputs and gradients with the pads folded, and the folded pads copy nothing`, async () => {
    await tf.setBackend(backend);
    const rand = mulberry32(5);
    const x = tf.tensor(
      Float32Array.from({ length: 2 * 9 * 8 * 5 }, () => rand() * 2 - 1),
      [2, 9, 8, 5],
    );
    const m = model(11);
    const w = tf.tidy(() => tf.randomNormal((m.apply(x) as tf.Tensor).shape, 0, 1, 'float32', 3));
    const stock = run(m, x, w);
    const padsBefore = (await tf.profile(() => m.apply(x, { training: true }) as tf.Tensor)).kernels.map((k) => k.name);
    usePadsInConvs(m);
    const folded = run(m, x, w);
    folded.forEach((t, i) =>
      assertCloseToScale(t, stock[i]!, `${backend} ${i === 0 ? 'output' : `gradient ${i}`}`, 1e-5),
    );
    const padsAfter = (await tf.profile(() => m.apply(x, { training: true }) as tf.Tensor)).kernels.map((k) => k.name);
    const count = (names: string[]) => names.filter((k) => k === 'PadV2').length;
    // Three pads; the one with two consumers is kept.
    assert.equal(count(padsBefore), 3, padsBefore.join(' '));
    assert.equal(count(padsAfter), 1, padsAfter.join(' '));
    m.dispose();
    tf.dispose([x, w]);
  });
}

test('MobileNetV2 trains without a padded copy of an activation: no PadV2 forward, no Slice back', async () => {
  await tf.setBackend('wasm');
  const clf = await buildClassifier({ size: 32, numClasses: 3, dropout: 0, seed: 1 });
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 1);
  const weights = clf.model.trainableWeights.map((v) => v.read() as tf.Variable);
  const { kernelNames } = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.sum(clf.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      weights,
    );
    tf.dispose([value, ...Object.values(grads)]);
  });
  assert.ok(!kernelNames.includes('PadV2'), kernelNames.filter((k) => /Pad|Slice/.test(k)).join(' '));
  assert.ok(!kernelNames.includes('Slice'), kernelNames.filter((k) => /Pad|Slice/.test(k)).join(' '));
  disposeClassifier(clf);
  x.dispose();
});
