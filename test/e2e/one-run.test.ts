/**
 * The wizard and the engine are one thing (issue 21): the eight pages walked in order, each by its own primary button,
 * with a non-default choice on every page that has one (the LR clicked on step 2's plot, step 3's epochs, step 4's
 * epochs, step 7's LR clicked on its plot, step 8's cycles), then the run as the real CLI reads it from the history:
 * one run, every choice in its config, step 8's iterations at the picked LR for the chosen cycles, every step run
 * once (step 4 went on from the head trained on page 3), and the Export page preselecting that run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunComparison, RecipeConfig, RunSummary } from '../../src-shared/contract';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

type RunShow = RunComparison & { recipe: RecipeConfig | null };

async function shot(page: Page, file: string): Promise<void> {
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
}

/** Runs the open page's step and waits for the run to pause before step `next` (on a loaded machine: minutes). */
async function runStepUntil(page: Page, next: number): Promise<void> {
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, new RegExp(`paused before step ${next}`), 150_000);
}

/** Clicks the range test's plot at `fraction` of its width; returns the LR the page says it picked. */
async function clickPlot(page: Page, fraction: number): Promise<number> {
  const over = page.getByTestId('recipe-lrfind-chart').locator('.u-over');
  await over.waitFor();
  const box = await over.boundingBox();
  assert.ok(box, 'the range test is drawn');
  await page.mouse.click(box.x + box.width * fraction, box.y + box.height * 0.5);
  const picked = page.getByTestId('recipe-picked-lr');
  await picked.waitFor();
  return Number(await picked.getAttribute('data-lr'));
}

async function next(page: Page, step: number): Promise<void> {
  await page.getByTestId('goto-next-step').click();
  await page.getByTestId(`recipe-page-${step}`).waitFor();
}

