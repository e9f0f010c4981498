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
import type {
  EventName,
  Interpretation,
  RecipeConfig,
  RecipeEstimate,
  RecipeStepResult,
  RunDetail,
} from '../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson } from '../helpers/cli';
import { assertRecipeSteps, RECIPE_STEP_NAMES, type RecipeStepExpectations } from '../helpers/recipe';

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
  assert.deepEqual(
    estimate.steps.map((s) => [s.step, s.name]),
    RECIPE_STEP_NAMES.map((name, i) => [i + 1, name]),
  );
  assert.ok(estimate.steps.every((s) => s.seconds >= 0) && estimate.ensembleSeconds >= 0);
  const stepSeconds = estimate.steps.reduce((a, s) => a + s.seconds, 0);
  assert.ok(estimate.totalSeconds > 0, `total ${estimate.totalSeconds}`);
  assert.ok(
    Math.abs(estimate.totalSeconds - stepSeconds - estimate.ensembleSeconds) < 1e-6,
    'total = steps + ensemble',
  );
  assert.equal(estimate.sizes.train + estimate.sizes.valid, 3 * 8, 'every image in the split');
  // Three shape classes (chance 1/3); 24 images is tiny data: 2 head epochs. Step 8: cycles of 1 and 2 epochs.
  const expected: RecipeStepExpectations = {
    epochs: [0, 0, 2, 1, 0, 0, 0, 1 + 2],
    lrFind: config.lrFind,
    groupLrMults: [1 / 9, 1 / 3, 1],
    chance: 1 / 3,
  };
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
  const recipeState = async () =>
    (await service.handle('recipe.state', { runId })) as { nextStep: number; steps: RecipeStepResult[] };
  const state = await recipeState();
  assert.equal(state.nextStep, 3);
  assertRecipeSteps(state.steps, { ...expected, epochs: [0, 0] });
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
  assert.ok(
    timing.steps.every((s) => s.actual !== null && s.actual >= 0),
    'every step timed',
  );
  for (const step of [3, 4, 8]) assert.ok(timing.steps[step - 1]!.actual! > 0, `step ${step} took time`);
  const stepsActual = timing.steps.reduce((a, s) => a + s.actual!, 0);
  assert.ok(timing.total.actual! >= stepsActual - 1e-3, `total ${timing.total.actual} >= steps ${stepsActual}`);
  assert.equal(timing.total.estimate, estimate.totalSeconds);
  assert.ok(timing.total.actual! >= pausedTiming.total.actual!, 'the total adds up both sessions');
  const stepsDone = events
    .filter((e) => e.event === 'recipe.step' && e.payload.status === 'done')
    .map((e) => e.payload.step);
  assert.deepEqual(stepsDone, [1, 2, 3, 4, 5, 6, 7, 8]);
  const step4Epochs = events.filter((e) => e.event === 'train.epoch' && e.payload.step === 'step4-augment').length;
  assert.equal(step4Epochs, 1, 'the override (1 augmented epoch) applied');
  const final = await recipeState();
  assert.equal(final.nextStep, 9);
  assertRecipeSteps(final.steps, expected);

  const interp = (await service.handle('model.interpret', { runId })) as Interpretation;
  assert.deepEqual(interp.classes, ['circles', 'squares', 'stripes']);
  const total = interp.matrix.flat().reduce((a, b) => a + b, 0);
  assert.equal(total, interp.items.length);
  const diag = interp.matrix.reduce((a, row, i) => a + row[i]!, 0);
  assert.equal(diag / total, interp.accuracy);
  assert.ok(interp.accuracy > expected.chance, `accuracy ${interp.accuracy} better than chance`);
  assert.equal(total, estimate.sizes.valid, 'every validation image is interpreted');
  assert.ok(
    interp.items.every((i) => i.actual === i.file.split(/[/\\]/)[0]),
    'actual class = the image folder',
  );
  for (let i = 1; i < interp.items.length; i++) assert.ok(interp.items[i - 1]!.loss >= interp.items[i]!.loss);
  assert.match(interp.items[0]!.thumbnail ?? '', /^data:image\/jpeg;base64,/);
  const tta = (await service.handle('model.interpret', { runId, tta: true })) as Interpretation;
  assert.equal(tta.tta, true);
  assert.deepEqual(tta.items.map((i) => i.file).sort(), interp.items.map((i) => i.file).sort());
  assert.ok(tta.accuracy > expected.chance && tta.accuracy <= 1, `TTA accuracy ${tta.accuracy}`);

  const ens = (await service.handle('model.export', { runId, ensemble: true })) as { dir: string; files: string[] };
  assert.ok(existsSync(join(ens.dir, 'ensemble.json')));
  assert.ok(ens.files.some((f) => f.startsWith('members')));
  const files = interp.items.map((i) => join(data, i.file));
  const preds = lastJson<Array<{ file: string; label: string }>>(finetune(['predict', ens.dir, ...files, '--json']));
  assert.deepEqual(
    preds.map((p) => p.file),
    files,
  );
  // The exported ensemble classifies the validation images better than chance.
  const right = preds.filter((p, i) => p.label === interp.items[i]!.actual).length;
  assert.ok(right / files.length > expected.chance, `ensemble: ${right} of ${files.length} right`);
});
