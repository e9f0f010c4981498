/**
 * Hostile folder layouts and names: odd names, OS junk, links, missing or extra folders, degenerate class counts.
 * Each must give a defined scan (or a DatasetError naming the folder and the fix), never a crash or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classCounts, DatasetError, LINK_REASON, scanDataset } from '../../src-main/core/data/dataset';
import { scanCommand } from '../../src-main/cli/commands';
import { baseDataset, imageCount, png, tmp } from './build';
import { splitRows } from '../helpers/images';

async function writePngs(dir: string, names: string[]) {
  mkdirSync(dir, { recursive: true });
  const bytes = await png();
  for (const n of names) writeFileSync(join(dir, n), bytes);
}

/** The scan rejects with a DatasetError whose message matches every pattern. */
async function rejectsWith(dir: string, ...patterns: RegExp[]) {
  await assert.rejects(scanDataset(dir), (e: Error) => {
    assert.ok(e instanceof DatasetError, `a DatasetError, got ${e.constructor.name}: ${e.message}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

/** The code a link's skip reason carries (src-shared/messages), beside its English. */
const LINK = { code: 'skip.link', params: {} };

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('Arabic class and file names: used as given', async () => {
  const dir = await baseDataset();
  await writePngs(join(dir, 'قطط'), ['صورة ١.png', 'صورة ٢.png']);
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.classes, ['cats', 'dogs', 'قطط']);
  assert.equal(classCounts(ds)[2]!.train + classCounts(ds)[2]!.valid, 2);
  assert.deepEqual(ds.skipped, []);
});

test('emoji class and file names: used as given', async () => {
  const dir = await baseDataset();
  await writePngs(join(dir, '🐱 kittens'), ['😺.png', '🐈‍⬛ black.png']);
  const ds = await scanDataset(dir);
  assert.ok(ds.classes.includes('🐱 kittens'), ds.classes.join(', '));
  assert.equal(imageCount(ds), 8);
});

test('quotes and spaces in class and file names: used as given', async () => {
  const dir = await baseDataset();
  const cls = `the "good" ones' pile`;
  await writePngs(join(dir, cls), [`it's "fine" .png`, '  leading and trailing  .png']);
  const ds = await scanDataset(dir);
  assert.ok(ds.classes.includes(cls));
  const label = ds.classes.indexOf(cls);
  assert.equal([...ds.train, ...ds.valid].filter((i) => i.label === label).length, 2);
});

test('a newline in a file and a class name: scanned, and the CLI JSON keeps the names intact', async () => {
  const dir = await baseDataset();
  await writePngs(join(dir, 'two\nlines'), ['a\nb.png', 'c.png']);
  writeFileSync(join(dir, 'two\nlines', 'x\ny.txt'), 'not an image');
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.classes, ['cats', 'dogs', 'two\nlines']);
  assert.equal(imageCount(ds), 8);
  const out: string[] = [];
  await scanCommand([dir, '--json'], { out: (s) => out.push(s), err: (s) => out.push(s) });
  assert.equal(out.length, 1, 'one JSON line: the newline is escaped');
  const json = JSON.parse(out[0]!) as { classes: Array<{ name: string }>; skipped: Array<{ file: string }> };
  assert.deepEqual(
    json.classes.map((c) => c.name),
    ['cats', 'dogs', 'two\nlines'],
  );
  assert.deepEqual(json.skipped, [
    { file: join('two\nlines', 'x\ny.txt'), reason: 'not an image file (by extension); ignored' },
  ]);
});

test('hidden files and OS junk (.DS_Store, Thumbs.db, desktop.ini, ._foo.jpg, __MACOSX/) are ignored silently', async () => {
  const dir = await baseDataset();
  const bytes = await png();
  writeFileSync(join(dir, '.DS_Store'), 'Bud1 junk');
  writeFileSync(join(dir, 'cats', '.DS_Store'), 'Bud1 junk');
  writeFileSync(join(dir, 'cats', 'Thumbs.db'), 'thumbnail cache');
  writeFileSync(join(dir, 'dogs', 'desktop.ini'), '[.ShellClassInfo]');
  writeFileSync(join(dir, 'cats', '._ok0.png'), 'AppleDouble resource fork'); // would be "corrupt" if decoded
  mkdirSync(join(dir, '__MACOSX', 'cats'), { recursive: true });
  writeFileSync(join(dir, '__MACOSX', 'cats', '._ok0.png'), 'AppleDouble');
  mkdirSync(join(dir, '.hidden-class'));
  writeFileSync(join(dir, '.hidden-class', 'a.png'), bytes);
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.classes, ['cats', 'dogs']);
  assert.equal(imageCount(ds), 6);
  assert.deepEqual(ds.skipped, []);
  assert.deepEqual(
    ds.warnings.filter((w) => /MACOSX|hidden/.test(w)),
    [],
  );
});

