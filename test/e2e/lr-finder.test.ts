/**
 * The learning-rate toolkit in the real renderer (built by electron-vite) and Debian Chromium, against the real
 * headless server: step 2 of the run (its range test's curve, suggestions, "Use", picking by clicking the curve), the
 * LR flowing into step 3, step 3's schedule preview redrawn as SGDR's parameters change, and step 3 of the same run
 * training with that schedule at that LR (read back from the history by the CLI).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import type { RecipeConfig, RunComparison } from '../../src-shared/contract';
import { finetune, lastJson, ROOT } from '../helpers/cli';

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
  return Number(await page.getByTestId('recipe-picked-lr').getAttribute('data-lr'));
}

test('step 2 of the run: pick an LR → step 3 with an SGDR schedule, previewed, trains with both', async (t) => {
  const { page, pageErrors, home } = await openWizard(t, { perClass: 12, seed: 3 });
  assert.equal(await page.getByTestId('class-row').count(), 3);

  // Step 2: the run's range test on the head (steps 1–2 on 48 px images in batches of 8).
  await page.getByTestId('step-2').click();
  await fillRunSettings(page, { size: 48, batch: 8, lrFindIters: 60 });
  await page.getByTestId('recipe-run-step').click();
  await page.getByTestId('progress-bar').waitFor();
  await waitStatus(page, /paused before step 3/, 90_000);

  const chartBox = await page.getByTestId('recipe-lrfind-chart').locator('canvas').first().boundingBox();
  assert.ok(chartBox && chartBox.width > 300 && chartBox.height > 150, 'the LR finder chart is drawn');
  const suggestions = await page
    .getByTestId('use-lr-button')
    .evaluateAll((els) => els.map((el) => ({ name: el.dataset.name ?? '', lr: Number(el.dataset.lr) })));
  assert.ok(suggestions.length >= 1, 'at least one suggestion');
  assert.ok(
    suggestions.every((s) => s.lr >= 1e-7 && s.lr <= 10),
    `suggestions within the sweep: ${JSON.stringify(suggestions)}`,
  );
  await screenshotAt(page, 'recipe-lrfind-chart', 'lr-finder.png');

  // "Use" a suggestion: the pick shows it, and it becomes step 3's learning rate.
  const first = suggestions[0]!;
  await page.locator(`[data-testid="use-lr-button"][data-name="${first.name}"]`).click();
  const picked = await pickedLr(page);
  assert.ok(Math.abs(picked - first.lr) <= first.lr * 0.005, `picked ${picked} ≈ ${first.lr} (3 significant digits)`);
  await page.getByTestId('step-3').click();
  assert.equal(Number(await page.getByTestId('recipe-head-lr').getAttribute('data-lr')), picked);

  // Back to step 2: the curve is still there; clicking it picks the LR under the cursor.
  await page.getByTestId('step-2').click();
  const over = page.getByTestId('recipe-lrfind-chart').locator('.u-over');
  const overBox = await over.boundingBox();
  assert.ok(overBox, 'the plot area is there');
  await page.mouse.click(overBox.x + overBox.width * 0.6, overBox.y + overBox.height * 0.5);
  await page.waitForFunction((before) => {
    const lr = document.querySelector('[data-testid="recipe-picked-lr"]')?.getAttribute('data-lr');
    return lr !== undefined && lr !== null && Number(lr) !== before;
  }, picked);
  const clicked = await pickedLr(page);
  assert.ok(clicked >= 1e-7 && clicked <= 10, `clicked LR ${clicked} within the sweep`);

  // Step 3: SGDR with cycle_len 1, cycle_mult 2, 3 cycles = 1 + 2 + 4 = 7 epochs.
  await page.getByTestId('step-3').click();
  assert.equal(Number(await page.getByTestId('recipe-head-lr').getAttribute('data-lr')), clicked);
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

  // Redrawn as the user edits: 2 cycles = 1 + 2 = 3 epochs.
  await page.getByTestId('schedule-cycles-input').fill('2');
  await previewShows(page, 3 * ipe);
  plan = await previewPlan(page);
  assert.equal(plan.cycleEnds.length, 2);
  // An invalid parameter shows the schedule's own error and blocks the step.
  await page.getByTestId('schedule-cycle-mult-input').fill('1.5');
  await page.getByTestId('schedule-error').waitFor({ timeout: 1000 });
  assert.match(await page.getByTestId('schedule-error').innerText(), /cycle_mult/);
  assert.equal(await page.getByTestId('recipe-run-step').isDisabled(), true);
  await page.getByTestId('schedule-cycle-mult-input').fill('2');
  await previewShows(page, 3 * ipe);
  assert.equal(await page.getByTestId('schedule-error').count(), 0);
  await screenshotAt(page, 'schedule-preview', 'schedule-preview.png');

  // Step 3 runs with that schedule at the clicked LR: the epochs come from the cycles.
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 4/, 120_000);
  assert.equal(Number(await page.getByTestId('step3-chart').getAttribute('data-epochs')), 3);
  await screenshotAt(page, 'step3-chart', 'training-lr.png');

  const show = finetune(['runs', 'show', '1', '--json'], { FINETUNE_HOME: home });
  assert.equal(show.status, 0, show.stderr);
  const run = lastJson<RunComparison & { recipe: RecipeConfig | null }>(show);
  assert.equal(run.recipe?.lrHead, clicked);
  assert.deepEqual(run.recipe?.headSchedule && { ...run.recipe.headSchedule, etaMin: undefined }, {
    kind: 'sgdr',
    cycleLen: 1,
    cycleMult: 2,
    cycles: 2,
    etaMin: undefined,
  });
  const lrs = run.iterations.filter((i) => i.step === 'step3-head').map((i) => i.lr);
  assert.equal(lrs.length, 3 * ipe, 'the run used the previewed plan');
  assert.ok(Math.abs(Math.max(...lrs) - clicked) <= clicked * 1e-6, 'SGDR peaks at the clicked LR');
  assert.ok(Math.min(...lrs) < clicked / 2, 'and anneals');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
