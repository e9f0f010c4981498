/**
 * One run through the real CLI in two legs: `finetune train DIR --recipe fastai8 --until-step 3` (paused with a
 * head-only model), then `finetune recipe continue ID --lr-all X --cycles N`: the same run id, steps 4–8 recorded on
 * it, the overrides in its stored config, and step 8's iterations at exactly the LRs of the SGDR plan at X with N
 * cycles (what the wizard previews). Tiny: 32 px shapes, 24 training images, batch 6, 10-point range tests.
 */
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';
import { sgdrStepPlan, DEFAULT_STEP8_WARMUP_EPOCHS } from '../../src-shared/recipe/plan';
import { step8Epochs } from '../../src-shared/recipe/config';
import type { RecipeConfig, RecipeStepResult, Result, RunTiming } from '../../src-shared/contract';

interface Summary {
  runId: number;
  status: string;
  nextStep: number;
  config: RecipeConfig;
  steps: Array<Pick<RecipeStepResult, 'step' | 'name' | 'epochs' | 'lr' | 'lrPick'>>;
  groupLrs: number[] | null;
}
type Shown = Result<'runs.compare'>['runs'][number] & { recipe: RecipeConfig; timing: RunTiming | null };

test('train --recipe --until-step 3, then recipe continue --lr-all --cycles: one run, the picks in it', async (t) => {
  const { data, env } = cliWorkspace('ft-continue-');
  await makeShapeDataset(data, { perClass: 10, seed: 4 });
  const tiny = ['--size', '32', '--batch-size', '6', '--cycles', '1', '--lr-find-iters', '10'];
  const first = finetune(
    ['train', data, '--recipe', 'fastai8', '--until-step', '3', ...tiny, '--lr-find-all-iters', '10', '--json'],
    env,
  );
  assert.equal(first.status, 0, first.stderr);
  const head = lastJson<Summary>(first);
  assert.deepEqual([head.status, head.nextStep, head.steps.length], ['paused', 4, 3]);
  const show = (id: number) => lastJson<Shown>(finetune(['runs', 'show', String(id), '--json'], env));
  const kindOf = (id: number) =>
    lastJson<Array<{ id: number; kindText: string }>>(finetune(['runs', '--json'], env)).find((r) => r.id === id)
      ?.kindText;
  assert.equal(kindOf(head.runId), 'head only (steps 1–3)', 'planned to stop after step 3');
  assert.match(
    finetune(['runs', 'show', String(head.runId)], env).stdout,
    /^run \d+ \(head only \(steps 1–3\)\) paused/,
  );

  await t.test('the head-only run is a result of its own: it exports', () => {
    const r = finetune(['export', String(head.runId), '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const out = lastJson<{ dir: string; files: string[] }>(r);
    assert.ok(out.files.includes('model.json'));
    const card = readFileSync(join(out.dir, 'MODEL_CARD.md'), 'utf8');
    assert.match(card, /head only \(steps 1–3\): fast.ai.s recipe, stopped after step 3/);
  });

  const lrAll = 3e-4;
  const cycles = 2;
  const again = finetune(
    ['recipe', 'continue', String(head.runId), '--lr-all', String(lrAll), '--cycles', String(cycles), '--json'],
    env,
  );
  assert.equal(again.status, 0, again.stderr);
  const done = lastJson<Summary>(again);

  await t.test('the same run id, steps 4–8 recorded on it, the overrides in its config', () => {
    assert.equal(done.runId, head.runId);
    assert.deepEqual([done.status, done.nextStep], ['completed', 9]);
    assert.deepEqual(
      done.steps.map((s) => s.step),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.deepEqual(done.steps.slice(0, 3), head.steps, 'steps 1–3 are not run again');
    const runs = lastJson<Array<{ id: number }>>(finetune(['runs', '--json'], env));
    assert.deepEqual(
      runs.map((r) => r.id),
      [head.runId],
      'one run',
    );
    const run = show(head.runId);
    assert.equal(kindOf(head.runId), 'eight steps', 'continued to step 8');
    assert.deepEqual([run.recipe.lrAll, run.recipe.cycles], [lrAll, cycles]);
    assert.deepEqual(run.config, run.recipe, "one config: the recipe's");
    // Step 6 sets the LRs step 8 trains each layer group at: the picked LR × [1/9, 1/3, 1] (lrRatio 3).
    const human = finetune(['runs', 'show', String(head.runId)], env).stdout;
    assert.match(human, /^ {2}step 6 step6-differential-lrs +lr \[3\.33e-5, 1\.00e-4, 3\.00e-4\] /m);
    // The summary `recipe continue` prints says the same (its step 6 line printed "lr -").
    assert.deepEqual(
      done.groupLrs?.map((lr) => lr.toExponential(2)),
      ['3.33e-5', '1.00e-4', '3.00e-4'],
    );
    assert.equal(Math.max(...run.iterations.filter((p) => p.step === 'step8-all').map((p) => p.lr)), lrAll);
    const step8 = done.steps.find((s) => s.step === 8)!;
    assert.deepEqual([step8.lr, step8.lrPick], [lrAll, 'picked']);
    assert.equal(done.steps.find((s) => s.step === 7)!.lr, lrAll);
    // Each epoch with its step; the estimate beside the actual time.
    assert.equal(run.metrics.filter((m) => m.step === 'step3-head').length, 2, 'tiny data: 2 head epochs, once');
    assert.equal(run.metrics.filter((m) => m.step === 'step8-all').length, step8Epochs(cycles, 2));
    assert.ok(run.timing?.steps.every((s) => s.estimate !== null && s.actual !== null));
  });

  await t.test("step 8's iterations follow the SGDR plan at the picked LR with the picked cycles", () => {
    const run = show(head.runId);
    const lrs = run.iterations.filter((p) => p.step === 'step8-all').map((p) => p.lr);
    const ipe = 4; // 24 training images at batch 6
    const plan = sgdrStepPlan(lrAll, cycles, 2, ipe, DEFAULT_STEP8_WARMUP_EPOCHS);
    assert.equal(lrs.length, plan.lr.length);
    lrs.forEach((lr, i) => assert.ok(Math.abs(lr - plan.lr[i]!) < 1e-12, `iteration ${i}: ${lr} vs ${plan.lr[i]}`));
  });

  await t.test('continuing a completed run is refused (exit 2), naming why', () => {
    const r = finetune(['recipe', 'continue', String(head.runId), '--json'], env);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /already completed/);
  });
});
