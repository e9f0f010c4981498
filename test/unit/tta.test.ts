import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { ensembleAverage, predictWithTta } from '../../src-main/core/train/tta';
import { mulberry32 } from '../../src-main/core/util/random';
import { softmaxDense } from '../helpers/models';

await initBackend('auto');

const SIZE = 8;

/** Global average pooling + dense: blind to flips and quarter turns. */
const poolModel = () =>
  tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [SIZE, SIZE, 3] }), softmaxDense(3, 1)] });

/** Flatten + dense: sees where things are, so a flip changes its output. */
const flatModel = () =>
  tf.sequential({ layers: [tf.layers.flatten({ inputShape: [SIZE, SIZE, 3] }), softmaxDense(3, 2)] });

function noise(n: number, seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: n * SIZE * SIZE * 3 }, () => rand()),
    [n, SIZE, SIZE, 3],
  );
}

function assertClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-5) {
  assert.deepEqual(a.shape, b.shape);
  const [x, y] = [a.dataSync(), b.dataSync()];
  x.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) < tol, `${v} ≈ ${y[i]}`));
}

test('TTA of a model that ignores flips equals the plain prediction', async () => {
  const model = poolModel();
  const x = noise(5, 1);
  const plain = model.predict(x) as tf.Tensor2D;
  for (const preset of ['side-on', 'top-down'] as const) {
    const tta = await predictWithTta(model, x, { preset, n: 6, seed: 3, minScale: 1 });
    assertClose(tta, plain);
    tta.dispose();
  }
  // Flat colours are also blind to the small crops of the default views.
  const flat = tf.tidy(() => tf.mul(tf.ones([4, SIZE, SIZE, 3]), tf.tensor4d([0.1, 0.4, 0.7, 0.9], [4, 1, 1, 1])));
  const flatPlain = model.predict(flat) as tf.Tensor2D;
  const flatTta = await predictWithTta(model, flat as tf.Tensor4D, { preset: 'top-down', n: 4, seed: 1 });
  assertClose(flatTta, flatPlain);
  tf.dispose([x, plain, flat, flatPlain, flatTta]);
  model.dispose();
});

test('TTA blends β·original + (1 − β)·mean of the views, reproducibly and without leaks', async () => {
  const model = flatModel();
  const x = noise(1, 2);
  const p0 = model.predict(x) as tf.Tensor2D;
  const flipped = tf.reverse(x, 2);
  const p1 = model.predict(flipped) as tf.Tensor2D;
  const n = 5;
  const before = tf.memory().numTensors;
  const tta = await predictWithTta(model, x, { preset: 'side-on', n, seed: 4, beta: 0.4, minScale: 1 });
  assert.equal(tf.memory().numTensors, before + 1, 'only the result is new');
  const again = await predictWithTta(model, x, { preset: 'side-on', n, seed: 4, beta: 0.4, minScale: 1 });
  assert.deepEqual(again.dataSync(), tta.dataSync());
  // Each view is the original or its mirror, so the result is β·p0 + (1 − β)·((n − k)·p0 + k·p1)/n for some k.
  const [a, b, got] = [p0.dataSync(), p1.dataSync(), tta.dataSync()];
  assert.notDeepEqual(a, b, 'the model does see flips');
  const fits = (k: number) =>
    got.every((v, i) => Math.abs(v - (0.4 * a[i]! + (0.6 * ((n - k) * a[i]! + k * b[i]!)) / n)) < 1e-5);
  const ks = Array.from({ length: n + 1 }, (_, k) => k).filter(fits);
  assert.equal(ks.length, 1);
  assert.ok(ks[0]! > 0 && ks[0]! < n, `a mix of flipped and unflipped views (k = ${ks[0]})`);

  const none = await predictWithTta(model, x, { preset: 'none', n, seed: 4 });
  assertClose(none, p0);
  const zero = await predictWithTta(model, x, { preset: 'side-on', n: 0, seed: 4 });
  assertClose(zero, p0);
  await assert.rejects(predictWithTta(model, x, { preset: 'side-on', n: 2, seed: 4, beta: 2 }), /beta/);
  tf.dispose([x, p0, flipped, p1, tta, again, none, zero]);
  model.dispose();
});

test('ensemble average is the mean of the models’ probabilities', () => {
  const a = tf.tensor2d([
    [0.2, 0.8],
    [0.5, 0.5],
  ]);
  const b = tf.tensor2d([
    [0.6, 0.4],
    [0.1, 0.9],
  ]);
  const avg = ensembleAverage([a, b]);
  const expected = tf.tensor2d([0.4, 0.6, 0.3, 0.7], [2, 2]);
  assertClose(avg, expected);
  const one = ensembleAverage([a]);
  assert.notEqual(one, a);
  assertClose(one, a);
  assert.throws(() => ensembleAverage([]), /at least one/);
  tf.dispose([a, b, avg, expected, one]);
});
