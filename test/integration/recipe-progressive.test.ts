/**
 * Progressive resizing in step 8 (3 generated classes × 10, 32 px then 48 px, batch 8): the first cycle trains at
 * 32 px and the last at 48 px (the model's input and the images it sees), no tensor is left behind by the switch,
 * only the 48 px cycle snapshots, and the exported model takes 48 px images and predicts. Then the repeat check of
 * issue 11: two runs with the same seed and every optional tool on (progressive sizes, mixup, SWA, range tests on
 * the validation loss) give the same metrics; and a run cancelled after its 32 px epoch resumes at 48 px and ends with
 * the uninterrupted run's metrics.
 */
import { tinyRecipeConfig } from '../helpers/recipe';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { shapeWorkspace } from '../helpers/shapeWorkspace';
import { initBackend } from '../../src-main/core/tf/backend';
import { recipeJob, resumeRecipe, type RecipeContext } from '../../src-main/core/recipe/recipeJob';
import { cycleSizes, progressiveProblem, sizeSegments } from '../../src-main/core/recipe/progressive';
import { exportRun } from '../../src-main/core/export/exporter';
import { Predictor } from '../../src-main/core/export/predictor';
import { loadModelFromDir } from '../../src-main/core/model/modelFiles';
import type { RecipeConfig, RecipeEvent, RecipeResult } from '../../src-main/core/recipe/types';

await initBackend('auto');
const { work, data } = await shapeWorkspace('ft-recipe-progressive-', { perClass: 10, size: 48, seed: 5 });

const config: RecipeConfig = tinyRecipeConfig(data, {
  size: 48,
  progressive: [32],
  // Two cycles of one epoch: the first at 32 px, the second at 48 px.
  cycles: 2,
  cycleMult: 1,
  patience: 2,
  augmentEpochs: 1,
  lrFind: { start: 1e-5, end: 10, iters: 10 },
  lrFindAllIters: 6,
});

interface Step8Epoch {
  /** The input size of the model that trained this epoch. */
  modelSize: number;
  /** The size of the training images it saw. */
  batchSize: number;
  tensors: number;
}

async function run(name: string, cfg: RecipeConfig, epochs: Step8Epoch[] = [], events: RecipeEvent[] = []) {
  const runDir = join(work, name);
  mkdirSync(runDir, { recursive: true });
  let seen = 0;
  const ctx: RecipeContext = {
    runDir,
    featureCache: join(work, 'cache'),
    shouldCancel: () => false,
    emit: (e) => void events.push(e),
    callbacks: (step) =>
      step !== 'step8-all'
        ? []
        : [
            {
              beforeBatch: (_s, l) => {
                // The images' size is the model's input: a mismatch would throw in the forward pass.
                seen = l.model.inputs[0]!.shape[1]!;
              },
              afterEpoch: (_s, l) =>
                void epochs.push({
                  modelSize: l.model.inputs[0]!.shape[1]!,
                  batchSize: seen,
                  tensors: tf.memory().numTensors,
                }),
            },
          ],
  };
  const result = await recipeJob(cfg, ctx);
  assert.equal(result.status, 'completed', result.error ?? '');
  return { result, runDir };
}

/** The uninterrupted run of `config` (the progressive test's), which the resumed one must repeat. */
let uninterrupted: RecipeResult | null = null;

const metricsOf = (r: RecipeResult) => r.steps.map((s) => [s.step, s.lr, s.validLoss, s.validAccuracy]);

test('the cycle sizes: one cycle per smaller size, then the run size', () => {
  const c = { size: 96, cycles: 3, cycleMult: 2 };
  assert.deepEqual(cycleSizes({ ...c, progressive: [64] }), [64, 96, 96]);
  assert.deepEqual(cycleSizes({ ...c, progressive: [48, 64] }), [48, 64, 96]);
  assert.deepEqual(cycleSizes({ ...c, cycles: 4, progressive: [48, 64] }), [48, 64, 96, 96]);
  assert.deepEqual(cycleSizes({ ...c, progressive: null }), [96, 96, 96]);
  // Cycles of 1, 2 and 4 epochs: 64 px for the first epoch, 96 px for the six after it.
  assert.deepEqual(sizeSegments({ ...c, progressive: [64] }), [
    { size: 64, untilEpoch: 1 },
    { size: 96, untilEpoch: 7 },
  ]);
  assert.equal(progressiveProblem({ ...c, progressive: [64] }), null);
  assert.match(progressiveProblem({ ...c, progressive: [64, 48] }) ?? '', /must increase/);
  assert.match(progressiveProblem({ ...c, progressive: [96] }) ?? '', /smaller than the image size 96/);
  assert.match(progressiveProblem({ ...c, progressive: [32, 48, 64] }) ?? '', /more step 8 cycles/);
});

