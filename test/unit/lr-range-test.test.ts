/**
 * The LR range test engine on small real problems whose good LR range is known: least squares with full-batch
 * gradient descent (stable exactly for lr < 2/λmax of the Hessian) and a softmax head trained with AdamW on
 * ReLU-like Gaussian-blob features (good range measured by training at fixed LRs). That it leaves no trace, and the
 * sweep's options, are in lr-range-test-mechanics.test.ts.
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
import { BLOB_CLASSES, blobSoftmaxHead, reluBlobs } from '../helpers/models';
import { assertCloseAll, assertSameBytes, weightBytes } from '../helpers/exactChecks';

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

// ---------- softmax head on ReLU-like features (like pooled backbone activations: helpers/models.ts) ----------

test('softmax head with AdamW: falls then blows up; valley and steep lie in the range where training works', async () => {
  const { rows, labels } = reluBlobs(256, 1);
  const data = new RowsDataSource(rows, labels, { batchSize: 64, numClasses: BLOB_CLASSES, shuffleSeed: 3 });
  const m = blobSoftmaxHead();
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
    const h = blobSoftmaxHead();
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
