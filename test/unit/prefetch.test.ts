import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { ImageDataSource } from '../../src-main/core/train/dataSources';
import { AugmentedImageDataSource } from '../../src-main/core/train/augmentedSource';
import { prefetch } from '../../src-main/core/train/prefetch';
import type { Batch, DataSource } from '../../src-main/core/train/learner';
import { makeShapeDataset, SHAPE_CLASSES } from '../helpers/images';

await initBackend('wasm');

const dir = mkdtempSync(join(tmpdir(), 'ft-prefetch-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const files = await makeShapeDataset(dir, { perClass: 5, size: 40 });
const items = SHAPE_CLASSES.flatMap((cls, label) => files[cls]!.map((file) => ({ file, label })));
const opts = { batchSize: 4, numClasses: 3, size: 32, shuffleSeed: 7 };

/** Every batch's pixels and labels, exactly, for one epoch; disposes as it goes. */
async function epochData(src: DataSource, epoch: number): Promise<Array<[Float32Array, Float32Array]>> {
  const out: Array<[Float32Array, Float32Array]> = [];
  for await (const b of src.batches(epoch)) {
    out.push([b.x.dataSync() as Float32Array, b.y.dataSync() as Float32Array]);
    tf.dispose([b.x, b.y]);
  }
  return out;
}

test('prefetched batches are identical to the plain ones (order, pixels, labels, augmentation)', async () => {
  for (const preset of ['none', 'side-on', 'top-down'] as const) {
    const make = () => new AugmentedImageDataSource(items, { ...opts, preset, seed: 11 });
    const plain = [await epochData(make(), 0), await epochData(make(), 1)];
    assert.equal(plain[0]!.length, 4);
    for (const depth of [1, 2, 5]) {
      const fetched = prefetch(make(), depth);
      assert.equal(fetched.numBatches, 4);
      assert.equal(fetched.numItems, 15);
      // Epochs run back to back on one source, as the Learner does: the per-epoch streams must not shift.
      assert.deepEqual([await epochData(fetched, 0), await epochData(fetched, 1)], plain, `${preset}, depth ${depth}`);
    }
  }
  const valid = () => new ImageDataSource(items, { ...opts, shuffleSeed: undefined });
  assert.deepEqual(await epochData(prefetch(valid()), 0), await epochData(valid(), 0), 'un-shuffled images');
});

test('an epoch abandoned after one batch leaves no tensors behind', async () => {
  const src = prefetch(new AugmentedImageDataSource(items, { ...opts, preset: 'side-on', seed: 3 }), 2);
  const before = tf.memory().numTensors;
  for await (const b of src.batches(0)) {
    tf.dispose([b.x, b.y]);
    break;
  }
  assert.equal(tf.memory().numTensors, before, 'break (cancel, early stop)');
  await assert.rejects(async () => {
    for await (const b of src.batches(1)) {
      tf.dispose([b.x, b.y]);
      throw new Error('step failed');
    }
  }, /step failed/);
  assert.equal(tf.memory().numTensors, before, 'exception in the consumer');
});

test('a failing batch surfaces where it would have been consumed, after the good ones', async () => {
  const broken = join(dir, 'broken.png');
  writeFileSync(broken, 'not a png');
  // No shuffle: batch 0 is fine, batch 1 holds the broken file.
  const withBroken = [...items.slice(0, 5), { file: broken, label: 0 }, ...items.slice(5)];
  const consume = async (src: DataSource) => {
    let good = 0;
    const error = await (async () => {
      for await (const b of src.batches(0)) {
        tf.dispose([b.x, b.y]);
        good++;
      }
      return null;
    })().catch((err: unknown) => err);
    return { good, message: error instanceof Error ? error.message : String(error) };
  };
  const before = tf.memory().numTensors;
  const plain = await consume(new ImageDataSource(withBroken, { ...opts, shuffleSeed: undefined }));
  const fetched = await consume(prefetch(new ImageDataSource(withBroken, { ...opts, shuffleSeed: undefined }), 3));
  assert.equal(plain.good, 1);
  assert.deepEqual(fetched, plain);
  assert.equal(tf.memory().numTensors, before);
});

test('the next batch is requested before the current one is handed over', async () => {
  const log: string[] = [];
  const source: DataSource = {
    numBatches: 4,
    numItems: 4,
    async *batches(): AsyncIterable<Batch> {
      for (let i = 0; i < 4; i++) {
        log.push(`start ${i}`);
        await new Promise((r) => setTimeout(r, 5));
        yield { x: tf.zeros([1, 2]), y: tf.zeros([1, 2]) };
      }
    },
  };
  for await (const b of prefetch(source, 2).batches(0)) {
    log.push(`consume ${log.filter((l) => l.startsWith('consume')).length}`);
    tf.dispose([b.x, b.y]);
  }
  assert.deepEqual(log.slice(0, 3), ['start 0', 'start 1', 'consume 0']);
  assert.equal(log.length, 8);
});
