/**
 * The learning-rate toolkit in the real renderer (built by electron-vite) and Debian Chromium, against the real
 * headless server: step 2's LR finder (live curve, suggestions, "Use this LR", picking by clicking the curve), the LR
 * flowing into step 3, the schedule preview redrawn as SGDR's parameters change, and training with that schedule
 * while the applied LR is plotted under the loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWizard } from '../helpers/browser';
import { ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** The schedule preview's plan, as its data attributes expose it. */
async function previewPlan(page: Page): Promise<{ iterations: number; cycleEnds: number[]; itersPerEpoch: number }> {
  const el = page.getByTestId('schedule-preview');
  const iterations = Number(await el.getAttribute('data-iterations'));
  const ends = (await el.getAttribute('data-cycle-ends')) ?? '';
  const itersPerEpoch = Number(await el.getAttribute('data-iters-per-epoch'));
  return { iterations, cycleEnds: ends === '' ? [] : ends.split(',').map(Number), itersPerEpoch };
}

/** Waits (briefly: the preview must follow the inputs at once) until the preview shows `iterations`. */
async function previewShows(page: Page, iterations: number): Promise<void> {
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="schedule-preview"]')?.getAttribute('data-iterations') === String(n),
    iterations,
    { timeout: 1000 },
  );
}

/**
 * Scrolls the wizard's content pane (the page itself does not scroll) so that the element's card starts at the top,
 * then takes a screenshot of the 1280×800 window.
 */
async function screenshotAt(page: Page, testid: string, file: string): Promise<void> {
  await page.getByTestId(testid).evaluate((el) => {
    (el.closest('.card') ?? el).scrollIntoView({ block: 'start' });
  });
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(ARTIFACTS, file) });
}

async function pickedLr(page: Page): Promise<number> {
  return Number(await page.getByTestId('picked-lr').getAttribute('data-lr'));
}