test('step 8 trains at 32 px then 48 px; no tensor leaks across the switch; the export predicts at 48 px', async () => {
  const epochs: Step8Epoch[] = [];
  const events: RecipeEvent[] = [];
  const { result, runDir } = await run('progressive', config, epochs, events);
  uninterrupted = result;
  assert.deepEqual(
    epochs.map((e) => [e.modelSize, e.batchSize]),
    [
      [32, 32],
      [48, 48],
    ],
  );
  assert.equal(epochs[1]!.tensors, epochs[0]!.tensors, `tensors after each epoch: ${epochs.map((e) => e.tensors)}`);
  const step8Epochs = events.filter((e) => e.type === 'epoch' && e.step === 'step8-all');
  assert.equal(step8Epochs.length, 2, 'two step 8 epochs reported');
  const labels = events.flatMap((e) => (e.type === 'progress' ? [e.label] : []));
  assert.ok(labels.includes('Step 8: whole network at 32 px'), 'the progress names the smaller size');
  const step8 = result.steps.find((s) => s.step === 8)!;
  assert.deepEqual(step8.cycleSizes, [32, 48]);
  // Only the cycle at the run's size snapshots (the ensemble and the best checkpoint are measured at 48 px).
  assert.deepEqual(readdirSync(join(runDir, 'snapshots')), ['cycle-2']);
  assert.ok(Number.isFinite(step8.validLoss), `step 8 valid loss ${step8.validLoss}`);

  const saved = await loadModelFromDir(join(runDir, 'model'));
  assert.deepEqual(saved.inputs[0]!.shape, [null, 48, 48, 3], 'the saved model takes 48 px images');
  saved.dispose();
  const out = join(work, 'export');
  await exportRun(1, runDir, out);
  const predictor = await Predictor.load(out);
  try {
    assert.equal(predictor.size, 48);
    const file = join(data, 'circles', readdirSync(join(data, 'circles'))[0]!);
    const [p] = await predictor.predict([file]);
    const sum = Object.values(p!.probabilities).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
  } finally {
    predictor.dispose();
  }
});

test('a run with the same seed repeats to the same metrics with progressive sizes, mixup, SWA and lr_find2 on', async () => {
  const all: RecipeConfig = {
    ...config,
    cycles: 3,
    patience: 3,
    mix: { kind: 'mixup', alpha: 0.4 },
    swa: 2,
    lrFindOn: 'valid',
  };
  const a = await run('repeat-a', all);
  const b = await run('repeat-b', all);
  assert.deepEqual(a.result.steps[7]!.cycleSizes, [32, 48, 48]);
  assert.ok(a.result.steps[7]!.swa, `SWA of the two 48 px cycles (note: ${a.result.steps[7]!.note})`);
  assert.deepEqual(metricsOf(b.result), metricsOf(a.result));
  assert.deepEqual(b.result.steps[7]!.swa, a.result.steps[7]!.swa);
  assert.deepEqual(b.result.ensemble, a.result.ensemble);
});

test('a run cancelled after its 32 px epoch resumes at 48 px from the checkpoint', async () => {
  const runDir = join(work, 'resume');
  mkdirSync(runDir, { recursive: true });
  let cancel = false;
  const ctx: RecipeContext = {
    runDir,
    featureCache: join(work, 'cache'),
    shouldCancel: () => cancel,
    emit: () => {},
    callbacks: (step) => (step === 'step8-all' ? [{ afterEpoch: () => void (cancel = true) }] : []),
  };
  const first = await recipeJob(config, ctx);
  assert.equal(first.status, 'cancelled');
  assert.equal(first.nextStep, 8);
  cancel = false;
  const sizes: number[] = [];
  const resumed = await resumeRecipe(runDir, {
    ...ctx,
    callbacks: (step) =>
      step === 'step8-all' ? [{ afterEpoch: (_s, l) => void sizes.push(l.model.inputs[0]!.shape[1]!) }] : [],
  });
  assert.equal(resumed.status, 'completed', resumed.error ?? '');
  assert.deepEqual(sizes, [48], 'only the 48 px cycle is left to run');
  assert.deepEqual(resumed.steps[7]!.cycleSizes, [32, 48]);
  assert.deepEqual(readdirSync(join(runDir, 'snapshots')), ['cycle-2']);
  assert.ok(uninterrupted, 'the progressive test ran the same config through');
  assert.deepEqual(metricsOf(resumed), metricsOf(uninterrupted), 'the resumed run repeats the uninterrupted one');
});
