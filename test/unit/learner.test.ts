import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { useStockGradients } from '../../src-main/core/tf/gradients';
import { Learner, type Callback } from '../../src-main/core/train/learner';
import { Optimizer, DEFAULT_OPTIMIZER } from '../../src-main/core/train/optimizers';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import {
  cancelCallback,
  nanGuardCallback,
  scheduleCallback,
  validationCallback,
} from '../../src-main/core/train/callbacks';
import { mulberry32 } from '../../src-main/core/util/random';
import { labelledRows, softmaxDense } from '../helpers/models';

await initBackend('auto');

/** Two Gaussian blobs in 8-d: linearly separable. */
function blobs(n: number, seed: number) {
  return labelledRows(n, 2, mulberry32(seed), (label, rand) =>
    Float32Array.from({ length: 8 }, (_, j) => (j < 4 ? (label ? 1 : -1) : 0) + (rand() - 0.5)),
  );
}

const model = () => tf.sequential({ layers: [softmaxDense(2, 1, [8])] });

test('the learner trains, validates and leaks no tensors across epochs', async () => {
  const { rows, labels } = blobs(64, 1);
  const train = new RowsDataSource(rows, labels, { batchSize: 8, numClasses: 2, shuffleSeed: 3 });
  const valid = new RowsDataSource(rows.slice(0, 16), labels.slice(0, 16), { batchSize: 8, numClasses: 2 });
  const m = model();
  const opt = new Optimizer(DEFAULT_OPTIMIZER);
  const counts: number[] = [];
  const leakWatch: Callback = { afterEpoch: () => void counts.push(tf.memory().numTensors) };
  const learner = new Learner(
    m,
    opt,
    [{ name: 'head', variables: m.trainableWeights }],
    [scheduleCallback(() => 0.05), validationCallback(valid), leakWatch],
  );
  const s = await learner.fit(5, train);
  assert.equal(s.iteration, 40);
  assert.ok(s.metrics.validAccuracy! >= 0.9, `accuracy ${s.metrics.validAccuracy}`);
  // After the first epoch the optimizer's state exists; from then on the count must not move.
  assert.deepEqual(
    counts.slice(1),
    counts.slice(1).map(() => counts[1]),
    `tensors per epoch: ${counts}`,
  );
  opt.dispose();
  m.dispose();
});

test('cancel stops within one batch; a NaN loss stops the fit as diverged', async () => {
  const { rows, labels } = blobs(64, 2);
  const train = new RowsDataSource(rows, labels, { batchSize: 8, numClasses: 2, shuffleSeed: 3 });
  const m = model();
  let batches = 0;
  const learner = new Learner(
    m,
    new Optimizer(DEFAULT_OPTIMIZER),
    [{ name: 'head', variables: m.trainableWeights }],
    [{ afterBatch: () => void batches++ }, cancelCallback(() => batches >= 3)],
  );
  const s = await learner.fit(10, train);
  assert.equal(s.stopReason, 'cancelled');
  assert.equal(batches, 3);

  // A loss that turns NaN (here from a corrupt feature row) stops the fit instead of training garbage.
  const poisoned = rows.map((r, i) => (i === 5 ? r.map(() => NaN) : r));
  const nanData = new RowsDataSource(poisoned, labels, { batchSize: 8, numClasses: 2 });
  const before = Array.from(m.getWeights()[0]!.dataSync());
  const bad = new Learner(
    m,
    new Optimizer(DEFAULT_OPTIMIZER),
    [{ name: 'head', variables: m.trainableWeights }],
    [scheduleCallback(() => 0.01), nanGuardCallback()],
  );
  const d = await bad.fit(10, nanData);
  assert.equal(d.stopReason, 'diverged');
  assert.equal(d.iteration, 1, 'stopped after the first batch');
  assert.deepEqual(Array.from(m.getWeights()[0]!.dataSync()), before, 'a NaN step is not applied');
  m.dispose();
});

const UPDATE_PATHS = [
  ['wasm', 'fused kernel'],
  ['wasm', 'tfjs ops'],
  ['cpu', 'fused kernel'],
] as const;

test('AdamW and SGD updates match their formulas: the fused kernel on wasm and cpu, and the tfjs ops', async () => {
  for (const [backend, path] of UPDATE_PATHS)
    for (const kind of ['sgd', 'adamw'] as const) {
      await tf.setBackend(backend);
      useStockGradients(path === 'tfjs ops');
      try {
        checkUpdate(kind, `${kind}, ${backend}, ${path}`);
      } finally {
        useStockGradients(false);
      }
    }
  await tf.setBackend('wasm');
});

test('the fused update is one kernel per variable', async () => {
  const vars = [tf.variable(tf.ones([3, 2])), tf.variable(tf.ones([5]))];
  const grads = Object.fromEntries(vars.map((v) => [v.name, tf.onesLike(v)]));
  for (const kind of ['sgd', 'adamw'] as const) {
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind });
    opt.apply(vars, grads, { lrOf: () => 0.1, momentum: 0.9 }); // creates the slots
    const { kernels } = await tf.profile(() => opt.apply(vars, grads, { lrOf: () => 0.1, momentum: 0.9 }));
    const names = kernels.map((k) => k.name);
    assert.equal(names.length, vars.length, `${kind}: ${names.join(', ')}`);
    opt.dispose();
  }
  tf.dispose([...vars, ...Object.values(grads)]);
});

function checkUpdate(kind: 'sgd' | 'adamw', what: string): void {
  {
    const v = tf.variable(tf.tensor1d([1, -2]), true, `w_${what.replace(/\W+/g, '_')}`);
    const opt = new Optimizer({ kind, momentum: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 });
    const g = tf.tensor1d([0.5, 0.25]);
    const before = tf.memory().numTensors;
    opt.apply([v], { [v.name]: g }, { lrOf: () => 0.1, momentum: 0.9 });
    const withSlots = tf.memory().numTensors;
    opt.apply([v], { [v.name]: g }, { lrOf: () => 0.1, momentum: 0.9 });
    assert.equal(tf.memory().numTensors, withSlots, `${what}: no tensors leak`);
    assert.equal(withSlots - before, kind === 'sgd' ? 1 : 2, `${what}: the slots`);
    const got = Array.from(v.dataSync());
    // Reference in plain numbers.
    const w = [1, -2];
    const gv = [0.5, 0.25];
    const m = [0, 0];
    const s2 = [0, 0];
    for (let t = 1; t <= 2; t++) {
      for (let i = 0; i < 2; i++) {
        const decayed = w[i]! * (1 - 0.1 * 0.1);
        if (kind === 'sgd') {
          m[i] = 0.9 * m[i]! + gv[i]!;
          w[i] = decayed - 0.1 * m[i]!;
        } else {
          m[i] = 0.9 * m[i]! + 0.1 * gv[i]!;
          s2[i] = 0.99 * s2[i]! + 0.01 * gv[i]! ** 2;
          const mh = m[i]! / (1 - 0.9 ** t);
          const sh = s2[i]! / (1 - 0.99 ** t);
          w[i] = decayed - (0.1 * mh) / (Math.sqrt(sh) + 1e-8);
        }
      }
    }
    got.forEach((x, i) => assert.ok(Math.abs(x - w[i]!) < 1e-5, `${what}: ${got} vs ${w}`));
    // State round-trips exactly.
    const state = opt.getState();
    const copy = new Optimizer(opt.config);
    copy.setState(state);
    assert.deepEqual(copy.getState(), state);
    copy.dispose();
    opt.dispose();
    g.dispose();
    v.dispose();
  }
}
