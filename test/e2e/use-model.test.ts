/**
 * The "Use the model" page in Debian Chromium on the real headless server: an exported model folder (trained and
 * exported by the CLI) and a folder of new images, some unreadable; the grid shows a cell per readable image with the
 * label `finetune predict` gives, the bad files are listed, and the CSV is written where asked and offered for
 * download.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openWizard } from '../helpers/browser';
import { finetune, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';

test('Use the model: a folder predicted as a grid, bad files listed, the CSV written and downloadable', async (t) => {
  const { page, pageErrors, data, work } = await openWizard(t, { perClass: 6, seed: 21 });
  // The model, from the CLI in a home of its own (the server holds the wizard's).
  const env = { FINETUNE_HOME: join(work, 'cli-home') };
  const train = finetune(['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--json'], env);
  assert.equal(train.status, 0, train.stderr);
  const model = join(work, 'model');
  const exported = finetune(['export', String(lastJson<{ runId: number }>(train).runId), '--out', model], env);
  assert.equal(exported.status, 0, exported.stderr);
  const images = join(work, 'new-images');
  await makeShapeDataset(images, { perClass: 2, size: 40, seed: 8, withBadFiles: true });
  const expected = lastJson<Array<{ file: string; label: string | null }>>(
    finetune(['predict', model, images, '--json', '--format', 'onnx'], env),
  );

  await page.getByTestId('nav-use-model').click();
  await page.getByTestId('use-model-dir').fill(model);
  await page.getByTestId('use-image-dir').fill(images);
  const csvPath = join(work, 'predictions.csv');
  await page.getByTestId('use-csv-path').fill(csvPath);
  await page.getByTestId('use-predict').click();
  await page.getByTestId('use-summary').waitFor({ timeout: 120_000 });

  assert.match(await page.getByTestId('use-summary').innerText(), /6 images predicted with ONNX; 3 skipped/);
  const labels = await page.getByTestId('use-cell-label').allInnerTexts();
  assert.deepEqual(
    labels,
    expected.filter((p) => p.label !== null).map((p) => p.label),
  );
  assert.equal(await page.locator('[data-testid="use-cell"] img').count(), 6, 'a thumbnail per image');
  const problems = await page.getByTestId('use-problems').innerText();
  for (const bad of ['broken.jpg', 'truncated.png', 'notes.txt']) assert.ok(problems.includes(bad), bad);
  assert.equal(await page.getByTestId('use-csv-written').innerText(), csvPath);
  const rows = readFileSync(csvPath, 'utf8').trim().split('\n');
  assert.equal(rows.length, 1 + 6 + 3);
  // The download offers the same CSV.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('use-download-csv').click()]);
  assert.equal(readFileSync((await download.path())!, 'utf8'), readFileSync(csvPath, 'utf8'));

  // In Arabic, each skipped file's reason too (the file names stay as they are).
  await page.getByTestId('language-select').selectOption('ar');
  await page.waitForFunction(() => document.documentElement.lang === 'ar');
  const reasons = await page.locator('[data-testid="use-problems"] li bdi').allInnerTexts();
  assert.equal(reasons.length, 3);
  for (const reason of reasons) {
    const words = reason.replace(/[\u2066-\u2068][^\u2069]*\u2069/g, ' ').match(/[A-Za-z]{2,}/g);
    assert.equal(words, null, `an English word in the Arabic reason "${reason}"`);
  }
  assert.deepEqual(pageErrors, []);
});
