import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanDataset, DatasetError } from '../../src-main/core/data/dataset';
import { makeShapeDataset, splitRows } from '../helpers/images';

const tmp = () => mkdtempSync(join(tmpdir(), 'ft-ds-'));

test('class folders: seeded stratified 20% split, corrupt and non-image files skipped with reasons', async () => {
  const dir = tmp();
  await makeShapeDataset(dir, { perClass: 10, withBadFiles: true });
  const ds = await scanDataset(dir, { seed: 7 });
  assert.equal(ds.layout, 'folders');
  assert.deepEqual(ds.classes, ['circles', 'squares', 'stripes']);
  assert.deepEqual(splitRows(ds), [
    ['circles', 8, 2],
    ['squares', 8, 2],
    ['stripes', 8, 2],
  ]);
  const skipped = Object.fromEntries(ds.skipped.map((s) => [s.file, s.reason]));
  assert.deepEqual(Object.keys(skipped).sort(), ['circles/broken.jpg', 'circles/notes.txt', 'circles/truncated.png']);
  assert.match(skipped['circles/broken.jpg']!, /corrupt/);
  assert.match(skipped['circles/truncated.png']!, /corrupt|truncated/);
  assert.match(skipped['circles/notes.txt']!, /not an image/);

  const again = await scanDataset(dir, { seed: 7 });
  assert.deepEqual(again.valid, ds.valid, 'same seed, same split');
  const other = await scanDataset(dir, { seed: 8 });
  assert.notDeepEqual(other.valid, ds.valid, 'another seed, another split');

  // Listing only (the app's main process before a run): nothing decoded, so the two corrupt images count too.
  const listed = await scanDataset(dir, { seed: 7, decode: false });
  assert.deepEqual(listed.classes, ds.classes);
  assert.equal(listed.train.length + listed.valid.length, ds.train.length + ds.valid.length + 2);
  assert.deepEqual(
    listed.skipped.map((s) => s.file),
    ['circles/notes.txt'],
  );
});

test('fast.ai layout: train/ and valid/ folders are used as given; images at any depth count', async () => {
  const dir = tmp();
  await makeShapeDataset(dir, { perClass: 4, validPerClass: 2, classes: ['circles', 'squares'] });
  await makeShapeDataset(join(dir, 'train', 'circles', 'nested'), { perClass: 2, classes: ['circles'] });
  const ds = await scanDataset(dir);
  assert.equal(ds.layout, 'split');
  assert.deepEqual(splitRows(ds), [
    ['circles', 6, 2],
    ['squares', 4, 2],
  ]);
});

test('imbalance is warned about', async () => {
  const dir = tmp();
  await makeShapeDataset(dir, { perClass: 9, classes: ['circles'] });
  await makeShapeDataset(dir, { perClass: 2, classes: ['squares'], seed: 3 });
  const ds = await scanDataset(dir);
  assert.ok(
    ds.warnings.some((w) => /imbalanced/.test(w)),
    ds.warnings.join('\n'),
  );
});

test('bad folders get a message naming the folder and the fix', async () => {
  await assert.rejects(scanDataset('/no/such/folder'), (e: Error) => {
    assert.ok(e instanceof DatasetError);
    assert.match(e.message, /\/no\/such\/folder/);
    assert.match(e.message, /one sub-folder/);
    return true;
  });
  const dir = tmp();
  mkdirSync(join(dir, 'only'));
  await makeShapeDataset(dir, { perClass: 3, classes: ['circles'] });
  await assert.rejects(scanDataset(dir), /at least 2 are needed/);
  // One class's folder picked instead of the dataset's: the parent is suggested.
  const one = join(dir, 'circles');
  await assert.rejects(scanDataset(one), (e: Error) => {
    assert.ok(e instanceof DatasetError);
    assert.match(e.message, /holds 3 images directly, not in class folders/);
    assert.ok(e.message.includes(`Did you mean its parent, ${dir}?`), e.message);
    return true;
  });
});
