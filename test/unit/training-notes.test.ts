/**
 * The recipe pages' teaching warnings on hand-made series: the training loss rising after an SGDR restart, and
 * overfitting (validation loss rising for ≥ 2 epochs while training loss falls) with the best epoch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectOverfitting,
  lossRisesAfterRestarts,
  restartIterations,
} from '../../src-renderer/src/recipe/trainingNotes';

/** Epochs' losses from the two series, written side by side: epoch i has train[i] and valid[i]. */
function epochLosses(train: number[], valid: number[]): Array<{ trainLoss: number; validLoss: number }> {
  assert.equal(train.length, valid.length, 'one validation loss per epoch');
  return train.map((trainLoss, i) => ({ trainLoss, validLoss: valid[i]! }));
}

/** A cosine-annealed cycle's loss: high after each restart, falling towards its end. */
function sgdrLoss(cycles: number[], start = 1, drop = 0.1): number[] {
  const out: number[] = [];
  let level = start;
  for (const len of cycles) {
    for (let i = 0; i < len; i++) out.push(level + 0.3 * Math.cos((Math.PI * i) / len));
    level -= drop;
  }
  return out;
}

test('a rise after each restart is found, with the means before and after it', () => {
  const loss = sgdrLoss([20, 20, 20]);
  const rises = lossRisesAfterRestarts(loss, [20, 40]);
  assert.deepEqual(
    rises.map((r) => [r.cycle, r.iteration]),
    [
      [2, 20],
      [3, 40],
    ],
  );
  for (const r of rises) assert.ok(r.after > r.before, `${r.after} > ${r.before}`);
});

test('a loss that keeps falling through a restart gives no note', () => {
  const loss = Array.from({ length: 60 }, (_, i) => 2 - i * 0.02);
  assert.deepEqual(lossRisesAfterRestarts(loss, [20, 40]), []);
});

test('a restart is judged only once a window after it exists, shrunk for short cycles', () => {
  const loss = sgdrLoss([20, 20]);
  assert.deepEqual(lossRisesAfterRestarts(loss.slice(0, 25), [20]), [], 'only 5 batches after the restart');
  assert.equal(lossRisesAfterRestarts(loss.slice(0, 30), [20]).length, 1, 'a full window of 10');
  // Cycles of 3 batches: windows of 1.
  const short = [1, 0.8, 0.6, 1.2, 0.9, 0.5, 1.1, 0.7, 0.4];
  assert.deepEqual(
    lossRisesAfterRestarts(short, [3, 6]).map((r) => [r.cycle, r.before, r.after]),
    [
      [2, 0.6, 1.2],
      [3, 0.5, 1.1],
    ],
  );
});

test('non-finite losses are left out of the means', () => {
  const loss = sgdrLoss([20, 20]);
  loss[18] = NaN;
  loss[22] = Infinity;
  assert.equal(lossRisesAfterRestarts(loss, [20]).length, 1);
});

test('restart iterations: every cycle end but the last, at the batches seen by then', () => {
  const epochs = [{ x: 5 }, { x: 10 }, { x: 15 }, { x: 20 }, { x: 25 }];
  assert.deepEqual(restartIterations(epochs, [1, 3, 7]), [5, 15]);
  assert.deepEqual(restartIterations(epochs.slice(0, 2), [1, 3, 7]), [5]);
  assert.deepEqual(restartIterations(epochs, [1]), []);
});

test('overfitting: validation loss up for 2 epochs while training loss falls, with the best epoch', () => {
  const epochs = epochLosses([1.0, 0.8, 0.6, 0.5, 0.4], [0.9, 0.7, 0.6, 0.65, 0.72]);
  assert.deepEqual(detectOverfitting(epochs), { from: 4, to: 5, epochs: 2, bestEpoch: 3 });
  assert.equal(detectOverfitting(epochs.slice(0, 4)), null, 'one epoch of rising validation loss is not enough');
});

test('no overfitting when the training loss rises too, or the rises are not consecutive', () => {
  const bothRise = epochLosses([0.5, 0.6, 0.7], [0.5, 0.6, 0.7]);
  assert.equal(detectOverfitting(bothRise), null);
  const apart = epochLosses([1.0, 0.9, 0.8, 0.7], [0.5, 0.6, 0.4, 0.45]);
  assert.equal(detectOverfitting(apart), null);
  assert.equal(detectOverfitting([]), null);
  assert.equal(detectOverfitting(epochLosses([1, NaN, 0.8], [0.5, 0.6, 0.7])), null);
});

test('overfitting: the latest run is reported; the best epoch is the first of equal lowest losses', () => {
  const epochs = epochLosses([1.0, 0.9, 0.8, 0.9, 0.7, 0.6, 0.5], [0.5, 0.6, 0.7, 0.5, 0.55, 0.6, 0.65]);
  assert.deepEqual(detectOverfitting(epochs), { from: 5, to: 7, epochs: 3, bestEpoch: 1 });
});

test("overfitting: with SGDR, the validation loss rising in a restart's first epoch is the restart's", () => {
  // cycle_mult 2, cycles 1 + 2 + 4 epochs: epochs 2 and 4 follow restarts and do not end their cycle.
  const cycleEnds = [1, 3, 7];
  const epochs = epochLosses([1.0, 0.9, 0.8, 0.7, 0.6, 0.5], [0.5, 0.6, 0.45, 0.55, 0.6, 0.4]);
  assert.deepEqual(detectOverfitting(epochs), { from: 4, to: 5, epochs: 2, bestEpoch: 6 }, 'without the cycles');
  assert.equal(detectOverfitting(epochs, 2, cycleEnds), null, 'epoch 4 restarted: only epoch 5 rose after it');
  // Rises at two cycle ends in a row, apart from any restart's first epoch, are still overfitting.
  const late = [...epochs.slice(0, 3), { trainLoss: 0.7, validLoss: 0.5 }, { trainLoss: 0.6, validLoss: 0.55 }];
  assert.deepEqual(
    detectOverfitting([...late, { trainLoss: 0.5, validLoss: 0.6 }, { trainLoss: 0.4, validLoss: 0.7 }], 2, cycleEnds)
      ?.to,
    7,
  );
});
