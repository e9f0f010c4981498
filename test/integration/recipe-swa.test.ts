/**
 * The eight-step recipe with stochastic weight averaging and the range tests on the validation loss (3 generated
 * classes × 10, 32 px, batch 8): it completes; `swa/` holds the mean of the last two cycle snapshots, with its
 * validation metrics in step 8's result and the kept model chosen by validation loss; the range tests of steps 2
 * and 7 record a validation loss per step and their suggestions are fastai's rules on that curve.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { shapeWorkspace } from '../helpers/shapeWorkspace';
import { initBackend } from '../../src-main/core/tf/backend';
import { readModelArtifacts } from '../../src-main/core/model/modelFiles';
import { suggestLrs } from '../../src-main/core/lrfind/suggest';
import type { LrRangeTestResult } from '../../src-main/core/lrfind/lrRangeTest';
import { recipeJob } from '../../src-main/core/recipe/recipeJob';
import { type RecipeConfig, type RecipeEvent } from '../../src-main/core/recipe/types';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';

await initBackend('auto');
const { work, data } = await shapeWorkspace('ft-recipe-swa-', { perClass: 10, size: 32, seed: 5 });

const config: RecipeConfig = {
  ...DEFAULT_RECIPE_CONFIG,
  dir: data,
  size: 32,
  batchSize: 8,
  seed: 7,
  // Three cycles of one epoch, none stopped early: three snapshots, the last two averaged.
  cycles: 3,
  cycleMult: 1,
  patience: 3,
  augmentEpochs: 1,
  lrFind: { start: 1e-5, end: 10, iters: 12 },
  lrFindAllIters: 6,
  lrAll: 3e-4,
  swa: 2,
  lrFindOn: 'valid',
};

/** The float32 weights of a saved model folder, in manifest order. */
function weightsOf(dir: string): Float32Array {
  const a = readModelArtifacts(dir);
  return new Float32Array(a.weightData as ArrayBuffer);
}

test('the recipe with swa and lrFindOn valid: swa/ is the snapshots mean, suggestions come from validation loss', async () => {
  const runDir = join(work, 'run');
  const events: RecipeEvent[] = [];
  const result = await recipeJob(config, {
    runDir,
    featureCache: join(work, 'cache'),
    shouldCancel: () => false,
    emit: (e) => void events.push(e),
  });
  assert.equal(result.status, 'completed', result.error ?? '');

  // SWA: the mean of the last two snapshots, saved and evaluated, the kept model chosen by validation loss.
  const step8 = result.steps.find((s) => s.step === 8)!;
  const swa = step8.swa;
  assert.ok(swa, `step 8 reports SWA (note: ${step8.note})`);
  assert.deepEqual(swa.snapshots, ['snapshots/cycle-2', 'snapshots/cycle-3']);
  assert.equal(swa.batchNorm, 'unchanged');
  assert.ok(Number.isFinite(swa.validLoss) && swa.validLoss > 0, `SWA valid loss ${swa.validLoss}`);
  assert.ok(swa.validAccuracy >= 0 && swa.validAccuracy <= 1);
  assert.equal(swa.bestValidLoss, step8.validLoss);
  assert.equal(swa.kept, swa.validLoss < step8.validLoss!);
  assert.match(step8.note ?? '', swa.kept ? /averaged weights are the run's model/ : /best checkpoint is kept/);
  assert.equal(step8.noteMessages?.at(-1)?.code, swa.kept ? 'stepNote.swaKept' : 'stepNote.swaNotKept');
  const [a, b] = swa.snapshots.map((rel) => weightsOf(join(runDir, rel)));
  const avg = weightsOf(join(runDir, 'swa'));
  assert.equal(avg.length, a!.length);
  let maxErr = 0;
  for (let i = 0; i < avg.length; i++) maxErr = Math.max(maxErr, Math.abs(avg[i]! - (a![i]! + b![i]!) / 2));
  assert.ok(maxErr <= 1e-6, `swa/ is the mean of the two snapshots (max error ${maxErr})`);
  const exported = weightsOf(join(runDir, 'model'));
  const keptDir = swa.kept ? 'swa' : 'best';
  assert.deepEqual(exported, weightsOf(join(runDir, keptDir)), `model/ holds the ${keptDir} weights`);
  const runJson = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { steps: Array<{ swa?: unknown }> };
  assert.deepEqual(runJson.steps[7]!.swa, swa, 'run.json records the SWA result');
  assert.ok(existsSync(join(runDir, 'ensemble.json')), 'the snapshot ensemble is still written');

  // The range tests: a validation loss per step; suggestions = fastai's rules on that curve.
  const finds = events.filter((e): e is Extract<RecipeEvent, { type: 'lrFind' }> => e.type === 'lrFind');
  assert.deepEqual(
    finds.map((f) => f.step),
    [2, 7],
  );
  for (const { step, result: r } of finds) {
    assert.equal(r.curve, 'valid', `step ${step}`);
    const valid = r.validLoss ?? [];
    assert.equal(valid.length, r.lr.length, `step ${step}: one validation loss per step`);
    assert.ok(
      // ≥ 0 up to float rounding: a separable class set can reach a loss of 0 at high LRs.
      valid.every((v) => Number.isFinite(v) && v > -1e-6),
      `step ${step} validation losses ${valid.join(', ')}`,
    );
    assert.notDeepEqual(valid, r.smoothedLoss, `step ${step}: a curve of its own`);
    assertSuggestionsFrom(r, valid, `step ${step}`);
  }
  const fromTrain = finds.map(
    ({ result: r }) => suggestLrs(r.lr, r.smoothedLoss, { numIt: r.iters }).minDiv10?.lr ?? null,
  );
  assert.notDeepEqual(
    fromTrain,
    finds.map((f) => f.result.suggestions.minDiv10),
    'the training curves would have suggested otherwise',
  );
  const step2 = result.steps[1]!;
  assert.equal(step2.lr, finds[0]!.result.suggestions.minDiv10, 'step 2 takes the validation curve’s minDiv10');
});

/** The result's suggestions equal fastai's rules run here on the recorded curve (same window as the test uses). */
function assertSuggestionsFrom(r: LrRangeTestResult, curve: number[], what: string) {
  const sug = suggestLrs(r.lr, curve, { numIt: r.iters });
  assert.deepEqual(
    r.suggestions,
    { valley: sug.valley?.lr ?? null, steep: sug.steep?.lr ?? null, minDiv10: sug.minDiv10?.lr ?? null },
    `${what}: suggestions from the validation curve`,
  );
  assert.equal(r.minIndex, sug.minIndex, `${what}: minimum of the validation curve`);
}
