/**
 * Measures the batch timings the run-time estimate needs, on the current backend at the run's size and batch size:
 * one warm-up and two timed repetitions of each kind of batch the steps run. It uses a throwaway classifier on the
 * run's backbone (disposed at the end), so the run's own weights and optimizer are never touched.
 */
import * as tf from '@tensorflow/tfjs';
import { buildClassifier, disposeClassifier } from '../model/backbone';
import { classifierBackbone } from '../model/loadBackbone';
import { layerGroups } from '../model/layerGroups';
import { augmentBatch } from '../data/augment';
import { scanDataset, type LabeledDataset } from '../data/dataset';
import { imagesToTensor } from '../train/dataSources';
import { Learner, type FitState } from '../train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../train/optimizers';
import { mulberry32, subSeed } from '../util/random';
import { microBatchFor } from './memory';
import { estimateRecipe, type BatchTimings, type RecipeEstimate } from './estimate';
import type { RecipeConfig } from './types';

/** Three, and their median: one slow repetition (another process, a GC pause) once made an estimate 67 % high. */
const TIMED_REPS = 3;
const dispose = (t: tf.Tensor) => t.dispose();

/**
 * Median milliseconds of `make` over the timed repetitions, after one untimed warm-up (kernel compilation, caches);
 * returns the last value made, the others are released.
 */
async function timeMs<T>(
  make: () => Promise<T> | T,
  release: (earlier: T) => void = () => {},
): Promise<{ ms: number; last: T }> {
  let last = await make();
  const times: number[] = [];
  for (let i = 0; i < TIMED_REPS; i++) {
    const started = performance.now();
    const next = await make();
    times.push(performance.now() - started);
    release(last);
    last = next;
  }
  times.sort((x, y) => x - y);
  return { ms: times[Math.floor(TIMED_REPS / 2)]!, last };
}

/** The first `n` files, repeated when there are fewer, so every timed batch is full. */
function batchFiles(files: readonly string[], n: number): string[] {
  return Array.from({ length: n }, (_, i) => files[i % files.length]!);
}

export interface MeasureOptions {
  /** Training images to decode for the load timing (the first `batchSize` are used). */
  files: readonly string[];
  numClasses: number;
  /** The home folder: downloadable backbones' cache. */
  home?: string;
}

export async function measureBatchTimings(config: RecipeConfig, opts: MeasureOptions): Promise<BatchTimings> {
  if (opts.files.length === 0) throw new Error('Measuring the batch timings needs at least one training image.');
  const { size, batchSize, preset } = config;
  const clf = await buildClassifier({
    size,
    numClasses: opts.numClasses,
    dropout: config.dropout,
    seed: subSeed(config.seed, 'init'),
    backbone: await classifierBackbone(config.backbone, size, { home: opts.home, needsFineTuning: true }),
  });
  const files = batchFiles(opts.files, batchSize);
  const rand = mulberry32(subSeed(config.seed, 'measure'));
  const microBatch = microBatchFor(size, batchSize);
  const headOpt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: config.optimizer });
  const fullOpt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: config.optimizer });
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        files.map((_, i) => i % opts.numClasses),
        'int32',
      ),
      opts.numClasses,
    ),
  );
  // Every tensor kept between timings, disposed at the end whatever happens.
  const owned: tf.Tensor[] = [y];
  const keep = <T extends tf.Tensor>(r: { ms: number; last: T }) => (owned.push(r.last), r);
  try {
    const load = keep(
      await timeMs(async () => {
        const raw = await imagesToTensor(files, size);
        const augmented = tf.tidy(() => augmentBatch(raw, preset, rand));
        raw.dispose();
        return augmented;
      }, dispose),
    );
    const images = load.last;
    const forward = keep(
      await timeMs(() => {
        const rows = tf.tidy(() => clf.features.predict(images, { batchSize: microBatch }) as tf.Tensor);
        rows.dataSync();
        return rows;
      }, dispose),
    );
    // The state a schedule callback would set: a small constant LR, the optimizer's momentum.
    const state = { lr: 1e-4, momentum: DEFAULT_OPTIMIZER.momentum, groupLrMults: [1] } as FitState;
    const head = new Learner(clf.head, headOpt, [{ name: 'head', variables: clf.head.trainableWeights }]);
    const headStep = await timeMs(() => head.trainStep({ x: forward.last, y }, state));
    // The whole network unfrozen, as in steps 7–8.
    for (const l of clf.model.layers) l.trainable = true;
    const groups = layerGroups(clf.model);
    const full = new Learner(clf.model, fullOpt, groups);
    full.microBatch = microBatch;
    full.trainingMode = config.trainBatchNorm ?? false;
    const fullState = { ...state, groupLrMults: groups.map(() => 1) };
    const fullStep = await timeMs(() => full.trainStep({ x: images, y }, fullState));
    return { loadMs: load.ms, forwardMs: forward.ms, headStepMs: headStep.ms, fullStepMs: fullStep.ms };
  } finally {
    tf.dispose(owned);
    headOpt.dispose();
    fullOpt.dispose();
    disposeClassifier(clf);
  }
}

/** Scan the dataset (unless given), measure, estimate: what the CLI and the app call before a run. */
export async function estimateRecipeRun(
  config: RecipeConfig,
  opts: { home?: string; ds?: LabeledDataset } = {},
): Promise<RecipeEstimate> {
  const ds = opts.ds ?? (await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct }));
  const timings = await measureBatchTimings(config, {
    files: ds.train.map((i) => i.file),
    numClasses: ds.classes.length,
    home: opts.home,
  });
  return estimateRecipe(config, { train: ds.train.length, valid: ds.valid.length }, timings);
}
