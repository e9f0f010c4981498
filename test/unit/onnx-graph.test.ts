/**
 * The ONNX graph writer on small real tfjs models (no training): every layer kind it translates — Rescaling, convolutions with
 * a folded batch norm or their own relu, depthwise with a multiplier, 'same' padding at odd sizes and strides,
 * ZeroPadding2D, Add, a standalone batch norm, Flatten of a feature map, Dense + softmax — gives tfjs's probabilities
 * in onnxruntime-node; an ensemble's graph is the mean of its members; a layer it cannot write is named in a typed
 * error; and onnxSchema.ts is what scripts/gen-onnx-schema.mjs makes of the vendored onnx.proto.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { onnxModel } from '../../src-main/core/export/onnx/onnxModel';
import { OnnxUnsupportedError } from '../../src-main/core/export/onnx/classifierGraph';
import { preprocessingFor } from '../../src-main/core/export/preprocessing';
import { decodeOnnx } from '../../src-main/core/export/onnx/onnxGraph';
// @ts-expect-error: a plain .mjs script without types
import { onnxSchemaSource } from '../../scripts/gen-onnx-schema.mjs';

await tf.setBackend('cpu');

/** Randomised weights everywhere (batch norm statistics included) so that folding mistakes show. */
function randomise(model: tf.LayersModel, seed: number): void {
  for (const [i, w] of model.weights.entries()) {
    const isVariance = w.name.includes('moving_variance');
    const v = tf.randomUniform(
      w.shape as number[],
      isVariance ? 0.5 : -0.5,
      isVariance ? 1.5 : 0.5,
      'float32',
      seed + i,
    );
    w.write(v);
    v.dispose();
  }
}

function model(size: number, seed: number, withHeadFlatten = false): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3] });
  let x = tf.layers.rescaling({ scale: 2, offset: -1 }).apply(input);
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }).apply(x);
  x = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [1, 0],
      ],
    })
    .apply(x);
  x = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'valid', useBias: false }).apply(x);
  x = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x);
  x = tf.layers.reLU({ maxValue: 6 }).apply(x);
  const branch = tf.layers.conv2d({ filters: 12, kernelSize: 1, padding: 'same', useBias: false }).apply(x);
  const bn = tf.layers.batchNormalization().apply(branch);
  x = tf.layers.add().apply([x as tf.SymbolicTensor, bn as tf.SymbolicTensor]);
  x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, dilationRate: 1, padding: 'same' }).apply(x);
  x = tf.layers.batchNormalization().apply(tf.layers.reLU().apply(x));
  x = withHeadFlatten ? tf.layers.flatten().apply(x) : tf.layers.globalAveragePooling2d({}).apply(x);
  x = tf.layers.dropout({ rate: 0.3 }).apply(x);
  const out = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  randomise(m, seed);
  return m;
}

async function runOnnx(bytes: Uint8Array, x: tf.Tensor4D, level: 'all' | 'disabled'): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level });
  const out = await session.run({ image: new ort.Tensor('float32', x.dataSync() as Float32Array, x.shape) });
  await session.release();
  return out.probabilities!.data as Float32Array;
}

const meta = (size: number) => ({
  labels: ['a', 'b', 'c', 'd'],
  preprocessing: preprocessingFor(size),
  appVersion: 'test',
  runId: 1,
});

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('every translated layer kind gives tfjs’s probabilities, at odd and even sizes', async () => {
  for (const [size, flatten] of [
    [33, false],
    [32, true],
    [29, false],
  ] as const) {
    const m = model(size, size, flatten);
    const x = tf.randomUniform([3, size, size, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    const expected = (m.predict(x) as tf.Tensor).dataSync();
    const { bytes, description } = onnxModel([m], meta(size));
    assert.ok(description.ops.includes('Clip') && description.ops.includes('Pad'));
    for (const level of ['all', 'disabled'] as const) {
      const got = await runOnnx(bytes, x, level);
      assert.ok(maxDiff(got, expected) < 1e-5, `size ${size}, ${level}: ${maxDiff(got, expected)}`);
    }
    // No BatchNormalization node: folded into the convolutions (the standalone one after a ReLU as Mul + Add).
    const nodes = (decodeOnnx(bytes) as { graph: { node: Array<{ opType: string }> } }).graph.node;
    assert.ok(!nodes.some((n) => n.opType === 'BatchNormalization'));
    assert.equal(nodes.filter((n) => n.opType === 'Mul').length, 2, 'the Rescaling and the standalone batch norm');
    m.dispose();
  }
});

test("an ensemble's graph is the mean of its members' probabilities", async () => {
  const members = [model(32, 1), model(32, 2), model(32, 3)];
  const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const expected = tf.tidy(() =>
    tf
      .addN(members.map((m) => m.predict(x) as tf.Tensor))
      .div(3)
      .dataSync(),
  );
  const { bytes, description } = onnxModel(members, meta(32));
  assert.equal(description.combine, 'mean of the members’ probabilities');
  assert.ok(maxDiff(await runOnnx(bytes, x, 'all'), expected) < 1e-5);
});

test('a layer without a translation is named in an OnnxUnsupportedError', () => {
  const input = tf.input({ shape: [16, 16, 3] });
  const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: 'the_pool' }).apply(input);
  const x = tf.layers.globalAveragePooling2d({}).apply(pooled);
  const out = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(x) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out });
  assert.throws(
    () => onnxModel([m], { ...meta(16), labels: ['a', 'b'] }),
    (err: unknown) => err instanceof OnnxUnsupportedError && /layer "the_pool" \(MaxPooling2D\)/.test(err.message),
  );
});

test('onnxSchema.ts is up to date with resources/onnx/onnx.proto', () => {
  const committed = readFileSync(new URL('../../src-main/core/export/onnx/onnxSchema.ts', import.meta.url), 'utf8');
  assert.equal(committed, onnxSchemaSource(), 'run: node scripts/gen-onnx-schema.mjs');
});
