/**
 * bench:scale's in-process phases, each run in its own process: the scan (as `finetune scan` runs it: a first scan,
 * or a rescan answered from HOME/cache/scan), the precompute on an empty activation cache, and
 * one epoch of step 4 (augmented images through the frozen backbone into the head, the activations of the
 * validation images read from the cache), built from the same core parts as the recipe's step 4. Returns the
 * phase's own seconds (without the process's start, the backend and the backbone).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src-main/core/tf/backend';
import { scanDataset } from '../../src-main/core/data/dataset';
import { homePaths } from '../../src-main/core/paths';
import { BACKBONE_ID, buildClassifier, disposeClassifier } from '../../src-main/core/model/backbone';
import { DEFAULT_HEAD_CONFIG } from '../../src-shared/defaults';
import { precomputeSplits } from '../../src-main/core/train/precompute';
import { RowsDataSource } from '../../src-main/core/train/dataSources';
import { AugmentedImageDataSource } from '../../src-main/core/train/augmentedSource';
import { prefetch } from '../../src-main/core/train/prefetch';
import { FeaturesDataSource } from '../../src-main/core/recipe/featuresSource';
import { microBatchFor } from '../../src-main/core/recipe/memory';
import { Learner } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../../src-main/core/train/optimizers';
import { trainingCallbacks } from '../../src-main/core/train/callbacks';
import { planSchedule } from '../../src-shared/schedules/training';
import { subSeed } from '../../src-main/core/util/random';

export type PhaseName = 'scan' | 'precompute' | 'step4';

const SEED = DEFAULT_HEAD_CONFIG.seed;

/** A line on stderr a few times a second at most: the bench's log, with the ETA the app shows. */
function progressLogger(label: string) {
  let last = 0;
  return (done: number, total: number, etaSeconds: number | null) => {
    if (Date.now() - last < 5000 && done < total) return;
    last = Date.now();
    console.error(`${label} ${done}/${total}${etaSeconds === null ? '' : ` · ${etaSeconds} s left`}`);
  };
}

export async function runPhase(phase: PhaseName, dir: string, home: string, size: number): Promise<number> {
  const paths = homePaths(home);
  const scanStart = performance.now();
  const ds = await scanDataset(dir, {
    seed: SEED,
    validPct: DEFAULT_HEAD_CONFIG.validPct,
    cacheDir: paths.scanCache,
    onProgress: phase === 'scan' ? progressLogger('scan') : undefined,
  });
  if (phase === 'scan') return (performance.now() - scanStart) / 1000;
  await initBackend('auto');
  const numClasses = ds.classes.length;
  const clf = await buildClassifier({
    size,
    numClasses,
    dropout: DEFAULT_HEAD_CONFIG.dropout,
    seed: subSeed(SEED, 'init'),
  });
  try {
    const log = progressLogger(phase);
    const start = performance.now();
    const pre = await precomputeSplits(clf.features, ds, {
      cacheDir: paths.featureCache,
      backboneId: BACKBONE_ID,
      size,
      batchSize: 16,
      emit: (e) => log(e.done, e.total, e.etaSeconds),
    });
    if (phase === 'precompute') return (performance.now() - start) / 1000;

    const batchSize = DEFAULT_HEAD_CONFIG.batchSize;
    const images = new AugmentedImageDataSource(ds.train, {
      size,
      batchSize,
      numClasses,
      shuffleSeed: subSeed(SEED, 'shuffle'),
      preset: 'side-on',
      seed: subSeed(SEED, 'augment'),
    });
    const train = new FeaturesDataSource(prefetch(images), clf.features, microBatchFor(size, batchSize));
    const valid = new RowsDataSource(
      pre.valid,
      ds.valid.map((i) => i.label),
      { batchSize: 256, numClasses },
    );
    const optimizer = new Optimizer(DEFAULT_OPTIMIZER);
    const plan = planSchedule(DEFAULT_HEAD_CONFIG.lr, { kind: 'constant' }, 1, train.numBatches);
    const learner = new Learner(
      clf.head,
      optimizer,
      [{ name: 'head', variables: clf.head.trainableWeights }],
      trainingCallbacks({
        plan,
        valid,
        shouldCancel: () => false,
        report: {
          batch: () => {},
          epoch: (e) => console.error(`step 4 epoch: valid accuracy ${e.validAccuracy.toFixed(3)}`),
          progress: (p) => log(p.done, p.total, p.etaSeconds),
        },
      }),
    );
    const fitStart = performance.now();
    await learner.fit(1, train);
    optimizer.dispose();
    if (tf.memory().numTensors > 10_000) throw new Error(`tensor leak: ${tf.memory().numTensors}`);
    return (performance.now() - fitStart) / 1000;
  } finally {
    disposeClassifier(clf);
  }
}
