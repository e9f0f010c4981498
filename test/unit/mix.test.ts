/**
 * Mixup and cutmix (core/train/mix.ts) on real images (Fashion-MNIST, 10 classes × 3 at 32 px): the mixed batch is
 * exactly the convex combination (or box paste) of the two source images, with targets that sum to 1 and carry λ
 * (or the box's share); a seed repeats the batches; the recipe's validation images are never mixed; no tensor leaks.
 * And the losses take soft targets as fastai's MixUp does: λ·CE(a) + (1 − λ)·CE(b).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFashionMnist } from '../../scripts/fashion-mnist';
import { initBackend } from '../../src-main/core/tf/backend';
import { scanDataset } from '../../src-main/core/data/dataset';
import { ImageDataSource } from '../../src-main/core/train/dataSources';
import { crossEntropy, type DataSource } from '../../src-main/core/train/learner';
import { weightedCrossEntropy } from '../../src-main/core/train/imbalance';
import { MixSource, mixPlanFor, sampleBeta, type MixKind, type MixPlan } from '../../src-main/core/train/mix';
import { augmentedSource, mixedAugmentedSource, validImagesSource } from '../../src-main/core/recipe/session';
import type { RecipeSession } from '../../src-main/core/recipe/session';
import { type RecipeConfig } from '../../src-main/core/recipe/types';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { mulberry32, subSeed } from '../../src-main/core/util/random';
import { mixOption, recipeCommand } from '../../src-main/cli/recipeCommand';
import { UsageError } from '../../src-main/cli/args';

await initBackend('wasm');

const dir = mkdtempSync(join(tmpdir(), 'ft-mix-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
await writeFashionMnist(dir, 3, 2);
const ds = await scanDataset(dir, { seed: 1 });
const SIZE = 32;
const opts = { batchSize: 8, numClasses: ds.classes.length, size: SIZE, shuffleSeed: 5 };
const images = () => new ImageDataSource(ds.train, opts);

interface Arrays {
  x: Float32Array;
  y: Float32Array;
  shape: number[];
}

/** Every batch of one epoch as arrays; disposes as it goes. */
async function epochData(src: DataSource, epoch: number): Promise<Arrays[]> {
  const out: Arrays[] = [];
  for await (const b of src.batches(epoch)) {
    out.push({ x: b.x.dataSync() as Float32Array, y: b.y.dataSync() as Float32Array, shape: b.x.shape });
    tf.dispose([b.x, b.y]);
  }
  return out;
}

/** The plans MixSource draws for an epoch: the documented stream, subSeed(seed, 'mix' + epoch), batch after batch. */
function plansFor(kind: MixKind, alpha: number, seed: number, epoch: number, shapes: number[][]): MixPlan[] {
  const rand = mulberry32(subSeed(seed, `mix${epoch}`));
  return shapes.map((shape) => mixPlanFor(kind, shape, alpha, rand));
}

const K = ds.classes.length;
const row = (y: Float32Array, i: number) => Array.from(y.subarray(i * K, (i + 1) * K));
const labelOf = (y: Float32Array, i: number) => row(y, i).indexOf(1);

test('Beta(α, α) samples: in [0, 1], mean 1/2, variance 1 / (4(2α + 1)); finite for tiny α', () => {
  for (const alpha of [0.2, 0.4, 1, 4]) {
    const rand = mulberry32(alpha * 1000);
    const xs = Array.from({ length: 20000 }, () => sampleBeta(alpha, alpha, rand));
    assert.ok(
      xs.every((x) => x >= 0 && x <= 1),
      `α=${alpha}: out of [0, 1]`,
    );
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length;
    const want = 1 / (4 * (2 * alpha + 1));
    assert.ok(Math.abs(mean - 0.5) < 0.01, `α=${alpha}: mean ${mean}`);
    assert.ok(Math.abs(variance - want) < 0.06 * want, `α=${alpha}: variance ${variance}, want ${want}`);
  }
  const rand = mulberry32(3);
  assert.ok(Array.from({ length: 1000 }, () => sampleBeta(0.01, 0.01, rand)).every((x) => x >= 0 && x <= 1));
  assert.throws(() => sampleBeta(0, 1, rand), /must be > 0/);
});

/** One epoch of the images as they are and mixed, with the plans that say how each batch was mixed. */
async function mixedEpoch(kind: MixKind, alpha: number, seed: number, epoch: number) {
  const plain = await epochData(images(), epoch);
  const mixed = await epochData(new MixSource(images(), { kind, alpha, seed }), epoch);
  const plans = plansFor(
    kind,
    alpha,
    seed,
    epoch,
    plain.map((b) => b.shape),
  );
  return { plain, mixed, plans };
}

