import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { Learner, type FitState } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../src-main/core/train/optimizers';

await initBackend('auto');

function model() {
  const m = tf.sequential();
  m.add(
    tf.layers.dense({
      inputShape: [4],
      units: 3,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    }),
  );
  return m;
}

test('gradient accumulation over micro-batches gives the same step as the whole batch, without leaks', () => {
  const x = tf.randomUniform([8, 4], -1, 1, 'float32', 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  const s = { lr: 0.1, momentum: 0.9, groupLrMults: [1] } as FitState;
  const results = [Infinity, 3].map((micro) => {
    const m = model();
    const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: 'sgd' });
    const l = new Learner(m, opt, [{ name: 'all', variables: m.trainableWeights }]);
    l.microBatch = micro;
    const before = tf.memory().numTensors;
    const loss = l.trainStep({ x, y }, s);
    const leaked = tf.memory().numTensors - before;
    const w = m.getWeights().map((t) => t.dataSync().slice());
    opt.dispose();
    m.dispose();
    return { loss, w, leaked };
  });
  assert.ok(Math.abs(results[0]!.loss - results[1]!.loss) < 1e-6);
  results[0]!.w.forEach((a, i) => a.forEach((v, j) => assert.ok(Math.abs(v - results[1]!.w[i]![j]!) < 1e-6)));
  // The first step creates one momentum slot per variable (2); nothing else may stay.
  assert.equal(results[1]!.leaked, results[0]!.leaked);
  tf.dispose([x, y]);
});
