/**
 * `finetune runs show / compare / rm` on a real history: two short head runs (the recipe until step 3) trained by the
 * real CLI into one --home, then compared (iterations recorded per batch, the config keys that differ) and one deleted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson } from '../helpers/cli';
import type { Result } from '../../src-shared/contract';

const work = mkdtempSync(join(tmpdir(), 'ft-cli-runs-'));
const home = join(work, 'home');
const data = join(work, 'shapes');
const env = { FINETUNE_HOME: home };

/** A 3-class head run: 8 training images per class at batch 8 is 3 iterations an epoch. */
function train(epochs: number, lr: string): number {
  const r = finetune(
    [
      ...['train', data, '--steps', 'head', '--epochs', String(epochs), '--lr', lr],
      ...['--size', '32', '--batch-size', '8', '--dropout', '0', '--json'],
    ],
    env,
  );
  assert.equal(r.status, 0, r.stderr);
  return lastJson<{ runId: number }>(r).runId;
}

test('runs show, compare and rm on two real runs', async (t) => {
  await makeShapeDataset(data, { perClass: 10, seed: 3 });
  const a = train(2, '0.01');
  const b = train(1, '0.003');

  await t.test('show --json: config, epochs and every iteration with its LR', () => {
    const r = finetune(['runs', 'show', String(a), '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const run = lastJson<Result<'runs.compare'>['runs'][number]>(r);
    assert.equal(run.id, a);
    assert.equal(run.config.lrHead, 0.01, "the config is the recipe's");
    assert.equal((run as typeof run & { kindText: string }).kindText, 'head only (steps 1–3)');
    assert.equal(run.metrics.length, 2);
    assert.equal(run.iterationCount, 2 * 3, '24 training images, batch 8, 2 epochs');
    assert.deepEqual(
      run.iterations.map((p) => [p.step, p.epoch, p.iteration, p.index]),
      [0, 1, 2, 3, 4, 5].map((i) => ['step3-head', Math.floor(i / 3), i, i]),
    );
    assert.ok(
      run.iterations.every((p) => p.lr === 0.01 && p.loss !== null && p.loss > 0),
      'constant LR, finite loss',
    );
  });

  await t.test('compare --json: both runs and only the config keys that differ', () => {
    const r = finetune(['runs', 'compare', String(a), String(b), '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const out = lastJson<Result<'runs.compare'>>(r);
    assert.deepEqual(
      out.runs.map((x) => [x.id, x.metrics.length, x.iterationCount]),
      [
        [a, 2, 6],
        [b, 1, 3],
      ],
    );
    // A head run is the recipe until step 3: its epochs and LR are step 3's, in the recipe config too.
    assert.deepEqual(out.configDiff, [
      { key: 'epochs', values: ['2', '1'] },
      { key: 'lr', values: ['0.01', '0.003'] },
      { key: 'recipe.headEpochs', values: ['2', '1'] },
      { key: 'recipe.lrHead', values: ['0.01', '0.003'] },
    ]);
    const human = finetune(['runs', 'compare', String(a), String(b)], env);
    assert.match(human.stdout, /^lr\s+0\.01\s+0\.003/m);
  });

  await t.test('usage mistakes exit 2 with one line and change nothing', () => {
    const cases: Array<[string[], RegExp]> = [
      [['runs', 'compare', String(a)], /two or more run ids/],
      [['runs', 'show'], /needs one run id/],
      [['runs', 'show', '999'], /No run 999/],
      [['runs', 'frob'], /unknown subcommand "frob"/],
      [['runs', 'rm', String(a)], /confirm with --yes/],
      [['runs', '--yes'], /--yes is only for "runs rm"/],
    ];
    for (const [args, message] of cases) {
      const r = finetune(args, env);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.ok(existsSync(join(home, 'runs', String(a))), 'rm without --yes deleted nothing');
  });

  await t.test('rm --yes deletes the history rows and the run folder, and only that run', () => {
    const r = finetune(['runs', 'rm', String(a), '--yes', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(lastJson(r), { runId: a, folderRemoved: true });
    assert.equal(existsSync(join(home, 'runs', String(a))), false);
    assert.ok(existsSync(join(home, 'runs', String(b))));
    const list = lastJson<Array<{ id: number }>>(finetune(['runs', '--json'], env));
    assert.deepEqual(
      list.map((x) => x.id),
      [b],
    );
    assert.equal(finetune(['runs', 'show', String(a)], env).status, 2);
  });
});
