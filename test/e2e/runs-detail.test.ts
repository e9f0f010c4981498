/**
 * One run in the run history, in the real renderer (Chromium) against the real headless server: its curves redrawn
 * from the database (the Compare view's charts, one series each), its steps with their LRs and times, then "Run
 * again": the wizard opens on step 3's page with the run's folder, settings and seed, and the run it starts there is
 * recorded as a re-run with the same metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { openApp, waitStatus } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import type { Result } from '../../src-shared/contract';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

/** Pixels of a chart's canvas that are not blank: uPlot drew its lines there, not only the axes' frame. */
function inkedPixels(chart: Locator): Promise<number> {
  return chart
    .locator('canvas')
    .first()
    .evaluate((canvas: HTMLCanvasElement) => {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
}

test('run history: one run opened shows its curves; Run again loads it into the wizard and repeats it', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-run-detail-'));
  const data = join(work, 'shapes');
  const home = join(work, 'home');
  await makeShapeDataset(data, { perClass: 10, seed: 31 });
  const first = finetune([
    ...['train', data, '--steps', 'head', '--lr', '0.01', '--size', '32', '--batch-size', '4', '--dropout', '0.2'],
    ...['--seed', '11', '--schedule', 'sgdr', '--cycle-len', '1', '--cycle-mult', '2', '--cycles', '2'],
    ...['--home', home, '--json'],
  ]);
  assert.equal(first.status, 0, first.stderr);
  const a = lastJson<{ runId: number; validLoss: number[] }>(first);
  const shown = lastJson<Result<'runs.compare'>['runs'][number]>(
    finetune(['runs', 'show', String(a.runId), '--home', home, '--json']),
  );
  assert.equal(shown.metrics.length, 3, 'SGDR cycles of 1 and 2 epochs');

  const { page, pageErrors } = await openApp(t, { home, height: 1400 });

  await page.getByTestId('nav-runs').click();
  const row = page.locator(`[data-testid="run-row"][data-run-id="${a.runId}"]`);
  await row.getByTestId('run-details').click();
  const detail = page.getByTestId('run-detail');
  await detail.getByTestId('detail-chart-lr').waitFor();
  for (const id of ['valid-loss', 'valid-accuracy', 'train-loss', 'lr']) {
    const chart = detail.getByTestId(`detail-chart-${id}`);
    assert.equal(await chart.getAttribute('data-series'), '1', id);
    const expected: number = id.startsWith('valid') ? shown.metrics.length : shown.iterationCount;
    assert.equal(await chart.getAttribute('data-points'), String(expected), `${id}: every epoch or iteration`);
    const box = await chart.locator('canvas').first().boundingBox();
    assert.ok(box && box.width > 200 && box.height > 100, `${id} has its size`);
    assert.ok((await inkedPixels(chart)) > 500, `${id} is drawn`);
  }
  assert.equal(await detail.getByTestId('run-epoch-row').count(), 3);
  // Each epoch with its step, each step with its LR and how it was chosen, and the kind in the list.
  assert.deepEqual(
    await detail.getByTestId('run-epoch-row').evaluateAll((els) => els.map((el) => (el as HTMLElement).dataset.step)),
    ['step3-head', 'step3-head', 'step3-head'],
  );
  const step3 = detail.locator('[data-testid="run-step-row"][data-step="3"]');
  assert.match(await step3.innerText(), /Train head/);
  assert.match(await step3.getByTestId('run-step-lr-pick').innerText(), /set in the settings/);
  assert.equal((await row.getByTestId('run-kind').innerText()).trim(), 'head only (steps 1–3)');
  await detail.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'run-detail.png'), fullPage: true });

  // Run again: step 3's page (the run went to step 3) with the run's folder and settings, and a notice naming it.
  await row.getByTestId('run-again').click();
  await page.getByTestId('rerun-notice').waitFor();
  assert.match(await page.getByTestId('rerun-notice').innerText(), new RegExp(`Run #${a.runId}'s dataset`));
  await page.getByTestId('recipe-page-3').waitFor();
  assert.equal(await page.getByTestId('recipe-head-lr').getAttribute('data-lr'), '0.01');
  assert.equal(await page.getByTestId('recipe-size-input').inputValue(), '32');
  assert.equal(await page.getByTestId('recipe-batch-input').inputValue(), '4');
  assert.equal(await page.getByTestId('recipe-seed-input').inputValue(), '11');
  assert.equal(await page.getByTestId('schedule-kind-select').inputValue(), 'sgdr');
  assert.match(await page.getByTestId('recipe-start-note').innerText(), /shapes/);
  assert.match(await page.getByTestId('recipe-run-step').innerText(), /Run steps 1–3/);
  await page.getByTestId('recipe-run-step').click();
  await waitStatus(page, /paused before step 4/, 180_000);
  assert.equal(await page.getByTestId('rerun-notice').count(), 0, 'the link is used once');

  const list = lastJson<Array<{ id: number; rerunOf: number | null }>>(finetune(['runs', '--json', '--home', home]));
  const b = list[0]!;
  assert.equal(b.rerunOf, a.runId);
  const cmp = lastJson<Result<'runs.compare'>>(
    finetune(['runs', 'compare', String(a.runId), String(b.id), '--home', home, '--json']),
  );
  assert.deepEqual(cmp.configDiff, [], 'the same settings');
  assert.deepEqual(
    cmp.runs[1]!.metrics.map((m) => m.validLoss),
    a.validLoss,
    'the same seed repeats the run',
  );
  assert.deepEqual(pageErrors, []);
});
