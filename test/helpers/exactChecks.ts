/**
 * Comparisons for the tests: weights bit for bit, numbers computed by another formula to rounding, and kernels'
 * outputs against a reference up to a share of the reference's largest magnitude.
 */
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

/**
 * Each value equal to its reference up to `rel` of the larger magnitude of the two (1e-12: rounding, for LRs computed
 * by another formula than the engine's; 1e-6: against PyTorch's float64 printed to 7 digits).
 */
export function assertCloseAll(actual: readonly number[], expected: readonly number[], what: string, rel = 1e-12) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.ok(Math.abs(a - e) <= rel * Math.max(Math.abs(a), Math.abs(e)) + 1e-15, `${what}[${i}]: ${a} vs ${e}`);
  });
}

/**
 * The largest difference from `expected` at most `tolerance` of the largest reference magnitude (kernels against
 * tfjs's stock ones: float32 sums in another order). An all-zero reference proves nothing and fails.
 */
export function assertCloseToScale(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  tolerance: number,
): void {
  assert.equal(actual.length, expected.length, what);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  }
  assert.ok(scale > 0, `${what}: the reference is all zeros, the check would prove nothing`);
  assert.ok(worst / scale <= tolerance, `${what}: max difference ${worst} is ${worst / scale} of the scale ${scale}`);
}