test('symlink loop: not followed, reported, the scan ends', async () => {
  const dir = await baseDataset();
  symlinkSync('..', join(dir, 'cats', 'loop')); // cats/loop/cats/loop/… forever if followed
  symlinkSync('self.png', join(dir, 'dogs', 'self.png')); // a link to itself
  const ds = await scanDataset(dir);
  assert.equal(imageCount(ds), 6);
  assert.deepEqual(ds.skipped, [
    { file: join('cats', 'loop'), reason: LINK_REASON, message: LINK },
    { file: join('dogs', 'self.png'), reason: LINK_REASON, message: LINK },
  ]);
});

test('symlink to an image outside the folder: not followed, reported with the fix', async () => {
  const dir = await baseDataset();
  const outside = join(tmp(), 'secret.png');
  writeFileSync(outside, await png());
  symlinkSync(outside, join(dir, 'cats', 'linked.png'));
  const ds = await scanDataset(dir);
  assert.equal(imageCount(ds), 6);
  assert.ok(![...ds.train, ...ds.valid].some((i) => i.file.endsWith('linked.png')));
  assert.deepEqual(ds.skipped, [{ file: join('cats', 'linked.png'), reason: LINK_REASON, message: LINK }]);
  assert.match(LINK_REASON, /not followed \(copy the image or folder here/);
});

test('symlinked class folder: not followed, reported', async () => {
  const dir = await baseDataset();
  const elsewhere = tmp();
  await writePngs(join(elsewhere, 'birds'), ['a.png', 'b.png']);
  symlinkSync(join(elsewhere, 'birds'), join(dir, 'birds'));
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.classes, ['cats', 'dogs']);
  assert.deepEqual(ds.skipped, [{ file: 'birds', reason: LINK_REASON, message: LINK }]);
});

test('empty class folder: not a class, with a warning naming the folder', async () => {
  const dir = await baseDataset();
  mkdirSync(join(dir, 'birds'));
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.classes, ['cats', 'dogs']);
  assert.ok(
    ds.warnings.includes(
      `Folder ${join(dir, 'birds')} has no readable images, so "birds" is not a class: add images or remove it.`,
    ),
    ds.warnings.join('\n'),
  );
});

test('single class: a DatasetError naming the folder and how to add classes', async () => {
  const dir = tmp();
  await writePngs(join(dir, 'cats'), ['a.png', 'b.png', 'c.png']);
  await rejectsWith(
    dir,
    /^Found 1 class folder with readable images in /,
    new RegExp(escape(dir)),
    /at least 2 are needed/,
    /one folder per class/,
  );
});

test('one class folder chosen instead of its parent: the error suggests the parent', async () => {
  const parent = tmp();
  const dir = join(parent, 'cats');
  await writePngs(dir, ['a.png', 'b.png', 'c.png']);
  await rejectsWith(
    dir,
    new RegExp(`^${escape(dir)} holds 3 images directly, not in class folders\\. Did you mean its parent, `),
    new RegExp(`${escape(parent)}\\? There, each sub-folder \\(such as cats\\) is one class\\.$`),
  );
});

test('a class with one image: a warning; that image trains and the split stays valid', async () => {
  const dir = await baseDataset(5);
  await writePngs(join(dir, 'birds'), ['only.png']);
  const ds = await scanDataset(dir);
  assert.deepEqual(splitRows(ds), [
    ['birds', 1, 0],
    ['cats', 4, 1],
    ['dogs', 4, 1],
  ]);
  assert.ok(ds.warnings.includes('Class "birds" has no validation images: its accuracy cannot be measured.'));
});

