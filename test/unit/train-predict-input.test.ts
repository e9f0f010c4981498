/**
 * Training sees what predict sees: the training loader (imagesToTensor: precompute, batches) and `predict`'s input
 * (predictInput) give bit-identical tensors for the same files, shrinking and enlarging, with and without alpha
 * (both are decodeSquare: sharp decodes, squareInput.ts resizes, as the web demo does). Sharp's own resize, which
 * training used before, differs when enlarging; the feature cache's key names the preprocessing, so activations of
 * the old pixels are not reused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { imagesToTensor } from '../../src-main/core/train/dataSources';
import { predictInput } from '../../src-main/core/export/predictor';
import { decodeRgb } from '../../src-main/core/data/images';
import { precomputeFeatures } from '../../src-main/core/train/precompute';
import { FeatureCache, allRows } from '../../src-main/core/train/featureStore';

const dir = mkdtempSync(join(tmpdir(), 'ft-train-predict-'));

/** A real image file: a seeded pattern with structure at every scale, RGBA (PNG) or RGB (JPEG). */
async function imageFile(name: string, width: number, height: number, alpha: boolean): Promise<string> {
  const px = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      px.set(
        [(x * 255) / width, (y * 255) / height, ((x * 7) ^ (y * 13)) & 255, alpha ? (x * 3 + y) % 256 : 255],
        (y * width + x) * 4,
      );
  const img = sharp(px, { raw: { width, height, channels: 4 } });
  const file = join(dir, name);
  await (alpha ? img.png() : img.flatten({ background: '#ffffff' }).jpeg({ quality: 92 })).toFile(file);
  return file;
}

const cases = await Promise.all([
  imageFile('shrink-landscape.jpg', 300, 200, false),
  imageFile('shrink-portrait-alpha.png', 120, 400, true),
  imageFile('enlarge.jpg', 20, 30, false),
  imageFile('enlarge-alpha.png', 40, 24, true),
]);

test('the training loader and predict give identical input tensors (shrinking, enlarging, alpha)', async () => {
  for (const size of [32, 64]) {
    const train = await imagesToTensor(cases, size);
    const predict = await predictInput(cases, size);
    assert.deepEqual(train.shape, [cases.length, size, size, 3]);
    const [a, b] = [await train.data(), await predict.data()];
    tf.dispose([train, predict]);
    assert.ok(
      a.some((v) => v > 0.05 && v < 0.95),
      'real pixels, not a blank image',
    );
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.fail(`size ${size}: element ${i}: ${a[i]} vs ${b[i]}`);
  }
});

test("sharp's resize (training's before) is not what predict computes when enlarging", async () => {
  const size = 64;
  const predict = await predictInput([cases[2]!], size);
  const p = await predict.data();
  predict.dispose();
  const sharpBytes = await decodeRgb(cases[2]!, size);
  const differing = sharpBytes.filter((v, i) => v !== Math.round(p[i]! * 255)).length;
  assert.ok(differing > 100, `${differing} of ${sharpBytes.length} values differ`);
});

test('activations cached under the old preprocessing key are not reused', async () => {
  const size = 32;
  const backboneId = 'tiny-test';
  // A stand-in backbone: the mean of each channel, so activations follow the pixels.
  const features = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [size, size, 3] })] });
  const cacheDir = join(dir, 'cache');
  const file = cases[0]!;
  // The key the cache used before the preprocessing changed (backbone, size and bytes only), holding stale
  // activations that a reuse would return.
  const oldKey = createHash('sha256').update(backboneId).update(`@${size}:`).update(readFileSync(file)).digest('hex');
  const stale = await FeatureCache.open(join(cacheDir, `${backboneId}-${size}`, 'packs'), 3);
  await stale.add(oldKey, new Float32Array([7, 7, 7]));
  await stale.flush();
  const opts = { cacheDir, backboneId, size, batchSize: 4 };
  const [got] = allRows(await precomputeFeatures(features, [file], opts));
  const x = await imagesToTensor([file], size);
  const expected = tf.tidy(() => features.predict(x) as tf.Tensor);
  assert.deepEqual([...got!], [...((await expected.data()) as Float32Array)]);
  tf.dispose([x, expected]);
  // The second call reads the new entry (counted as cached), with the same values.
  let cached = -1;
  const [again] = allRows(
    await precomputeFeatures(features, [file], { ...opts, onProgress: (_d, _t, c) => (cached = c) }),
  );
  assert.equal(cached, 1);
  assert.deepEqual([...again!], [...got!]);
  features.dispose();
});
