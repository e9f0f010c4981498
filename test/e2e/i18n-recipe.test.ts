/**
 * Steps 4–8 and the export page in Arabic, in the real renderer and Debian Chromium against the real headless
 * server: the header's language switch turns the page right-to-left, a tiny recipe runs steps 1–4 (so that every
 * recipe page opens and step 4 has a loss curve), and each page's heading is Arabic while its plots stay
 * left-to-right. Screenshots test/artifacts/ar-step-4.png … ar-step-8.png and ar-export.png.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fillRunSettings, openWizard } from '../helpers/browser';
import { ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
const ARABIC = /[\u0600-\u06FF]/;

async function heading(page: Page, testid: string): Promise<string> {
  return page.getByTestId(testid).locator('h2').first().innerText();
}

/** The computed direction of every element matching `selector` (the plots' containers). */
async function directions(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) => els.map((el) => getComputedStyle(el).direction));
}

/** The whole page: the wizard scrolls inside its content column, so the window grows to its height for the shot. */
async function shot(page: Page, file: string): Promise<void> {
  const height = await page.evaluate(() => {
    const content = document.querySelector('.content');
    content?.scrollTo(0, 0);
    return (content?.scrollHeight ?? 0) + (document.querySelector('header')?.offsetHeight ?? 0);
  });
  await page.setViewportSize({ width: 1280, height: Math.min(4000, Math.max(900, height + 8)) });
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, file) });
  await page.setViewportSize({ width: 1280, height: 900 });
}

test('steps 4–8 and the export page in Arabic: right-to-left pages, Arabic headings, left-to-right plots', async (t) => {
  const { page, pageErrors } = await openWizard(t, { perClass: 8, seed: 7, height: 900 });
  await page.getByTestId('language-select').selectOption('ar');
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  assert.equal(await page.locator('html').getAttribute('lang'), 'ar');

  // Step 4: a tiny recipe run to step 4 (small images and batches, a short range test, two epochs).
  await page.getByTestId('step-4').click();
  await page.getByTestId('recipe-page-4').waitFor();
  await fillRunSettings(page, { size: 32, batch: 8, lrFindIters: 20, augmentEpochs: 2 });
  assert.match(await heading(page, 'recipe-page-4'), ARABIC);
  assert.match(await page.getByTestId('recipe-run-step').innerText(), ARABIC);
  await page.getByTestId('recipe-run-step').click();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="step4-chart"]')?.getAttribute('data-epochs')) >= 2,
    undefined,
    { timeout: 180_000 },
  );
  await page.getByTestId('recipe-step-result').nth(3).waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('recipe-status').innerText(), ARABIC);
  assert.deepEqual(await directions(page, '[data-testid="step4-chart"], [data-testid="schedule-preview-plot"]'), [
    'ltr',
    'ltr',
  ]);
  // The learn-more panel opens on its Arabic text.
  await page.getByTestId('learn-more-4').locator('summary').click();
  assert.match(await page.getByTestId('learn-more-4').innerText(), /SGDR/);
  assert.match(await page.getByTestId('learn-more-4').locator('p').first().innerText(), ARABIC);
  await shot(page, 'ar-step-4.png');

  // Steps 5–8: open each page (the paused run unlocks them).
  for (const step of [5, 6, 7, 8]) {
    await page.getByTestId(`step-${step}`).click();
    await page.getByTestId(`recipe-page-${step}`).waitFor();
    assert.match(await heading(page, `recipe-page-${step}`), ARABIC, `step ${step}'s heading`);
    assert.ok((await page.getByTestId(`learn-more-${step}`).count()) === 1, `step ${step}'s learn-more panel`);
    if (step === 6 || step === 8) {
      const values = await page
        .getByTestId('group-lr')
        .locator('.bar-value')
        .evaluateAll((els) => els.map((el) => getComputedStyle(el).direction));
      assert.deepEqual(values, ['ltr', 'ltr', 'ltr'], 'group LRs read left to right');
    }
    if (step === 7) {
      assert.deepEqual(await directions(page, '[data-testid="recipe-lrfind-chart"]'), ['ltr']);
    }
    if (step === 8) {
      assert.deepEqual(await directions(page, '[data-testid="step8-chart"], [data-testid="schedule-preview-plot"]'), [
        'ltr',
        'ltr',
      ]);
    }
    await shot(page, `ar-step-${step}.png`);
  }

  // The export page.
  await page.getByTestId('nav-export').click();
  await page.getByTestId('export-button').waitFor();
  assert.match(await page.locator('main h2, .page h2').first().innerText(), ARABIC);
  assert.match(await page.getByTestId('export-button').innerText(), ARABIC);
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  await shot(page, 'ar-export.png');

  // Switching back redraws the same page in English, left to right, without a reload.
  await page.getByTestId('language-select').selectOption('en');
  assert.equal(await page.locator('html').getAttribute('dir'), 'ltr');
  assert.equal(await page.locator('main h2, .page h2').first().innerText(), 'Export & evaluate');
  await page.getByTestId('step-8').click();
  assert.match(await heading(page, 'recipe-page-8'), /^Step 8 · Train all layers with SGDR/);
  assert.match(await page.getByTestId('recipe-status').innerText(), /paused before step 5/);

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
