import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accuracyOf, averageProbabilities, lastSnapshots } from '../../src-main/core/recipe/ensemble';
import { accumulationSteps, microBatchFor } from '../../src-main/core/recipe/memory';
import { headEpochsFor, recipeGroupMults, step8Plan } from '../../src-main/core/recipe/steps';
import { unfrozenLr } from '../../src-shared/recipe/plan';
import { step8Epochs } from '../../src-main/core/recipe/recipeJob';

test('snapshot ensemble: mean probabilities, accuracy, the last k snapshots', () => {
  const a = [Float32Array.from([0.9, 0.1]), Float32Array.from([0.4, 0.6])];
  const b = [Float32Array.from([0.3, 0.7]), Float32Array.from([0.2, 0.8])];
  const avg = averageProbabilities([a, b]);
  assert.deepEqual(
    [...avg[0]!].map((x) => +x.toFixed(6)),
    [0.6, 0.4],
  );
  assert.equal(accuracyOf(avg, [0, 1]), 1);
  assert.deepEqual(lastSnapshots(['c1', 'c2', 'c3'], 2), ['c2', 'c3']);
  assert.deepEqual(lastSnapshots(['c1'], 3), ['c1']);
});

test('recipe defaults: group multipliers, head epochs, step 8 cycles, micro-batches', () => {
  const m = recipeGroupMults(3, 3);
  assert.ok(Math.abs(m[0]! - 1 / 9) < 1e-15 && Math.abs(m[1]! - 1 / 3) < 1e-15 && m[2] === 1);
  assert.equal(headEpochsFor(null, 24), 2);
  assert.equal(headEpochsFor(null, 5000), 1);
  assert.equal(headEpochsFor(3, 24), 3);
  assert.equal(step8Epochs(3, 2), 7);
  const plan = step8Plan(0.01, 3, 2, 4);
  assert.equal(plan.lr.length, 28);
  assert.deepEqual(plan.cycleEnds, [3, 11, 27]);
  assert.equal(plan.lr[4], 0.01, 'warm restart');
  // Step 8's first half epoch ramps up from 5 % (2 of 4 iterations); the cosine and the restarts are untouched.
  const plain = step8Plan(0.01, 3, 2, 4, 0);
  assert.ok(Math.abs(plan.lr[0]! - 0.05 * plain.lr[0]!) < 1e-12);
  assert.ok(Math.abs(plan.lr[1]! - 0.525 * plain.lr[1]!) < 1e-12);
  assert.deepEqual(plan.lr.slice(2), plain.lr.slice(2));
  assert.deepEqual(plain.lr.slice(0, 2), [0.01, plain.lr[1]]);
  assert.equal(microBatchFor(224, 32, 'wasm'), 8);
  assert.equal(microBatchFor(224, 32, 'tensorflow'), 32);
  assert.equal(accumulationSteps(32, 8), 4);
});

test("the unfrozen net's LR: 1e-3 with AdamW, a decade below the head with SGD, never above the head or a decade below divergence", () => {
  const fastai = "fastai's fine-tuning LR for Adam (1e-3)";
  assert.deepEqual(unfrozenLr(5e-3, 'adamw', null), { lr: 1e-3, pick: fastai });
  assert.deepEqual(unfrozenLr(2.9e-2, 'adamw', null), { lr: 1e-3, pick: fastai });
  assert.deepEqual(unfrozenLr(5e-4, 'adamw', null), { lr: 5e-4, pick: 'the head LR' });
  assert.deepEqual(unfrozenLr(2e-2, 'sgd', null), { lr: 2e-3, pick: 'a decade below the head LR' });
  assert.deepEqual(unfrozenLr(2.9e-2, 'adamw', 5e-3), { lr: 5e-4, pick: 'a decade below where the loss diverged' });
  assert.deepEqual(unfrozenLr(1e-2, 'sgd', 1.65e-2).pick, 'a decade below the head LR');
});
