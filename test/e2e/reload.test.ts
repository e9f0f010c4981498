/**
 * The server holds the run (issue 21): a reload in the middle of a step finds the run again on its page, with the
 * settings it was started with, its progress, its chart and a Cancel that works; Run history shows it running and
 * can open it in the wizard.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RecipeConfig, RunComparison } from '../../src-shared/contract';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

test('a reload in the middle of step 4 finds the run, its settings, progress and Cancel', async (t) => {
  const { page, pageErrors, home } = await openWizard(t, { perClass: 8, seed: 13, height: 900 });
  await page.getByTestId('goto-next-step').click();
  await fillRunSettings(page, { size: 32, batch: 8, lrFindIters: 20 });
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 3/);

  // Step 4 for many epochs (the Cancel ends it), run from step 3's page: "Run the remaining steps" would go on to 8.
  await page.getByTestId('step-4').click();
  await page.getByTestId('recipe-augment-epochs-input').fill('60');
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /step 4 running/);
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="step4-chart"]')?.getAttribute('data-batches')) > 0,
    undefined,
    { timeout: 60_000 },
  );

  await page.reload();
  // The wizard comes back on step 4's page, running, with the run's settings and dataset (not the defaults).
  await page.getByTestId('recipe-page-4').waitFor({ timeout: 30_000 });
  await waitStatus(page, /run #1: step 4 running/, 30_000);
  assert.equal(await page.getByTestId('recipe-augment-epochs-input').inputValue(), '60');
  await page.getByTestId('progress-bar').waitFor();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="step4-chart"]')?.getAttribute('data-batches')) > 0,
    undefined,
    { timeout: 30_000 },
  );
  await page.locator('[data-testid="step-3"].done').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'reload-step-4.png'), fullPage: true });
  // Step 1's dataset is back too (it once said "No dataset yet" while the run trained on).
  await page.getByTestId('step-1').click();
  await page.getByTestId('dataset-summary').waitFor({ timeout: 30_000 });

  // Run history shows it running, with Cancel, and opens it in the wizard.
  await page.getByTestId('nav-runs').click();
  const row = page.locator('[data-testid="run-row"][data-run-id="1"]');
  await row.waitFor();
  await row.getByTestId('run-cancel').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'reload-history.png'), fullPage: true });
  await row.getByTestId('run-watch').click();
  await page.getByTestId('recipe-page-4').waitFor();

  const cancel = page.getByTestId('recipe-cancel');
  assert.equal(await cancel.isEnabled(), true, 'Cancel is offered after the reload');
  await cancel.click();
  await waitStatus(page, /cancelled before step 4/, 60_000);

  const show = finetune(['runs', 'show', '1', '--json'], { FINETUNE_HOME: home });
  assert.equal(show.status, 0, show.stderr);
  const run = lastJson<RunComparison & { recipe: RecipeConfig | null }>(show);
  assert.equal(run.status, 'cancelled');
  assert.equal(run.recipe?.augmentEpochs, 60);
  assert.equal(run.recipe?.size, 32);
  assert.ok(run.metrics.filter((m) => m.step === 'step4-augment').length < 60, 'Cancel stopped step 4');
  assert.deepEqual(pageErrors, []);
});
