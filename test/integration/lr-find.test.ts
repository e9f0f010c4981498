/**
 * `finetune lr-find` end to end on generated images: the range test as a step of a run, the head (step 2 of a new run)
 * and the whole network (step 7, of a new run or continuing a head run), stored with its run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson, cliWorkspace } from '../helpers/cli';
import { RunStore } from '../../src-main/core/history/runStore';
import { bestBackend } from '../helpers/backend';

const { home, data, env } = cliWorkspace('ft-lrfind-');

interface LrFindJson {
  status: string;
  stage: string;
  backend: string;
  lr: number[];
  loss: Array<number | null>;
  smoothedLoss: Array<number | null>;
  suggestions: { valley: number | null; steep: number | null; minDiv10: number | null };
  rules: { valley: string; steep: string; minDiv10: string };
  minIndex: number | null;
  stoppedEarly: boolean;
  step: number;
  recommended: { lr: number; pick: string; warning: string | null };
  classes: string[];
  groupLrMults?: number[];
  runId: number;
}

interface StoredResult {
  step: number;
  suggestions: LrFindJson['suggestions'];
  lr: number[];
}

function storedLrFinds() {
  const store = new RunStore(join(home, 'history.sqlite'));
  try {
    return store.listLrFinds();
  } finally {
    store.close();
  }
}

/** `finetune lr-find DIR ARGS --json`: it succeeds, and its JSON. */
function lrFindJson(args: string[]): LrFindJson {
  const r = finetune(['lr-find', data, ...args, '--json'], env);
  assert.equal(r.status, 0, r.stderr);
  return lastJson<LrFindJson>(r);
}

/**
 * A completed sweep from `start` up to `end` in at most `iters` steps, stored in the history. `suggested`: whether the
 * curve is long enough for fastai's rules (then every suggestion lies in the sweep) or too short (then none, and the
 * rules say why).
 */
function checkCurve(out: LrFindJson, start: number, end: number, iters: number, suggested: boolean) {
  assert.equal(out.status, 'completed');
  assert.ok(out.lr.length >= 1 && out.lr.length <= iters, `${out.lr.length} points`);
  assert.equal(out.loss.length, out.lr.length);
  assert.equal(out.smoothedLoss.length, out.lr.length);
  assert.ok(Math.abs(out.lr[0]! - start) < 1e-12 * start, 'the sweep starts at --start');
  for (let i = 1; i < out.lr.length; i++) assert.ok(out.lr[i]! > out.lr[i - 1]!, 'the LR grows');
  assert.ok(out.lr[out.lr.length - 1]! <= end * (1 + 1e-9));
  for (const key of ['valley', 'steep', 'minDiv10'] as const) {
    const lr = out.suggestions[key];
    assert.equal(typeof out.rules[key], 'string');
    assert.ok(out.rules[key].length > 10, `rule for ${key}: ${out.rules[key]}`);
    if (suggested) {
      assert.ok(lr !== null && Number.isFinite(lr) && lr >= start && lr <= end, `${key} ${lr} in [${start}, ${end}]`);
    } else {
      assert.equal(lr, null, `${key}: too few points for a suggestion`);
      assert.match(out.rules[key], /usable point/, `the rule for ${key} says why`);
    }
  }
  assert.equal(typeof out.runId, 'number');
}