test('LR finder → pick an LR → SGDR schedule preview → train with it, applied LR plotted', async (t) => {
  const { page, pageErrors } = await openWizard(t, { perClass: 12, seed: 3 });
  assert.equal(await page.getByTestId('class-row').count(), 3);

  // Step 7 needs a trained run first.
  assert.equal(await page.getByTestId('step-7').isDisabled(), true, 'step 7 waits for a completed run');

  // Step 2: the LR finder. Small data: the head's loss needs a wide sweep (up to 100) to blow up.
  await page.getByTestId('step-2').click();
  await page.getByTestId('lrfind-size-input').fill('48');
  await page.getByTestId('lrfind-batch-size-input').fill('8');
  const start = Number(await page.getByTestId('lrfind-start-input').inputValue());
  assert.ok(start > 0 && start < 1e-3, `start prefilled from the defaults (${start})`);
  const end = 100;
  await page.getByTestId('lrfind-end-input').fill(String(end));
  await page.getByTestId('lrfind-iters-input').fill('60');
  await page.getByTestId('lrfind-run-button').click();
  await page.getByTestId('lrfind-progress').waitFor();
  await page
    .getByTestId('lrfind-status')
    .filter({ hasText: /completed/i })
    .waitFor({ timeout: 90_000 });

  const chartBox = await page.getByTestId('lrfind-chart').locator('canvas').first().boundingBox();
  assert.ok(chartBox && chartBox.width > 300 && chartBox.height > 150, 'the LR finder chart is drawn');
  const suggestions = await page
    .getByTestId('lrfind-suggestion')
    .evaluateAll((els) => els.map((el) => ({ name: el.dataset.name ?? '', lr: el.dataset.lr ?? '' })));
  assert.deepEqual(
    suggestions.map((s) => s.name),
    ['valley', 'steep', 'minDiv10'],
  );
  const finite = suggestions.map((s) => ({ ...s, value: s.lr === '' ? NaN : Number(s.lr) }));
  assert.ok(
    finite.some((s) => Number.isFinite(s.value) && s.value >= start && s.value <= end),
    `a suggestion within [${start}, ${end}]: ${JSON.stringify(suggestions)}`,
  );
  assert.equal(await page.getByTestId('use-lr-button').count(), 3);
  await screenshotAt(page, 'lrfind-chart', 'lr-finder.png');

  // "Use this LR" on the valley: the pick shows it, and it becomes step 3's learning rate.
  const valley = finite.find((s) => s.name === 'valley')!.value;
  assert.ok(Number.isFinite(valley), 'the valley suggestion exists');
  await page.locator('[data-testid="use-lr-button"][data-name="valley"]').click();
  const picked = await pickedLr(page);
  assert.ok(Math.abs(picked - valley) <= valley * 0.005, `picked ${picked} ≈ valley ${valley} (3 significant digits)`);
  await page.getByTestId('step-3').click();
  assert.equal(Number(await page.getByTestId('lr-input').inputValue()), picked, 'step 3 trains with the picked LR');
  assert.equal(Number(await page.getByTestId('lr-from-finder').getAttribute('data-lr')), picked);
  assert.match(await page.getByTestId('lr-from-finder').innerText(), /LR picked from the LR finder/);

  // Back to step 2: the curve is still there; clicking it picks the LR under the cursor.
  await page.getByTestId('step-2').click();
  await page
    .getByTestId('lrfind-status')
    .filter({ hasText: /completed/i })
    .waitFor();
  const over = page.getByTestId('lrfind-chart').locator('.u-over');
  const overBox = await over.boundingBox();
  assert.ok(overBox, 'the plot area is there');
  // Two thirds along a 1e-7 … 100 log axis: about 0.05, in the falling part (the run below should learn).
  await page.mouse.click(overBox.x + overBox.width * 0.65, overBox.y + overBox.height * 0.5);
  const clicked = await pickedLr(page);
  assert.notEqual(clicked, picked, 'clicking the curve changed the pick');
  assert.ok(clicked >= start && clicked <= end, `clicked LR ${clicked} within [${start}, ${end}]`);
  assert.match(await page.getByTestId('picked-lr').innerText(), /clicked/);

  // Step 3: SGDR with cycle_len 1, cycle_mult 2, 3 cycles = 1 + 2 + 4 = 7 epochs.
  await page.getByTestId('step-3').click();
  assert.equal(Number(await page.getByTestId('lr-input').inputValue()), clicked);
  await page.getByTestId('schedule-kind-select').selectOption('sgdr');
  await page.getByTestId('schedule-cycle-len-input').fill('1');
  await page.getByTestId('schedule-cycle-mult-input').fill('2');
  await page.getByTestId('schedule-cycles-input').fill('3');
  let plan = await previewPlan(page);
  // 36 images, 20 % validation: 30 training images in batches of 8.
  assert.equal(plan.itersPerEpoch, Math.ceil(30 / 8));
  const ipe = plan.itersPerEpoch;
  assert.equal(plan.iterations, 7 * ipe);
  assert.deepEqual(plan.cycleEnds, [ipe - 1, 3 * ipe - 1, 7 * ipe - 1]);
  assert.equal(Number(await page.getByTestId('epochs-input').inputValue()), 7, 'SGDR: the cycles decide the epochs');

  // Redrawn as the user edits: 2 cycles = 1 + 2 = 3 epochs.
  await page.getByTestId('schedule-cycles-input').fill('2');
  await previewShows(page, 3 * ipe);
  plan = await previewPlan(page);
  assert.equal(plan.cycleEnds.length, 2);
  assert.equal(Number(await page.getByTestId('epochs-input').inputValue()), 3);
  // An invalid parameter shows the schedule's own error and blocks training.
  await page.getByTestId('schedule-cycle-mult-input').fill('1.5');
  await page.getByTestId('schedule-error').waitFor({ timeout: 1000 });
  assert.match(await page.getByTestId('schedule-error').innerText(), /cycle_mult/);
  assert.equal(await page.getByTestId('train-button').isDisabled(), true);
  await page.getByTestId('schedule-cycle-mult-input').fill('2');
  await previewShows(page, 3 * ipe);
  assert.equal(await page.getByTestId('schedule-error').count(), 0);
  await page.getByTestId('lr-source').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(ARTIFACTS, 'schedule-preview.png') });

  // Train with that schedule: the epochs come from the cycles.
  await page.getByTestId('train-button').click();
  await page
    .getByTestId('train-status')
    .filter({ hasText: /completed/i })
    .waitFor({ timeout: 120_000 });
  assert.equal(await page.getByTestId('epoch-row').count(), 3);
  const lrChart = page.getByTestId('lr-applied-chart');
  const lrBox = await lrChart.locator('canvas').first().boundingBox();
  assert.ok(lrBox && lrBox.width > 300 && lrBox.height > 60, 'the applied-LR chart is drawn');
  assert.equal(Number(await lrChart.getAttribute('data-planned')), 3 * ipe, 'the run used the previewed plan');
  assert.equal(Number(await lrChart.getAttribute('data-applied')), 3 * ipe, 'an applied LR for every batch');
  await screenshotAt(page, 'loss-chart', 'training-lr.png');

  // Step 7 opens once a run has completed.
  await page.getByTestId('step-7').click();
  await page.getByTestId('lrfind-run-select').waitFor();

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
