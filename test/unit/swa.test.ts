/**
 * Stochastic weight averaging (core/recipe/swa.ts, swaStep.ts): averaging K saved model folders gives the
 * element-wise mean of their weights (checked against the raw bytes of each weights.bin, read here without tfjs),
 * leaves no tensors behind, refuses models that differ; and the BatchNorm recompute sets the running statistics to
 * the mean of the batch statistics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { saveModelToDir } from '../../src-main/core/model/modelFiles';
import { averageSavedWeightsInto, averageWeights } from '../../src-main/core/recipe/swa';
import { recomputeBatchNorm } from '../../src-main/core/recipe/swaStep';
import type { Batch, DataSource } from '../../src-main/core/train/learner';
import { mulberry32 } from '../../src-main/core/util/random';
import { recipeCommand } from '../../src-main/cli/recipeCommand';
import { swaLine } from '../../src-main/cli/runReport';
import { UsageError } from '../../src-main/cli/args';

await initBackend('wasm');
const work = mkdtempSync(join(tmpdir(), 'ft-swa-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

/** A small conv net with BatchNorm (the layer kinds the recipe's model has), weights drawn from `seed`. */
function convNet(seed: number, units = 3): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: 'conv' }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.globalAveragePooling2d({ name: 'pool' }));
  m.add(tf.layers.dense({ units, activation: 'softmax', name: 'head' }));
  const rand = mulberry32(seed);
  // Every weight random, BatchNorm's moving variance positive: the mean of each is then a real test.
  for (const v of m.weights) {
    const shape = v.shape.map((d) => d ?? 1);
    const size = shape.reduce((a, b) => a * b, 1);
    const positive = v.originalName.includes('variance');
    const values = Float32Array.from({ length: size }, () => (positive ? 0.5 + rand() : 2 * rand() - 1));
    const t = tf.tensor(values, shape);
    v.write(t);
    t.dispose();
  }
  return m;
}

