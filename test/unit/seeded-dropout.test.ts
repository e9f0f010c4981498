import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { seedDropout } from '../../src-main/core/train/seededDropout';

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
