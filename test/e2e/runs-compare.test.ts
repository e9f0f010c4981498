/**
 * The run history's Compare view and delete, in the real renderer (Chromium) against the real headless server:
 * two short head runs trained by the CLI into one home (a constant LR and SGDR), ticked and compared (two series
 * in every chart, the same config diff as `finetune runs compare`), then one deleted through its dialog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../helpers/browser';
import { finetune, lastJson, ROOT } from '../helpers/cli';
import { makeShapeDataset } from '../helpers/images';
import type { Result } from '../../src-shared/contract';

const ARTIFACTS = join(ROOT, 'test', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

test('run history: tick two runs, compare their curves and settings, delete one', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-runs-'));
  const data = join(work, 'shapes');
  const home = join(work, 'home');
  await makeShapeDataset(data, { perClass: 12, seed: 21 });
  const common = ['--steps', 'head', '--epochs', '3', '--size', '32', '--batch-size', '4', '--dropout', '0'];
  const train = (extra: string[]) => {
    const r = finetune(['train', data, ...common, ...extra, '--home', home, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return lastJson<{ runId: number }>(r).runId;
  };
  const a = train(['--lr', '0.01']);
  const b = train(['--lr', '0.003', '--schedule', 'sgdr', '--cycle-len', '1', '--cycle-mult', '2', '--cycles', '2']);
  const cli = lastJson<Result<'runs.compare'>>(
    finetune(['runs', 'compare', String(a), String(b), '--home', home, '--json']),
  );

  // Tall enough for the runs table, the charts and the diff in one screenshot (the page scrolls inside its frame).
  const { page, pageErrors } = await openApp(t, { home, height: 1500 });

  await page.getByTestId('nav-runs').click();
  await page.getByTestId('run-row').nth(1).waitFor();
  const compare = page.getByTestId('runs-compare');
  assert.equal(await compare.isDisabled(), true, 'nothing ticked: Compare is off');
  // Ticked oldest first: the comparison keeps the ticking order (run a gets the first colour).
  await page.getByLabel(`Compare run #${a}`).check();
  assert.equal(await compare.isDisabled(), true, 'one run is not a comparison');
  await page.getByLabel(`Compare run #${b}`).check();
  await compare.click();
  const view = page.getByTestId('run-compare');
  await view.waitFor();

  assert.deepEqual(
    (await view.getByTestId('compare-legend-item').allInnerTexts()).map((s) => s.match(/Run #\d+/)?.[0]),
    [`Run #${a}`, `Run #${b}`],
  );
  for (const id of ['valid-loss', 'valid-accuracy', 'train-loss', 'lr']) {
    const chart = view.getByTestId(`compare-chart-${id}`);
    assert.equal(await chart.getAttribute('data-series'), '2', id);
    const points = (await chart.getAttribute('data-points'))!.split(',').map(Number);
    const expected = id.startsWith('valid') ? [3, 3] : [cli.runs[0]!.iterationCount, cli.runs[1]!.iterationCount];
    assert.deepEqual(points, expected, `${id}: every epoch or iteration of both runs`);
    // uPlot's own legend: the x series, then one row per run.
    assert.deepEqual(
      (await chart.locator('.u-legend .u-series .u-label').allInnerTexts()).slice(1),
      [`Run #${a}`, `Run #${b}`],
      id,
    );
    const box = await chart.locator('canvas').first().boundingBox();
    assert.ok(box && box.width > 200 && box.height > 100, `${id} is drawn`);
  }

  // The settings that differ: exactly the service's diff (the CLI prints the same), the LR and the schedule, each
  // named in the wizard's words (the config key in its data-key).
  const rows = await view
    .getByTestId('config-diff-row')
    .evaluateAll((els) =>
      els.map((el) => [
        (el as HTMLElement).dataset.key ?? '',
        ...Array.from(el.querySelectorAll('td')).map((c) => (c.textContent ?? '').trim()),
      ]),
    );
  const names = await view.getByTestId('config-diff-row').locator('th').allInnerTexts();
  assert.ok(
    names.every((n) => !/^(recipe\.|lr$|schedule\.)/.test(n)),
    `settings named in words, not config keys: ${names.join(', ')}`,
  );
  assert.deepEqual(
    rows,
    cli.configDiff.map((r) => [r.key, ...r.values.map((v) => v ?? '—')]),
  );
  assert.deepEqual(
    rows.find((r) => r[0] === 'lr'),
    ['lr', '0.01', '0.003'],
  );
  assert.deepEqual(
    rows.find((r) => r[0] === 'schedule.kind'),
    ['schedule.kind', 'constant', 'sgdr'],
  );
  assert.ok(!rows.some((r) => r[0] === 'epochs' || r[0] === 'size'), 'equal settings are not listed');
  await page.screenshot({ path: join(ARTIFACTS, 'runs-compare.png'), fullPage: true });

  // Delete asks first (Tab stays in its dialog); Cancel keeps the run.
  const row = page.locator(`[data-testid="run-row"][data-run-id="${a}"]`);
  await row.getByTestId('run-delete').click();
  const dialog = page.getByTestId('delete-run-dialog');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), new RegExp(`Delete run #${a}\\?`));
  await page.screenshot({ path: join(ARTIFACTS, 'runs-delete-dialog.png') });
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    const inDialog = await page.evaluate(() => document.activeElement?.closest('dialog') !== null);
    assert.ok(inDialog, `Tab ${i + 1} stays in the dialog`);
  }
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await page.getByTestId('run-row').count(), 2);
  assert.ok(existsSync(join(home, 'runs', String(a))));

  await row.getByTestId('run-delete').click();
  await page.getByTestId('delete-run-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
  await row.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('run-row').count(), 1);
  assert.equal(await view.count(), 0, 'a comparison with a deleted run is closed');
  assert.equal(existsSync(join(home, 'runs', String(a))), false, 'its folder is gone');
  assert.ok(existsSync(join(home, 'runs', String(b))));
  const left = lastJson<Array<{ id: number }>>(finetune(['runs', '--json', '--home', home]));
  assert.deepEqual(
    left.map((r) => r.id),
    [b],
  );
  assert.deepEqual(pageErrors, []);
});
