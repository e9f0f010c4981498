/** The export's building blocks on real folders: the atomic folder write and the dataset fingerprint. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportTargetError, removeLeftovers, writeDirAtomically } from '../../src-main/core/export/atomicDir';
import { datasetFingerprint } from '../../src-main/core/data/fingerprint';

const work = () => mkdtempSync(join(tmpdir(), 'ft-export-files-'));
const write = (files: Record<string, string>) => async (dir: string) => {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
};

test('writeDirAtomically: written whole, refused when taken, replaced with force, nothing left on failure', async () => {
  const root = work();
  const out = join(root, 'out');
  await writeDirAtomically(out, {}, write({ 'a.txt': 'one' }));
  assert.deepEqual(readdirSync(root), ['out']);
  await assert.rejects(
    writeDirAtomically(out, {}, write({ 'b.txt': 'two' })),
    (err: Error) => err instanceof ExportTargetError && err.message.includes(out) && /--force/.test(err.message),
  );
  assert.deepEqual(readdirSync(out), ['a.txt']);
  await writeDirAtomically(out, { force: true }, write({ 'b.txt': 'two' }));
  assert.deepEqual(readdirSync(out), ['b.txt'], 'replaced, not merged');
  // A write that fails leaves the old folder as it was and no temporary folder.
  await assert.rejects(
    writeDirAtomically(out, { force: true }, async (dir) => {
      writeFileSync(join(dir, 'c.txt'), 'half');
      throw new Error('disk full');
    }),
    /disk full/,
  );
  assert.deepEqual(readdirSync(root), ['out']);
  assert.equal(readFileSync(join(out, 'b.txt'), 'utf8'), 'two');
  // Never a folder that holds what must be kept.
  await assert.rejects(writeDirAtomically(root, { force: true, protect: [out] }, write({})), /it holds/);
});

test('removeLeftovers: removes the folders of dead export processes, keeps live ones and other names', () => {
  const root = work();
  const out = join(root, 'model');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const live = process.ppid;
  const names = [
    `.model.tmp-${dead}-ab12`,
    `.model.old-${dead}-cd34`,
    `.model.tmp-${live}-ef56`,
    `.other.tmp-${dead}-99`,
  ];
  for (const n of names) mkdirSync(join(root, n));
  assert.deepEqual(removeLeftovers(out).sort(), names.slice(0, 2).sort());
  assert.deepEqual(readdirSync(root).sort(), names.slice(2).sort());
});

test('datasetFingerprint: same files same print; a changed size, a renamed file or a skipped one changes it', async () => {
  const dir = work();
  for (const c of ['cats', 'dogs']) {
    mkdirSync(join(dir, c));
    for (let i = 0; i < 3; i++) writeFileSync(join(dir, c, `${i}.png`), 'x'.repeat(10 + i));
  }
  const base = await datasetFingerprint(dir);
  assert.deepEqual([base.files, base.bytes], [6, 6 * 10 + 2 * 3]);
  assert.match(base.sha256, /^[0-9a-f]{64}$/);
  writeFileSync(join(dir, 'cats', 'notes.txt'), 'not an image');
  assert.deepEqual(await datasetFingerprint(dir, { seed: 7 }), base, 'no split, seed or non-image matters');
  assert.notEqual((await datasetFingerprint(dir, { skipped: ['cats/0.png'] })).sha256, base.sha256);
  renameSync(join(dir, 'dogs', '2.png'), join(dir, 'dogs', '3.png'));
  const renamed = await datasetFingerprint(dir);
  assert.notEqual(renamed.sha256, base.sha256);
  writeFileSync(join(dir, 'dogs', '3.png'), 'x'.repeat(13));
  assert.notEqual((await datasetFingerprint(dir)).sha256, renamed.sha256);
  assert.ok(existsSync(join(dir, 'cats', '0.png')));
});
