import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  argMax,
  cellItems,
  confusionMatrix,
  perClassMetrics,
  topLosses,
  type PredictedItem,
} from '../../src-main/core/train/interpret';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≈ ${b}`);

test('confusion matrix: rows are actual classes, columns predictions', () => {
  const m = confusionMatrix([0, 0, 1, 1, 1, 2], [0, 1, 1, 1, 2, 2], 3);
  assert.deepEqual(m, [
    [1, 1, 0],
    [0, 2, 1],
    [0, 0, 1],
  ]);
  assert.deepEqual(confusionMatrix([], [], 2), [
    [0, 0],
    [0, 0],
  ]);
  assert.throws(() => confusionMatrix([0, 1], [0], 2), /2 actual labels but 1 predictions/);
  assert.throws(() => confusionMatrix([0, 3], [0, 1], 3), /outside 0..2/);
});

test('per-class precision, recall, F1 and support (empty classes give 0, not NaN)', () => {
  const m = [
    [1, 1, 0],
    [0, 2, 1],
    [0, 0, 1],
  ];
  const [a, b, c] = perClassMetrics(m, ['a', 'b', 'c']);
  assert.deepEqual([a!.class, a!.precision, a!.recall, a!.support], ['a', 1, 0.5, 2]);
  close(a!.f1, 2 / 3);
  close(b!.precision, 2 / 3);
  close(b!.recall, 2 / 3);
  close(b!.f1, 2 / 3);
  assert.equal(b!.support, 3);
  assert.deepEqual([c!.precision, c!.recall, c!.f1, c!.support], [0.5, 1, 2 / 3, 1]);
  const [empty] = perClassMetrics(
    [
      [0, 0],
      [3, 0],
    ],
    ['x', 'y'],
  );
  assert.deepEqual(empty, { class: 'x', precision: 0, recall: 0, f1: 0, support: 0 });
});

const items: PredictedItem[] = [
  { file: 'a.png', actual: 0, probabilities: [0.9, 0.1] },
  { file: 'b.png', actual: 0, probabilities: [0.2, 0.8] },
  { file: 'c.png', actual: 1, probabilities: [0.6, 0.4] },
  { file: 'd.png', actual: 1, probabilities: [0.05, 0.95] },
  { file: 'e.png', actual: 0, probabilities: [0.4, 0.6] },
];

test('top losses: worst first, with the predicted class and both probabilities', () => {
  const top = topLosses(items, 3);
  assert.deepEqual(
    top.map((t) => t.file),
    ['b.png', 'c.png', 'e.png'],
  );
  const [b] = top;
  assert.deepEqual([b!.actual, b!.predicted, b!.probability, b!.actualProbability], [0, 1, 0.8, 0.2]);
  close(b!.loss, -Math.log(0.2 + 1e-7));
  assert.equal(topLosses(items, 99).length, 5);
  assert.deepEqual(topLosses(items, 0), []);
});

test('cell items: the items behind one confusion-matrix cell, worst first', () => {
  assert.deepEqual(
    cellItems(items, 0, 1).map((t) => t.file),
    ['b.png', 'e.png'],
  );
  assert.deepEqual(
    cellItems(items, 1, 0).map((t) => t.file),
    ['c.png'],
  );
  assert.deepEqual(
    cellItems(items, 1, 1).map((t) => t.file),
    ['d.png'],
  );
  // The cells partition the items and agree with the confusion matrix.
  const m = confusionMatrix(
    items.map((i) => i.actual),
    items.map((i) => argMax(i.probabilities)),
    2,
  );
  for (const a of [0, 1]) for (const p of [0, 1]) assert.equal(cellItems(items, a, p).length, m[a]![p]);
});

test('argMax takes the first of equal maxima', () => {
  assert.equal(argMax([0.5, 0.5]), 0);
  assert.equal(argMax([0.1, 0.3, 0.3, 0.2]), 1);
});
