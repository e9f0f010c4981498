import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { seedDropout, setDropoutPosition } from '../../src-main/core/train/seededDropout';

function dropoutModel(): tf.LayersModel {
  const input = tf.input({ shape: [64] });
  const out = tf.layers.dropout({ rate: 0.5, name: 'head_dropout' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** The kept-unit pattern of `calls` training-mode passes over ones. */
function masks(model: tf.LayersModel, calls: number): number[][] {
  const x = tf.ones([2, 64]);
  const out: number[][] = [];
  for (let i = 0; i < calls; i++) {
    const y = model.apply(x, { training: true }) as tf.Tensor;
    out.push(Array.from(y.dataSync()));
    y.dispose();
  }
  x.dispose();
  return out;
}

test('seeded dropout repeats the same mask stream for the same seed, and differs per call and per seed', () => {
  const a = dropoutModel();
  const b = dropoutModel();
  const c = dropoutModel();
  seedDropout(a, 7);
  seedDropout(b, 7);
  seedDropout(c, 8);
  const ma = masks(a, 3);
  assert.deepEqual(ma, masks(b, 3));
  assert.notDeepEqual(ma[0], ma[1], 'each call draws a new mask');
  assert.notDeepEqual(ma[0], masks(c, 1)[0], 'another seed, another mask');
  // Inverted dropout at rate 0.5: kept units are scaled by 2, dropped are 0, roughly half of each.
  const kept = ma[0]!.filter((v) => v === 2).length;
  assert.equal(ma[0]!.filter((v) => v !== 0 && v !== 2).length, 0);
  assert.ok(kept > 32 && kept < 96, `kept ${kept} of 128`);
  [a, b, c].forEach((m) => m.dispose());
});

test('seeded dropout leaves inference and the saved config alone', () => {
  const m = dropoutModel();
  seedDropout(m, 1);
  const x = tf.randomNormal([3, 64], 0, 1, 'float32', 3);
  const y = m.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()));
  masks(m, 1);
  const layer = m.getLayer('head_dropout');
  assert.equal(layer.getClassName(), 'Dropout');
  assert.equal((layer.getConfig() as { seed?: number }).seed, undefined);
  tf.dispose([x, y]);
  m.dispose();
});

test('seeded dropout at a set position: the masks depend on the position, not on the calls made before it', () => {
  const a = dropoutModel();
  const b = dropoutModel();
  seedDropout(a, 7);
  seedDropout(b, 7);
  // `a` has trained before (another fit, earlier epochs); `b` is a fresh process resuming at the same batch.
  masks(a, 5);
  setDropoutPosition(a, 'step4-augment/2/1');
  setDropoutPosition(b, 'step4-augment/2/1');
  const resumed = masks(b, 2);
  assert.deepEqual(masks(a, 2), resumed, 'same position, same masks, whatever ran before');
  assert.notDeepEqual(resumed[0], resumed[1], 'each call at a position (a micro-batch) draws a new mask');
  setDropoutPosition(b, 'step4-augment/2/2');
  assert.notDeepEqual(masks(b, 1)[0], resumed[0], 'the next batch, another mask');
  setDropoutPosition(b, 'step3-head/2/1');
  assert.notDeepEqual(masks(b, 1)[0], resumed[0], 'another step at the same epoch and batch, another mask');
  [a, b].forEach((m) => m.dispose());
});
