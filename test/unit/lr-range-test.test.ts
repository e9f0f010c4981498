/**
 * The LR range test engine on small real problems whose good LR range is known: least squares with full-batch
 * gradient descent (stable exactly for lr < 2/λmax of the Hessian) and a softmax head trained with AdamW on
 * ReLU-like Gaussian-blob features (good range measured by training at fixed LRs). And: it leaves no trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { evaluate, Learner, type Batch, type DataSource, type LossFn } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerConfig } from '../../src-main/core/train/optimizers';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import { scheduleCallback } from '../../src-main/core/train/callbacks';
import { mulberry32, shuffled } from '../../src-main/core/util/random';
import { lrRangeTest, type LrRangeTestResult } from '../../src-main/core/lrfind/lrRangeTest';
import { labelledRows, softmaxDense } from '../helpers/models';

await initBackend('auto');

// ---------- least squares: y = x·w* + b + noise, 256 rows, 8 features of different scales ----------

const N = 256;
const D = 8;

function regressionData(seed: number) {
  const rand = mulberry32(seed);
  const scales = Array.from({ length: D }, (_, j) => 0.5 + (1.5 * j) / (D - 1));
  const x = Array.from({ length: N }, () => Float32Array.from(scales, (s) => s * (2 * rand() - 1)));
  const w = Array.from({ length: D }, () => 2 * rand() - 1);
  const y = x.map((row) => row.reduce((a, v, j) => a + v * w[j]!, 0.5) + 0.1 * (rand() + rand() + rand() - 1.5));
  return { x, y };
}

/** Rows with real-valued targets [n, 1]; batchSize N gives full-batch gradient descent. */
function regressionSource(x: Float32Array[], y: number[], batchSize: number): DataSource {
  return {
    numItems: x.length,
    numBatches: Math.ceil(x.length / batchSize),
    async *batches(epoch: number): AsyncIterable<Batch> {
      const order = shuffled([...x.keys()], mulberry32(100 + epoch));
      for (let s = 0; s < order.length; s += batchSize) {
        const ids = order.slice(s, s + batchSize);
        const flat = new Float32Array(ids.length * D);
        ids.forEach((id, i) => flat.set(x[id]!, i * D));
        const targets = ids.map((i) => y[i]!);
        yield { x: tf.tensor2d(flat, [ids.length, D]), y: tf.tensor2d(targets, [ids.length, 1]) };
      }
    },
  };
}

const mse: LossFn = (pred, y) => tf.tidy(() => tf.mean(tf.squaredDifference(pred, y)) as tf.Scalar);

/** Largest eigenvalue of the MSE Hessian (2/n)·AᵀA, A = [x 1], by power iteration. */
function hessianLambdaMax(x: Float32Array[]): number {
  const a = x.map((row) => [...row, 1]);
  const k = D + 1;
  const h = Array.from({ length: k }, (_, i) =>
    Array.from({ length: k }, (_, j) => (2 / a.length) * a.reduce((s, r) => s + r[i]! * r[j]!, 0)),
  );
  let v = new Array<number>(k).fill(1);
  let lambda = 0;
  for (let it = 0; it < 500; it++) {
    const w = h.map((row) => row.reduce((s, hij, j) => s + hij * v[j]!, 0));
    lambda = Math.hypot(...w);
    v = w.map((e) => e / lambda);
  }
  return lambda;
}

const PLAIN_GD: OptimizerConfig = { kind: 'sgd', momentum: 0, beta2: 0.99, eps: 1e-5, weightDecay: 0 };

function linearModel() {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [D], units: 1, kernelInitializer: 'zeros' }));
  return m;
}

/** Final loss of plain gradient descent at a fixed LR (full batch: one step per epoch). */
async function gdLoss(data: DataSource, lr: number, steps: number): Promise<number> {
  const m = linearModel();
  const opt = new Optimizer(PLAIN_GD);
  const learner = new Learner(
    m,
    opt,
    [{ name: 'all', variables: m.trainableWeights }],
    [scheduleCallback(() => lr)],
    mse,
  );
  const s = await learner.fit(steps, data, { momentum: 0 });
  opt.dispose();
  m.dispose();
  return s.lastLoss;
}

// ---------- byte-exact snapshots ----------

const bytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

function weightBytes(model: tf.LayersModel): Buffer[] {
  return model.weights.map((w) => bytes(w.read()));
}

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

function assertSameBytes(before: Buffer[], after: Buffer[], what: string) {
  assert.equal(after.length, before.length, `${what}: number of weights`);
  before.forEach((b, i) => assert.ok(b.equals(after[i]!), `${what}: weight ${i} differs`));
}

/** Equal up to rounding (relative 1e-12): LRs computed by another formula than the engine's. */
function assertCloseAll(actual: readonly number[], expected: readonly number[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) =>
    assert.ok(Math.abs(actual[i]! - e) <= 1e-12 * Math.abs(e), `${what}[${i}]: ${actual[i]} vs ${e}`),
  );
}

