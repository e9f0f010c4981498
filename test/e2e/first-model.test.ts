/**
 * A first model a newcomer finishes without help (issue 24): from a fresh home, "Try it on a sample" fills the folder
 * and scans it; step 2's range test runs and its plot is clicked; short settings are set on the steps' own pages; the
 * rest runs through "Run the remaining steps" and its confirmation (the estimate, per step); the model is exported
 * from the results page. No path is typed. The real CLI then reads the run from the history: completed, 8 steps.
 * The three screenshots for the README (1280×800, light theme, English) go to test/artifacts/, and to docs/ with
 * UPDATE_README_SHOTS=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunComparison, RunSummary } from '../../src-shared/contract';
import { describeViolations, seriousViolations } from '../helpers/a11y';
import { openFreshWizard } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Into test/artifacts/; with UPDATE_README_SHOTS=1 also into docs/, where the README shows them. */
async function readmeShot(page: Page, file: string): Promise<void> {
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(ARTIFACTS, file) });
  if (process.env.UPDATE_README_SHOTS === '1') copyFileSync(join(ARTIFACTS, file), join(ROOT, 'docs', file));
}

async function waitStatus(page: Page, text: RegExp, timeout = 300_000): Promise<void> {
  await page.getByTestId('recipe-status').filter({ hasText: text }).waitFor({ timeout });
}

async function openStep(page: Page, step: number): Promise<void> {
  await page.getByTestId(`step-${step}`).click();
  await page.getByTestId(`recipe-page-${step}`).waitFor();
}

test('first model: the sample, eight steps and an export, without typing a path', async (t) => {
  const { page, pageErrors, home } = await openFreshWizard(t);

  // A fresh home offers the sample first.
  const sample = page.getByTestId('sample-button');
  await sample.waitFor();
  assert.equal(await page.getByTestId('folder-input').inputValue(), '');
  assert.match((await page.getByTestId('sample-row').getAttribute('class')) ?? '', /fresh/, 'the invitation is shown');
  await sample.click();
  await page.getByTestId('dataset-summary').waitFor();
  const folder = await page.getByTestId('folder-input').inputValue();
  assert.equal(folder, join(home, 'samples', 'fashion-4'), 'the sample is copied into the home and put in the field');
  assert.equal(await page.locator('[data-testid="dataset-summary"] .fact .value').first().innerText(), '4');
  assert.doesNotMatch((await page.getByTestId('sample-row').getAttribute('class')) ?? '', /fresh/);
  await page.mouse.move(0, 0);
  await readmeShot(page, 'first-model-1-sample.png');

  // Step 2: small images, a short range test; the LR is clicked on the plot.
  await page.getByTestId('goto-next-step').click();
  await page.getByTestId('recipe-page-2').waitFor();
  await page.getByTestId('recipe-size-input').fill('32');
  await page.getByTestId('recipe-batch-input').fill('16');
  await page.getByTestId('recipe-lrfind-iters-input').fill('30');
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 3/);
  const over = page.getByTestId('recipe-lrfind-chart').locator('.u-over');
  // The range test's card at the top of the page, for the screenshot (only the page's own scroller moves).
  await over.evaluate((el) => {
    const main = document.getElementById('main-content');
    const card = el.closest('.card');
    if (main && card) main.scrollBy({ top: card.getBoundingClientRect().top - main.getBoundingClientRect().top - 16 });
  });
  const box = await over.boundingBox();
  assert.ok(box, 'the range test is drawn');
  await page.mouse.click(box.x + box.width * 0.55, box.y + box.height * 0.5);
  await page.getByTestId('recipe-picked-lr').waitFor();
  await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.5);
  await readmeShot(page, 'first-model-2-lr.png');

  // Few epochs, each on its own step's page, as a user sets them.
  await openStep(page, 3);
  await page.getByTestId('recipe-head-epochs-input').fill('1');
  await openStep(page, 4);
  await page.getByTestId('recipe-augment-epochs-input').fill('1');
  await openStep(page, 8);
  await page.getByTestId('recipe-cycles-input').fill('2');
  await page.getByTestId('recipe-cycle-mult-input').fill('1');
  await page.getByTestId('recipe-ensemble-input').fill('2');

  // The rest at once: the confirmation says how long, per step, and can be cancelled.
  await page.getByTestId('recipe-run-remaining').click();
  const dialog = page.getByTestId('run-all-dialog');
  await dialog.waitFor();
  await page.getByTestId('run-all-cancel').click();
  await dialog.waitFor({ state: 'hidden' });
  assert.match(await page.getByTestId('recipe-status').innerText(), /paused before step 3/, 'Cancel starts nothing');
  await page.getByTestId('stepper-run-remaining').click();
  await dialog.waitFor();
  await page.getByTestId('run-all-estimate').waitFor({ timeout: 120_000 });
  assert.match(await dialog.locator('h3').innerText(), /Run steps 3–8\?/);
  const lines = await page.getByTestId('run-all-steps').locator('li').allInnerTexts();
  assert.deepEqual(
    lines.slice(0, 6).map((l) => l.split('\n')[0]?.match(/^Step (\d)/)?.[1]),
    ['3', '4', '5', '6', '7', '8'],
    `one line per remaining step: ${lines.join(' | ')}`,
  );
  assert.match(await page.getByTestId('run-all-estimate').innerText(), /about .*(s|min)/);
  await page.screenshot({ path: join(ARTIFACTS, 'first-model-run-all.png') });
  const violations = await seriousViolations(page);
  assert.deepEqual(violations, [], describeViolations('run-all confirmation', violations));
  await page.getByTestId('run-all-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
  await waitStatus(page, /completed/, 600_000);

  // Results, then the model exported from there.
  await page.getByTestId('goto-next-step').click();
  await page.getByTestId('ensemble-accuracy').waitFor();
  await page.getByTestId('export-single-button').click();
  const exported = await page.getByTestId('export-single-dir').innerText({ timeout: 120_000 });
  assert.ok(existsSync(exported) && readdirSync(exported).length > 0, `the export folder ${exported} holds the model`);
  await page.getByTestId('per-class-table').waitFor({ timeout: 120_000 });
  await page.evaluate(() => document.getElementById('main-content')?.scrollTo({ top: 0 }));
  await page.mouse.move(0, 0);
  await readmeShot(page, 'first-model-3-result.png');

  const list = lastJson<RunSummary[]>(finetune(['runs', '--json'], { FINETUNE_HOME: home }));
  assert.equal(list.length, 1, 'one run in the history');
  const show = finetune(['runs', 'show', String(list[0]!.id), '--json'], { FINETUNE_HOME: home });
  assert.equal(show.status, 0, show.stderr);
  const run = lastJson<RunComparison>(show);
  assert.equal(run.status, 'completed');
  assert.equal(run.dir, folder);
  assert.deepEqual(
    run.steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(pageErrors, []);
});