test('mixup: each image is λ·itself + (1 − λ)·its partner, targets λ·own + (1 − λ)·partner, λ ≥ 1/2', async () => {
  const seed = 17;
  const { plain, mixed, plans } = await mixedEpoch('mixup', 0.4, seed, 0);
  assert.equal(mixed.length, plain.length);
  let mixedPairs = 0;
  plain.forEach((src, b) => {
    const { perm, lambdas } = plans[b]!;
    const n = src.shape[0]!;
    const pixels = src.x.length / n;
    assert.deepEqual(
      [...perm].sort((p, q) => p - q),
      [...Array(n).keys()],
      'perm is a permutation',
    );
    for (let i = 0; i < n; i++) {
      const l = lambdas[i]!;
      const j = perm[i]!;
      assert.ok(l >= 0.5 && l <= 1, `λ ${l}`);
      for (let p = 0; p < pixels; p++) {
        const want = l * src.x[i * pixels + p]! + (1 - l) * src.x[j * pixels + p]!;
        assert.ok(Math.abs(mixed[b]!.x[i * pixels + p]! - want) < 1e-6, `batch ${b} item ${i} pixel ${p}`);
      }
      const y = row(mixed[b]!.y, i);
      assert.ok(Math.abs(y.reduce((a, v) => a + v, 0) - 1) < 1e-6, 'targets sum to 1');
      const [own, partner] = [labelOf(src.y, i), labelOf(src.y, j)];
      if (own !== partner) {
        mixedPairs++;
        assert.ok(Math.abs(y[own]! - l) < 1e-6 && Math.abs(y[partner]! - (1 - l)) < 1e-6, `targets ${y}`);
      } else assert.ok(Math.abs(y[own]! - 1) < 1e-6);
    }
  });
  assert.ok(mixedPairs > 10, `only ${mixedPairs} items mixed with another class`);
});

test('cutmix: a box of the partner pasted exactly, the rest untouched, targets by the box area', async () => {
  const seed = 23;
  const { plain, mixed, plans } = await mixedEpoch('cutmix', 1, seed, 1);
  let pasted = 0;
  plain.forEach((src, b) => {
    const { perm, lambdas, box } = plans[b]!;
    assert.ok(box, 'cutmix has a box');
    const area = box.height * box.width;
    const n = src.shape[0]!;
    for (let i = 0; i < n; i++) {
      const j = perm[i]!;
      assert.ok(Math.abs(lambdas[i]! - (1 - area / (SIZE * SIZE))) < 1e-12, 'λ = 1 − box share');
      for (let r = 0; r < SIZE; r++)
        for (let c = 0; c < SIZE; c++) {
          const inside: boolean = r >= box.top && r < box.top + box.height && c >= box.left && c < box.left + box.width;
          for (let ch = 0; ch < 3; ch++) {
            const at = (r * SIZE + c) * 3 + ch;
            const from: number = inside ? j : i;
            assert.equal(
              mixed[b]!.x[i * SIZE * SIZE * 3 + at],
              src.x[from * SIZE * SIZE * 3 + at],
              `${b}/${i} ${r},${c}`,
            );
          }
        }
      const y = row(mixed[b]!.y, i);
      assert.ok(Math.abs(y.reduce((a, v) => a + v, 0) - 1) < 1e-6, 'targets sum to 1');
      const [own, partner] = [labelOf(src.y, i), labelOf(src.y, j)];
      if (own !== partner) assert.ok(Math.abs(y[partner]! - area / (SIZE * SIZE)) < 1e-6, `targets ${y}`);
    }
    if (area > 0) pasted++;
  });
  assert.ok(pasted > 0, 'some batch got a box');
});

test('the same seed gives the same mixed batches, every epoch; another seed does not', async () => {
  for (const kind of ['mixup', 'cutmix'] as const) {
    const make = (seed: number) => new MixSource(images(), { kind, alpha: 0.4, seed });
    const a = make(3);
    const first = [await epochData(a, 0), await epochData(a, 1)];
    // A fresh source that starts at epoch 1 (a resumed run) mixes epoch 1 the same.
    assert.deepEqual(await epochData(make(3), 1), first[1], `${kind}: epoch 1 on its own`);
    assert.deepEqual(await epochData(make(3), 0), first[0], `${kind}: epoch 0 again`);
    assert.notDeepEqual(await epochData(make(4), 0), first[0], `${kind}: another seed`);
  }
});