test('lr-find: head on precomputed activations, whole network, run history', async (t) => {
  await makeShapeDataset(data, { perClass: 10, size: 48, seed: 11 });

  // The CLI is asked for 'auto': it must run on the best backend that loads here.
  const backend = await bestBackend();

  await t.test('--stage head --json: a curve that falls then diverges, suggestions, stored in the history', () => {
    // Only 24 easy training images: the head's loss stays low up to LR 10 (and is capped at -log(1e-7) per image),
    // so the sweep goes further to see it diverge; it stops at about 80 of the 100 steps.
    const args = ['--size', '48', '--batch-size', '8', '--start', '1e-5', '--end', '1e4', '--backend', 'auto'];
    const out = lrFindJson(args);
    checkCurve(out, 1e-5, 1e4, 100, true);
    assert.equal(out.stage, 'head');
    assert.equal(out.backend, backend);
    assert.deepEqual(out.classes, ['circles', 'squares', 'stripes']);
    assert.equal(out.stoppedEarly, true, 'the loss diverged before the 100th step');
    assert.ok(out.lr.length < 100);
    const { valley, steep, minDiv10 } = out.suggestions;
    assert.ok(valley !== null && steep !== null && minDiv10 !== null, JSON.stringify(out.rules));
    assert.ok(out.minIndex !== null && valley < out.lr[out.minIndex]!, 'valley below the LR at the minimum');
    // The loss falls: its smoothed minimum is well below where it started.
    const smoothed = out.smoothedLoss.filter((v): v is number => v !== null && Number.isFinite(v));
    assert.ok(Math.min(...smoothed) < 0.8 * smoothed[0]!, `smoothed loss ${smoothed[0]} → ${Math.min(...smoothed)}`);

    assert.equal(out.step, 2);
    assert.equal(out.recommended.lr, minDiv10, "the head's LR by the recipe's rule");

    const rows = storedLrFinds();
    const row = rows.find((x) => x.runId === out.runId);
    assert.ok(row, `lr_finds has a row of run ${out.runId}`);
    assert.equal(row.stage, 'step2-lrfind-head');
    const stored = row.result as StoredResult;
    assert.deepEqual(stored.suggestions, out.suggestions);
    assert.deepEqual(stored.lr, out.lr);
    assert.equal(stored.step, 2);
    const run = lastJson<{ status: string; recipe: { size: number; lrFind: { end: number } } }>(
      finetune(['runs', 'show', String(out.runId), '--json'], env),
    );
    assert.equal(run.status, 'paused', 'a run stopped after its step 2: recipe continue goes on from it');
    assert.deepEqual([run.recipe.size, run.recipe.lrFind.end], [48, 1e4]);
  });

  await t.test('human output: suggestions with their rules and a sparkline (activations come from the cache)', () => {
    const r = finetune(
      ['lr-find', data, '--size', '48', '--batch-size', '8', '--iters', '40', '--backend', 'auto'],
      env,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`LR range test (head, ${backend})`), r.stdout);
    assert.match(r.stdout, /valley\s+\d\.\de[-+]\d+\s+About halfway/);
    assert.match(r.stdout, /minDiv10\s+\d\.\de[-+]\d+\s+One tenth/);
    assert.match(r.stdout, /[▁▂▃▄▅▆▇█]{20,}/);
    assert.match(r.stdout, /run \d+ paused after step 2: finetune recipe continue \d+/);
    assert.equal(storedLrFinds().length, 2);
  });

  await t.test('usage errors exit 2', () => {
    assert.equal(finetune(['lr-find'], env).status, 2);
    const bad = finetune(['lr-find', data, '--mode', 'cosine'], env);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--mode must be exp or linear/);
    assert.equal(finetune(['lr-find', data, '--start', '1', '--end', '0.1'], env).status, 2);
    assert.equal(finetune(['lr-find', data, '--run', '1'], env).status, 2, '--run needs --stage full');
  });

  await t.test(
    '--stage full at 32 px: step 7 of a new run, the unfrozen network with LR multipliers 1/9, 1/3, 1',
    () => {
      const out = lrFindJson(['--stage', 'full', '--size', '32', '--batch-size', '8', '--iters', '8']);
      // 8 points are too few for fastai's rules (the first tenth and the last 5 are skipped): they say so.
      checkCurve(out, 1e-7, 10, 8, false);
      assert.equal(out.stage, 'full');
      assert.equal(out.step, 7);
      assert.deepEqual(out.groupLrMults, [1 / 9, 1 / 3, 1]);
      const row = storedLrFinds().find((x) => x.runId === out.runId && x.stage === 'step7-lrfind-all');
      assert.equal((row?.result as StoredResult).step, 7);
    },
  );

  await t.test('--stage full --run RUN_ID continues that head run to its step 7, stored with the run', () => {
    const train = finetune(
      ['train', data, '--steps', 'head', '--epochs', '2', '--size', '32', '--batch-size', '8', '--json'],
      env,
    );
    assert.equal(train.status, 0, train.stderr);
    const { runId } = lastJson<{ runId: number }>(train);
    const out = lrFindJson(['--stage', 'full', '--run', String(runId), '--iters', '6']);
    checkCurve(out, 1e-7, 10, 6, false);
    assert.equal(out.runId, runId, 'the same run, not a new one');
    const store = new RunStore(join(home, 'history.sqlite'));
    try {
      assert.deepEqual(
        store.lrFinds(runId).map((l) => l.stage),
        ['step2-lrfind-head', 'step7-lrfind-all'],
      );
      assert.equal(
        store.epochs(runId).filter((e) => e.step === 'step3-head').length,
        2,
        'the head was not trained again',
      );
    } finally {
      store.close();
    }
  });
});
