/**
 * The incremental scan (data/scanCache.ts): a rescan of an unchanged folder reads no image, a changed file (size or
 * modification time) is read again, and a cancelled scan keeps what it checked. "Reads no image" is shown on real
 * files: an image's bytes are replaced by garbage of the same size with its time put back, which only a scan that
 * reads the file would notice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { scanDataset } from '../../src-main/core/data/dataset';
import { CancelledError } from '../../src-main/core/util/pool';

async function folder(perClass: number) {
  const dir = mkdtempSync(join(tmpdir(), 'ft-scan-cache-'));
  for (const [cls, colour] of [
    ['cats', { r: 200, g: 40, b: 40 }],
    ['dogs', { r: 40, g: 40, b: 200 }],
  ] as const) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < perClass; i++) {
      const img = sharp({ create: { width: 20 + i, height: 20, channels: 3, background: colour } });
      writeFileSync(join(dir, cls, `img${String(i).padStart(2, '0')}.png`), await img.png().toBuffer());
    }
  }
  return { dir, cacheDir: join(mkdtempSync(join(tmpdir(), 'ft-scan-home-')), 'scan') };
}

/** Garbage of the file's size, with its modification time put back: unchanged to a scan that only stats. */
function garbleKeepingStat(file: string) {
  const { size, atimeMs, mtimeMs } = statSync(file);
  writeFileSync(file, Buffer.alloc(size, 0x41));
  utimesSync(file, atimeMs / 1000, mtimeMs / 1000);
}

const count = (ds: { train: unknown[]; valid: unknown[] }) => ds.train.length + ds.valid.length;

test('a rescan of an unchanged folder reads no image; a changed file is read again', async () => {
  const { dir, cacheDir } = await folder(6);
  const first = await scanDataset(dir, { cacheDir });
  assert.equal(count(first), 12);
  const file = join(dir, 'cats', 'img03.png');
  garbleKeepingStat(file);
  const progress: Array<[number, number]> = [];
  const again = await scanDataset(dir, { cacheDir, onProgress: (d, t) => progress.push([d, t]) });
  assert.equal(count(again), 12, 'the garbled file was not read: its verdict came from the cache');
  assert.deepEqual(again.skipped, []);
  assert.deepEqual(progress.at(-1), [12, 12], 'progress ends at the total');
  // Without the cache, or once the time moves, the file is read and found corrupt.
  assert.equal(count(await scanDataset(dir)), 11);
  const later = new Date(Date.now() + 5000);
  utimesSync(file, later, later);
  const changed = await scanDataset(dir, { cacheDir });
  assert.equal(count(changed), 11);
  assert.deepEqual(
    changed.skipped.map((s) => s.file),
    [join('cats', 'img03.png')],
  );
});

test('a corrupt file stays skipped from the cache, and is read again once replaced', async () => {
  const { dir, cacheDir } = await folder(3);
  const bad = join(dir, 'dogs', 'bad.png');
  writeFileSync(bad, 'not an image at all');
  const first = await scanDataset(dir, { cacheDir });
  assert.match(first.skipped[0]!.reason, /not a readable image/);
  const again = await scanDataset(dir, { cacheDir });
  assert.deepEqual(again.skipped, first.skipped, 'the same reason, from the cache');
  writeFileSync(
    bad,
    await sharp({ create: { width: 9, height: 9, channels: 3, background: 'white' } })
      .png()
      .toBuffer(),
  );
  const later = new Date(Date.now() + 5000);
  utimesSync(bad, later, later);
  const fixed = await scanDataset(dir, { cacheDir });
  assert.deepEqual(fixed.skipped, []);
  assert.equal(count(fixed), 7);
});

test('a cancelled scan stops with CancelledError and keeps the verdicts it made', async () => {
  const { dir, cacheDir } = await folder(20);
  let calls = 0;
  await assert.rejects(
    scanDataset(dir, { cacheDir, shouldCancel: () => ++calls > 12 }),
    (e: Error) => e instanceof CancelledError,
  );
  // The first image was checked before the cancel: garbled with its stat kept, the next scan still counts it.
  garbleKeepingStat(join(dir, 'cats', 'img00.png'));
  assert.equal(count(await scanDataset(dir, { cacheDir })), 40);
});