/** The swept LR at a curve index (e.g. the lowest smoothed loss). */
function lrAt(r: LrRangeTestResult, i: number | null): number {
  assert.ok(i !== null && i >= 0 && i < r.lr.length, `index ${i}`);
  return r.lr[i]!;
}

test('least squares, full-batch GD: the loss falls, diverges past 2/λmax, and every suggestion is stable', async () => {
  const { x, y } = regressionData(7);
  const data = regressionSource(x, y, N);
  const lrCrit = 2 / hessianLambdaMax(x); // GD on a quadratic converges iff lr < 2/λmax
  assert.ok(lrCrit > 0.5 && lrCrit < 1, `2/λmax = ${lrCrit}`);

  const m = linearModel();
  const opt = new Optimizer(PLAIN_GD);
  const learner = new Learner(m, opt, [{ name: 'all', variables: m.trainableWeights }], [], mse);
  const tensors = tf.memory().numTensors;
  const before = weightBytes(m);
  const r = await lrRangeTest(learner, data, { start: 1e-4, end: 10, iters: 100, momentum: 0 });

  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
  assertSameBytes(before, weightBytes(m), 'after the test');
  assert.equal(r.epochs, r.lr.length, 'one batch per epoch: the data was looped over');
  assert.ok(r.stoppedEarly && !r.cancelled, 'stopped on divergence');
  assert.ok(r.lr.length < 100, `${r.lr.length} steps`);
  // The exponential sweep from 1e-4 to 10 in 100 steps: five decades over 99 intervals, lr_i = 10^(-4 + 5i/99).
  assert.equal(r.lr[0], 1e-4);
  assertCloseAll(
    r.lr,
    r.lr.map((_, i) => 10 ** (-4 + (5 * i) / 99)),
    'exp sweep',
  );
  // Falls, then blows up: the last smoothed loss is over 4x the best one (or not finite), far past 2/λmax.
  const best = Math.min(...r.smoothedLoss.filter(Number.isFinite));
  assert.ok(best < 0.5 * r.smoothedLoss[0]!, `smoothed loss ${r.smoothedLoss[0]} → ${best}`);
  const last = r.smoothedLoss[r.lr.length - 1]!;
  assert.ok(!Number.isFinite(last) || last > 4 * best, `last smoothed loss ${last}, best ${best}`);
  assert.ok(r.lr[r.lr.length - 1]! > lrCrit, 'the divergence is in the unstable range');

  const lrMin = lrAt(r, r.minIndex);
  const { valley, steep, minDiv10 } = r.suggestions;
  for (const [name, lr] of Object.entries({ valley, steep, minDiv10 })) {
    assert.ok(lr !== null, `${name}: ${r.rules[name as keyof typeof r.rules]}`);
    assert.ok(lr >= r.lr[0]! && lr <= lrMin, `${name} ${lr} lies where the loss falls (up to ${lrMin})`);
    assert.ok(lr < lrCrit, `${name} ${lr} is a stable LR (< 2/λmax = ${lrCrit})`);
  }
  assert.ok(valley! < lrMin, 'valley is below the LR at the minimum');
  assert.match(r.rules.valley, /valley/);

  // The known good range, by training: GD at the valley LR converges, at 2.5 × (2/λmax) it diverges.
  const start = await gdLoss(data, 0, 1);
  const atValley = await gdLoss(data, valley!, 40);
  assert.ok(atValley < 0.25 * start, `GD at valley ${valley}: loss ${start} → ${atValley}`);
  const tooHigh = await gdLoss(data, 2.5 * lrCrit, 40);
  assert.ok(!(tooHigh < start), `GD at 2.5 × 2/λmax diverges: ${tooHigh}`);
  opt.dispose();
  m.dispose();
});

// ---------- softmax head on ReLU-like features (like pooled backbone activations) ----------

const K = 3;
const F = 64;

function reluBlobs(n: number, seed: number) {
  const rand = mulberry32(seed);
  const centers = Array.from({ length: K }, () => Float32Array.from({ length: F }, () => (rand() < 0.5 ? 0 : rand())));
  return labelledRows(n, K, rand, (c) =>
    Float32Array.from(centers[c]!, (v) => Math.max(0, v + 2 * (rand() + rand() + rand() - 1.5))),
  );
}

const softmaxHead = () => tf.sequential({ layers: [softmaxDense(K, 1, [F])] });