test('one run through the eight pages: every pick reaches the run, every step runs once', async (t) => {
  const { page, pageErrors, home, data } = await openWizard(t, { perClass: 8, seed: 11, height: 900 });
  // Every run.event the page receives (from a reload on, so that the socket is watched from its start): which steps
  // started, in order, and for which run.
  const started: { runId: number; step: number }[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload !== 'string' || !payload.includes('"run.event"')) return;
      const frame = JSON.parse(payload) as { payload: { type: string; runId: number; step: number; status: string } };
      if (frame.payload.type === 'step' && frame.payload.status === 'started') {
        started.push({ runId: frame.payload.runId, step: frame.payload.step });
      }
    }),
  );
  await page.reload();
  await page.getByTestId('folder-input').fill(data);
  await page.getByTestId('scan-button').click();
  await page.getByTestId('dataset-summary').waitFor();
  await shot(page, 'one-run-step-1.png');

  // Step 1's primary button goes to step 2 (it once jumped to step 3).
  await page.getByTestId('goto-next-step').click();
  await page.getByTestId('recipe-page-2').waitFor();
  await fillRunSettings(page, { size: 32, batch: 8, lrFindIters: 30 });
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run steps 1–2/);
  await runStepUntil(page, 3);
  const lrHead = await clickPlot(page, 0.55);
  assert.ok(lrHead > 0, `step 2: picked ${lrHead}`);
  await shot(page, 'one-run-step-2.png');

  // Step 3: the head trains at the LR picked on step 2, for 3 epochs (the default for 24 images is 2).
  await next(page, 3);
  assert.equal(Number(await page.getByTestId('recipe-head-lr').getAttribute('data-lr')), lrHead);
  await page.getByTestId('recipe-head-epochs-input').fill('3');
  await runStepUntil(page, 4);
  assert.equal(Number(await page.getByTestId('step3-chart').getAttribute('data-epochs')), 3);
  await shot(page, 'one-run-step-3.png');

  // Step 4 (1 epoch, default 3), 5 and 6 continue the same run.
  await next(page, 4);
  await page.getByTestId('recipe-augment-epochs-input').fill('1');
  await runStepUntil(page, 5);
  await shot(page, 'one-run-step-4.png');
  await next(page, 5);
  await runStepUntil(page, 6);
  await next(page, 6);
  await runStepUntil(page, 7);
  await shot(page, 'one-run-step-6.png');

  // Step 7: the range test of the unfrozen network; an LR clicked on its curve is step 8's.
  await next(page, 7);
  await runStepUntil(page, 8);
  const lrAll = await clickPlot(page, 0.4);
  assert.ok(lrAll > 0, `step 7: picked ${lrAll}`);
  await shot(page, 'one-run-step-7.png');

  // Step 8: two cycles (default 4), patience high enough that both run.
  await next(page, 8);
  assert.match(await page.getByTestId('recipe-lr-all').innerText(), /picked/);
  await page.getByTestId('recipe-cycles-input').fill('2');
  await page.getByTestId('recipe-patience-input').fill('10');
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /completed/, 200_000);
  await shot(page, 'one-run-step-8.png');

  // Results, then Export: preselected on this run.
  await page.getByTestId('goto-next-step').click();
  await page.getByTestId('ensemble-accuracy').waitFor();
  await page.getByTestId('goto-export').click();
  const select = page.getByTestId('run-select').first();
  await select.waitFor();
  await shot(page, 'one-run-export.png');

  const list = lastJson<RunSummary[]>(finetune(['runs', '--json'], { FINETUNE_HOME: home }));
  assert.equal(list.length, 1, `one run in the history, got ${list.map((r) => `#${r.id} ${r.kind}`).join(', ')}`);
  const runId = list[0]!.id;
  assert.equal(await select.inputValue(), String(runId), 'Export preselects the run just trained');
  assert.deepEqual(
    started,
    [1, 2, 3, 4, 5, 6, 7, 8].map((step) => ({ runId, step })),
    'each step started once, in order, on the one run: step 4 went on from the head trained on page 3',
  );

  const show = finetune(['runs', 'show', String(runId), '--json'], { FINETUNE_HOME: home });
  assert.equal(show.status, 0, show.stderr);
  const run = lastJson<RunShow>(show);
  assert.equal(run.status, 'completed');
  const recipe = run.recipe;
  assert.ok(recipe, 'the run keeps its recipe config');
  assert.equal(recipe.size, 32);
  assert.equal(recipe.batchSize, 8);
  assert.equal(recipe.lrHead, lrHead, 'the LR clicked on step 2');
  assert.equal(recipe.headEpochs, 3);
  assert.equal(recipe.augmentEpochs, 1);
  assert.equal(recipe.lrAll, lrAll, 'the LR clicked on step 7');
  assert.equal(recipe.cycles, 2);

  const step = (n: number) => run.steps.find((s) => s.step === n);
  assert.deepEqual(
    run.steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.equal(step(3)?.lr, lrHead);
  assert.equal(step(4)?.lr, lrHead);
  assert.equal(step(8)?.lr, lrAll);
  const epochsOf = (name: string) => run.metrics.filter((m) => m.step === name).length;
  assert.equal(epochsOf('step3-head'), 3);
  assert.equal(epochsOf('step4-augment'), 1);
  assert.equal(epochsOf('step8-all'), 1 + 2, 'two cycles of cycle_mult 2: 1 + 2 epochs');

  const iters = (name: string) => run.iterations.filter((i) => i.step === name);
  assert.ok(
    iters('step3-head').every((i) => i.lr === lrHead),
    'step 3 ran at the picked head LR',
  );
  const step8 = iters('step8-all');
  assert.ok(step8.length > 0, 'step 8 iterations recorded');
  const peak = Math.max(...step8.map((i) => i.lr));
  assert.ok(Math.abs(peak - lrAll) <= lrAll * 1e-6, `step 8 peaks at the picked ${lrAll} (got ${peak})`);
  assert.ok(
    step8.every((i) => i.lr <= lrAll * (1 + 1e-6)),
    'no step 8 iteration above the picked LR',
  );
  assert.equal(new Set(step8.map((i) => i.epoch)).size, 3, 'step 8 ran its 3 epochs');
  assert.deepEqual(pageErrors, []);
});
