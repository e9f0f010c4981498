import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { crossEntropy } from '../../src-main/core/train/learner';
import { balancedOrder, classWeights, imbalanceRatio, weightedCrossEntropy } from '../../src-main/core/train/imbalance';
import { mulberry32 } from '../../src-main/core/util/random';

await initBackend('auto');

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${a} ≈ ${b}`);

test("class weights are sklearn's 'balanced': inverse frequency, mean 1 over the examples", () => {
  const counts = [10, 30, 60];
  const w = classWeights(counts);
  [100 / 30, 100 / 90, 100 / 180].forEach((v, i) => close(w[i]!, v));
  close(counts.reduce((s, c, i) => s + c * w[i]!, 0) / 100, 1);
  assert.deepEqual(classWeights([5, 5]), [1, 1]);
  assert.deepEqual(classWeights([4, 0]), [1, 1], 'an empty class is neutral and not counted');
  assert.throws(() => classWeights([0, 0]), /empty/);
  assert.throws(() => classWeights([]), /no classes/);
});

test('weighted cross-entropy equals the plain loss with unit weights, and weights the rest', () => {
  const probs = tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.1, 0.6, 0.3],
    [0.25, 0.25, 0.5],
    [0.8, 0.1, 0.1],
  ]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
  const plain = crossEntropy(probs, y);
  const ones = weightedCrossEntropy([1, 1, 1])(probs, y);
  close(ones.dataSync()[0]!, plain.dataSync()[0]!);

  const weights = [1, 2, 4];
  const weighted = weightedCrossEntropy(weights)(probs, y);
  const p = [0.7, 0.6, 0.5, 0.1];
  const wy = [1, 2, 4, 2];
  const expected = -wy.reduce((s, w, i) => s + w * Math.log(p[i]! + 1e-7), 0) / wy.reduce((s, w) => s + w, 0);
  close(weighted.dataSync()[0]!, expected, 1e-5);

  // Differentiable, and no tensors left behind.
  const v = tf.variable(tf.zeros([4, 3]));
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => weightedCrossEntropy(weights)(tf.softmax(v), y), [v]);
  tf.dispose([value, grads[v.name]!]);
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([probs, y, plain, ones, weighted, v]);
});

test('balanced order: every class equally often, all of a small class before repeats', () => {
  const labels = [...Array<number>(10).fill(0), 1, 1, 2, 2, 2];
  const order = balancedOrder(labels, mulberry32(1));
  assert.equal(order.length, labels.length);
  const count = (c: number) => order.filter((i) => labels[i] === c).length;
  assert.deepEqual([count(0), count(1), count(2)], [5, 5, 5]);
  assert.deepEqual(new Set(order.filter((i) => labels[i] === 1)), new Set([10, 11]));
  const class0 = order.filter((i) => labels[i] === 0);
  assert.equal(new Set(class0).size, 5, 'the big class is subsampled without repeats');
  assert.deepEqual(balancedOrder(labels, mulberry32(1)), order, 'seeded');
  assert.notDeepEqual(balancedOrder(labels, mulberry32(2)), order);

  const longer = balancedOrder(labels, mulberry32(3), 31);
  const counts = [0, 1, 2].map((c) => longer.filter((i) => labels[i] === c).length).sort();
  assert.deepEqual(counts, [10, 10, 11], '±1 when the length does not divide');
  assert.deepEqual(balancedOrder([], mulberry32(1)), []);
});

test('imbalance ratio: largest class over smallest', () => {
  assert.equal(imbalanceRatio([10, 30, 60]), 6);
  assert.equal(imbalanceRatio([7, 7]), 1);
  assert.equal(imbalanceRatio([7, 0]), Infinity);
  assert.throws(() => imbalanceRatio([0, 0]), /empty/);
});
