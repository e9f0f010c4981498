/** The run-time estimate: expected seconds worked out by hand from the step model in estimate.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRecipe, type BatchTimings, type EstimateConfig } from '../../src-main/core/recipe/estimate';
import { formatEstimateLine, formatSeconds } from '../../src-shared/recipe/duration';
import { STEP_NAMES } from '../../src-shared/recipe/config';

const config: EstimateConfig = {
  batchSize: 8,
  headEpochs: null,
  augmentEpochs: 3,
  cycles: 3,
  cycleMult: 2,
  ensembleK: 3,
  lrFind: { start: 1e-7, end: 10, iters: 100 },
};
const timings: BatchTimings = { loadMs: 10, forwardMs: 20, headStepMs: 2, fullStepMs: 100 };
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('each step and the total, worked out by hand', () => {
  // 30 train, 10 valid, batch 8: 4 train batches, 2 valid batches; 30 < 200 images: 2 head epochs.
  const e = estimateRecipe(config, { train: 30, valid: 10 }, timings);
  const expected = [
    0.18, // step 1: 6 batches × (10 + 20) ms
    0.2, // step 2: 100 × 2 ms
    0.024, // step 3: 2 × (4 × 2 + 2 × 2) ms
    0.396, // step 4: 3 × (4 × (10 + 20 + 2) + 2 × 2) ms
    0,
    0,
    3.3, // step 7: 30 × (10 + 100) ms: 100 iterations capped at max(30, half of step 8's 7 × 4)
    3.56, // step 8: (1 + 2 + 4) × (4 × 110 + 2 × 30) + 2 × 30 ms
  ];
  assert.deepEqual(
    e.steps.map((s) => s.name),
    [...STEP_NAMES],
  );
  e.steps.forEach((s, i) => close(s.seconds, expected[i]!));
  close(e.ensembleSeconds, 0.18); // 3 snapshots × 2 × 30 ms
  close(e.totalSeconds, 7.84);
  // The user's step-7 length wins over the cap.
  close(estimateRecipe({ ...config, lrFindAllIters: 100 }, { train: 30, valid: 10 }, timings).steps[6]!.seconds, 11);
  assert.deepEqual(e.upperBoundSteps, [7, 8]);
});

test('configured head epochs, one cycle, an ensemble larger than the cycles', () => {
  const e = estimateRecipe(
    { ...config, headEpochs: 5, cycles: 1, ensembleK: 3, lrFind: { ...config.lrFind, iters: 10 } },
    // 300 train (≥ 200), 17 valid, batch 8: 38 and 3 batches.
    { train: 300, valid: 17 },
    timings,
  );
  close(e.steps[0]!.seconds, 1.23); // 41 × 30 ms
  close(e.steps[1]!.seconds, 0.02); // 10 × 2 ms
  close(e.steps[2]!.seconds, 0.41); // 5 × (38 × 2 + 3 × 2) ms
  close(e.steps[6]!.seconds, 1.1); // 10 × 110 ms
  close(e.steps[7]!.seconds, 4.36); // 1 × (38 × 110 + 3 × 30) + 3 × 30 ms
  close(e.ensembleSeconds, 0.09); // min(3, 1) × 90 ms
});

test('durations read like a person would say them', () => {
  assert.equal(formatSeconds(0.2), '<1 s');
  assert.equal(formatSeconds(42.4), '42 s');
  assert.equal(formatSeconds(80), '1 min 20 s');
  assert.equal(formatSeconds(360), '6 min');
  assert.equal(formatSeconds(754), '13 min');
  assert.equal(formatSeconds(3900), '1 h 5 min');
  assert.equal(
    formatEstimateLine(
      [
        { step: 1, seconds: 0.1 },
        { step: 7, seconds: 80 },
        { step: 8, seconds: 190 },
      ],
      360,
    ),
    'about 6 min (step 7: 1 min 20 s, step 8: 3 min 10 s)',
  );
});
