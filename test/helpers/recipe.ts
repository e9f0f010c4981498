/** What every step of the eight-step recipe must report: shared by the core, CLI and app-service tests. */
import assert from 'node:assert/strict';
import { type RecipeConfig } from '../../src-main/core/recipe/types';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';

/** fast.ai's eight steps (v0.7, lessons 1–2) by the names the results carry: step N is `stepN-<what it does>`. */
export const RECIPE_STEP_NAMES = [
  // Steps 1–4 train the head on the frozen backbone, steps 5–8 the unfrozen network.
  ['precompute', 'lrfind-head', 'head', 'augment'],
  ['unfreeze', 'differential-lrs', 'lrfind-all', 'all'],
]
  .flat()
  .map((what, i) => `step${i + 1}-${what}`);

/** One step's result as the core, the CLI's JSON and `recipe.state` give it. */
export interface RecipeStepLike {
  step: number;
  name: string;
  epochs: number;
  lr: number | null;
  validLoss: number | null;
  validAccuracy: number | null;
  groupLrMults?: number[];
}

export interface RecipeStepExpectations {
  /** Epochs of each step reported (0 for the steps that train nothing). */
  epochs: number[];
  /** The range test's sweep: the head LR picked in step 2 lies inside it. */
  lrFind: { start: number; end: number };
  /** Steps 6–8's per-group LR multipliers; null where the output leaves them out (the CLI's JSON). */
  groupLrMults: number[] | null;
  /** What the fine-tuned model (step 8) must beat on the separable generated shapes: chance, 1 / number of classes. */
  chance: number;
}

const metrics = (s: RecipeStepLike) => ({ validLoss: s.validLoss, validAccuracy: s.validAccuracy });

/** A step that trained reports a finite positive validation loss and an accuracy (a fraction, in [0, 1]). */
function assertTrained(s: RecipeStepLike) {
  assert.ok(Number.isFinite(s.validLoss) && s.validLoss! > 0, `step ${s.step} valid loss ${s.validLoss}`);
  const acc = s.validAccuracy;
  assert.ok(acc !== null && acc >= 0 && acc <= 1, `step ${s.step} valid accuracy ${acc} in [0, 1]`);
}

function assertClose(actual: readonly number[] | undefined, expected: readonly number[], what: string) {
  assert.ok(actual, `${what}: missing`);
  assert.equal(actual.length, expected.length, `${what}: ${actual.join(', ')}`);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) < 1e-12, `${what}: ${actual.join(', ')}`));
}

/**
 * The first `steps.length` steps of a recipe run, value by value: numbered 1.. with fast.ai's names, the planned
 * epochs, one head LR from the range test carried through steps 3–6, a step 7 LR no higher than it, the metrics of
 * step 4 carried unchanged through the steps that do not train, and a fine-tuned model (step 8) better than chance.
 * Steps 3–4 train the head for a few iterations only (6 on the tests' 24 images): their accuracy on a handful of
 * validation images swings from 1/3 to 1 between runs (the range test's pick varies), so it is checked to be a
 * fraction in [0, 1], no more.
 */
export function assertRecipeSteps(steps: readonly RecipeStepLike[], x: RecipeStepExpectations): void {
  assert.deepEqual(
    steps.map((s) => [s.step, s.name]),
    RECIPE_STEP_NAMES.slice(0, steps.length).map((name, i) => [i + 1, name]),
  );
  assert.deepEqual(
    steps.map((s) => s.epochs),
    x.epochs,
    'epochs per step',
  );
  // The head LR steps 3–6 train at: step 2's pick, or the LR the user picked on its plot instead.
  const lrHead = steps[2]?.lr ?? steps[1]?.lr;
  const keepsStep4 = (s: RecipeStepLike) =>
    assert.deepEqual(metrics(s), metrics(steps[3]!), `step ${s.step} keeps step 4's metrics (it trains nothing)`);
  for (const s of steps) {
    const at = `step ${s.step}`;
    if (x.groupLrMults && s.step >= 6) assertClose(s.groupLrMults, x.groupLrMults, `${at} group LR multipliers`);
    else assert.equal(s.groupLrMults, undefined, `${at}: no group LR multipliers`);
    switch (s.step) {
      case 1:
        assert.deepEqual([s.lr, s.validLoss, s.validAccuracy], [null, null, null], `${at} trains nothing`);
        break;
      case 2:
        assert.ok(s.lr !== null && s.lr >= x.lrFind.start && s.lr <= x.lrFind.end, `${at} LR ${s.lr} in the sweep`);
        assert.deepEqual(metrics(s), { validLoss: null, validAccuracy: null }, at);
        break;
      case 3:
      case 4:
        assert.equal(s.lr, lrHead, `${at} trains at the head LR`);
        assertTrained(s);
        break;
      case 5:
        keepsStep4(s);
        assert.equal(s.lr, null, at);
        break;
      case 6:
        keepsStep4(s);
        // Its group LRs are step 8's (set at step 7) × its multipliers (checked above): it stores no LR of its own.
        assert.equal(s.lr, null, `${at} stores no LR`);
        break;
      case 7:
        keepsStep4(s);
        assert.ok(s.lr !== null && s.lr > 0 && s.lr <= lrHead!, `${at} LR ${s.lr} <= the head LR ${lrHead}`);
        break;
      default:
        assert.equal(s.lr, steps[6]!.lr, `${at} trains at step 7's LR`);
        assertTrained(s);
        assert.ok(
          s.validAccuracy! > x.chance,
          `${at} valid accuracy ${s.validAccuracy} better than chance ${x.chance}`,
        );
    }
  }
}

/** The tiny recipe the integration tests run (32 px shapes, batch 8, seed 7, two cycles of each SGDR step). */
export function tinyRecipeConfig(dir: string, overrides: Partial<RecipeConfig> = {}): RecipeConfig {
  return { ...DEFAULT_RECIPE_CONFIG, dir, size: 32, batchSize: 8, seed: 7, cycles: 2, augmentEpochs: 2, ...overrides };
}
