/**
 * The LR range test's mechanics on a softmax head over ReLU-like features: it leaves no trace (weights, BatchNorm
 * statistics and optimizer state bit-identical afterwards, whether it completes, is cancelled, fails or meets a NaN);
 * it loops over epochs when there are fewer batches than iterations, sweeps linearly, reports a validation loss; and
 * group LR multipliers scale the swept LR per layer group. Its suggestions on known problems are in
 * lr-range-test.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { Learner } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../src-main/core/train/optimizers';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import { scheduleCallback } from '../../src-main/core/train/callbacks';
import { lrRangeTest } from '../../src-main/core/lrfind/lrRangeTest';
import { BLOB_CLASSES, BLOB_FEATURES, blobSoftmaxHead, reluBlobs, softmaxDense } from '../helpers/models';
import { assertCloseAll, assertSameBytes, tensorBytes, weightBytes } from '../helpers/exactChecks';

await initBackend('auto');

// ---------- no trace: bit-identical weights and optimizer state ----------

/** The optimizer's step count and slot values, as bytes. */
function optimizerBytes(opt: Optimizer) {
  const state = opt.getState();
  return {
    step: state.step,
    slots: Object.fromEntries(
      Object.entries(state.slots).map(([name, s]) => [
        name,
        { shape: s.shape, values: s.values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength)) },
      ]),
    ),
  };
}

/** Dense → BatchNorm (its moving statistics change in training mode) → softmax. */
function bnModel() {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [BLOB_FEATURES],
      units: 16,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(softmaxDense(BLOB_CLASSES, 3));
  return m;
}

test('weights (BatchNorm statistics included) and optimizer state are bit-identical afterwards: completed, cancelled, failed', async () => {
  const { rows, labels } = reluBlobs(96, 4);
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: BLOB_CLASSES, shuffleSeed: 5 });
  for (const kind of ['adamw', 'sgd'] as const) {
    const m = bnModel();
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind });
    const learner = new Learner(
      m,
      opt,
      [{ name: 'all', variables: m.trainableWeights }],
      [scheduleCallback(() => 1e-2)],
    );
    await learner.fit(1, data); // the optimizer now has state (slots and a step count) to preserve
    const tensors = tf.memory().numTensors;
    const weights = weightBytes(m);
    const state = optimizerBytes(opt);
    assert.ok(Object.keys(state.slots).length > 0 && state.step === 6);

    const check = (what: string) => {
      assertSameBytes(weights, weightBytes(m), `${kind}, ${what}`);
      assert.deepEqual(optimizerBytes(opt), state, `${kind}, ${what}: optimizer state`);
      assert.equal(tf.memory().numTensors, tensors, `${kind}, ${what}: tensors`);
    };
    let changed = 0;
    const watch = () => {
      const now = weightBytes(m);
      changed = Math.max(changed, now.filter((b, i) => !b.equals(weights[i]!)).length);
    };

    const done = await lrRangeTest(learner, data, { iters: 40, start: 1e-4, end: 100, onStep: watch });
    assert.equal(changed, weights.length, `${kind}: the test changed every weight while it ran`);
    assert.ok(done.lr.length > 0 && !done.cancelled);
    check('completed');

    let steps = 0;
    const cancelled = await lrRangeTest(learner, data, {
      iters: 40,
      shouldCancel: () => steps >= 5,
      onStep: () => steps++,
    });
    assert.ok(cancelled.cancelled && !cancelled.stoppedEarly);
    assert.equal(cancelled.lr.length, 5);
    check('cancelled');

    await assert.rejects(
      lrRangeTest(learner, data, {
        iters: 40,
        onStep: (i) => {
          if (i === 3) throw new Error('boom');
        },
      }),
      /boom/,
    );
    check('failed');

    // A loss that turns NaN mid-test stops it (stoppedEarly) and is undone too.
    const poisoned = rows.map((r, i) => (i === 50 ? r.map(() => NaN) : r));
    const nanData = new RowsDataSource(poisoned, labels, { batchSize: 16, numClasses: BLOB_CLASSES });
    const nan = await lrRangeTest(learner, nanData, { iters: 40, start: 1e-4, end: 1e-2 });
    assert.ok(nan.stoppedEarly && !Number.isFinite(nan.loss[nan.loss.length - 1]!));
    assert.equal(nan.lr.length, 4, 'the 4th batch holds the NaN row');
    check('NaN');
    opt.dispose();
    m.dispose();
  }
});