test('no tensor leaks: numTensors is the same after every epoch, and after an epoch abandoned midway', async () => {
  const src = new MixSource(images(), { kind: 'cutmix', alpha: 1, seed: 1 });
  const counts: number[] = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    await epochData(src, epoch);
    counts.push(tf.memory().numTensors);
  }
  for await (const b of src.batches(3)) {
    tf.dispose([b.x, b.y]);
    break;
  }
  counts.push(tf.memory().numTensors);
  assert.ok(
    counts.every((c) => c === counts[0]),
    counts.join(', '),
  );
});

/** Only what the session's data sources read: the dataset, the config and the classifier's input size. */
function session(mix: RecipeConfig['mix']): RecipeSession {
  const config: RecipeConfig = { ...DEFAULT_RECIPE_CONFIG, dir, size: SIZE, batchSize: 8, mix };
  return { ds, state: { config }, clf: { size: SIZE } } as unknown as RecipeSession;
}

test('the recipe mixes its training images when asked, and never its validation images', async () => {
  const isOneHot = (y: Float32Array) => y.every((v) => v === 0 || v === 1);
  const on = session({ kind: 'mixup', alpha: 0.4 });
  const off = session(null);
  const train = await epochData(mixedAugmentedSource(on), 0);
  assert.ok(!train.every((b) => isOneHot(b.y)), 'mixup on: soft targets in the training batches');
  assert.deepEqual(await epochData(mixedAugmentedSource(off), 0), await epochData(augmentedSource(off), 0), 'off');
  const valid = await epochData(validImagesSource(on), 0);
  assert.deepEqual(valid, await epochData(validImagesSource(off), 0), 'validation is the same with mixup on');
  assert.deepEqual(
    valid,
    await epochData(new ImageDataSource(ds.valid, { ...opts, shuffleSeed: undefined }), 0),
    'and is the plain images',
  );
  assert.ok(valid.every((b) => isOneHot(b.y)));
});

test('losses take soft targets: λ·CE(a) + (1 − λ)·CE(b); one-hot targets give −log(p_y + ε) exactly', () => {
  const probs = tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.1, 0.3, 0.6],
  ]);
  const a = tf.tensor2d([
    [1, 0, 0],
    [0, 0, 1],
  ]);
  const b = tf.tensor2d([
    [0, 1, 0],
    [1, 0, 0],
  ]);
  const lam = 0.7;
  const soft = tf.add(tf.mul(a, lam), tf.mul(b, 1 - lam));
  const value = (t: tf.Scalar) => t.dataSync()[0]!;
  const want = lam * value(crossEntropy(probs, a)) + (1 - lam) * value(crossEntropy(probs, b));
  assert.ok(Math.abs(value(crossEntropy(probs, soft)) - want) < 1e-6, 'soft cross-entropy');
  // The one-hot formula the recipe used before soft targets, bit for bit.
  const oneHot = tf.neg(tf.mean(tf.log(tf.sum(tf.mul(a, probs), -1).add(1e-7))));
  assert.equal(value(crossEntropy(probs, a)), oneHot.dataSync()[0]);
  // Weighted: −Σ w_c y_c log p_c / Σ w_c y_c over the batch.
  const w = [1, 2, 4];
  const y = soft.arraySync() as number[][];
  const p = probs.arraySync() as number[][];
  let num = 0;
  let den = 0;
  y.forEach((r, i) =>
    r.forEach((v, c) => {
      num -= w[c]! * v * Math.log(p[i]![c]! + 1e-7);
      den += w[c]! * v;
    }),
  );
  assert.ok(Math.abs(value(weightedCrossEntropy(w)(probs, soft)) - num / den) < 1e-6, 'weighted soft cross-entropy');
  assert.ok(
    Math.abs(value(weightedCrossEntropy([1, 1, 1])(probs, soft)) - value(crossEntropy(probs, soft))) < 1e-7,
    'weights of 1 = plain',
  );
  tf.dispose([probs, a, b, soft, oneHot]);
});

test('CLI: --mixup / --cutmix ALPHA, checked against the contract, not both', async () => {
  assert.equal(mixOption({}), null);
  assert.deepEqual(mixOption({ mixup: '0.4' }), { kind: 'mixup', alpha: 0.4 });
  assert.deepEqual(mixOption({ cutmix: '1' }), { kind: 'cutmix', alpha: 1 });
  assert.throws(
    () => mixOption({ mixup: '0' }),
    (e) => e instanceof UsageError && /--mixup must be a number > 0/.test(e.message),
  );
  assert.throws(() => mixOption({ cutmix: '11' }), /--cutmix must be a number > 0 and <= 10, got "11"/);
  const io = { out: () => {}, err: () => {} };
  await assert.rejects(
    recipeCommand([dir, '--recipe', 'fastai8', '--mixup', '0.4', '--cutmix', '1'], io),
    (e) => e instanceof UsageError && /cannot be combined/.test(e.message),
  );
});
