/**
 * The wizard in Arabic (issue 14, steps 1-3), in the real renderer and Debian Chromium against the real headless
 * server: the header's language switch turns the page right-to-left and steps 1-3 (stepper, headings, learn-more
 * panels) speak Arabic, while the LR finder's plot and the learning rates stay left-to-right; a pick right of the
 * loss minimum warns before training. Screenshots of steps 1-3 in both languages go to test/artifacts/.
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

async function shoot(page: Page, file: string, scrollTo?: string): Promise<void> {
  if (scrollTo) {
    await page.getByTestId(scrollTo).evaluate((el) => (el.closest('.card') ?? el).scrollIntoView({ block: 'start' }));
  } else {
    await page.evaluate(() => document.querySelector('main')?.scrollTo(0, 0));
  }
  // Only the content pane scrolls; undo any scroll of the window itself that scrollIntoView may have done.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(ARTIFACTS, file) });
}

const heading = (page: Page): Promise<string> => page.locator('main h2').first().innerText();
const direction = (page: Page, selector: string): Promise<string> =>
  page
    .locator(selector)
    .first()
    .evaluate((el) => getComputedStyle(el).direction);

test('Arabic: right-to-left wizard, steps 1-3 in Arabic, plots and LRs left-to-right, the past-minimum warning', async (t) => {
  const { page, pageErrors } = await openWizard(t, { perClass: 12, seed: 3 });
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await heading(page), 'Step 1 · The dataset');
  await shoot(page, 'en-step-1.png');

  // The header's switch: Arabic, right to left, without reloading (the scanned dataset stays).
  await page.getByTestId('language-select').selectOption('ar');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'ar');
  for (const step of [1, 2, 3]) {
    const title = await page.getByTestId(`step-${step}`).locator('.title').innerText();
    assert.match(title, ARABIC, `step ${step}'s title in Arabic: ${title}`);
  }
  assert.match(await heading(page), ARABIC);
  assert.equal(await page.getByTestId('class-row').count(), 3, 'the scan survived the switch');
  assert.match(await page.getByTestId('precompute-note').innerText(), ARABIC);
  // Step 1's learn-more panel: collapsed, Arabic once opened.
  const learn1 = page.getByTestId('learn-more-step-1');
  assert.equal(await learn1.evaluate((el) => (el as HTMLDetailsElement).open), false);
  await learn1.locator('summary').click();
  assert.match(await learn1.locator('p').first().innerText(), ARABIC);
  await learn1.locator('summary').click();
  assert.equal(await direction(page, '[data-testid="dataset-summary"] code'), 'ltr', 'the folder path stays LTR');
  await shoot(page, 'ar-step-1.png');

  // Step 2: the run's LR finder, in Arabic.
  await page.getByTestId('step-2').click();
  assert.match(await heading(page), ARABIC);
  await fillRunSettings(page, { size: 48, batch: 8, lrFindIters: 60 });
  await page.getByTestId('recipe-run-step').click();
  await page.getByTestId('use-lr-button').first().waitFor({ timeout: 90_000 });
  assert.match(await page.getByTestId('recipe-status').innerText(), ARABIC);
  assert.equal(await direction(page, '[data-testid="lrfind-plot-box"]'), 'ltr', 'the plot container is LTR');
  assert.equal(await direction(page, '[data-testid="recipe-lrfind-chart"]'), 'ltr', 'the chart inside it too');
  assert.equal(await direction(page, '[data-testid="use-lr-button"] .ltr'), 'ltr', 'suggested LRs are LTR');
  assert.match(await page.getByTestId('learn-more-2').locator('summary').innerText(), ARABIC);

  // A suggestion left of the minimum: no warning.
  await page.getByTestId('use-lr-button').first().click();
  assert.equal(await direction(page, '[data-testid="recipe-picked-lr"] .ltr'), 'ltr', 'the picked LR is LTR');
  assert.equal(await page.getByTestId('lr-right-of-min-warning').count(), 0);
  // Far right on the curve: past the minimum, warned (in Arabic).
  const over = page.getByTestId('recipe-lrfind-chart').locator('.u-over');
  const box = await over.boundingBox();
  assert.ok(box, 'the plot area is there');
  await page.mouse.click(box.x + box.width * 0.97, box.y + box.height * 0.5);
  const warning = page.getByTestId('lr-right-of-min-warning');
  await warning.waitFor({ timeout: 2000 });
  const picked = Number(await page.getByTestId('recipe-picked-lr').getAttribute('data-lr'));
  const minLr = Number(await warning.getAttribute('data-min-lr'));
  assert.ok(picked > minLr, `picked ${picked} is right of the minimum at ${minLr}`);
  assert.match(await warning.innerText(), ARABIC);
  await shoot(page, 'ar-step-2.png', 'recipe-lrfind-chart');
  await shoot(page, 'ar-step-2-pick.png', 'lr-right-of-min-warning');

  // Step 3 warns too (before training), in Arabic.
  await page.getByTestId('step-3').click();
  assert.match(await heading(page), ARABIC);
  assert.equal(Number(await page.getByTestId('recipe-head-lr').getAttribute('data-lr')), picked);
  await page.getByTestId('lr-right-of-min-warning').waitFor();
  assert.match(await page.getByTestId('recipe-head-lr').innerText(), ARABIC);
  assert.match(await page.getByTestId('learn-more-3').locator('summary').innerText(), ARABIC);
  assert.equal(await direction(page, '[data-testid="schedule-preview"]'), 'ltr', 'the schedule plot is LTR');
  await shoot(page, 'ar-step-3.png');
  const learn3 = page.getByTestId('learn-more-3');
  await learn3.locator('summary').click();
  assert.equal(await learn3.locator('p').count(), 3);
  assert.match(await learn3.locator('p').first().innerText(), ARABIC);
  await shoot(page, 'ar-step-3-charts.png', 'step3-chart');

  // Back to English: left to right, the English wording the other tests rely on, the warning in English.
  await page.getByTestId('language-select').selectOption('en');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'ltr');
  assert.equal(await heading(page), 'Step 3 · Train the head (precomputed)');
  assert.match(await page.getByTestId('lr-right-of-min-warning').innerText(), /past the minimum of the loss/);
  await shoot(page, 'en-step-3.png');
  await page.getByTestId('step-2').click();
  assert.match(await page.getByTestId('recipe-status').innerText(), /paused before step 3/);
  await shoot(page, 'en-step-2.png', 'recipe-lrfind-chart');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
