/**
 * The app's side of the eight-step recipe (StudioService, as the wizard calls it): one run started up to step 2,
 * continued with the head LR picked on step 2's plot up to step 3 (a head-only model, exportable), continued to step 8
 * with step 7's LR and step 8's cycles picked; every pick in the stored config and in the LRs it trained at, step 3
 * trained once. Then interpret the result (confusion matrix, top losses, TTA), export the snapshot ensemble and
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
  RunDetail,
  RunEvent,
  RunState,
  RunSummary,
} from '../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { makeShapeDataset } from '../helpers/images';
import { finetune, lastJson } from '../helpers/cli';
import { assertRecipeSteps, RECIPE_STEP_NAMES, type RecipeStepExpectations } from '../helpers/recipe';

test('one run through the service: pause after 2, pick the head LR, pause after 3, pick step 8, interpret, export', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'ft-recipe-svc-'));
  const home = join(work, 'home');
  const data = join(work, 'shapes');
  await makeShapeDataset(data, { perClass: 8, seed: 9 });
  const service = new StudioService({ home, backend: 'auto', mode: 'headless' });
  t.after(() => service.close());
  const events: RunEvent[] = [];
  service.onEvent((event: EventName, payload) => {
    if (event === 'run.event') events.push(payload as RunEvent);
  });
  const doneFor = (runId: number, after: number) =>
    new Promise<Extract<RunEvent, { type: 'done' }>>((resolve) => {
      const poll = setInterval(() => {
        const e = events.slice(after).find((x) => x.type === 'done' && x.runId === runId);
        if (e?.type === 'done') {
          clearInterval(poll);
          resolve(e);
        }
      }, 50);
    });
  const runState = async (runId: number) => (await service.handle('run.state', { runId })) as RunState;

  const config: RecipeConfig = {
    ...DEFAULT_RECIPE_CONFIG,
    dir: data,
    size: 32,
    batchSize: 8,
    cycles: 2,
    lrFind: { start: 1e-5, end: 10, iters: 20 },
  };
  // The estimate is measured in a worker and validated like every request; run.start stores it with the run.
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
  // Three shape classes (chance 1/3); the head gets 1 epoch (picked on page 3). Step 8: cycles of 1 and 2 epochs.
  const expected: RecipeStepExpectations = {
    epochs: [0, 0, 1, 1, 0, 0, 0, 1 + 2],
    lrFind: config.lrFind,
    groupLrMults: [1 / 9, 1 / 3, 1],
    chance: 1 / 3,
  };
  const { runId } = (await service.handle('run.start', { config, untilStep: 2 })) as { runId: number };
  const paused = await doneFor(runId, 0);
  assert.equal(paused.status, 'paused');
  assert.equal(paused.nextStep, 3);
  const pausedTiming = ((await service.handle('runs.get', { runId })) as RunDetail).timing!;
  assert.deepEqual(
    pausedTiming.steps.map((s) => s.estimate),
    estimate.steps.map((s) => s.seconds),
  );
  assert.deepEqual(
    pausedTiming.steps.map((s) => s.actual !== null),
    [true, true, false, false, false, false, false, false],
  );
  const after2 = await runState(runId);
  assert.equal(after2.nextStep, 3);
  assert.equal(after2.status, 'paused');
  assert.deepEqual([after2.canContinue, after2.canCancel, after2.hasModel], [true, false, false]);
  assertRecipeSteps(after2.steps, { ...expected, epochs: [0, 0] });
  const curve2 = after2.lrFinds.find((c) => c.step === 2)!;
  assert.ok(curve2.lr.length > 0 && curve2.recommended.lr > 0, 'step 2 curve and recommendation kept');
  assert.ok(
    events.some((e) => e.type === 'lrfind' && e.result.step === 2),
    'step 2 LR finder curve pushed',
  );
  assert.equal(
    events.filter((e) => e.type === 'lrfindPoint' && e.step === 2).length,
    curve2.lr.length,
    'every point of the sweep pushed as it ran',
  );
  const activeRun = (await service.handle('run.active', {})) as { run: RunState | null };
  assert.equal(activeRun.run?.runId, runId, 'a reopened page finds the paused run');

  // Page 3: the LR clicked on step 2's plot (not its suggestion), 1 epoch.
  const lrHead = curve2.recommended.lr / 3;
  let mark = events.length;
  await service.handle('run.continue', { runId, untilStep: 3, overrides: { lrHead, headEpochs: 1 } });
  assert.equal((await doneFor(runId, mark)).status, 'paused');
  const after3 = await runState(runId);
  assert.deepEqual([after3.nextStep, after3.hasModel, after3.canContinue], [4, true, true]);
  assert.deepEqual([after3.config.lrHead, after3.config.headEpochs], [lrHead, 1], 'the picks are in the config');
  const step3 = after3.steps.find((s) => s.step === 3)!;
  assert.deepEqual([step3.lr, step3.lrPick, step3.epochs], [lrHead, 'picked', 1]);
  // A head-only model is a result of its own: it exports.
  const headExport = (await service.handle('model.export', { runId })) as { files: string[] };
  assert.ok(headExport.files.includes('model.json'));

  // Pages 4–8: step 7's LR picked, 2 cycles, 1 augmented epoch; the same run goes on from its checkpoint.
  const lrAll = Number((lrHead / 5).toPrecision(3));
  mark = events.length;
  await service.handle('run.continue', { runId, overrides: { augmentEpochs: 1, lrAll, cycles: 2 } });
  const done = await doneFor(runId, mark);
  assert.equal(done.status, 'completed', String(done.error));
  const runs = (await service.handle('runs.list', {})) as RunSummary[];
  assert.deepEqual(
    runs.map((r) => r.id),
    [runId],
    'one run',
  );
  const detail = (await service.handle('runs.get', { runId })) as RunDetail;
  assert.deepEqual(
    [detail.recipe?.lrHead, detail.recipe?.headEpochs, detail.recipe?.lrAll, detail.recipe?.cycles],
    [lrHead, 1, lrAll, 2],
    'every pick in the stored config',
  );
  assert.equal(detail.config.lr, lrAll, "the run's LR is step 8's");
  assert.equal(
    detail.metrics.filter((m) => m.step === 'step3-head').length,
    1,
    'step 3 trained its one epoch once: step 4 started from its head, not a retrained one',
  );
  const timing = detail.timing!;
  assert.ok(
    timing.steps.every((s) => s.actual !== null && s.actual >= 0),
    'every step timed',
  );
  for (const step of [3, 4, 8]) assert.ok(timing.steps[step - 1]!.actual! > 0, `step ${step} took time`);
  const stepsActual = timing.steps.reduce((a, s) => a + s.actual!, 0);
  assert.ok(timing.total.actual! >= stepsActual - 1e-3, `total ${timing.total.actual} >= steps ${stepsActual}`);
  assert.equal(timing.total.estimate, estimate.totalSeconds);
  assert.ok(timing.total.actual! >= pausedTiming.total.actual!, 'the total adds up every leg');
  const stepsDone = events
    .filter((e) => e.type === 'step' && e.status === 'done')
    .map((e) => (e.type === 'step' ? e.step : 0));
  assert.deepEqual(stepsDone, [1, 2, 3, 4, 5, 6, 7, 8]);
  const epochsOf = (step: string) => events.filter((e) => e.type === 'epoch' && e.step === step).length;
  assert.equal(epochsOf('step4-augment'), 1, 'the override (1 augmented epoch) applied');
  const final = await runState(runId);
  assert.equal(final.nextStep, 9);
  assertRecipeSteps(final.steps, expected);
  assert.deepEqual(
    final.steps.map((s) => s.lr),
    [null, curve2.recommended.lr, lrHead, lrHead, null, null, lrAll, lrAll],
    "each step's LR: step 2's suggestion, the picked head LR for 3–4, none for 5–6, the picked LR for 7–8",
  );
  const step8Lrs = final.iterations.filter((p) => p.step === 'step8-all').map((p) => p.lr);
  assert.ok(Math.abs(Math.max(...step8Lrs) - lrAll) < 1e-12, `step 8 peaks at the picked LR: ${Math.max(...step8Lrs)}`);
  const step4Lrs = final.iterations.filter((p) => p.step === 'step4-augment').map((p) => p.lr);
  assert.ok(Math.abs(Math.max(...step4Lrs) - lrHead) < 1e-12, 'step 4 trains at the picked head LR');
  assert.deepEqual([final.canContinue, final.canCancel, final.hasModel], [false, false, true]);

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
