/**
 * A run history of 1,000 runs (issue 23: "the run history with 1,000 runs"): one real head run through the CLI, then
 * 999 more with its config, dataset and epochs written through RunStore into the same SQLite file. The runs page in
 * Chromium lists every one of them, newest first, and still opens the oldest run's details and deletes one. How long
 * the list took to show is printed (a benchmark's number, not asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../helpers/browser';
import { finetune, lastJson } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import { RunStore } from '../../src-main/core/history/runStore';

const RUNS = 1000;

test(`run history: ${RUNS} runs listed, the oldest opened, one deleted`, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-history-'));
  const data = join(work, 'shapes');
  const home = join(work, 'home');
  await makeShapeDataset(data, { perClass: 6, seed: 41 });
  const first = finetune(['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--home', home, '--json']);
  assert.equal(first.status, 0, first.stderr);
  const { runId: realId } = lastJson<{ runId: number }>(first);

  const store = new RunStore(join(home, 'history.sqlite'));
  const real = store.listRuns().find((r) => r.id === realId)!;
  const epochs = store.epochs(realId);
  for (let i = 1; i < RUNS; i++) {
    const id = store.createRun({ ...real, backendNote: real.backendNote ?? undefined });
    for (const e of epochs) store.addEpoch(id, e);
    store.finishRun(id, 'completed');
  }
  const ids = store.listRuns().map((r) => r.id);
  store.close();
  assert.equal(ids.length, RUNS);

  const { page, pageErrors } = await openApp(t, { home });
  const started = performance.now();
  await page.getByTestId('nav-runs').click();
  const rows = page.getByTestId('run-row');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="run-row"]').length === n, RUNS, {
    timeout: 60_000,
  });
  t.diagnostic(`${RUNS} runs listed ${(performance.now() - started).toFixed(0)} ms after the click`);
  assert.equal(await rows.count(), RUNS);
  assert.equal(await rows.first().getAttribute('data-run-id'), String(Math.max(...ids)), 'newest first');

  // The oldest (the real one) is at the bottom; its details open.
  const oldest = page.locator(`[data-testid="run-row"][data-run-id="${realId}"]`);
  await oldest.scrollIntoViewIfNeeded();
  await oldest.getByTestId('run-details').click();
  await page.getByTestId('run-detail').waitFor();

  // One of the copies in the middle deleted: the list shows one fewer, the rest in place.
  const middle = ids[RUNS / 2]!;
  await page.locator(`[data-testid="run-row"][data-run-id="${middle}"]`).getByTestId('run-delete').click();
  await page.getByTestId('delete-run-confirm').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="run-row"]').length === n, RUNS - 1, {
    timeout: 30_000,
  });
  assert.equal(await page.locator(`[data-testid="run-row"][data-run-id="${middle}"]`).count(), 0);
  assert.equal(lastJson<unknown[]>(finetune(['runs', '--home', home, '--json'])).length, RUNS - 1);
  assert.deepEqual(pageErrors, []);
});
