/**
 * The eight-step recipe in the real renderer (built by electron-vite) and Debian Chromium, against the real headless
 * server: step 1's augmentation preview, then steps 2–8 run one page at a time inside one run (step 2's LR pick, schedule previews, group LRs, step 7's curve with click-to-pick, step 8's snapshots and best epoch), and the
 * results page (confusion matrix, cell images, top losses, TTA, single and ensemble exports).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import { ROOT } from '../helpers/cli';
import { measuredOnKept } from '../../src-shared/recipe/measuredEffects';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

async function shot(page: Page, file: string, testid?: string): Promise<void> {
  if (testid) {
    await page
      .getByTestId(testid)
      .first()
      .evaluate((el) => {
        (el.closest('.card') ?? el).scrollIntoView({ block: 'start' });
      });
  }
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(ARTIFACTS, file) });
}

async function resultSteps(page: Page): Promise<number[]> {
  return page
    .getByTestId('recipe-step-result')
    .evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.step)));
}

test('the eight steps as one recipe run, page by page, then the results page', async (t) => {
  // Step 1: scan, augmentation preset and preview.
  const { page, pageErrors } = await openWizard(t, { perClass: 8, seed: 5, height: 860 });
  await page.getByTestId('augment-preset-select').selectOption('top-down');
  await page.getByTestId('augment-preset-select').selectOption('side-on');
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="augment-preview"]')?.getAttribute('data-count')) > 0,
    undefined,
    { timeout: 30_000 },
  );
  assert.ok((await page.getByTestId('augment-preview').locator('img').count()) > 0);
  assert.match(await page.getByTestId('precompute-note').innerText(), /takes effect in step 4/);
  await shot(page, 'recipe-step-1.png', 'augment-card');

  // Step 2 starts the run (steps 1–2 on small images and batches); its valley becomes the head's LR.
  await page.getByTestId('step-2').click();
  await page.getByTestId('recipe-page-2').waitFor();
  await fillRunSettings(page, { size: 32, batch: 8, lrFindIters: 20 });
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run steps 1–2/);
  // The run-time estimate, measured on this machine, before the user presses start.
  await page
    .getByTestId('recipe-estimate')
    .filter({ hasText: /Steps 1–2 should take/ })
    .waitFor({ timeout: 60_000 });
  await shot(page, 'recipe-step-2-estimate.png', 'recipe-estimate');
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 3/);
  await page.locator('[data-testid="use-lr-button"][data-name="valley"]').click();
  const lrHead = Number(await page.getByTestId('recipe-picked-lr').getAttribute('data-lr'));
  assert.ok(lrHead > 0);
  await shot(page, 'recipe-step-2.png', 'recipe-lrfind-chart');

  // Step 3 shows the pick; step 4's page runs steps 3–4 of the same run and pauses.
  await page.getByTestId('step-3').click();
  assert.equal(Number(await page.getByTestId('recipe-head-lr').getAttribute('data-lr')), lrHead);
  await shot(page, 'recipe-step-3.png');
  await page.getByTestId('step-4').click();
  await page.getByTestId('recipe-page-4').waitFor();
  await page.getByTestId('recipe-augment-epochs-input').fill('1');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="schedule-preview"]')?.getAttribute('data-cycle-ends') !== null,
  );
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run step 4/);
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 5/);
  assert.deepEqual(await resultSteps(page), [1, 2, 3, 4]);
  assert.ok(Number(await page.getByTestId('step4-chart').getAttribute('data-epochs')) >= 1, 'step 4 epochs plotted');
  await shot(page, 'recipe-step-4.png', 'step4-chart');

  // Step 5: unfreeze.
  await page.getByTestId('step-5').click();
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 6/);
  assert.deepEqual(await resultSteps(page), [1, 2, 3, 4, 5]);
  await shot(page, 'recipe-step-5.png');

  // A reload rejoins the paused run (run.active) on the page of its next step.
  await page.reload();
  await page.getByText('wasm', { exact: false }).first().waitFor();
  await page.getByTestId('recipe-page-6').waitFor({ timeout: 15_000 });
  await waitStatus(page, /paused before step 6/, 15_000);
  assert.deepEqual(await resultSteps(page), [1, 2, 3, 4, 5]);

  // Step 6: differential LRs, ratio 3.
  await page.getByTestId('step-6').click();
  await page.getByTestId('recipe-ratio-input').fill('3');
  assert.equal(await page.getByTestId('group-lr').count(), 3);
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 7/);
  assert.ok((await resultSteps(page)).includes(6));
  await shot(page, 'recipe-step-6.png', 'group-lrs');

  // Step 7: the recipe's LR finder on the unfrozen network; pick an LR on the curve for step 8.
  await page.getByTestId('step-7').click();
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run step 7/);
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 8/);
  assert.ok((await resultSteps(page)).includes(7));
  const canvas = page.getByTestId('recipe-lrfind-chart').locator('canvas').first();
  await canvas.waitFor();
  const box = await page.getByTestId('recipe-lrfind-chart').locator('.u-over').boundingBox();
  assert.ok(box, 'the step 7 curve is drawn');
  await page.mouse.click(box.x + box.width * 0.35, box.y + box.height * 0.5);
  await page.getByTestId('recipe-picked-lr').waitFor();
  const lrAll = Number(await page.getByTestId('recipe-picked-lr').getAttribute('data-lr'));
  assert.ok(lrAll > 0, `picked ${lrAll}`);
  await shot(page, 'recipe-step-7.png', 'recipe-lrfind-chart');

  // Step 8: two SGDR cycles (1 + 2 epochs) with the picked LR.
  await page.getByTestId('step-8').click();
  await page.getByTestId('recipe-cycles-input').fill('2');
  await page.waitForFunction(
    () =>
      document.querySelector('[data-testid="schedule-preview"]')?.getAttribute('data-cycle-ends')?.split(',').length ===
      2,
    undefined,
    { timeout: 2000 },
  );
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /completed/, 150_000);
  assert.deepEqual(await resultSteps(page), [1, 2, 3, 4, 5, 6, 7, 8]);
  await page.getByTestId('overfit-marker').waitFor();
  const best = Number(await page.getByTestId('overfit-marker').getAttribute('data-epoch'));
  assert.ok(best >= 1 && best <= 3, `best epoch ${best}`);
  assert.ok((await page.getByTestId('snapshot-marker').count()) >= 1, 'snapshot markers');
  await page.getByTestId('step8-outcome').waitFor();
  await shot(page, 'recipe-step-8.png', 'step8-chart');

  // Results.
  await page.getByTestId('goto-results').click();
  await page.getByTestId('results-page').waitFor();
  await page.getByTestId('confusion-matrix').waitFor({ timeout: 60_000 });
  const counts = await page
    .getByTestId('cm-cell')
    .evaluateAll((els) => els.map((el) => Number((el as HTMLElement).dataset.count)));
  assert.equal(counts.length, 9);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    6,
    'the matrix counts the validation images',
  );
  await page.locator('[data-testid="cm-cell"]:not([data-count="0"])').first().click();
  await page.getByTestId('cell-images').waitFor();
  assert.ok(Number(await page.getByTestId('cell-images').getAttribute('data-count')) >= 1);
  assert.ok((await page.getByTestId('top-loss-item').count()) >= 1);
  await page.getByTestId('tta-toggle').check();
  await page.waitForFunction(
    () => (document.querySelector('[data-testid="tta-accuracy"]')?.getAttribute('data-accuracy') ?? '') !== '',
    undefined,
    { timeout: 60_000 },
  );
  // What TTA and the ensemble did in the options evaluation, beside what they do on this run.
  for (const what of ['tta', 'ensemble'] as const) {
    const line = page.locator(`[data-testid="measured-effect"][data-option="${what}"]`);
    assert.equal(await line.getAttribute('data-verdict'), measuredOnKept(what)!.verdict, what);
    assert.ok((await line.innerText()).includes(measuredOnKept(what)!.delta), what);
  }
  await page.getByTestId('export-single-button').click();
  await page.getByTestId('export-single-dir').waitFor({ timeout: 30_000 });
  // The snapshot ensemble's validation accuracy is reported.
  const ensembleAccuracy = Number(
    await page.getByTestId('ensemble-accuracy').locator('[data-accuracy]').getAttribute('data-accuracy'),
  );
  assert.ok(ensembleAccuracy >= 0 && ensembleAccuracy <= 1, `ensemble accuracy ${ensembleAccuracy}`);
  // And each member's own accuracy beside it, so a user can see why an ensemble falls below its best member.
  const members = await page.getByTestId('ensemble-members').innerText();
  assert.match(members, /^Its members alone, oldest first: \u2066?\d+(\.\d)?\s?%, \d+(\.\d)?\s?%\u2069?\.$/, members);
  await page.getByTestId('export-ensemble-button').click();
  await page.getByTestId('export-ensemble-dir').waitFor({ timeout: 30_000 });
  const ensembleDir = await page.getByTestId('export-ensemble-dir').innerText();
  assert.ok(existsSync(ensembleDir), `ensemble exported to ${ensembleDir}`);
  assert.ok(existsSync(await page.getByTestId('export-single-dir').innerText()));
  await shot(page, 'recipe-results.png', 'results-page');

  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
