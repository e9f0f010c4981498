/**
 * Running a run again: `finetune runs rerun` on a real head run (the recipe stopped after step 3) and a tiny recipe
 * run (same dataset, settings and seed, so the same metrics), and the service requests the wizard's "Run again" uses
 * (`runs.rerunConfig`, then `run.start` with `rerunOf` and the step the run stopped after), each recorded as a re-run
 * of the first run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StudioService } from '../../src-main/app/service';
import type { EventName, RecipeConfig, Result, RunDetail, RunEvent } from '../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { makeShapeDataset } from '../helpers/images';
import { cliWorkspace, finetune, lastJson } from '../helpers/cli';

type Shown = Result<'runs.compare'>['runs'][number] & { rerunOf: number | null };
interface TrainSummary {
  runId: number;
  rerunOf?: number;
  seed?: number;
  status: string;
  trainLoss: number[];
  validLoss: number[];
  validAccuracy: number[];
}

test('runs run again (CLI: head and recipe; service: as the wizard) repeat their config, seed and metrics', async (t) => {
  const { home, data, env } = cliWorkspace('ft-rerun-');
  await makeShapeDataset(data, { perClass: 10, seed: 5 });
  // SGDR and dropout: the seed must drive the split, the initialisation, the shuffling and the dropout masks.
  const first = finetune(
    [
      ...['train', data, '--steps', 'head', '--lr', '0.01', '--size', '32', '--batch-size', '8', '--dropout', '0.3'],
      ...['--seed', '7', '--schedule', 'sgdr', '--cycle-len', '1', '--cycle-mult', '1', '--cycles', '2', '--json'],
    ],
    env,
  );
  assert.equal(first.status, 0, first.stderr);
  const a = lastJson<TrainSummary>(first);
  const show = (id: number) => lastJson<Shown>(finetune(['runs', 'show', String(id), '--json'], env));

  await t.test('runs rerun: a new run with the same config and seed, and the same metrics', () => {
    const r = finetune(['runs', 'rerun', String(a.runId), '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    const b = lastJson<TrainSummary & { nextStep: number }>(r);
    assert.notEqual(b.runId, a.runId);
    assert.equal(b.rerunOf, a.runId);
    assert.equal(b.seed, 7);
    assert.equal(b.status, 'paused', 'stopped after step 3 as the run it repeats');
    assert.equal(b.nextStep, 4);
    assert.equal(a.validLoss.length, 2);
    const [runA, runB] = [show(a.runId), show(b.runId)];
    // Bit for bit: the same seed repeats the run.
    assert.deepEqual(
      runB.metrics.map((m) => [m.trainLoss, m.validLoss, m.validAccuracy]),
      runA.metrics.map((m) => [m.trainLoss, m.validLoss, m.validAccuracy]),
    );
    assert.deepEqual(
      runA.metrics.map((m) => m.validLoss),
      a.validLoss,
    );
    assert.deepEqual(runB.config, runA.config);
    assert.equal(runB.dir, data);
    assert.deepEqual(
      runB.iterations.map((p) => [p.loss, p.lr]),
      runA.iterations.map((p) => [p.loss, p.lr]),
    );
    assert.equal(runA.rerunOf, null);
    assert.equal(runB.rerunOf, a.runId);
    const cmp = lastJson<Result<'runs.compare'>>(
      finetune(['runs', 'compare', String(a.runId), String(b.runId), '--json'], env),
    );
    assert.deepEqual(cmp.configDiff, [], 'nothing differs');
    const list = lastJson<Array<{ id: number; rerunOf: number | null }>>(finetune(['runs', '--json'], env));
    assert.deepEqual(
      list.map((x) => [x.id, x.rerunOf]),
      [
        [b.runId, a.runId],
        [a.runId, null],
      ],
    );
    const human = finetune(['runs', 'show', String(b.runId)], env);
    assert.match(human.stdout, new RegExp(`run again from run ${a.runId}`));
  });

  await t.test('runs rerun of a recipe run: the same recipe config, step results and seed', () => {
    const tiny = ['--size', '32', '--batch-size', '6', '--cycles', '1', '--lr-find-iters', '10'];
    const r = finetune(['train', data, '--recipe', 'fastai8', ...tiny, '--lr-find-all-iters', '10', '--json'], env);
    assert.equal(r.status, 0, r.stderr);
    type RecipeSummary = { runId: number; rerunOf?: number; steps: Array<{ validLoss: number | null }> };
    const first = lastJson<RecipeSummary>(r);
    const again = finetune(['runs', 'rerun', String(first.runId), '--json'], env);
    assert.equal(again.status, 0, again.stderr);
    const second = lastJson<RecipeSummary>(again);
    assert.equal(second.steps.length, 8);
    assert.deepEqual(
      second.steps.map((x) => x.validLoss),
      first.steps.map((x) => x.validLoss),
    );
    const cmp = lastJson<Result<'runs.compare'>>(
      finetune(['runs', 'compare', String(first.runId), String(second.runId), '--json'], env),
    );
    assert.deepEqual(cmp.configDiff, []);
    assert.equal(show(second.runId).rerunOf, first.runId);
  });

  await t.test('runs rerun usage mistakes exit 2 and start nothing', () => {
    for (const [args, message] of [
      [['runs', 'rerun'], /needs one run id/],
      [['runs', 'rerun', '404'], /No run 404/],
    ] as const) {
      const r = finetune([...args], env);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.equal(lastJson<unknown[]>(finetune(['runs', '--json'], env)).length, 4);
  });

  await t.test('service: runs.rerunConfig, then run.start with rerunOf, as the wizard does', async () => {
    const service = new StudioService({ home, backend: 'auto', mode: 'headless' });
    t.after(() => service.close());
    const events: RunEvent[] = [];
    service.onEvent((event: EventName, payload) => {
      if (event === 'run.event') events.push(payload as RunEvent);
    });

    const loaded = (await service.handle('runs.rerunConfig', { runId: a.runId })) as Result<'runs.rerunConfig'>;
    assert.equal(loaded.kind, 'fastai8');
    assert.equal(loaded.untilStep, 3);
    assert.deepEqual(loaded.config, show(a.runId).config, 'runs show: the recipe config');
    await assert.rejects(service.handle('runs.rerunConfig', { runId: '1' }), /Invalid parameters for runs.rerunConfig/);
    await assert.rejects(service.handle('runs.rerunConfig', { runId: 404 }), /No run 404/);
    const { config, untilStep } = loaded;
    await assert.rejects(service.handle('run.start', { config, untilStep, rerunOf: 404 }), /No run 404/);

    const started = (await service.handle('run.start', { config, untilStep, rerunOf: a.runId })) as { runId: number };
    const { runId } = started;
    const done = await new Promise<Extract<RunEvent, { type: 'done' }>>((resolve) => {
      const poll = setInterval(() => {
        const e = events.find((x) => x.type === 'done' && x.runId === runId);
        if (e?.type === 'done') {
          clearInterval(poll);
          resolve(e);
        }
      }, 50);
    });
    assert.equal(done.status, 'paused', String(done.error));
    const detail = (await service.handle('runs.get', { runId })) as RunDetail;
    assert.equal(detail.rerunOf, a.runId);
    assert.deepEqual(detail.recipe, config, 'rerunOf is recorded beside the config, not in it');
    assert.deepEqual(
      detail.metrics.map((m) => m.validLoss),
      a.validLoss,
    );

    // A recipe run gives back its RecipeConfig; a config this version cannot read is refused with the reason.
    const recipe: RecipeConfig = { ...DEFAULT_RECIPE_CONFIG, dir: data, size: 32, batchSize: 8 };
    const row = (config: unknown) =>
      service.store.createRun({ dir: data, kind: 'fastai8', backend: 'cpu', config, dataset: {}, classes: [] });
    const good = row({ ...config, recipe });
    assert.deepEqual(await service.handle('runs.rerunConfig', { runId: good }), {
      runId: good,
      kind: 'fastai8',
      config: recipe,
      untilStep: 8,
    });
    const bad = row({ recipe: { ...recipe, optimizer: 'lion' } });
    await assert.rejects(service.handle('runs.rerunConfig', { runId: bad }), /cannot be run again.*optimizer/);
  });
});
