/**
 * The run-time estimate through the CLI on a tiny generated dataset (3 classes × 6, 32 px, batch 8, one cycle):
 * `--estimate` prints it without starting a run; a real run prints it before step 1 and stores the real time next
 * to it, per step. The JSON side of a full run is checked in recipe.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson } from '../helpers/cli';
import { RunStore } from '../../src-main/core/history/runStore';
import type { RecipeEstimate } from '../../src-main/core/recipe/estimate';

const work = mkdtempSync(join(tmpdir(), 'ft-estimate-'));
const data = join(work, 'shapes');
await makeShapeDataset(data, { perClass: 6, size: 32, seed: 11 });
const home = join(work, 'home');
const args = ['train', data, '--recipe', 'fastai8', '--size', '32', '--batch-size', '8', '--cycles', '1'];
const tiny = [...args, '--lr-find-iters', '5', '--home', home];

test('--estimate prints each step and the total, and trains nothing', () => {
  const r = finetune([...tiny, '--estimate', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const { estimate } = lastJson<{ estimate: RecipeEstimate }>(r);
  assert.deepEqual(
    estimate.steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.deepEqual(estimate.sizes, { train: 15, valid: 3 });
  assert.deepEqual(estimate.upperBoundSteps, [7, 8]);
  assert.match(r.stderr, /^estimate: about .+; steps 7 and 8 may end sooner$/m);
  const store = new RunStore(join(home, 'history.sqlite'));
  try {
    assert.equal(store.listRuns().length, 0);
  } finally {
    store.close();
  }
});

test('a run prints the estimate before training and records estimated vs real time per step', () => {
  const r = finetune(tiny);
  assert.equal(r.status, 0, r.stderr);
  const estimateAt = r.stderr.search(/^estimate: about /m);
  assert.ok(estimateAt >= 0, r.stderr);
  assert.ok(estimateAt < r.stderr.indexOf('step 1 step1-precompute: started'), 'estimate before step 1');
  assert.match(r.stdout, /^total time: .+ \(estimated .+\)$/m);
  const store = new RunStore(join(home, 'history.sqlite'));
  try {
    const [run] = store.listRuns();
    const timing = run!.timing!;
    assert.equal(timing.steps.length, 8);
    for (const s of timing.steps) {
      assert.ok(s.estimate !== null && s.estimate >= 0, `step ${s.step} estimate`);
      assert.ok(s.actual !== null && s.actual >= 0, `step ${s.step} actual`);
    }
    const stepsActual = timing.steps.reduce((a, s) => a + s.actual!, 0);
    assert.ok(timing.total.actual! >= stepsActual, 'the total includes every step');
  } finally {
    store.close();
  }
});
