/** The recipe's persistent session: dataset, classifier, layer groups, cached activations and the run's state. */
import { englishText } from '../../../src-shared/messages';
import * as tf from '@tensorflow/tfjs';
import type { LabeledDataset } from '../data/dataset';
import { BACKBONE_ID, buildClassifier, disposeClassifier, type Classifier } from '../model/backbone';
import { classifierBackbone } from '../model/loadBackbone';
import { layerGroups, type LayerGroup } from '../model/layerGroups';
import type { Callback, DataSource, LossFn } from '../train/learner';
import { lossForBalance } from '../train/imbalance';
import { ImageDataSource, RowsDataSource } from '../train/dataSources';
import { rowsInMemory, type FeatureRows } from '../train/featureStore';
import { AugmentedImageDataSource } from '../train/augmentedSource';
import { withMix } from '../train/mix';
import { prefetch } from '../train/prefetch';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerState } from '../train/optimizers';
import { subSeed } from '../util/random';
import { microBatchFor } from './memory';
import type { RecipeState } from './checkpoint';
import type { RecipeEvent } from './types';
import type { StepName } from '../../../src-shared/recipe/config';

export interface RecipeContext {
  runDir: string;
  featureCache: string;
  emit: (e: RecipeEvent) => void;
  shouldCancel: () => boolean;
  /** The home folder: downloadable backbones' cache. */
  home?: string;
  /** Extra callbacks for every fit of a step (tests record LRs and tensor counts with them). */
  callbacks?: (name: StepName) => Callback[];
  /** A look at the session before and after each step (tests compare weights). */
  inspect?: (step: number, when: 'before' | 'after', session: RecipeSession) => void | Promise<void>;
}

export interface RecipeSession {
  ds: LabeledDataset;
  clf: Classifier;
  groups: LayerGroup[];
  /** Images per forward/backward pass of the whole network (gradient accumulation above it). */
  microBatch: number;
  /** Step 1: backbone activations of the un-augmented images (rows on disk, read a batch at a time). */
  trainRows: FeatureRows;
  validRows: FeatureRows;
  state: RecipeState;
  /** The optimizer of the step in progress (checkpointed with it). */
  optimizer: Optimizer | null;
}

export async function openSession(
  ds: LabeledDataset,
  state: RecipeState,
  opts: Pick<RecipeContext, 'home'> & { needsFineTuning?: boolean; emit?: RecipeContext['emit'] } = {},
): Promise<RecipeSession> {
  const { config } = state;
  const backboneId = config.backbone ?? BACKBONE_ID;
  const clf = await buildClassifier({
    size: config.size,
    numClasses: ds.classes.length,
    dropout: config.dropout,
    seed: subSeed(config.seed, 'init'),
    // Steps 5–8 train the backbone: only trainable (Keras layers) backbones qualify; a head-only leg takes any.
    backbone: await classifierBackbone(config.backbone, config.size, {
      home: opts.home,
      needsFineTuning: opts.needsFineTuning ?? true,
      onProgress: (f) =>
        opts.emit?.({
          type: 'progress',
          phase: 'loading',
          label: englishText({ code: 'progress.downloadingBackbone', params: { backbone: backboneId } }),
          message: { code: 'progress.downloadingBackbone', params: { backbone: backboneId } },
          done: Math.round(f * 100),
          total: 100,
          etaSeconds: null,
        }),
    }),
  });
  return {
    ds,
    clf,
    groups: layerGroups(clf.model),
    microBatch: microBatchFor(config.size, config.batchSize, tf.getBackend()),
    trainRows: rowsInMemory([]),
    validRows: rowsInMemory([]),
    state,
    optimizer: null,
  };
}

export function closeSession(sess: RecipeSession): void {
  sess.optimizer?.dispose();
  sess.optimizer = null;
  disposeClassifier(sess.clf);
}

/** A fresh optimizer for a step (fast.ai v0.7 builds one per `fit`), or one restored from a checkpoint. */
export function newOptimizer(sess: RecipeSession, restored: OptimizerState | null = null): Optimizer {
  sess.optimizer?.dispose();
  const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: sess.state.config.optimizer });
  if (restored) opt.setState(restored);
  sess.optimizer = opt;
  return opt;
}

const numClasses = (sess: RecipeSession) => sess.ds.classes.length;

/** The training loss: class-weighted when the run asks for it. */
export function lossFor(sess: RecipeSession): LossFn {
  return lossForBalance(
    sess.state.config.balance,
    sess.ds.train.map((i) => i.label),
    numClasses(sess),
  );
}
const shuffleSeed = (sess: RecipeSession) => subSeed(sess.state.config.seed, 'shuffle');

export function trainRowsSource(sess: RecipeSession): RowsDataSource {
  const { batchSize } = sess.state.config;
  const labels = sess.ds.train.map((i) => i.label);
  return new RowsDataSource(sess.trainRows, labels, {
    batchSize,
    numClasses: numClasses(sess),
    shuffleSeed: shuffleSeed(sess),
    balanced: sess.state.config.balance === 'sampler',
  });
}

export function validRowsSource(sess: RecipeSession): RowsDataSource {
  const labels = sess.ds.valid.map((i) => i.label);
  return new RowsDataSource(sess.validRows, labels, { batchSize: 256, numClasses: numClasses(sess) });
}

/**
 * Training images through the preset's augmentation, seeded per epoch from the run seed; decoded ahead of the
 * training step (prefetch keeps the batches identical).
 */
export function augmentedSource(sess: RecipeSession): DataSource {
  const { batchSize, preset, seed } = sess.state.config;
  // The classifier's size, not the config's: step 8's progressive resizing changes it (progressive.ts).
  const size = sess.clf.size;
  const images = new AugmentedImageDataSource(sess.ds.train, {
    size,
    batchSize,
    numClasses: numClasses(sess),
    shuffleSeed: shuffleSeed(sess),
    balanced: sess.state.config.balance === 'sampler',
    preset,
    seed: subSeed(seed, 'augment'),
  });
  return prefetch(images);
}

/**
 * Steps 4 and 8's training images: augmented, then mixed (mixup or cutmix, seeded from the run seed) when the run
 * asks for it. The range test of step 7 keeps the unmixed images; validation is never mixed.
 */
export function mixedAugmentedSource(sess: RecipeSession): DataSource {
  return withMix(augmentedSource(sess), sess.state.config.mix, sess.state.config.seed);
}

export function validImagesSource(sess: RecipeSession): DataSource {
  const { batchSize } = sess.state.config;
  const size = sess.clf.size;
  return prefetch(new ImageDataSource(sess.ds.valid, { size, batchSize, numClasses: numClasses(sess) }));
}
