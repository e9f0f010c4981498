/** Comparisons for the training tests: weights bit for bit, and numbers computed by another formula to rounding. */
import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';

/** A float32 tensor's bytes (a copy). */
export const tensorBytes = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).slice().buffer);

/** Every weight of `model` (BatchNorm statistics included) as bytes. */
export function weightBytes(model: tf.LayersModel): Buffer[] {
  return model.weights.map((w) => tensorBytes(w.read()));
}

export function assertSameBytes(before: Buffer[], after: Buffer[], what: string) {
  assert.equal(after.length, before.length, `${what}: number of weights`);
  before.forEach((b, i) => assert.ok(b.equals(after[i]!), `${what}: weight ${i} differs`));
}

/** Equal up to rounding (relative 1e-12): LRs computed by another formula than the engine's. */
export function assertCloseAll(actual: readonly number[], expected: readonly number[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) =>
    assert.ok(Math.abs(actual[i]! - e) <= 1e-12 * Math.abs(e), `${what}[${i}]: ${actual[i]} vs ${e}`),
  );
}
