/**
 * A home on a full disk and a read-only home, with the real CLI. Full: a head run on a 4 MiB file system (its 9 MB
 * weights.bin cannot fit) fails with a message naming the home and how to free space, leaves no truncated
 * weights.bin and no temporary file, and `finetune runs` still lists the history once the disk is filled to the
 * last byte. Read-only: `finetune runs` lists it, with a note. The file systems are made in a private mount
 * namespace (`unshare -m`, as root; CI runs as root), so nothing is left mounted; elsewhere the tests are skipped.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { RunStore } from '../../src-main/core/history/runStore';
import { tmp } from './build';

const CLI = `"${process.execPath}" bin/finetune.mjs`;

/** Runs `script` (sh) in a private mount namespace; false when this machine cannot make one (not root, no unshare). */
function inPrivateMounts(t: TestContext, script: string): boolean {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    t.skip(`no private mount namespace here (unshare -m as root): ${probe.stderr || probe.error?.message}`);
    return false;
  }
  const r = spawnSync('unshare', ['-m', 'sh', '-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `the script ran: ${r.stdout}${r.stderr}`);
  return true;
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8');

test('disk full during training: a clear message, no truncated weights.bin, and the history still lists', async (t) => {
  const work = tmp();
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 4, size: 32, seed: 3 });
  const disk = join(work, 'disk');
  mkdirSync(disk);
  const home = join(disk, 'home');
  const script = [
    `mount -t tmpfs -o size=4m tmpfs "${disk}"`,
    `${CLI} train "${data}" --steps head --epochs 1 --size 32 --batch-size 8 --home "${home}" ` +
      `>"${work}/train.out" 2>"${work}/train.err"; echo $? >"${work}/train.rc"`,
    `find "${disk}" -type f -printf '%s %P\\n' >"${work}/files"`,
    // Every last byte taken: SQLite cannot even make its -shm file now.
    `head -c 8m /dev/zero >"${disk}/filler" 2>/dev/null; true`,
    `${CLI} runs --json --home "${home}" >"${work}/runs.out" 2>"${work}/runs.err"; echo $? >"${work}/runs.rc"`,
  ].join('\n');
  if (!inPrivateMounts(t, script)) return;

  assert.equal(read(work, 'train.rc').trim(), '1', read(work, 'train.err'));
  const err = read(work, 'train.err');
  // A head run is the recipe until step 3: the disk fills while its checkpoint is saved, which says so itself.
  assert.ok(err.includes(`Could not save the checkpoint in ${join(home, 'runs', '1')}: the disk is full.`), err);
  assert.match(err, /free some disk space \(or make the folder writable\) and resume the run/);
  const files = read(work, 'files');
  assert.doesNotMatch(files, /weights\.bin/, `no weights.bin, whole or cut:\n${files}`);
  assert.doesNotMatch(files, /\.tmp-\d+/, `no temporary file left:\n${files}`);

  assert.equal(read(work, 'runs.rc').trim(), '0', read(work, 'runs.err'));
  assert.doesNotMatch(read(work, 'runs.err'), /database or disk is full/);
  const runs = JSON.parse(read(work, 'runs.out').trim().split('\n').at(-1)!) as Array<{ status: string }>;
  assert.deepEqual(
    runs.map((r) => r.status),
    ['failed'],
  );
});

test('a read-only home: finetune runs lists the history from a read-only copy, with a note', (t) => {
  const home = tmp();
  const store = new RunStore(join(home, 'history.sqlite'));
  const id = store.createRun({ dir: '/data/cats', kind: 'head', backend: 'cpu', config: {}, dataset: {}, classes: [] });
  store.finishRun(id, 'completed');
  store.close();
  const script = [
    `mount --bind "${home}" "${home}" && mount -o remount,ro,bind "${home}"`,
    `${CLI} runs --json --home "${home}" >"${home}.out" 2>"${home}.err"; echo $? >"${home}.rc"`,
  ].join('\n');
  if (!inPrivateMounts(t, script)) return;
  assert.equal(readFileSync(`${home}.rc`, 'utf8').trim(), '0', readFileSync(`${home}.err`, 'utf8'));
  const runs = JSON.parse(readFileSync(`${home}.out`, 'utf8').trim()) as Array<{ id: number; status: string }>;
  assert.deepEqual(
    runs.map((r) => [r.id, r.status]),
    [[id, 'completed']],
  );
  assert.match(readFileSync(`${home}.err`, 'utf8'), /cannot be written .*: listed from a read-only copy/);
});
