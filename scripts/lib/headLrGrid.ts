/**
 * The head's LR grid (issue 11): train the same initial head on precomputed activations at each LR of a grid for
 * step 3's epochs and compare the range test's suggestions with the grid's best (lowest validation loss).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { scanDataset } from '../../src-main/core/data/dataset';
import { BACKBONE_ID, buildClassifier, disposeClassifier } from '../../src-main/core/model/backbone';
import { precomputeFeatures } from '../../src-main/core/train/precompute';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import { sliceRows } from '../../src-main/core/train/featureStore';
import { Learner, evaluate } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerKind } from '../../src-main/core/train/optimizers';
import { scheduleCallback } from '../../src-main/core/train/callbacks';
import { lrRangeTest } from '../../src-main/core/lrfind/lrRangeTest';
import { subSeed } from '../../src-main/core/util/random';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { headEpochsFor } from '../../src-main/core/recipe/steps';

/** 0.0003 … 0.3, about ×3 apart. */
export const HEAD_LR_GRID = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1];

export interface HeadProblem {
  head: tf.LayersModel;
  numClasses: number;
  train: RowsDataSource;
  valid: RowsDataSource;
  dispose(): void;
}

/**
 * Activations of a labelled folder through the bundled backbone (read from `cacheDir` when the recipe already
 * computed them), and a fresh head initialised as the recipe's: the head alone, for baselines and LR grids.
 */
export async function openHeadProblem(
  dir: string,
  opts: { size: number; seed: number; batchSize?: number; dropout?: number; validPct?: number; cacheDir?: string },
): Promise<HeadProblem> {
  const validPct = opts.validPct ?? DEFAULT_RECIPE_CONFIG.validPct;
  const ds = await scanDataset(dir, { seed: opts.seed, validPct });
  const numClasses = ds.classes.length;
  const clf = await buildClassifier({
    size: opts.size,
    numClasses,
    dropout: opts.dropout ?? DEFAULT_RECIPE_CONFIG.dropout,
    seed: subSeed(opts.seed, 'init'),
  });
  const feats = await precomputeFeatures(
    clf.features,
    [...ds.train, ...ds.valid].map((i) => i.file),
    {
      cacheDir: opts.cacheDir ?? mkdtempSync(join(tmpdir(), 'head-cache-')),
      backboneId: BACKBONE_ID,
      size: opts.size,
      batchSize: 16,
    },
  );
  const train = new RowsDataSource(
    sliceRows(feats, 0, ds.train.length),
    ds.train.map((i) => i.label),
    { batchSize: opts.batchSize ?? 16, numClasses, shuffleSeed: subSeed(opts.seed, 'shuffle') },
  );
  const valid = new RowsDataSource(
    sliceRows(feats, ds.train.length, feats.length),
    ds.valid.map((i) => i.label),
    { batchSize: 256, numClasses },
  );
  return { head: clf.head, numClasses, train, valid, dispose: () => disposeClassifier(clf) };
}

export interface HeadLrGridReport {
  optimizer: OptimizerKind;
  epochs: number;
  suggestions: { valley: number | null; steep: number | null; minDiv10: number | null };
  grid: Array<{ lr: number; validLoss: number; validAccuracy: number }>;
  best: { lr: number; validLoss: number; validAccuracy: number };
  /** max(suggested/best, best/suggested) per rule: 1 is the grid's best LR. */
  factors: { valley: number | null; steep: number | null; minDiv10: number | null };
}

const newLearner = (head: tf.LayersModel, kind: OptimizerKind, lr?: number) => {
  const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind });
  const callbacks = lr === undefined ? [] : [scheduleCallback(() => lr)];
  return { opt, learner: new Learner(head, opt, [{ name: 'head', variables: head.trainableWeights }], callbacks) };
};

export async function headLrGrid(
  p: HeadProblem,
  opts: { optimizer: OptimizerKind; epochs?: number; grid?: number[] },
): Promise<HeadLrGridReport> {
  const init = p.head.getWeights().map((w) => w.clone());
  const { start, end, iters } = DEFAULT_RECIPE_CONFIG.lrFind;
  const finder = newLearner(p.head, opts.optimizer);
  const range = await lrRangeTest(finder.learner, p.train, { start, end, iters });
  finder.opt.dispose();
  const epochs = opts.epochs ?? headEpochsFor(DEFAULT_RECIPE_CONFIG.headEpochs, p.train.numItems);
  const grid: HeadLrGridReport['grid'] = [];
  for (const lr of opts.grid ?? HEAD_LR_GRID) {
    p.head.setWeights(init);
    const run = newLearner(p.head, opts.optimizer, lr);
    await run.learner.fit(epochs, p.train);
    const m = await evaluate(p.head, p.valid);
    grid.push({ lr, validLoss: m.loss, validAccuracy: m.accuracy });
    run.opt.dispose();
  }
  p.head.setWeights(init);
  tf.dispose(init);
  const best = grid.reduce((a, b) => (b.validLoss < a.validLoss ? b : a));
  const factor = (s: number | null) => (s === null ? null : Math.max(s / best.lr, best.lr / s));
  const { valley, steep, minDiv10 } = range.suggestions;
  return {
    optimizer: opts.optimizer,
    epochs,
    suggestions: { valley, steep, minDiv10 },
    grid,
    best,
    factors: { valley: factor(valley), steep: factor(steep), minDiv10: factor(minDiv10) },
  };
}