test('softmax head with AdamW: falls then blows up; valley and steep lie in the range where training works', async () => {
  const { rows, labels } = reluBlobs(256, 1);
  const data = new RowsDataSource(rows, labels, { batchSize: 64, numClasses: K, shuffleSeed: 3 });
  const m = softmaxHead();
  const opt = new Optimizer(DEFAULT_OPTIMIZER);
  const learner = new Learner(m, opt, [{ name: 'head', variables: m.trainableWeights }]);
  const tensors = tf.memory().numTensors;
  const r = await lrRangeTest(learner, data, { start: 1e-5, end: 1000, iters: 100 });
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
  assert.ok(r.stoppedEarly, 'stopped on divergence');
  const best = Math.min(...r.smoothedLoss);
  assert.ok(best < 0.8 * r.smoothedLoss[0]!, 'the loss falls');
  assert.ok(r.smoothedLoss[r.lr.length - 1]! > 4 * best, 'then blows up');
  const lrMin = lrAt(r, r.minIndex);
  const { valley, steep, minDiv10 } = r.suggestions;
  assert.ok(valley !== null && steep !== null && minDiv10 !== null, JSON.stringify(r.rules));
  assert.ok(valley < lrMin, `valley ${valley} < LR at the minimum ${lrMin}`);
  for (const lr of [valley, steep, minDiv10]) assert.ok(lr >= r.lr[0]! && lr <= lrMin, `${lr} in the falling range`);

  // Train fresh heads at fixed LRs for 2 epochs: the good range is where the loss at least halves.
  const grid = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1, 3];
  const initial = (await evaluate(m, data)).loss; // the model is back at its initial weights
  const good: boolean[] = [];
  for (const lr of grid) {
    const h = softmaxHead();
    const o = new Optimizer(DEFAULT_OPTIMIZER);
    const l = new Learner(h, o, [{ name: 'head', variables: h.trainableWeights }], [scheduleCallback(() => lr)]);
    good.push((await l.fit(2, data)).epochLoss < 0.5 * initial);
    o.dispose();
    h.dispose();
  }
  const first = good.indexOf(true);
  const lastGood = good.lastIndexOf(true);
  assert.ok(first > 0 && lastGood < grid.length - 1, `good LRs: ${grid.filter((_, i) => good[i])}`);
  // Bracketed by the neighbouring grid LRs where training does not work.
  const [lo, hi] = [grid[first - 1]!, grid[lastGood + 1]!];
  assert.ok(valley > lo && valley < hi, `valley ${valley} in (${lo}, ${hi})`);
  assert.ok(steep > lo && steep < hi, `steep ${steep} in (${lo}, ${hi})`);
  opt.dispose();
  m.dispose();
});

// ---------- no trace: bit-identical weights and optimizer state ----------

/** Dense → BatchNorm (its moving statistics change in training mode) → softmax. */
function bnModel() {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [F],
      units: 16,
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
    }),
  );
  m.add(tf.layers.batchNormalization());
  m.add(softmaxDense(K, 3));
  return m;
}

test('weights (BatchNorm statistics included) and optimizer state are bit-identical afterwards: completed, cancelled, failed', async () => {
  const { rows, labels } = reluBlobs(96, 4);
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: K, shuffleSeed: 5 });
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
    const nanData = new RowsDataSource(poisoned, labels, { batchSize: 16, numClasses: K });
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
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: K, shuffleSeed: 1 });
  const valid = new RowsDataSource(rows.slice(0, 24), labels.slice(0, 24), { batchSize: 8, numClasses: K });
  const m = softmaxHead();
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
  const data = new RowsDataSource(rows, labels, { batchSize: 16, numClasses: K, shuffleSeed: 1 });
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [F], units: 8, activation: 'relu', kernelInitializer: 'glorotUniform' }));
  m.add(tf.layers.dense({ units: K, activation: 'softmax' }));
  const body = m.layers[0]!;
  const head = m.layers[1]!;
  const opt = new Optimizer(DEFAULT_OPTIMIZER);
  const learner = new Learner(m, opt, [
    { name: 'body', variables: body.weights },
    { name: 'head', variables: head.weights },
  ]);
  const bodyBefore = body.weights.map((w) => bytes(w.read()));
  const headBefore = head.weights.map((w) => bytes(w.read()));
  let bodyMoved = false;
  let headMoved = false;
  await lrRangeTest(learner, data, {
    iters: 12,
    start: 1e-3,
    end: 1,
    groupLrMults: [0, 1],
    onStep: () => {
      bodyMoved ||= body.weights.some((w, i) => !bytes(w.read()).equals(bodyBefore[i]!));
      headMoved ||= head.weights.some((w, i) => !bytes(w.read()).equals(headBefore[i]!));
    },
  });
  assert.ok(!bodyMoved, 'multiplier 0: the body never moved');
  assert.ok(headMoved, 'multiplier 1: the head trained');
  assertSameBytes(
    headBefore,
    head.weights.map((w) => bytes(w.read())),
    'head restored',
  );
  await assert.rejects(lrRangeTest(learner, data, { groupLrMults: [1] }), /groupLrMults has 1 entries for 2 groups/);
  await assert.rejects(lrRangeTest(learner, data, { start: 1, end: 0.5 }), /must be larger/);
  const empty = new RowsDataSource([], [], { batchSize: 4, numClasses: K });
  await assert.rejects(lrRangeTest(learner, empty), /at least one batch/);
  opt.dispose();
  m.dispose();
});
