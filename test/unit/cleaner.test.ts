/**
 * The data cleaner's mover on real image files in a temporary dataset: relabel and exclude move files (the scan
 * sees the change), a name clash gets a suffix and never replaces a file, undo goes back newest first and survives a
 * fresh read of the journal, and paths outside the dataset, links and unknown classes are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { scanDataset } from '../../src-main/core/data/dataset';
import { exclude, JOURNAL_FILE, readJournal, relabel, undoLast } from '../../src-main/core/data/cleaner';

const work = mkdtempSync(join(tmpdir(), 'ft-cleaner-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

async function dataset(name: string, validPerClass?: number) {
  const dir = join(work, name);
  const files = await makeShapeDataset(dir, { perClass: 4, size: 32, seed: 3, validPerClass });
  return { dir, files };
}

/** Images per class as the scan finds them (train and valid together). */
async function perClass(dir: string): Promise<Record<string, number>> {
  const ds = await scanDataset(dir, { seed: 1 });
  const out: Record<string, number> = Object.fromEntries(ds.classes.map((c) => [c, 0]));
  for (const i of [...ds.train, ...ds.valid]) out[ds.classes[i.label]!]! += 1;
  return out;
}

test('relabel and exclude move the files; the scan follows; undo puts them back newest first', async () => {
  const { dir, files } = await dataset('basic');
  // A name no other class folder has (the generated ones repeat across classes; clashes are the next test's).
  const a = join(dir, 'circles', 'odd.png');
  renameSync(files.circles![0]!, a);
  const b = files.circles![1]!;
  const bytesA = readFileSync(a);
  assert.deepEqual(await perClass(dir), { circles: 4, squares: 4, stripes: 4 });

  const moved = relabel(dir, a, 'squares');
  assert.equal(moved.kind, 'relabel');
  assert.equal(moved.from, 'circles/odd.png');
  assert.equal(moved.to, 'squares/odd.png');
  assert.deepEqual([moved.fromClass, moved.toClass], ['circles', 'squares']);
  assert.ok(!existsSync(a));
  assert.deepEqual(readFileSync(join(dir, 'squares', 'odd.png')), bytesA, 'the same bytes, moved');

  const out = exclude(dir, b);
  assert.equal(out.to, '_excluded/circles/img001.png');
  assert.equal(out.toClass, null);
  assert.ok(existsSync(join(dir, '_excluded', 'circles', 'img001.png')));
  // The scan: one image moved to squares, one gone; `_excluded` is no class.
  assert.deepEqual(await perClass(dir), { circles: 2, squares: 5, stripes: 4 });

  // The journal is a file in the dataset folder: a new read (as after a restart) sees both moves, in order.
  assert.ok(existsSync(join(dir, JOURNAL_FILE)));
  assert.deepEqual(
    readJournal(dir).map((e) => [e.id, e.kind]),
    [
      [1, 'relabel'],
      [2, 'exclude'],
    ],
  );

  const first = undoLast(dir);
  assert.equal(first?.undone.kind, 'exclude', 'the newest move is undone first');
  assert.equal(first?.restored, 'circles/img001.png');
  assert.ok(existsSync(b));
  const second = undoLast(dir);
  assert.equal(second?.undone.kind, 'relabel');
  assert.deepEqual(readFileSync(a), bytesA);
  assert.ok(!existsSync(join(dir, 'squares', 'odd.png')));
  assert.equal(undoLast(dir), null, 'nothing left to undo');
  assert.deepEqual(readJournal(dir), []);
  assert.deepEqual(await perClass(dir), { circles: 4, squares: 4, stripes: 4 });
});

test('a name clash gets a suffix and replaces nothing, on the move and on the undo', async () => {
  const { dir, files } = await dataset('clash');
  const a = files.circles![0]!; // circles/img000.png
  const theirs = join(dir, 'squares', 'img000.png'); // squares has its own img000.png
  const theirBytes = readFileSync(theirs);
  const e = relabel(dir, a, 'squares');
  assert.equal(e.to, 'squares/img000 (2).png');
  assert.deepEqual(readFileSync(theirs), theirBytes, "the target's own file is untouched");
  // Someone puts a file where the moved one came from: the undo keeps both.
  copyFileSync(files.stripes![0]!, a);
  const blocker = readFileSync(a);
  const undone = undoLast(dir);
  assert.equal(undone?.restored, 'circles/img000 (2).png');
  assert.deepEqual(readFileSync(a), blocker);
  assert.ok(!existsSync(join(dir, 'squares', 'img000 (2).png')));
});

test('the fast.ai layout: a relabel stays in its split', async () => {
  const { dir, files } = await dataset('split', 2);
  const v = join(dir, 'valid', 'circles', 'odd.png');
  renameSync(
    files.circles!.find((f) => f.includes(join('valid', 'circles')))!,
    v,
  );
  const e = relabel(dir, v, 'stripes');
  assert.equal(e.from, 'valid/circles/odd.png');
  assert.equal(e.to, 'valid/stripes/odd.png');
  assert.equal(exclude(dir, files.squares![0]!).to, '_excluded/train/squares/t000.png');
  undoLast(dir);
  undoLast(dir);
  assert.deepEqual(readJournal(dir), []);
});

test('refused: outside the dataset, links, unknown or bad class names, excluded or class-less files', async () => {
  const { dir, files } = await dataset('refuse');
  const { files: other } = await dataset('elsewhere');
  const a = files.circles![0]!;
  assert.throws(() => relabel(dir, other.circles![0]!, 'squares'), /not inside the dataset folder/);
  assert.throws(
    () => exclude(dir, join(dir, 'circles', '..', '..', 'elsewhere', 'circles', 'img000.png')),
    /not inside/,
  );
  assert.throws(() => relabel(dir, a, 'cats'), /No class folder "cats"/);
  assert.throws(() => relabel(dir, a, '../elsewhere'), /Not a class name/);
  assert.throws(() => relabel(dir, a, '_excluded'), /Not a class name/);
  assert.throws(() => relabel(dir, a, 'circles'), /already in "circles"/);
  assert.throws(() => relabel(dir, join(dir, 'circles', 'nope.png'), 'squares'), /No such image/);
  const link = join(dir, 'circles', 'link.png');
  symlinkSync(other.circles![1]!, link);
  assert.throws(() => exclude(dir, link), /Not a regular file/);
  // A linked folder inside the dataset does not lead out of it.
  symlinkSync(join(work, 'elsewhere', 'squares'), join(dir, 'linked'));
  assert.throws(() => exclude(dir, join(dir, 'linked', 'img000.png')), /linked in .* is a link/);
  copyFileSync(a, join(dir, 'loose.png'));
  assert.throws(() => exclude(dir, join(dir, 'loose.png')), /not in a class folder/);
  exclude(dir, a);
  mkdirSync(join(dir, 'squares'), { recursive: true });
  assert.throws(() => relabel(dir, join(dir, '_excluded', 'circles', 'img000.png'), 'squares'), /already excluded/);
  assert.throws(() => relabel(join(work, 'missing'), a, 'squares'), /Not a dataset folder/);
  assert.equal(readJournal(dir).length, 1, 'only the one move that happened is recorded');
});

test('a path relative to the dataset folder (as interpretations name images) is taken from there', async () => {
  const { dir } = await dataset('relative');
  const e = exclude(dir, 'circles/img001.png');
  assert.equal(e.to, '_excluded/circles/img001.png');
  assert.throws(() => exclude(dir, '../basic/circles/img003.png'), /not inside the dataset folder|No such image/);
  undoLast(dir);
  assert.ok(existsSync(join(dir, 'circles', 'img001.png')));
});
