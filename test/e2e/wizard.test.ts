/**
 * The real renderer (built by electron-vite) in Debian Chromium, talking to the real headless server:
 * choose a folder of generated images, run steps 1–3 (the head), watch the chart, export, evaluate; then the CLI's
 * `predict` on the exported model must give the same labels as the in-app evaluation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fillRunSettings, openWizard, waitStatus } from '../helpers/browser';
import { connect } from '../helpers/bridgeClient';
import { finetune, lastJson, ROOT } from '../helpers/cli';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

test('wizard: folder → summary → train head with live chart → export → evaluate = CLI predict', async (t) => {
  const { page, pageErrors, server, data, home } = await openWizard(t, { perClass: 12, seed: 11, withBadFiles: true });

  // Without the token the server refuses the WebSocket, the API's one door (the page's files are public code).
  await assert.rejects(connect(`ws://127.0.0.1:${server.port}/ws`), /403/);

  // Step 1: the dataset.
  assert.equal(await page.getByTestId('class-row').count(), 3);
  const skipped = await page.getByTestId('skipped-list').innerText();
  for (const f of ['broken.jpg', 'truncated.png', 'notes.txt'])
    assert.match(skipped, new RegExp(f.replace('.', '\\.')));
  // The backbone: the registry, the bundled offline default first and selected. Class imbalance: weighted loss.
  const backbone = page.getByTestId('backbone-select');
  assert.ok((await backbone.locator('option').count()) >= 2, 'the backbone registry lists downloadable ones too');
  const firstBackbone = await backbone.locator('option').first().getAttribute('value');
  assert.equal(await backbone.inputValue(), firstBackbone);
  assert.match(await page.getByTestId('backbone-note').innerText(), /\S/);
  await page.getByTestId('balance-select').selectOption('weights');
  await page.screenshot({ path: join(ARTIFACTS, 'wizard-dataset.png'), fullPage: true });

  // Steps 2–3 of one run from step 3's page: a head-only model is the run paused after step 3.
  await page.getByTestId('step-3').click();
  await page.getByTestId('recipe-page-3').waitFor();
  await fillRunSettings(page, { headEpochs: 5, size: 48, batch: 8, lrFindIters: 30 });
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run steps 1–3/);
  await page.getByTestId('recipe-run-step').click();
  await page.getByTestId('progress-bar').waitFor();
  await waitStatus(page, /paused before step 4/, 180_000);
  assert.equal(Number(await page.getByTestId('step3-chart').getAttribute('data-epochs')), 5);
  // The chart drew: uPlot renders into a canvas inside the chart container.
  const chartBox = await page.getByTestId('step3-chart').locator('canvas').first().boundingBox();
  assert.ok(chartBox && chartBox.width > 200 && chartBox.height > 100, 'loss chart is drawn');
  await page.screenshot({ path: join(ARTIFACTS, 'wizard-after-training.png'), fullPage: true });

  // Export and evaluate the run paused after step 3 (the head's model).
  const runs = lastJson<Array<{ id: number; status: string }>>(finetune(['runs', '--json', '--home', home]));
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.status, 'paused');
  await page.getByTestId('nav-export').click();
  assert.equal(await page.getByTestId('run-select').inputValue(), String(runs[0]!.id));
  await page.getByTestId('export-button').click();
  const exportDir = (await page.getByTestId('export-dir').innerText()).trim();
  assert.match(exportDir, /exports/);
  await page.getByTestId('evaluate-button').click();
  await page.getByTestId('eval-accuracy').waitFor({ timeout: 120_000 });
  const rows = await page
    .getByTestId('eval-row')
    .evaluateAll((els) =>
      els.map((el) => Array.from(el.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim())),
    );
  assert.equal(rows.length, 6, 'two validation images per class (20 % of 12)');
  await page.screenshot({ path: join(ARTIFACTS, 'wizard-export.png'), fullPage: true });

  // The CLI predicts with the exported model; labels must match the app's evaluation image by image.
  const files = rows.map((r) => join(data, r[0]!));
  const preds = lastJson<Array<{ label: string }>>(finetune(['predict', exportDir, ...files, '--json']));
  // The "Predicted" cell may carry a "wrong" badge after the label.
  const appLabels = rows.map((r) => r[2]!.split(/\s+/)[0]!);
  assert.deepEqual(
    preds.map((p) => p.label),
    appLabels,
  );
  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
