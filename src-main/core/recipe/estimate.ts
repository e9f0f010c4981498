/**
 * The run time of the eight steps, predicted from a few batch timings measured on this machine (measure.ts). Pure:
 * the same config, dataset sizes and timings always give the same seconds. Each step is modelled after what it runs
 * (steps.ts), in batches of `batchSize`; a partial last batch counts as a whole one.
 */
import { headEpochsFor } from './steps';
import { step8Epochs } from '../../../src-shared/recipe/config';
import { type RecipeConfig } from './types';
import { STEP_NAMES, type StepName } from '../../../src-shared/recipe/config';
import { fullLrFindIters } from '../machineDefaults';

/** Milliseconds per batch of `batchSize` images (or rows), measured at the run's size. */
export interface BatchTimings {
  /** Decode, resize and augment one batch of training images (paid again every epoch: nothing is cached). */
  loadMs: number;
  /** The frozen backbone's forward pass (inference) on one batch. */
  forwardMs: number;
  /** One optimisation step of the head on one batch of precomputed rows. */
  headStepMs: number;
  /** One optimisation step of the whole network on one batch, micro-batched as the run will be. */
  fullStepMs: number;
}

export interface DatasetSizes {
  train: number;
  valid: number;
}

export type EstimateConfig = Pick<
  RecipeConfig,
  'batchSize' | 'headEpochs' | 'augmentEpochs' | 'cycles' | 'cycleMult' | 'ensembleK' | 'lrFind' | 'lrFindAllIters'
>;

export interface StepEstimate {
  step: number;
  name: StepName;
  seconds: number;
}

export interface RecipeEstimate {
  steps: StepEstimate[];
  /** The snapshot ensemble's validation passes after step 8. */
  ensembleSeconds: number;
  totalSeconds: number;
  /**
   * Steps whose estimate is an upper bound: step 7's range test stops early when the loss diverges, step 8 stops
   * early when `patience` cycles bring no lower validation loss. Both are estimated as running to the end.
   */
  upperBoundSteps: number[];
  timings: BatchTimings;
  sizes: DatasetSizes;
}

export function estimateRecipe(config: EstimateConfig, sizes: DatasetSizes, t: BatchTimings): RecipeEstimate {
  const bs = Math.max(1, config.batchSize);
  const trainBatches = Math.ceil(sizes.train / bs);
  const validBatches = Math.ceil(sizes.valid / bs);
  const imageBatch = t.loadMs + t.forwardMs;
  // Validation on rows is a forward pass of the head only: a head step per batch bounds it from above.
  const validRows = validBatches * t.headStepMs;
  // Validation on images (step 8) loads and runs the whole network forward; the head adds next to nothing.
  const validImages = validBatches * imageBatch;
  const iters = config.lrFind.iters;
  const ms = [
    (trainBatches + validBatches) * imageBatch,
    iters * t.headStepMs,
    headEpochsFor(config.headEpochs, sizes.train) * (trainBatches * t.headStepMs + validRows),
    config.augmentEpochs * (trainBatches * (imageBatch + t.headStepMs) + validRows),
    0,
    0,
    // Step 7 runs as many iterations as the recipe gives it (capped next to step 8: machineDefaults.ts).
    fullLrFindIters({
      configured: iters,
      step8Iterations: step8Epochs(config.cycles, config.cycleMult) * trainBatches,
      override: config.lrFindAllIters,
    }) *
      (t.loadMs + t.fullStepMs),
    // Every epoch trains and validates; at the end the best weights are restored and evaluated once more.
    step8Epochs(config.cycles, config.cycleMult) * (trainBatches * (t.loadMs + t.fullStepMs) + validImages) +
      validImages,
  ];
  const ensembleMs = Math.min(config.ensembleK, config.cycles) * validImages;
  const steps = ms.map((m, i) => ({ step: i + 1, name: STEP_NAMES[i]!, seconds: m / 1000 }));
  return {
    steps,
    ensembleSeconds: ensembleMs / 1000,
    totalSeconds: (ms.reduce((a, b) => a + b, 0) + ensembleMs) / 1000,
    upperBoundSteps: [7, 8],
    timings: t,
    sizes,
  };
}
