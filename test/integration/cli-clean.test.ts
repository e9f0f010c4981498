/**
 * `finetune clean` on a generated dataset: relabel, exclude, list and undo through the real CLI, the files checked
 * on disk; a path outside the folder fails with exit 1 and moves nothing; bad arguments exit 2.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finetune, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';

const work = mkdtempSync(join(tmpdir(), 'ft-cli-clean-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('finetune clean relabel / exclude / list / undo', async () => {
  const dir = join(work, 'shapes');
  await makeShapeDataset(dir, { perClass: 3, size: 32, seed: 2 });
  const a = join(dir, 'circles', 'img000.png');
  const b = join(dir, 'circles', 'img001.png');

  const r1 = finetune(['clean', 'relabel', dir, a, 'squares', '--json']);
  assert.equal(r1.status, 0, r1.stderr);
  assert.equal(lastJson<{ entry: { to: string } }>(r1).entry.to, 'squares/img000 (2).png');
  assert.equal(finetune(['clean', 'exclude', dir, b]).status, 0);
  assert.ok(existsSync(join(dir, '_excluded', 'circles', 'img001.png')));
  const list = finetune(['clean', 'list', dir]);
  assert.match(list.stdout, /#1 relabel circles -> squares: circles\/img000.png -> squares\/img000 \(2\).png/);
  assert.match(list.stdout, /#2 exclude: circles\/img001.png -> _excluded\/circles\/img001.png/);

  const undo = finetune(['clean', 'undo', dir, '--json']);
  assert.equal(lastJson<{ restored: string }>(undo).restored, 'circles/img001.png');
  assert.ok(existsSync(b) && !existsSync(join(dir, '_excluded', 'circles', 'img001.png')));

  const outside = finetune(['clean', 'exclude', dir, join(work, 'elsewhere.png')]);
  assert.equal(outside.status, 1);
  assert.match(outside.stderr, /No such image/);
  assert.equal(finetune(['clean', 'relabel', dir, a]).status, 2, 'relabel needs a class');
  assert.equal(finetune(['clean', 'move', dir]).status, 2);
  assert.match(finetune(['clean', 'list', dir]).stdout, /^#1 relabel/m, 'the relabel is still undoable');
});
