/**
 * What a run is, everywhere the renderer shows runs (issue 21's review): three runs recorded by the real CLI (a
 * head-only run, the eight steps, a run paused after step 7 with cycle_mult 3 and a fixed step 8 LR), then the real
 * renderer: Run history's kind column, the stepper on the rejoined paused run, step 8's name with the run's
 * cycle_mult (English and Arabic), and step 6's LRs as the per-group LRs step 8 uses, in both step tables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');

test('runs say what they are; step 8 says its cycle_mult; step 6 shows the group LRs of step 8', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-run-kind-'));
  const data = join(work, 'shapes');
  const home = join(work, 'home');
  await makeShapeDataset(data, { perClass: 10, seed: 5 });
  const train = (args: string[]): number => {
    const r = finetune(['train', data, ...args, '--size', '32', '--home', home, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return lastJson<{ runId: number }>(r).runId;
  };
  const recipe = ['--recipe', 'fastai8', '--batch-size', '6', '--cycles', '1', '--lr-find-iters', '10'];
  const lrAll = [...['--lr-find-all-iters', '10'], ...['--lr-all', '3e-4']];
  const headOnly = train(['--steps', 'head', '--epochs', '1', '--batch-size', '8']);
  const eight = train([...recipe, ...lrAll]);
  // The newest paused run: the wizard rejoins it on load.
  const pausedAt7 = train([...recipe, ...lrAll, '--until-step', '7', '--cycle-mult', '3']);

  const { page, pageErrors } = await openApp(t, { home, height: 1400 });
  // The wizard on the rejoined run: what it is, step 8's cycle_mult, step 6's LRs (3e-4 × [1/9, 1/3, 1]).
  await page.getByTestId('stepper-run-kind').waitFor();
  assert.equal((await page.getByTestId('stepper-run-kind').innerText()).trim(), 'paused after step 7');
  assert.match(
    await page.getByTestId('step-8').innerText(),
    /cycle_mult=3\)\s+Fine-tune all; each SGDR cycle 3× as long/,
  );
  const step6 = page.locator('[data-testid="recipe-step-result"][data-step="6"]');
  assert.equal((await step6.getByTestId('recipe-step-lr').innerText()).trim(), '[3.33e-5, 1e-4, 3e-4]');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'run-kind-wizard.png'), fullPage: true });
  await page.getByTestId('nav-runs').click();
  const kindOf = (id: number) => page.locator(`[data-testid="run-row"][data-run-id="${id}"] [data-testid="run-kind"]`);
  await kindOf(headOnly).waitFor();
  assert.equal((await kindOf(headOnly).innerText()).trim(), 'head only (steps 1–3)');
  assert.equal((await kindOf(eight).innerText()).trim(), 'eight steps');
  assert.equal((await kindOf(pausedAt7).innerText()).trim(), 'paused after step 7');
  // The eight-step run's details: step 6 at the LRs step 8 trained each group at.
  await page.locator(`[data-testid="run-row"][data-run-id="${eight}"] [data-testid="run-details"]`).click();
  const detail = page.getByTestId('run-detail');
  const detailStep6 = detail.locator('[data-testid="run-step-row"][data-step="6"]');
  await detailStep6.waitFor();
  assert.match(await detailStep6.innerText(), /\[3\.33e-5, 1e-4, 3e-4\]/);

  await page.screenshot({ path: join(ARTIFACTS, 'run-kind-history.png'), fullPage: true });
  await page.getByTestId('language-select').selectOption('ar');
  assert.equal((await kindOf(headOnly).innerText()).trim(), 'الرأس فقط (الخطوات 1–3)');
  assert.match(await page.getByTestId('step-8').innerText(), /cycle_mult=3/);
  await page.screenshot({ path: join(ARTIFACTS, 'run-kind-history-ar.png'), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
