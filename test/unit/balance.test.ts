import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import { crossEntropy } from '../../src-main/core/train/learner';
import { lossForBalance } from '../../src-main/core/train/imbalance';

await initBackend('auto');

test('the balanced sampler shows every class equally often per epoch; plain shuffling keeps the imbalance', async () => {
  const labels = [...new Array(18).fill(0), ...new Array(3).fill(1), ...new Array(3).fill(2)] as number[];
  const rows = labels.map((l) => Float32Array.of(l));
  const count = async (balanced: boolean) => {
    const src = new RowsDataSource(rows, labels, { batchSize: 5, numClasses: 3, shuffleSeed: 1, balanced });
    const seen = [0, 0, 0];
    for await (const b of src.batches(0)) {
      for (const r of (await b.y.argMax(-1).array()) as number[]) seen[r]!++;
      tf.dispose([b.x, b.y]);
    }
    return seen;
  };
  assert.deepEqual(await count(false), [18, 3, 3]);
  const balanced = await count(true);
  assert.equal(
    balanced.reduce((a, b) => a + b, 0),
    24,
  );
  for (const n of balanced) assert.ok(Math.abs(n - 8) <= 1, `balanced counts ${balanced}`);
});

test("'weights' up-weights the rare classes; 'none' and 'sampler' keep plain cross-entropy", () => {
  const labels = [0, 0, 0, 1];
  assert.equal(lossForBalance('none', labels, 2), crossEntropy);
  assert.equal(lossForBalance('sampler', labels, 2), crossEntropy);
  const weighted = lossForBalance('weights', labels, 2);
  // The same wrong-ish prediction costs more on the rare class than on the common one.
  const probs = tf.tensor2d([[0.7, 0.3]]);
  const rare = weighted(probs, tf.tensor2d([[0, 1]])).dataSync()[0]!;
  const plainRare = crossEntropy(probs, tf.tensor2d([[0, 1]])).dataSync()[0]!;
  assert.ok(Math.abs(rare - plainRare) < 1e-5, 'one example: normalised by its own weight');
  // Two rows with the same prediction: one of the common class 0, one of the rare class 1.
  const batch = tf.tensor2d([0.7, 0.3, 0.7, 0.3], [2, 2]);
  const y = tf.tensor2d([1, 0, 0, 1], [2, 2]);
  assert.ok(weighted(batch, y).dataSync()[0]! > crossEntropy(batch, y).dataSync()[0]!, 'the rare mistake weighs more');
});
