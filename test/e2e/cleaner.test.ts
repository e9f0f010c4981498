/**
 * The data cleaner on the results page, in the real renderer and Debian Chromium against the real headless server:
 * a tiny recipe run (32 px, one SGDR cycle in step 8), then one top-loss image relabelled (moved to another class
 * folder) and another excluded (moved to `_excluded/`), the undo list newest first, one undo, the files checked on
 * disk after each action, and "Run again on the cleaned data" starting a new run on the cleaned folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import { ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const topLoss = (page: Page, i: number) => page.getByTestId('top-loss-item').nth(i);

test('relabel and exclude top-loss images, undo one, run again on the cleaned data', async (t) => {
  const { page, data, pageErrors } = await openWizard(t, { perClass: 8, seed: 5, height: 1000 });

  // A tiny run of all eight steps from the step 4 page's settings.
  await page.getByTestId('step-4').click();
  await page.getByTestId('recipe-page-4').waitFor();
  await fillRunSettings(page, { size: 32, batch: 8, lrFindIters: 12, augmentEpochs: 1 });
  await page.getByTestId('step-8').click();
  await page.getByTestId('recipe-cycles-input').fill('1');
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /completed/, 400_000);
  await page.getByTestId('goto-results').click();
  await page.getByTestId('results-page').waitFor();
  await page
    .locator('[data-testid="confusion-matrix"], [data-testid="interpret-error"]')
    .first()
    .waitFor({ timeout: 240_000 });
  const interpretError = page.getByTestId('interpret-error');
  assert.equal(await interpretError.count(), 0, await interpretError.allInnerTexts().then((x) => x.join(' ')));
  assert.ok((await page.getByTestId('top-loss-item').count()) >= 2);
  await page.getByTestId('cleaner-empty').waitFor();

  // Relabel the worst image into another class folder: the file moves on disk.
  // Interpretations name the images relative to the dataset folder.
  const first = join(data, (await topLoss(page, 0).getAttribute('data-file'))!);
  const firstClass = basename(dirname(first));
  const target = await topLoss(page, 0)
    .getByTestId('clean-relabel')
    .locator('option')
    .evaluateAll((opts) => opts.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== ''));
  assert.ok(!target.includes(firstClass), 'the image cannot move into its own class');
  await topLoss(page, 0).getByTestId('clean-relabel').selectOption(target[0]!);
  await topLoss(page, 0).locator('[data-testid="clean-status"][data-kind="relabel"]').waitFor();
  const relabelled = join(data, target[0]!, basename(first));
  assert.ok(!existsSync(first) && existsSync(relabelled), `${first} moved to ${relabelled}`);

  // Exclude the next one: it goes to _excluded/<class>/, out of the class folders.
  const second = join(data, (await topLoss(page, 1).getAttribute('data-file'))!);
  await topLoss(page, 1).getByTestId('clean-exclude').click();
  await topLoss(page, 1).locator('[data-testid="clean-status"][data-kind="exclude"]').waitFor();
  const excluded = join(data, '_excluded', basename(dirname(second)), basename(second));
  assert.ok(!existsSync(second) && existsSync(excluded), `${second} moved to ${excluded}`);

  // The undo list, newest first.
  const kinds = () =>
    page.getByTestId('cleaner-move').evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.kind));
  assert.deepEqual(await kinds(), ['exclude', 'relabel']);
  await page.getByTestId('cleaner-panel').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'cleaner.png') });

  // Undo once: the exclusion is taken back, the relabel stays.
  await page.getByTestId('cleaner-undo').click();
  await page.locator('[data-testid="cleaner-panel"][data-count="1"]').waitFor();
  assert.deepEqual(await kinds(), ['relabel']);
  assert.ok(existsSync(second) && !existsSync(excluded), 'the excluded image is back');
  assert.ok(existsSync(relabelled) && !existsSync(first), 'the relabelled image stays moved');
  assert.equal(await topLoss(page, 1).getByTestId('clean-status').count(), 0, 'its actions are offered again');

  // Run again on the cleaned data: a re-scan, then a new run of the same settings.
  await page.getByTestId('cleaner-run-again').click();
  // The new run starts from step 1; the wizard shows its first page with settings, step 2.
  await page.getByTestId('recipe-page-2').waitFor();
  await waitStatus(page, /running/, 60_000);
  await page.getByTestId('recipe-cancel').click();
  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
