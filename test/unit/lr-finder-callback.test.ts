/**
 * Callback order in the Learner (fastai's `order`: lower first, ties in array order), stopping before a batch, and
 * the LR finder's callbacks on a plain `Learner.fit`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { sortCallbacks, type Callback } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from '../../src-main/core/train/optimizers';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import {
  cancelCallback,
  iterationLimitCallback,
  nanGuardCallback,
  reportingCallback,
  scheduleCallback,
  validationCallback,
} from '../../src-main/core/train/callbacks';
import { mulberry32 } from '../../src-main/core/util/random';
import { lrFinder } from '../../src-main/core/lrfind/lrFinderCallback';
import { lrRangeTest } from '../../src-main/core/lrfind/lrRangeTest';
import { lrRangeSchedule, smoothLosses } from '../../src-main/core/lrfind/suggest';
import { disposeLearner, wholeModelLearner } from '../helpers/learner';

await initBackend('auto');

const F = 6;
const K = 2;

function data(n: number, seed: number, batchSize = 8) {
  const rand = mulberry32(seed);
  const rows: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % K;
    rows.push(Float32Array.from({ length: F }, (_, j) => (j < 3 ? (c ? 1 : -1) : 0) + (rand() - 0.5)));
    labels.push(c);
  }
  return new RowsDataSource(rows, labels, { batchSize, numClasses: K, shuffleSeed: 1 });
}

function model() {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [F],
      units: K,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  return m;
}

const weights = (m: tf.LayersModel) => m.weights.map((w) => Array.from(w.read().dataSync()));

test('callbacks run by order, lower first; equal orders keep their array position', async () => {
  const trace: string[] = [];
  const cb = (name: string, order?: number): Callback => ({
    ...(order === undefined ? {} : { order }),
    beforeFit: () => void trace.push(`${name}.beforeFit`),
    afterBatch: () => void trace.push(`${name}.afterBatch`),
  });
  const list = [cb('late', 50), cb('a'), cb('early', -5), cb('b', 0), cb('c')];
  assert.deepEqual(
    sortCallbacks(list).map((c) => c.order ?? 0),
    [-5, 0, 0, 0, 50],
  );
  const learner = wholeModelLearner(model(), { callbacks: list });
  await learner.fit(1, data(8, 1));
  const order = ['early', 'a', 'b', 'c', 'late'];
  assert.deepEqual(trace, [...order.map((n) => `${n}.beforeFit`), ...order.map((n) => `${n}.afterBatch`)]);
  assert.equal(learner.callbacks[0]!.order, 50, 'the array itself is left as given');
  disposeLearner(learner);
});

test('the built-in callbacks behave the same in any array position', async () => {
  const train = data(48, 2);
  const valid = data(16, 3);
  const run = async (reverse: boolean, cancelAt: number) => {
    const events: string[] = [];
    let batches = 0;
    const counter: Callback = { afterBatch: () => void batches++ };
    const list: Callback[] = [
      scheduleCallback((i) => 0.01 * (i + 1)),
      iterationLimitCallback(10),
      cancelCallback(() => batches >= cancelAt),
      nanGuardCallback(),
      validationCallback(valid),
      { afterEpoch: (s) => void events.push(`tracker sees validLoss: ${s.metrics.validLoss !== undefined}`) },
      reportingCallback({
        batch: (b) => events.push(`batch ${b.iteration} lr ${b.lr.toFixed(2)} loss ${b.loss.toFixed(6)}`),
        epoch: (e) => events.push(`epoch ${e.epoch} valid ${e.validLoss.toFixed(6)}`),
      }),
    ];
    const learner = wholeModelLearner(model(), {
      // The batch counter must feed the cancel rule in both cases, as it did when it came first in the array.
      callbacks: reverse ? [...list.reverse(), counter] : [counter, ...list],
    });
    const s = await learner.fit(5, train);
    const out = { events, stopReason: s.stopReason, iteration: s.iteration, weights: weights(learner.model) };
    disposeLearner(learner);
    return out;
  };
  for (const cancelAt of [4, 100]) {
    const forward = await run(false, cancelAt);
    assert.deepEqual(await run(true, cancelAt), forward);
    assert.ok(!forward.events.includes('tracker sees validLoss: false'), 'validation runs before the tracker');
    // Cancelled within the first epoch: no epoch ends; 10 iterations of 6 per epoch: epochs 0 and 1 end.
    assert.equal(forward.events.filter((e) => e === 'tracker sees validLoss: true').length, cancelAt === 4 ? 0 : 2);
    assert.equal(forward.stopReason, cancelAt === 4 ? 'cancelled' : 'done');
    assert.equal(forward.iteration, cancelAt === 4 ? 4 : 10);
  }
});

test('a stop set before a batch skips it: no step, no afterBatch, no afterEpoch', async () => {
  const seen: string[] = [];
  let stopAt = Infinity;
  const learner = wholeModelLearner(model(), {
    callbacks: [
      scheduleCallback(() => 0.1),
      { beforeBatch: (s) => void (s.iteration === stopAt && (s.stopReason = 'cancelled')) },
      { afterBatch: (s) => void seen.push(`batch ${s.iteration}`), afterEpoch: () => void seen.push('epoch') },
    ],
  });
  const train = data(32, 4);
  await learner.fit(1, train); // the optimizer's state exists from here on
  seen.length = 0;
  stopAt = 2;
  const tensors = tf.memory().numTensors;
  const s = await learner.fit(3, train);
  assert.equal(s.stopReason, 'cancelled');
  assert.equal(s.iteration, 2);
  assert.deepEqual(seen, ['batch 0', 'batch 1']);
  assert.equal(tf.memory().numTensors, tensors, 'the skipped batch was disposed');
  // Batches 0 and 1 trained, batch 2 did not: the same weights as a fit limited to two iterations.
  const ref = wholeModelLearner(model(), { callbacks: [scheduleCallback(() => 0.1)] });
  await ref.fit(1, train);
  await ref.withCallbacks([scheduleCallback(() => 0.1), iterationLimitCallback(2)]).fit(3, train);
  assert.deepEqual(weights(learner.model), weights(ref.model));
  disposeLearner(ref);
  disposeLearner(learner);
});

test('withCallbacks: same model, optimizer and settings; only the given callbacks run', async () => {
  const m = model();
  let own = 0;
  const learner = wholeModelLearner(m, { callbacks: [{ afterBatch: () => void own++ }] });
  const opt = learner.optimizer;
  learner.microBatch = 4;
  learner.trainingMode = false;
  let other = 0;
  const copy = learner.withCallbacks([{ afterBatch: () => void other++ }]);
  assert.ok(copy.model === m && copy.optimizer === opt && copy.groups === learner.groups && copy.loss === learner.loss);
  assert.equal(copy.microBatch, 4);
  assert.equal(copy.trainingMode, false);
  await copy.fit(1, data(16, 5));
  assert.deepEqual([own, other], [0, 2]);
  disposeLearner(learner);
});

test('the LR finder on Learner.fit: follows the schedule, smooths with smoothLosses, stops on divergence', async () => {
  const train = data(24, 6);
  const schedule = lrRangeSchedule(1e-3, 1e4, 30, 'exp');
  const sgd: OptimizerConfig = { ...DEFAULT_OPTIMIZER, kind: 'sgd' };
  const learner = wholeModelLearner(model(), { optimizer: sgd });
  const initial = weights(learner.model);
  const steps: number[][] = [];
  const finder = lrFinder({ schedule, onStep: (i, lr, loss, smoothed) => void steps.push([i, lr, loss, smoothed]) });
  const s = await learner.withCallbacks(finder.callbacks).fit(Math.ceil(30 / train.numBatches), train, {
    totalIterations: 30,
  });
  const r = finder.record;
  assert.equal(s.stopReason, 'diverged');
  assert.ok(r.stoppedEarly && !r.cancelled);
  assert.ok(r.lr.length < 30);
  assert.equal(r.epochs, Math.ceil(r.lr.length / train.numBatches));
  assert.deepEqual(r.lr, schedule.slice(0, r.lr.length));
  assert.deepEqual(r.smoothedLoss, smoothLosses(r.loss));
  assert.deepEqual(
    steps,
    r.lr.map((lr, i) => [i, lr, r.loss[i], r.smoothedLoss[i]]),
  );
  const last = r.smoothedLoss[r.lr.length - 1]!;
  assert.ok(!Number.isFinite(last) || last > 4 * Math.min(...r.smoothedLoss), 'the last point diverged');

  // lrRangeTest is this fit plus the snapshot/restore: the same curve from the same initial weights.
  const second = wholeModelLearner(model(), { optimizer: sgd });
  assert.deepEqual(weights(second.model), initial);
  const again = await lrRangeTest(second, train, { start: 1e-3, end: 1e4, iters: 30 });
  assert.deepEqual(
    [again.lr, again.loss, again.smoothedLoss, again.stoppedEarly, again.epochs],
    [r.lr, r.loss, r.smoothedLoss, r.stoppedEarly, r.epochs],
  );
  assert.deepEqual(weights(second.model), initial, 'restored');
  disposeLearner(second);
  disposeLearner(learner);
});

test('the LR finder checks shouldCancel before every step', async () => {
  const learner = wholeModelLearner(model());
  const before = weights(learner.model);
  const never = lrFinder({ schedule: lrRangeSchedule(1e-4, 1, 10), shouldCancel: () => true });
  const s = await learner.withCallbacks(never.callbacks).fit(2, data(40, 7));
  assert.equal(s.stopReason, 'cancelled');
  assert.deepEqual([never.record.lr.length, never.record.epochs, never.record.cancelled], [0, 1, true]);
  assert.deepEqual(weights(learner.model), before, 'not a single step');
  disposeLearner(learner);
});
