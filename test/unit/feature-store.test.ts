/**
 * The activation cache in packs on disk (train/featureStore.ts) and the precompute over it: rows come back as
 * written across packs and reopenings, a pack without its keys (a crash mid-write) is not used, a cancelled
 * precompute keeps the activations it computed, and training reads rows from the packs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { FeatureCache, PACK_ROWS, allRows, sliceRows } from '../../src-main/core/train/featureStore';
import { CancelledError, precomputeFeatures } from '../../src-main/core/train/precompute';
import { RowsDataSource } from '../../src-main/core/train/dataSources';

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const key = (i: number) => i.toString(16).padStart(64, '0');
const row = (i: number) => new Float32Array([i, i + 0.5, -i]);

test('rows written across several packs come back by key, after reopening too', async () => {
  const dir = join(tmp('ft-packs-'), 'packs');
  const cache = await FeatureCache.open(dir, 3);
  const n = PACK_ROWS + 300;
  for (let i = 0; i < n; i++) await cache.add(key(i), row(i));
  await cache.flush();
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.keys')).length, 2, 'one full pack and the rest');
  const reopened = await FeatureCache.open(dir, 3);
  const keys = [key(5), key(PACK_ROWS + 7), key(0), key(n - 1)];
  assert.ok(keys.every((k) => reopened.has(k)));
  assert.ok(!reopened.has(key(n)));
  const rows = reopened.rows(keys);
  assert.deepEqual([...rows.read([1, 0, 3, 2])], [...row(PACK_ROWS + 7), ...row(5), ...row(n - 1), ...row(0)]);
  const tail = sliceRows(rows, 2, 4);
  assert.equal(tail.length, 2);
  assert.deepEqual(
    allRows(tail).map((r) => r[0]),
    [0, n - 1],
  );
});

test('a pack without its keys file is not used; a pack cut short is named in the error', async () => {
  const dir = join(tmp('ft-packs-'), 'packs');
  const cache = await FeatureCache.open(dir, 3);
  await cache.add(key(1), row(1));
  await cache.flush();
  // A crash after the rows, before the keys: only the rows file.
  writeFileSync(join(dir, 'p-crashed.f32'), Buffer.from(row(2).buffer));
  const reopened = await FeatureCache.open(dir, 3);
  assert.ok(reopened.has(key(1)));
  assert.ok(!reopened.has(key(2)));
  const [f32] = readdirSync(dir).filter((f) => f.endsWith('.f32') && f !== 'p-crashed.f32');
  truncateSync(join(dir, f32!), 4);
  assert.throws(() => reopened.rows([key(1)]).read([0]), /shorter than its keys: delete .*p-/);
});

test('RowsDataSource reads its batches from the packs, one row per item', async () => {
  const dir = join(tmp('ft-packs-'), 'packs');
  const cache = await FeatureCache.open(dir, 3);
  for (let i = 0; i < 10; i++) await cache.add(key(i), row(i));
  await cache.flush();
  const source = new RowsDataSource(
    cache.rows(Array.from({ length: 10 }, (_, i) => key(i))),
    Array.from({ length: 10 }, (_, i) => i % 2),
    { batchSize: 4, numClasses: 2, shuffleSeed: 3 },
  );
  const seen: number[] = [];
  for await (const b of source.batches(0)) {
    const x = (await b.x.array()) as number[][];
    const y = (await b.y.array()) as number[][];
    x.forEach((r, j) => {
      assert.deepEqual(r, [...row(r[0]!)]);
      assert.equal(y[j]![r[0]! % 2], 1, 'the label goes with its row');
    });
    seen.push(...x.map((r) => r[0]!));
    tf.dispose([b.x, b.y]);
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.notDeepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'shuffled');
});

test('a cancelled precompute keeps the activations it computed; the next run starts from them', async () => {
  const size = 16;
  const features = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [size, size, 3] })] });
  const data = tmp('ft-precompute-cancel-');
  mkdirSync(join(data, 'a'));
  const files: string[] = [];
  for (let i = 0; i < 24; i++) {
    const file = join(data, 'a', `${i}.png`);
    const colour = { r: i * 10, g: 255 - i * 10, b: 7 };
    writeFileSync(
      file,
      await sharp({ create: { width: 16, height: 16, channels: 3, background: colour } })
        .png()
        .toBuffer(),
    );
    files.push(file);
  }
  const cacheDir = tmp('ft-features-');
  let batches = 0;
  const opts = { cacheDir, backboneId: 'cancel-test', size, batchSize: 4 };
  await assert.rejects(
    precomputeFeatures(features, files, {
      ...opts,
      onProgress: () => batches++,
      shouldCancel: () => batches > 3,
    }),
    (e: Error) => e instanceof CancelledError,
  );
  let cached = -1;
  const rows = await precomputeFeatures(features, files, { ...opts, onProgress: (_d, _t, c) => (cached = c) });
  assert.ok(cached >= 8 && cached < 24, `${cached} of 24 came from the cancelled run`);
  // Each image's activation is its mean colour: the rows are in the files' order, computed or cached.
  allRows(rows).forEach((r, i) => assert.ok(Math.abs(r[0]! - (i * 10) / 255) < 0.01, `row ${i}: ${r[0]}`));
  features.dispose();
  rmSync(cacheDir, { recursive: true });
});
