/**
 * The eight-step recipe with mixup (3 generated classes × 10, 32 px, batch 8): it completes, leaks no tensors, and
 * steps 4 and 8 really train on mixed batches (step 4's losses differ from a run without mixing that is identical up
 * to there). Fixed LRs keep the runs deterministic (the range tests see unseeded dropout).
 */
import { tinyRecipeConfig } from '../helpers/recipe';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { shapeWorkspace } from '../helpers/shapeWorkspace';
import { initBackend } from '../../src-main/core/tf/backend';
import { recipeJob, type RecipeContext } from '../../src-main/core/recipe/recipeJob';
import { type RecipeConfig, type RecipeEvent } from '../../src-main/core/recipe/types';

await initBackend('auto');
const { work, data } = await shapeWorkspace('ft-recipe-mix-', { perClass: 10, size: 32, seed: 5 });

const config: RecipeConfig = tinyRecipeConfig(data, {
  lrFind: { start: 1e-5, end: 10, iters: 10 },
  lrHead: 3e-3,
  lrAll: 3e-4,
  mix: { kind: 'mixup', alpha: 0.4 },
});

interface Observed {
  /** Training losses per step number. */
  losses: Map<number, number[]>;
  /** numTensors after each epoch, per step. */
  tensors: Map<string, number[]>;
  events: RecipeEvent[];
}

function context(name: string, obs: Observed): RecipeContext {
  const runDir = join(work, name);
  mkdirSync(runDir, { recursive: true });
  let step = 0;
  return {
    runDir,
    featureCache: join(work, 'cache'),
    shouldCancel: () => false,
    emit: (e) => {
      obs.events.push(e);
      if (e.type === 'step' && e.status === 'started') step = e.step;
      if (e.type === 'batch') (obs.losses.get(step) ?? obs.losses.set(step, []).get(step)!).push(e.loss);
    },
    callbacks: (stepName) => [
      {
        afterEpoch: () =>
          void (obs.tensors.get(stepName) ?? obs.tensors.set(stepName, []).get(stepName)!).push(tf.memory().numTensors),
      },
    ],
  };
}

const observe = (): Observed => ({ losses: new Map(), tensors: new Map(), events: [] });

test('the recipe with mixup completes, leaks nothing, and trains steps 4 and 8 on mixed batches', async () => {
  const mixed = observe();
  const result = await recipeJob(config, context('mixup', mixed));
  assert.equal(result.status, 'completed', result.error ?? '');
  assert.deepEqual(
    result.steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  for (const s of result.steps.filter((x) => x.validLoss !== null))
    assert.ok(Number.isFinite(s.validLoss) && s.validLoss! > 0, `step ${s.step} valid loss ${s.validLoss}`);
  for (const step of [4, 8]) {
    const losses = mixed.losses.get(step) ?? [];
    assert.ok(losses.length > 0 && losses.every(Number.isFinite), `step ${step} losses ${losses.join(', ')}`);
  }
  for (const [step, counts] of mixed.tensors)
    assert.ok(
      counts.every((c) => c === counts[0]),
      `${step}: numTensors ${counts.join(', ')}`,
    );
  const saved = JSON.parse(readFileSync(join(work, 'mixup', 'run.json'), 'utf8')) as {
    config: { recipe: RecipeConfig };
  };
  assert.deepEqual(saved.config.recipe.mix, config.mix, 'run.json records the mixing');

  // The same run without mixing, to step 4: steps 1–3 match exactly, step 4 does not (its batches are mixed).
  const plain = observe();
  const upTo4 = await recipeJob({ ...config, mix: null }, context('plain', plain), { untilStep: 4 });
  assert.equal(upTo4.error ?? null, null);
  assert.equal(upTo4.steps.length, 4);
  assert.deepEqual(plain.losses.get(3), mixed.losses.get(3), 'step 3 is the same run (deterministic)');
  const [a, b] = [mixed.losses.get(4)!, plain.losses.get(4)!];
  assert.equal(a.length, b.length);
  assert.notDeepEqual(a, b, "step 4's losses: mixed batches differ from plain ones");
});
