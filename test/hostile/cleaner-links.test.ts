/**
 * The data cleaner against links and crashes, through the real CLI (`finetune clean`): a linked `_excluded` or a
 * linked sub-folder of the target class refuses the move (exit 1, the image where it was, nothing outside, nothing
 * journaled); a process killed inside a move (FINETUNE_FAULT, after the journal's intent, after the link, after the
 * move) leaves an entry marked interrupted that `clean undo` settles, the image back at its old name only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { baseDataset, tmp } from './build';

const JOURNAL = '.finetune-cleaner.json';
const entriesOf = (dir: string) =>
  existsSync(join(dir, JOURNAL))
    ? (JSON.parse(readFileSync(join(dir, JOURNAL), 'utf8')) as { entries: Array<{ pending?: boolean }> }).entries
    : [];

/** The move is refused (exit 1, `why`), the image is still where it was, and `outside` is still empty. */
function assertRefused(r: ReturnType<typeof finetune>, dir: string, image: string, outside: string, why: RegExp) {
  assert.equal(r.status, 1, `exit 1: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, why);
  assert.ok(existsSync(join(dir, image)), `${image} is where it was`);
  assert.deepEqual(readdirSync(outside), [], 'nothing landed outside the dataset');
  assert.deepEqual(entriesOf(dir), [], 'nothing journaled');
}

test('exclude with _excluded a link to a folder outside: refused, the image stays', async () => {
  const dir = await baseDataset();
  const outside = tmp();
  symlinkSync(outside, join(dir, '_excluded'));
  const r = finetune(['clean', 'exclude', dir, join(dir, 'cats', 'ok0.png')]);
  assertRefused(r, dir, 'cats/ok0.png', outside, /_excluded in .* is a link: the cleaner moves nothing through links/);
});

test('exclude with _excluded/<class> a link outside: refused', async () => {
  const dir = await baseDataset();
  const outside = tmp();
  mkdirSync(join(dir, '_excluded'));
  symlinkSync(outside, join(dir, '_excluded', 'cats'));
  const r = finetune(['clean', 'exclude', dir, join(dir, 'cats', 'ok1.png')]);
  assertRefused(r, dir, 'cats/ok1.png', outside, /_excluded\/cats in .* is a link/);
});

test('relabel into a class whose sub-folder is a link outside: refused', async () => {
  const dir = await baseDataset();
  const outside = tmp();
  mkdirSync(join(dir, 'cats', 'indoor'));
  writeFileSync(join(dir, 'cats', 'indoor', 'a.png'), readFileSync(join(dir, 'cats', 'ok0.png')));
  symlinkSync(outside, join(dir, 'dogs', 'indoor'));
  const r = finetune(['clean', 'relabel', dir, join(dir, 'cats', 'indoor', 'a.png'), 'dogs']);
  assertRefused(r, dir, 'cats/indoor/a.png', outside, /dogs\/indoor in .* is a link/);
});

/** `finetune clean exclude` killed by the FINETUNE_FAULT hook at `point`. */
function excludeKilledAt(point: string, dir: string, file: string) {
  const r = spawnSync(process.execPath, ['bin/finetune.mjs', 'clean', 'exclude', dir, file], {
    cwd: ROOT,
    env: { ...process.env, FINETUNE_FAULT: point },
    encoding: 'utf8',
  });
  assert.equal(r.signal, 'SIGKILL', `killed at ${point} (exit ${r.status}): ${r.stderr}`);
}

for (const point of ['cleaner-after-intent', 'cleaner-after-link', 'cleaner-after-move']) {
  test(`killed at ${point}: the entry is there, marked interrupted, and undo puts the image back`, async () => {
    const dir = await baseDataset();
    const image = join(dir, 'cats', 'ok2.png');
    const bytes = readFileSync(image);
    excludeKilledAt(point, dir, image);
    const entries = entriesOf(dir);
    assert.equal(entries.length, 1, 'the intent was journaled before the move');
    assert.equal(entries[0]!.pending, true);
    assert.match(
      finetune(['clean', 'list', dir]).stdout,
      /#1 exclude: cats\/ok2.png -> _excluded\/cats\/ok2.png \(interrupted/,
    );
    const undo = finetune(['clean', 'undo', dir, '--json']);
    assert.equal(undo.status, 0, undo.stderr);
    assert.equal(lastJson<{ restored: string }>(undo).restored, 'cats/ok2.png');
    assert.deepEqual(readFileSync(image), bytes, 'the image is back, whole');
    assert.ok(!existsSync(join(dir, '_excluded', 'cats', 'ok2.png')), 'and only there');
    assert.deepEqual(entriesOf(dir), []);
    // The cleaner works on as before.
    assert.equal(finetune(['clean', 'exclude', dir, image]).status, 0);
    assert.ok(existsSync(join(dir, '_excluded', 'cats', 'ok2.png')));
  });
}