test('200 classes of one image each: scanned quickly, one summary warning instead of 200', async () => {
  const dir = tmp();
  const bytes = await png(8, 8);
  for (let i = 0; i < 200; i++) {
    mkdirSync(join(dir, `class${String(i).padStart(3, '0')}`));
    writeFileSync(join(dir, `class${String(i).padStart(3, '0')}`, 'one.png'), bytes);
  }
  const started = performance.now();
  const ds = await scanDataset(dir);
  const ms = performance.now() - started;
  assert.equal(ds.classes.length, 200);
  assert.equal(ds.train.length, 200);
  assert.equal(ds.valid.length, 0);
  assert.equal(ds.warnings.length, 1, ds.warnings.join('\n'));
  assert.match(ds.warnings[0]!, /^No validation images \(a class needs at least 2 images/);
  assert.ok(ms < 10_000, `scan took ${ms.toFixed(0)} ms`);
});

test('many classes without validation images among ones with: one line naming three and the count', async () => {
  const dir = await baseDataset(3);
  for (let i = 0; i < 6; i++) await writePngs(join(dir, `solo${i}`), ['one.png']);
  const ds = await scanDataset(dir);
  assert.deepEqual(ds.warnings, [
    '6 classes have no validation images ("solo0", "solo1", "solo2" and 3 more): their accuracy cannot be measured. Give each at least 2 images.',
  ]);
});

test('a path that does not exist: a DatasetError naming it', async () => {
  const dir = join(tmp(), 'no', 'such', 'folder');
  await rejectsWith(dir, new RegExp(`^Folder not found: ${escape(dir)}\\. Choose a folder that holds one sub-folder`));
});

test('a file instead of a folder: a DatasetError saying it is a file', async () => {
  const file = join(tmp(), 'cat.png');
  writeFileSync(file, await png());
  await rejectsWith(file, new RegExp(`^Not a folder \\(it is a file\\): ${escape(file)}\\. Choose a folder`));
});

test('train/ without valid/: its class folders are split automatically, with a warning', async () => {
  const dir = tmp();
  await writePngs(join(dir, 'train', 'cats'), ['a.png', 'b.png', 'c.png', 'd.png', 'e.png']);
  await writePngs(join(dir, 'train', 'dogs'), ['a.png', 'b.png', 'c.png', 'd.png', 'e.png']);
  const ds = await scanDataset(dir);
  assert.equal(ds.layout, 'folders');
  assert.deepEqual(splitRows(ds), [
    ['cats', 4, 1],
    ['dogs', 4, 1],
  ]);
  assert.deepEqual(ds.warnings, [
    `${join(dir, 'train')} has no validation folder beside it: 20% of each class is held out for validation. ` +
      `Add ${join(dir, 'valid', '<class>')}/ to choose the validation images yourself.`,
  ]);
});

test('valid/ without train/: a DatasetError naming the folder to add', async () => {
  const dir = tmp();
  await writePngs(join(dir, 'valid', 'cats'), ['a.png']);
  await writePngs(join(dir, 'valid', 'dogs'), ['a.png']);
  await rejectsWith(
    dir,
    new RegExp(`^${escape(join(dir, 'valid'))} has no training folder beside it`),
    new RegExp(escape(join(dir, 'train', '<class>'))),
  );
});

test('images loose at the top, outside any class folder: skipped with the reason', async () => {
  const dir = await baseDataset();
  writeFileSync(join(dir, 'stray.png'), await png());
  writeFileSync(join(dir, 'README.txt'), 'about this dataset');
  const ds = await scanDataset(dir);
  assert.equal(imageCount(ds), 6);
  assert.deepEqual(ds.skipped, [
    {
      file: 'stray.png',
      reason: 'not in a class folder; ignored',
      message: { code: 'skip.notInClassFolder', params: {} },
    },
  ]);
});

test('a folder named like an image (cats/x.jpg/): searched as a folder, not decoded', async () => {
  const dir = await baseDataset();
  await writePngs(join(dir, 'cats', 'x.jpg'), ['inner.png']);
  const ds = await scanDataset(dir);
  assert.equal(imageCount(ds), 7);
  assert.deepEqual(ds.skipped, []);
});
