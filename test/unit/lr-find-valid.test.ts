/**
 * The LR range test on the validation loss (fast.ai v0.7 `lr_find2`; lrRangeTest's `suggestFrom: 'valid'`) on real
 * images (generated shapes, 24 px): the validation loss after every step is recorded here on our own (a forward pass
 * and the cross-entropy in plain JS, from `onStep`, which runs after the step's update), matches what the test
 * records, and the suggestions are fastai's rules on that independent curve — not on the training curve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { makeShapeDataset } from '../helpers/images';
import { disposeLearner, wholeModelLearner } from '../helpers/learner';
import { initBackend } from '../../src-main/core/tf/backend';
import { scanDataset } from '../../src-main/core/data/dataset';
import { ImageDataSource } from '../../src-main/core/train/dataSources';
import { lrRangeTest } from '../../src-main/core/lrfind/lrRangeTest';
import { suggestLrs } from '../../src-main/core/lrfind/suggest';

await initBackend('wasm');
const dir = mkdtempSync(join(tmpdir(), 'ft-lrfind-valid-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const SIZE = 24;
await makeShapeDataset(dir, { perClass: 8, validPerClass: 4, size: SIZE, seed: 3 });
const ds = await scanDataset(dir, { seed: 1 });
const K = ds.classes.length;

function smallConvNet(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [SIZE, SIZE, 3], filters: 6, kernelSize: 3, activation: 'relu' }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(
    tf.layers.dense({ units: K, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  );
  return m;
}

test("suggestFrom 'valid': the suggestions are fastai's rules on the validation loss recorded after every step", async () => {
  const train = new ImageDataSource(ds.train, { size: SIZE, batchSize: 6, numClasses: K, shuffleSeed: 4 });
  const valid = new ImageDataSource(ds.valid, { size: SIZE, batchSize: 6, numClasses: K });
  // The validation images once, as one tensor, for our own loss after every step.
  const xs: tf.Tensor[] = [];
  const labels: number[] = [];
  for await (const b of valid.batches(0)) {
    xs.push(b.x);
    labels.push(...Array.from(tf.argMax(b.y, -1).dataSync()));
    b.y.dispose();
  }
  const validX = tf.concat(xs);
  tf.dispose(xs);
  const m = smallConvNet();
  const learner = wholeModelLearner(m, { group: 'all' });
  const ours: number[] = [];
  const before = tf.memory().numTensors;
  const r = await lrRangeTest(learner, train, {
    start: 1e-4,
    end: 10,
    iters: 30,
    validation: valid,
    suggestFrom: 'valid',
    onStep: () => {
      const probs = m.predict(validX) as tf.Tensor;
      const p = probs.dataSync();
      probs.dispose();
      const ce = labels.reduce((s, y, i) => s - Math.log(p[i * K + y]! + 1e-7), 0) / labels.length;
      ours.push(ce);
    },
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  assert.equal(r.curve, 'valid');
  assert.equal(r.validLoss?.length, r.lr.length);
  assert.equal(ours.length, r.lr.length);
  ours.forEach((v, i) => assert.ok(Math.abs(v - r.validLoss![i]!) < 1e-4, `step ${i}: ${r.validLoss![i]} vs ${v}`));

  const fromValid = suggestLrs(r.lr, ours, { numIt: 30 });
  const pick = (s: ReturnType<typeof suggestLrs>) => ({
    valley: s.valley?.lr ?? null,
    steep: s.steep?.lr ?? null,
    minDiv10: s.minDiv10?.lr ?? null,
  });
  assert.ok(fromValid.minDiv10 !== null, 'enough points for the rules');
  assert.deepEqual(r.suggestions, pick(fromValid), 'suggestions from the validation curve');
  assert.equal(r.minIndex, fromValid.minIndex);
  // The option matters: the training curve gives other suggestions on this run.
  assert.notDeepEqual(pick(suggestLrs(r.lr, r.smoothedLoss, { numIt: 30 })), r.suggestions, 'not the training curve');
  validX.dispose();
  disposeLearner(learner);
});

test("suggestFrom 'valid' without validation data is refused with the fix", async () => {
  const learner = wholeModelLearner(smallConvNet(), { group: 'all' });
  const train = new ImageDataSource(ds.train, { size: SIZE, batchSize: 6, numClasses: K });
  await assert.rejects(
    lrRangeTest(learner, train, { suggestFrom: 'valid' }),
    /need validation data: pass `validation`/,
  );
  disposeLearner(learner);
});
