/**
 * The shipped sample dataset: found from the source tree and from the Electron build's depth, copied into the home
 * once (a user's later changes to the copy are kept), scanned as four classes in train/ and valid/, and printed by
 * `finetune sample`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleDataset, shippedSampleDir, SAMPLE_NAME } from '../../src-main/core/data/sample';
import { scanDataset, classCounts } from '../../src-main/core/data/dataset';
import { finetune, ROOT } from '../helpers/cli';

const tmp = () => mkdtempSync(join(tmpdir(), 'ft-sample-'));

test('the shipped sample is found from the source tree and from out/main', () => {
  const expected = join(ROOT, 'resources', 'sample', SAMPLE_NAME);
  assert.equal(shippedSampleDir(), expected);
  assert.equal(shippedSampleDir(join(ROOT, 'out', 'main')), expected);
  assert.throws(() => shippedSampleDir(tmp()), /The sample dataset is missing/);
});

test('copied into the home once; the copy scans as 4 classes of 30 training and 10 validation images', async () => {
  const home = tmp();
  const dir = sampleDataset(home);
  assert.equal(dir, join(home, 'samples', SAMPLE_NAME));
  const ds = await scanDataset(dir, { seed: 42 });
  assert.equal(ds.layout, 'split');
  assert.deepEqual(
    classCounts(ds).map((c) => [c.name, c.train, c.valid]),
    [
      ['bag', 30, 10],
      ['sneaker', 30, 10],
      ['trouser', 30, 10],
      ['tshirt', 30, 10],
    ],
  );
  assert.deepEqual(ds.skipped, []);
  // The user's copy is theirs: a file they removed stays removed, nothing is copied over it again.
  const bags = join(dir, 'train', 'bag');
  const first = readdirSync(bags).find((f) => f.endsWith('.png'))!;
  rmSync(join(bags, first));
  assert.equal(sampleDataset(home), dir);
  assert.ok(!existsSync(join(bags, first)));
  assert.deepEqual(
    readdirSync(join(home, 'samples')).filter((f) => f.includes('partial')),
    [],
    'no partial copy left',
  );
});

test('finetune sample --json prints the copy in --home', () => {
  const home = tmp();
  const r = finetune(['sample', '--home', home, '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { dir: join(home, 'samples', SAMPLE_NAME) });
  assert.ok(existsSync(join(home, 'samples', SAMPLE_NAME, 'valid', 'tshirt')));
});