/** A folder's weights from model.json's manifest and the raw float32 bytes of weights.bin (no tfjs decoding). */
function rawWeights(dir: string): Map<string, Float32Array> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    weightsManifest: Array<{ weights: Array<{ name: string; shape: number[]; dtype: string }> }>;
  };
  const bytes = readFileSync(join(dir, 'weights.bin'));
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Map<string, Float32Array>();
  let offset = 0;
  for (const w of json.weightsManifest[0]!.weights) {
    assert.equal(w.dtype, 'float32');
    const n = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, all.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

test('the average of K saved models is the element-wise mean of their weights, with no tensor left behind', async () => {
  const K = 3;
  const dirs: string[] = [];
  for (let k = 0; k < K; k++) {
    const m = convNet(10 + k);
    dirs.push(join(work, `snap-${k}`));
    await saveModelToDir(m, dirs[k]!);
    m.dispose();
  }
  const target = convNet(99);
  const before = tf.memory().numTensors;
  averageSavedWeightsInto(target, dirs);
  assert.equal(tf.memory().numTensors, before, 'numTensors unchanged');

  const raws = dirs.map(rawWeights);
  assert.equal(target.weights.length, raws[0]!.size);
  for (const v of target.weights) {
    const got = v.read().dataSync();
    const parts = raws.map((r) => r.get(v.originalName)!);
    assert.equal(got.length, parts[0]!.length, v.originalName);
    for (let i = 0; i < got.length; i++) {
      const mean = parts.reduce((s, p) => s + p[i]!, 0) / K;
      assert.ok(Math.abs(got[i]! - mean) <= 1e-6, `${v.originalName}[${i}]: ${got[i]} vs mean ${mean}`);
    }
    // Not just a copy of one snapshot.
    assert.ok(
      parts.every((p) => p.some((x, i) => Math.abs(x - got[i]!) > 1e-3)),
      `${v.originalName} is a mean`,
    );
  }
  target.dispose();
});

test('weights of different models are refused with the weight named; the pure mean leaks nothing', () => {
  const a = { w: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
  const b = { w: tf.tensor1d([3, 6]), b: tf.tensor1d([5]) };
  const before = tf.memory().numTensors;
  const mean = averageWeights([a, b]);
  assert.deepEqual(Array.from(mean.w!.dataSync()), [2, 4]);
  assert.deepEqual(Array.from(mean.b!.dataSync()), [4]);
  tf.dispose(mean);
  assert.equal(tf.memory().numTensors, before);
  const c = { w: tf.tensor1d([1, 2, 3]), b: tf.tensor1d([3]) };
  assert.throws(() => averageWeights([a, c]), /Weight w is \[3\] in set 1, \[2\] in the first/);
  const d = { v: tf.tensor1d([1, 2]), b: tf.tensor1d([3]) };
  assert.throws(() => averageWeights([a, d]), /set 1 has no weight w/);
  assert.throws(() => averageWeights([]), /at least one/);
  tf.dispose([a, b, c, d]);
});

/** Batches of the given [n, 8, 8, 3] images (labels unused by the recompute). */
function imageSource(batches: Float32Array[], n: number): DataSource {
  return {
    numItems: batches.length * n,
    numBatches: batches.length,
    async *batches(): AsyncIterable<Batch> {
      for (const b of batches) yield { x: tf.tensor4d(b, [n, 8, 8, 3]), y: tf.zeros([n, 3]) };
    },
  };
}

test("recomputing BatchNorm sets its running statistics to the mean of the micro-batches' statistics", async () => {
  const m = convNet(5);
  const rand = mulberry32(3);
  const n = 4;
  const batches = Array.from({ length: 3 }, () => Float32Array.from({ length: n * 8 * 8 * 3 }, () => rand() * 2));
  // Expected: the conv outputs of each micro-batch of 2 (inference-mode conv, no BN involved), their per-channel
  // mean and (biased) variance, averaged over the micro-batches.
  const conv = m.getLayer('conv');
  const stats = batches.flatMap((b) =>
    [0, 2].map((start) =>
      tf.tidy(() => {
        const x = tf.tensor4d(b, [n, 8, 8, 3]).slice(start, 2);
        const { mean, variance } = tf.moments(conv.apply(x) as tf.Tensor, [0, 1, 2]);
        return [Array.from(mean.dataSync()), Array.from(variance.dataSync())];
      }),
    ),
  );
  const avg = (j: number) => stats[0]![j]!.map((_, c) => stats.reduce((s, st) => s + st[j]![c]!, 0) / stats.length);
  const momentum = (m.getLayer('bn') as unknown as { momentum: number }).momentum;
  const before = tf.memory().numTensors;
  await recomputeBatchNorm(m, imageSource(batches, n), 2);
  assert.equal(tf.memory().numTensors, before, 'numTensors unchanged');
  const read = (name: string) =>
    Array.from(
      m.weights
        .find((v) => v.originalName === name)!
        .read()
        .dataSync(),
    );
  const close = (got: number[], want: number[], what: string) =>
    got.forEach((g, c) => assert.ok(Math.abs(g - want[c]!) < 1e-4, `${what}[${c}]: ${g} vs ${want[c]}`));
  close(read('bn/moving_mean'), avg(0), 'moving mean');
  close(read('bn/moving_variance'), avg(1), 'moving variance');
  assert.equal((m.getLayer('bn') as unknown as { momentum: number }).momentum, momentum, 'momentum restored');
  m.dispose();
});

test('the CLI checks --swa and --lr-find-on against the contract and names the flag', async () => {
  const io = { out: () => {}, err: () => {} };
  const run = (...flags: string[]) => recipeCommand([work, '--recipe', 'fastai8', ...flags], io);
  await assert.rejects(
    run('--swa', '1'),
    (e) => e instanceof UsageError && /--swa must be an integer >= 2/.test(e.message),
  );
  await assert.rejects(run('--swa', '2.5'), /--swa must be an integer >= 2 and <= 10, got "2.5"/);
  await assert.rejects(run('--lr-find-on', 'test'), /--lr-find-on must be train or valid, got "test"/);
  const line = swaLine({
    k: 3,
    snapshots: [],
    validLoss: 0.21,
    validAccuracy: 0.9333,
    bestValidLoss: 0.23,
    kept: true,
    batchNorm: 'unchanged',
  });
  assert.equal(line, 'SWA of the last 3 cycles: 93.3%, valid loss 0.2100: exported (the best checkpoint: 0.2300)');
});
