/** The batch timings behind the estimate: real steps on the current backend, no tensors left behind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { makeShapeDataset } from '../helpers/images';
import { estimateRecipeRun } from '../../src-main/core/recipe/measure';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';

test('measures every kind of batch, estimates every step and leaks no tensors', async () => {
  await initBackend('auto');
  const dir = join(mkdtempSync(join(tmpdir(), 'ft-measure-')), 'shapes');
  await makeShapeDataset(dir, { perClass: 4, size: 32, seed: 3 });
  const before = tf.memory().numTensors;
  const e = await estimateRecipeRun({ ...DEFAULT_RECIPE_CONFIG, dir, size: 32, batchSize: 4 });
  assert.equal(tf.memory().numTensors, before);
  for (const [name, ms] of Object.entries(e.timings)) assert.ok(ms > 0 && Number.isFinite(ms), `${name}: ${ms}`);
  assert.equal(e.sizes.train + e.sizes.valid, 12);
  assert.equal(e.steps.length, 8);
  // Steps 5 and 6 only change flags; every other step runs batches.
  for (const s of e.steps) assert.equal(s.seconds > 0, s.step !== 5 && s.step !== 6, `step ${s.step}`);
  const sum = e.steps.reduce((a, s) => a + s.seconds, 0) + e.ensembleSeconds;
  assert.ok(Math.abs(sum - e.totalSeconds) < 1e-9);
});
