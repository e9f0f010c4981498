/**
 * Images deleted after the scan, found by the precompute (the content key reads every file before any activation is
 * computed): left out and reported like images found gone before training, never a raw ENOENT. A real tfjs model
 * stands in for the backbone (global average pooling: one feature per channel) and a real on-disk cache is used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MISSING_REASON, scanDataset } from '../../src-main/core/data/dataset';
import { MissingFilesError, precomputeFeatures, precomputeSplits } from '../../src-main/core/train/precompute';
import { allRows } from '../../src-main/core/train/featureStore';
import { baseDataset, imageCount, tmp } from './build';

const SIZE = 16;
const features = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [SIZE, SIZE, 3] })] });
const options = () => ({ cacheDir: tmp(), backboneId: 'pool-test', size: SIZE, batchSize: 4, emit: () => {} });

test('a file deleted between the scan and the precompute: left out, reported, the rest precomputed', async () => {
  const dir = await baseDataset(5);
  const ds = await scanDataset(dir, { seed: 1 });
  const gone = ds.train[1]!.file;
  rmSync(gone);
  // The base images are byte-identical: one cache key, written several times by one batch (their temporary files
  // once renamed each other's away).
  const before = tf.memory().numTensors;
  const pre = await precomputeSplits(features, ds, options());
  assert.equal(tf.memory().numTensors, before, 'no tensor leak');
  assert.notEqual(pre.ds, ds);
  assert.equal(imageCount(pre.ds), imageCount(ds) - 1);
  assert.ok(!pre.ds.train.some((i) => i.file === gone));
  assert.deepEqual(pre.ds.skipped, [
    { file: gone.slice(dir.length + 1), reason: MISSING_REASON, message: { code: 'skip.missing', params: {} } },
  ]);
  assert.match(pre.ds.warnings.at(-1)!, /^1 image was deleted or moved after .* scan it again/);
  assert.equal(pre.train.length, pre.ds.train.length, 'one row per remaining training image');
  assert.equal(pre.valid.length, pre.ds.valid.length);
  // The red test images pool to (220, 30, 30) / 255 per channel.
  for (const row of [...allRows(pre.train), ...allRows(pre.valid)])
    assert.ok(Math.abs(row[0]! - 220 / 255) < 0.02, `${row[0]}`);
});

test('precomputeFeatures names the missing file and the fix instead of a raw ENOENT', async () => {
  const dir = await baseDataset(2);
  const ds = await scanDataset(dir, { seed: 1 });
  const files = [...ds.train, ...ds.valid].map((i) => i.file);
  rmSync(files[0]!);
  rmSync(files[2]!);
  await assert.rejects(precomputeFeatures(features, files, options()), (e: Error) => {
    assert.ok(e instanceof MissingFilesError);
    assert.deepEqual(e.files, [files[0], files[2]]);
    assert.equal(
      e.message,
      `${files[0]}: file not found (deleted or moved since it was listed?); check it or scan the folder again (and 1 more)`,
    );
    return true;
  });
});

test('every training image deleted after the scan: a clear error naming the folder', async () => {
  const dir = await baseDataset(3);
  const ds = await scanDataset(dir, { seed: 1 });
  for (const i of ds.train) rmSync(i.file);
  await assert.rejects(precomputeSplits(features, ds, options()), {
    message: `No readable training images left in ${join(dir)}.`,
  });
});