test('fewer batches than iters: the sweep loops over epochs and follows the schedule; linear mode; validation loss', async () => {
  const { rows, labels } = reluBlobs(48, 6);
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: BLOB_CLASSES, shuffleSeed: 1 });
  const valid = new RowsDataSource(rows.slice(0, 24), labels.slice(0, 24), { batchSize: 8, numClasses: BLOB_CLASSES });
  const m = blobSoftmaxHead();
  const opt = new Optimizer(DEFAULT_OPTIMIZER);
  const learner = new Learner(m, opt, [{ name: 'head', variables: m.trainableWeights }]);
  const tensors = tf.memory().numTensors;
  const seen: number[] = [];
  const r = await lrRangeTest(learner, data, {
    start: 1e-6,
    end: 1e-3,
    iters: 10,
    mode: 'linear',
    validation: valid,
    onStep: (i, lr, loss, smoothed) => {
      seen.push(i);
      assert.ok(Number.isFinite(loss) && Number.isFinite(smoothed) && lr > 0);
    },
  });
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(r.epochs, 4, '3 batches per epoch, 10 iterations');
  // Linear from 1e-6 to 1e-3 in 10 steps: (1e-3 - 1e-6) / 9 = 1.11e-4 apart.
  assertCloseAll(
    r.lr,
    [1e-6, 1.12e-4, 2.23e-4, 3.34e-4, 4.45e-4, 5.56e-4, 6.67e-4, 7.78e-4, 8.89e-4, 1e-3],
    'linear sweep',
  );
  assert.deepEqual(seen, [...Array(10).keys()]);
  assert.ok(!r.stoppedEarly && !r.cancelled);
  assert.equal(r.validLoss?.length, 10);
  assert.ok(r.validLoss!.every((v) => Number.isFinite(v) && v > 0));
  assert.equal(r.smoothedLoss.length, 10);
  // Too short a curve: no suggestions, and the rules say why.
  assert.equal(r.suggestions.valley, null);
  assert.match(r.rules.valley, /usable point/);
  opt.dispose();
  m.dispose();
});

test('group LR multipliers scale the swept LR per layer group (0 freezes a group)', async () => {
  const { rows, labels } = reluBlobs(48, 8);
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: BLOB_CLASSES, shuffleSeed: 1 });
  const m = tf.sequential();
  m.add(
    tf.layers.dense({ inputShape: [BLOB_FEATURES], units: 8, activation: 'relu', kernelInitializer: 'glorotUniform' }),
  );
  m.add(tf.layers.dense({ units: BLOB_CLASSES, activation: 'softmax' }));
  const body = m.layers[0]!;
  const head = m.layers[1]!;
  const opt = new Optimizer(DEFAULT_OPTIMIZER);
  const learner = new Learner(m, opt, [
    { name: 'body', variables: body.weights },
    { name: 'head', variables: head.weights },
  ]);
  const bodyBefore = body.weights.map((w) => tensorBytes(w.read()));
  const headBefore = head.weights.map((w) => tensorBytes(w.read()));
  let bodyMoved = false;
  let headMoved = false;
  await lrRangeTest(learner, data, {
    iters: 12,
    start: 1e-3,
    end: 1,
    groupLrMults: [0, 1],
    onStep: () => {
      bodyMoved ||= body.weights.some((w, i) => !tensorBytes(w.read()).equals(bodyBefore[i]!));
      headMoved ||= head.weights.some((w, i) => !tensorBytes(w.read()).equals(headBefore[i]!));
    },
  });
  assert.ok(!bodyMoved, 'multiplier 0: the body never moved');
  assert.ok(headMoved, 'multiplier 1: the head trained');
  assertSameBytes(
    headBefore,
    head.weights.map((w) => tensorBytes(w.read())),
    'head restored',
  );
  await assert.rejects(lrRangeTest(learner, data, { groupLrMults: [1] }), /groupLrMults has 1 entries for 2 groups/);
  await assert.rejects(lrRangeTest(learner, data, { start: 1, end: 0.5 }), /must be larger/);
  const empty = new RowsDataSource([], [], { batchSize: 4, numClasses: BLOB_CLASSES });
  await assert.rejects(lrRangeTest(learner, empty), /at least one batch/);
  opt.dispose();
  m.dispose();
});
