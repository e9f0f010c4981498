// predict with batch norms folded into the convolutions and ReLU6 fused: the same features and probabilities as the
// layers run one by one, before and after the weights change (fine-tuning).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { buildClassifier, disposeClassifier } from '../../src-main/core/model/backbone';
import { useFoldedInference } from '../../src-main/core/model/foldedInference';

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < b.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return worst / scale;
}

const predictBoth = (m: tf.LayersModel, x: tf.Tensor, batchSize?: number) => {
  useFoldedInference(true);
  const folded = tf.tidy(() => (m.predict(x, { batchSize }) as tf.Tensor).dataSync() as Float32Array);
  useFoldedInference(false);
  const stock = tf.tidy(() => (m.predict(x, { batchSize }) as tf.Tensor).dataSync() as Float32Array);
  useFoldedInference(true);
  return { folded, stock };
};

before(async () => {
  await initBackend('wasm');
});

test('folded predict matches the layer-by-layer predict, features and probabilities, in batches', async () => {
  const atStart = tf.memory().numTensors;
  const clf = await buildClassifier({ size: 64, numClasses: 5, dropout: 0.2, seed: 3 });
  const x = tf.randomUniform([5, 64, 64, 3], 0, 1, 'float32', 7);
  const f = predictBoth(clf.features, x, 2);
  // The folded weights are kept (a filter and a bias per folded convolution), and reused while the weights stand.
  const kept = tf.memory().numTensors;
  const again = await tf.profile(() => clf.features.predict(x) as tf.Tensor);
  assert.ok(!again.kernelNames.includes('Rsqrt'), 'the second predict folded again');
  assert.ok(!again.kernelNames.includes('PadV2'), "the zero paddings are the convolutions' own");
  tf.dispose(again.result as tf.Tensor);
  assert.equal(f.folded.length, 5 * 1280);
  assert.ok(maxRelDiff(f.folded, f.stock) < 1e-4, `features differ by ${maxRelDiff(f.folded, f.stock)}`);
  const p = predictBoth(clf.model, x);
  assert.ok(maxRelDiff(p.folded, p.stock) < 1e-4, `probabilities differ by ${maxRelDiff(p.folded, p.stock)}`);
  assert.equal(tf.memory().numTensors, kept, 'no tensors leak');
  // Change every weight (as fine-tuning does, batch-norm statistics included): folding follows the current weights.
  const changed = clf.model.getWeights().map((w, i) => tf.tidy(() => tf.mul(w, 1 + 0.01 * ((i % 7) - 3))));
  clf.model.setWeights(changed);
  tf.dispose(changed); // the variables hold their own reference
  const g = predictBoth(clf.features, x);
  assert.ok(
    maxRelDiff(g.folded, g.stock) < 1e-4,
    `after the update, features differ by ${maxRelDiff(g.folded, g.stock)}`,
  );
  assert.ok(maxRelDiff(g.folded, f.folded) > 1e-3, 'the update changed the features');
  assert.equal(tf.memory().numTensors, kept, 'the folds of the old weights were freed');
  x.dispose();
  disposeClassifier(clf);
  assert.equal(tf.memory().numTensors, atStart, 'disposing the classifier frees its folds');
});

test('zero paddings folded into the convolutions where a stride-2 layer meets an odd size (84 px: 21 and 11 rows pad (1, 1), even ones (0, 1))', async () => {
  const clf = await buildClassifier({ size: 84, numClasses: 3, dropout: 0, seed: 5 });
  const x = tf.randomUniform([3, 84, 84, 3], 0, 1, 'float32', 11);
  const f = predictBoth(clf.features, x);
  assert.ok(maxRelDiff(f.folded, f.stock) < 1e-4, `features differ by ${maxRelDiff(f.folded, f.stock)}`);
  x.dispose();
  disposeClassifier(clf);
});
