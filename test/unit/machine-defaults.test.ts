import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fullLrFindIters, machineFit, MIN_FULL_LR_FIND_ITERS } from '../../src-main/core/machineDefaults';

test('image and batch size follow the backend: 224 px on a GPU, smaller on CPUs', () => {
  assert.deepEqual(
    [machineFit({ name: 'tensorflow-gpu', threads: 16 }), machineFit({ name: 'wasm', threads: 2 })].map((f) => [
      f.size,
      f.batchSize,
    ]),
    [
      [224, 32],
      [128, 16],
    ],
  );
  assert.equal(machineFit({ name: 'tensorflow', threads: 8 }).size, 160);
  assert.equal(machineFit({ name: 'cpu', threads: 1 }).size, 64);
  assert.match(machineFit({ name: 'wasm', threads: 2 }).reason, /128 px, batch 16: .*2 threads/);
});

test("step 7's LR range test gets at most half of step 8's iterations, at least 30, never more than configured", () => {
  // 400 images, 320 to train at batch 16: 20 batches; step 8 = 1 + 2 + 4 epochs = 140 iterations -> 70.
  assert.equal(fullLrFindIters({ configured: 100, step8Iterations: 140 }), 70);
  // A tiny run: half of 14 is 7, raised to the minimum.
  assert.equal(fullLrFindIters({ configured: 100, step8Iterations: 14 }), MIN_FULL_LR_FIND_ITERS);
  // A large run keeps the configured 100.
  assert.equal(fullLrFindIters({ configured: 100, step8Iterations: 700 }), 100);
  // A configured count below the minimum is respected, and the user's override wins.
  assert.equal(fullLrFindIters({ configured: 20, step8Iterations: 700 }), 20);
  assert.equal(fullLrFindIters({ configured: 100, step8Iterations: 140, override: 12 }), 12);
});
