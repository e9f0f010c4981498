/**
 * The app's side of the eight-step recipe (StudioService, as the wizard calls it): run up to a step, pause, continue
 * with an override, interpret the result (confusion matrix, top losses, TTA), export the snapshot ensemble and
 * predict with it through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioService } from '../../src-main/app/service';
import type { EventName, Interpretation, RecipeConfig, RecipeEstimate, RunDetail } from '../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../src-main/core/recipe/types';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson } from '../helpers/cli';

test('recipe through the service: pause after step 2, continue, interpret, ensemble export and predict', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-recipe-svc-'));
  const home = join(work, 'home');
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 8, seed: 9 });
  const service = new StudioService({ home, backend: 'auto', mode: 'headless' });
  t.after(() => service.close());
  const events: Array<{ event: EventName; payload: Record<string, unknown> }> = [];
  service.onEvent((event, payload) => events.push({ event, payload: payload as Record<string, unknown> }));
  const doneFor = (runId: number, after: number) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const poll = setInterval(() => {
        const e = events.slice(after).find((x) => x.event === 'train.done' && x.payload.runId === runId);
        if (e) {
          clearInterval(poll);
          resolve(e.payload);
        }
      }, 50);
    });

  const config: RecipeConfig = {
    ...DEFAULT_RECIPE_CONFIG,
    dir: data,
    size: 32,
    batchSize: 8,
    cycles: 2,
    lrFind: { start: 1e-5, end: 10, iters: 20 },
  };
  // The estimate is measured in a worker and validated like every request; recipe.start stores it with the run.
  await assert.rejects(service.handle('recipe.estimate', { ...config, size: 8 }), /size/);
  const estimate = (await service.handle('recipe.estimate', config)) as RecipeEstimate;
  assert.equal(estimate.steps.length, 8);
  assert.ok(estimate.totalSeconds > 0);
  const { runId } = (await service.handle('recipe.start', { config, untilStep: 2 })) as { runId: number };
  const paused = await doneFor(runId, 0);
  assert.equal(paused.status, 'paused');
  const pausedTiming = ((await service.handle('runs.get', { runId })) as RunDetail).timing!;
  assert.deepEqual(
    pausedTiming.steps.map((s) => s.estimate),
    estimate.steps.map((s) => s.seconds),
  );
  assert.deepEqual(
    pausedTiming.steps.map((s) => s.actual !== null),
    [true, true, false, false, false, false, false, false],
  );
  const state = (await service.handle('recipe.state', { runId })) as { nextStep: number; steps: unknown[] };
  assert.equal(state.nextStep, 3);
  assert.equal(state.steps.length, 2);
  assert.ok(
    events.some((e) => e.event === 'recipe.lrfind' && e.payload.step === 2),
    'step 2 LR finder curve pushed',
  );
  assert.equal(((await service.handle('runs.get', { runId })) as { status: string }).status, 'paused');

  const mark = events.length;
  await service.handle('recipe.continue', { runId, overrides: { augmentEpochs: 1 } });
  const done = await doneFor(runId, mark);
  assert.equal(done.status, 'completed', String(done.error));
  const timing = ((await service.handle('runs.get', { runId })) as RunDetail).timing!;
  assert.ok(timing.steps.every((s) => s.actual !== null && s.actual >= 0));
  assert.equal(timing.total.estimate, estimate.totalSeconds);
  assert.ok(timing.total.actual! >= pausedTiming.total.actual!, 'the total adds up both sessions');
  const stepsDone = events
    .filter((e) => e.event === 'recipe.step' && e.payload.status === 'done')
    .map((e) => e.payload.step);
  assert.deepEqual(stepsDone, [1, 2, 3, 4, 5, 6, 7, 8]);
  const step4Epochs = events.filter((e) => e.event === 'train.epoch' && e.payload.step === 'step4-augment').length;
  assert.equal(step4Epochs, 1, 'the override (1 augmented epoch) applied');

  const interp = (await service.handle('model.interpret', { runId })) as Interpretation;
  assert.deepEqual(interp.classes, ['circles', 'squares', 'stripes']);
  const total = interp.matrix.flat().reduce((a, b) => a + b, 0);
  assert.equal(total, interp.items.length);
  const diag = interp.matrix.reduce((a, row, i) => a + row[i]!, 0);
  assert.equal(diag / total, interp.accuracy);
  for (let i = 1; i < interp.items.length; i++) assert.ok(interp.items[i - 1]!.loss >= interp.items[i]!.loss);
  assert.match(interp.items[0]!.thumbnail ?? '', /^data:image\/jpeg;base64,/);
  const tta = (await service.handle('model.interpret', { runId, tta: true })) as Interpretation;
  assert.equal(tta.tta, true);
  assert.equal(tta.items.length, interp.items.length);

  const ens = (await service.handle('model.export', { runId, ensemble: true })) as { dir: string; files: string[] };
  assert.ok(existsSync(join(ens.dir, 'ensemble.json')));
  assert.ok(ens.files.some((f) => f.startsWith('members')));
  const files = interp.items.map((i) => join(data, i.file));
  const preds = lastJson<Array<{ label: string }>>(finetune(['predict', ens.dir, ...files, '--json']));
  assert.equal(preds.length, files.length);
});
