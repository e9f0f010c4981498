/**
 * The browser UI's folder browser (issue 24): a page cannot open the system's folder dialog, so step 1's "Browse…"
 * lists the folders under the home directory through `dataset.browse`. Driven by mouse and keyboard: into a folder
 * (Enter), into a class folder (its hint), up again, "Use this folder": the field holds the path and it is scanned.
 * Escape closes it, Tab stays inside. The home directory is a temporary folder (HOME), so that the listing is known.
 * axe-core finds no serious violation with it open, in English and in Arabic (screenshot in test/artifacts/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describeViolations, seriousViolations } from '../helpers/a11y';
import { openFreshWizard, withoutIsolates } from '../helpers/browser';
import { ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const shownDir = (page: Page) => page.getByTestId('folder-browser-dir').innerText();
const entry = (page: Page, name: string) => page.locator(`[data-testid="folder-browser-entry"][data-name="${name}"]`);
/** The data-testid of the focused element, and whether it is inside the dialog. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return { testid: el?.getAttribute('data-testid') ?? null, inDialog: el?.closest('dialog') !== null };
  });

test('folder browser: into a folder, up, use it; the field holds it and it is scanned', async (t) => {
  const fakeHome = realpathSync(mkdtempSync(join(tmpdir(), 'ft-home-')));
  const dataset = join(fakeHome, 'datasets', 'shapes');
  await makeShapeDataset(dataset, { perClass: 4, seed: 5 });
  const savedHome = process.env.HOME;
  process.env.HOME = fakeHome;
  t.after(() => {
    process.env.HOME = savedHome;
  });
  const { page, pageErrors } = await openFreshWizard(t);

  await page.screenshot({ path: join(ARTIFACTS, 'first-model-fresh.png') });
  // No system dialog in a browser: "Browse…" instead of "Choose folder…".
  assert.equal(await page.getByTestId('pick-folder-button').count(), 0);
  await page.getByTestId('browse-folder-button').click();
  const dialog = page.getByRole('dialog', { name: 'Choose the dataset folder' });
  await dialog.waitFor();
  await page.getByTestId('folder-browser-dir').waitFor();
  assert.equal(await shownDir(page), fakeHome, 'an empty field starts at the home folder');
  assert.ok(await page.getByTestId('folder-browser-up').isDisabled(), 'nothing above the home folder');

  // Escape closes it, the field untouched, and focus is back on the button that opened it.
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('folder-input').inputValue(), '');
  assert.equal((await focused(page)).testid, 'browse-folder-button');

  // Keyboard: focus on the first folder, Enter opens it, the arrows move, Tab stays in the dialog.
  await page.getByTestId('browse-folder-button').click();
  await entry(page, 'datasets').waitFor();
  await entry(page, 'datasets').focus();
  await page.keyboard.press('Enter');
  await entry(page, 'shapes').waitFor();
  assert.equal(await shownDir(page), join(fakeHome, 'datasets'));
  assert.equal((await focused(page)).testid, 'folder-browser-up', 'focus moves to the first row of the new folder');
  await page.keyboard.press('ArrowDown');
  assert.equal((await focused(page)).testid, 'folder-browser-entry');
  await page.keyboard.press('Enter');
  await entry(page, 'circles').waitFor();
  assert.equal(await shownDir(page), dataset);
  assert.match(await entry(page, 'circles').innerText(), /4 images/, 'each class folder with its image count');
  assert.equal(await page.getByTestId('folder-browser-class-hint').count(), 0, 'a dataset folder holds no images');
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], describeViolations('folder browser (en)', violations));
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    assert.ok((await focused(page)).inDialog, `Tab ${i + 1} stays in the dialog`);
  }

  // Into a class folder: the hint says its parent holds the classes; up again.
  await entry(page, 'squares').click();
  await page.getByTestId('folder-browser-class-hint').waitFor();
  assert.match(await page.getByTestId('folder-browser-class-hint').innerText(), /one class's folder/);
  assert.match(await page.getByTestId('folder-browser-up').innerText(), /Up to shapes/);
  await page.getByTestId('folder-browser-up').click();
  await entry(page, 'circles').waitFor();
  assert.equal(await shownDir(page), dataset);

  // Arabic, once: the same dialog right-to-left.
  await page.getByTestId('folder-browser-cancel').click();
  await page.getByTestId('language-select').selectOption('ar');
  await page.getByTestId('browse-folder-button').click();
  await page.getByRole('dialog', { name: 'اختر مجلد مجموعة البيانات' }).waitFor();
  await entry(page, 'squares').click();
  await page.getByTestId('folder-browser-class-hint').waitFor();
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(ARTIFACTS, 'folder-browser-ar.png') });
  const violationsAr = await seriousViolations(page);
  assert.deepEqual(violationsAr, [], describeViolations('folder browser (ar)', violationsAr));
  await page.getByTestId('folder-browser-up').click();
  await entry(page, 'circles').waitFor();

  // A folder deleted after it was listed: the error is said in Arabic too, its path the only Latin in it.
  mkdirSync(join(fakeHome, 'datasets', 'gone'));
  await page.getByTestId('folder-browser-up').click();
  await entry(page, 'gone').waitFor();
  rmSync(join(fakeHome, 'datasets', 'gone'), { recursive: true });
  await entry(page, 'gone').click();
  const browseError = await page.getByTestId('folder-browser-error').innerText();
  assert.ok(browseError.includes(join(fakeHome, 'datasets', 'gone')), browseError);
  const outsidePath = withoutIsolates(browseError).replace(join(fakeHome, 'datasets', 'gone'), '');
  assert.doesNotMatch(outsidePath, /[A-Za-z]{2,}/, `no English word in the Arabic error: ${browseError}`);
  await entry(page, 'shapes').click();
  await entry(page, 'circles').waitFor();
  await page.getByTestId('folder-browser-cancel').click();
  await page.getByTestId('language-select').selectOption('en');

  // "Use this folder": the field holds it and the dataset is scanned.
  await page.getByTestId('browse-folder-button').click();
  await entry(page, 'circles').waitFor();
  assert.equal(await shownDir(page), dataset, 'with an empty field, it opens where it was left');
  await page.getByTestId('folder-browser-use').click();
  await dialog.waitFor({ state: 'hidden' });
  await page.getByTestId('dataset-summary').waitFor();
  assert.equal(await page.getByTestId('folder-input').inputValue(), dataset);
  assert.equal(await page.locator('[data-testid="dataset-summary"] .fact .value').first().innerText(), '3');
  assert.deepEqual(pageErrors, []);
});
