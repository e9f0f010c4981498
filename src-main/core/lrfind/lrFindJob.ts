/**
 * The LR finder as a job, for the CLI and the app:
 * - stage 'head' (fast.ai step 2): scan the folder, build the classifier on the frozen backbone, precompute the
 *   backbone's activations (same on-disk cache as the head training job) and run the range test on the head alone;
 * - stage 'full' (step 7): unfreeze the whole network and run the range test on images, with discriminative LRs for
 *   the three layer groups ([1/9, 1/3, 1] × the swept LR; the recorded LR is the head's). Starts from the trained
 *   classifier in `modelDir` when given (fast.ai runs step 7 after training the head), else from a fresh head.
 * The model is built for the job and disposed afterwards; the range test itself leaves weights untouched anyway.
 */
import * as tf from '@tensorflow/tfjs';
import { BACKBONE_ID, buildClassifier, wrapClassifier, type Classifier } from '../model/backbone';
import { loadModelFromDir } from '../model/modelFiles';
import { DISCRIMINATIVE_MULTS, layerGroups } from '../model/layerGroups';
import { Learner, type DataSource } from '../train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../train/optimizers';
import { ImageDataSource, RowsDataSource } from '../train/dataSources';
import { prefetch } from '../train/prefetch';
import { CancelledError, precomputeSplits } from '../train/precompute';
import { datasetRecord, loadJobDataset, type DatasetRecord } from '../train/headJob';
import { subSeed } from '../util/random';
import { lrRangeTest, type LrRangeTestResult } from './lrRangeTest';
import type { LrRangeMode } from './suggest';

export type LrFindStage = 'head' | 'full';

export interface LrFindConfig {
  dir: string;
  size: number;
  batchSize: number;
  seed: number;
  validPct: number;
  dropout: number;
  stage: LrFindStage;
  start: number;
  end: number;
  iters: number;
  mode: LrRangeMode;
  /** Also record the validation loss after every step (Leslie Smith's variant; one validation pass per step). */
  recordValidLoss?: boolean;
  /** Stage 'full': a classifier saved by a head run (its `model` folder) to start from instead of a fresh head. */
  modelDir?: string;
  /** The classes that model was trained on, in order; must equal the dataset's. */
  modelClasses?: string[];
}

export type LrFindEvent =
  | {
      type: 'progress';
      phase: 'loading' | 'precompute' | 'lr-find';
      label: string;
      done: number;
      total: number;
      etaSeconds: number | null;
    }
  | { type: 'dataset'; dataset: DatasetRecord }
  | { type: 'step'; iteration: number; lr: number; loss: number; smoothedLoss: number }
  | { type: 'warning'; message: string };

export interface LrFindContext {
  featureCache: string;
  emit?: (e: LrFindEvent) => void;
  shouldCancel?: () => boolean;
}

export interface LrFindJobResult {
  status: 'completed' | 'cancelled';
  /** Null when cancelled before the range test started (e.g. while precomputing). */
  result: LrRangeTestResult | null;
  classes: string[];
  dataset: DatasetRecord;
  /** Layer groups and their multipliers (stage 'full'). */
  groups: Array<{ name: string; mult: number; layers: number }>;
  warnings: string[];
}

/**
 * The largest full-network batch that fits wasm's 4 GB heap at this input size (measured: ~1.9 GB at 128 px
 * batch 16, ~2.9 GB at 224 px batch 8; 224 px batch 16 aborts).
 */
export function maxFullBatchOnWasm(size: number): number {
  return Math.max(1, Math.min(1024, Math.floor(8 * (224 / size) ** 2)));
}

async function loadClassifier(config: LrFindConfig, classes: string[]): Promise<Classifier> {
  const numClasses = classes.length;
  if (config.stage === 'full' && config.modelDir) {
    if (config.modelClasses && config.modelClasses.join('\n') !== classes.join('\n')) {
      throw new Error(
        `The model in ${config.modelDir} was trained on classes ${config.modelClasses.join(', ')}; this dataset has ${classes.join(', ')}.`,
      );
    }
    const model = await loadModelFromDir(config.modelDir);
    const shape = model.inputs[0]!.shape;
    const outputs = (model.outputs[0]!.shape as number[])[1];
    if (shape[1] !== config.size || outputs !== numClasses) {
      model.dispose();
      throw new Error(
        `The model in ${config.modelDir} takes ${shape[1]} px images and has ${outputs} classes; this dataset at --size ${config.size} needs ${numClasses}.`,
      );
    }
    return wrapClassifier(model, config.size);
  }
  return buildClassifier({
    size: config.size,
    numClasses,
    dropout: config.dropout,
    seed: subSeed(config.seed, 'init'),
  });
}

export async function lrFindJob(config: LrFindConfig, ctx: LrFindContext): Promise<LrFindJobResult> {
  const emit = ctx.emit ?? (() => {});
  const shouldCancel = ctx.shouldCancel ?? (() => false);
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    emit({ type: 'warning', message });
  };
  let ds = await loadJobDataset(config, emit, undefined, ctx);
  const dataset = datasetRecord(ds);
  const numClasses = ds.classes.length;
  const shuffleSeed = subSeed(config.seed, 'shuffle');
  const base = { status: 'cancelled' as const, result: null, classes: ds.classes, dataset, warnings };

  const clf = await loadClassifier(config, ds.classes);
  const optimizer = new Optimizer(DEFAULT_OPTIMIZER);
  try {
    let learner: Learner;
    let train: DataSource;
    let validation: DataSource | undefined;
    let groupLrMults: number[] | undefined;
    let groups: LrFindJobResult['groups'] = [];
    if (config.stage === 'head') {
      const rows = await precomputeSplits(clf.features, ds, {
        cacheDir: ctx.featureCache,
        backboneId: BACKBONE_ID,
        size: config.size,
        batchSize: 16,
        shouldCancel,
        emit,
      });
      // Images deleted since the scan were left out: said as a warning, the labels follow the rows.
      if (rows.ds !== ds) warn((ds = rows.ds).warnings.at(-1)!);
      train = new RowsDataSource(
        rows.train,
        ds.train.map((i) => i.label),
        { batchSize: config.batchSize, numClasses, shuffleSeed },
      );
      if (config.recordValidLoss && ds.valid.length > 0) {
        validation = new RowsDataSource(
          rows.valid,
          ds.valid.map((i) => i.label),
          { batchSize: 256, numClasses },
        );
      }
      learner = new Learner(clf.head, optimizer, [{ name: 'head', variables: clf.head.trainableWeights }]);
    } else {
      let batchSize = config.batchSize;
      if (tf.getBackend() === 'wasm' && batchSize > maxFullBatchOnWasm(config.size)) {
        batchSize = maxFullBatchOnWasm(config.size);
        warn(
          `Batch size ${config.batchSize} does not fit wasm's 4 GB memory for the whole network at ${config.size} px: using ${batchSize}.`,
        );
      }
      // Unfreeze: every layer trains (BatchNorm statistics too, in training mode, as in fastai).
      for (const layer of clf.model.layers) layer.trainable = true;
      const specs = layerGroups(clf.model);
      groupLrMults = [...DISCRIMINATIVE_MULTS];
      groups = specs.map((g, i) => ({ name: g.name, mult: groupLrMults![i]!, layers: g.layers.length }));
      // Decoded ahead of each step: the range test waits for data only at its first batch.
      train = prefetch(new ImageDataSource(ds.train, { size: config.size, batchSize, numClasses, shuffleSeed }));
      if (config.recordValidLoss && ds.valid.length > 0) {
        validation = prefetch(new ImageDataSource(ds.valid, { size: config.size, batchSize, numClasses }));
      }
      learner = new Learner(clf.model, optimizer, specs);
    }
    if (train.numBatches < config.iters) {
      const epochs = Math.ceil(config.iters / train.numBatches);
      if (epochs > 10) {
        warn(
          `Only ${train.numBatches} batch(es) per pass over the training images: the ${config.iters} iterations reuse them ${epochs} times.`,
        );
      }
    }
    const started = Date.now();
    const result = await lrRangeTest(learner, train, {
      start: config.start,
      end: config.end,
      iters: config.iters,
      mode: config.mode,
      groupLrMults,
      validation,
      shouldCancel,
      onStep: (iteration, lr, loss, smoothedLoss) => {
        emit({ type: 'step', iteration, lr, loss, smoothedLoss });
        const done = iteration + 1;
        const perIter = (Date.now() - started) / 1000 / done;
        emit({
          type: 'progress',
          phase: 'lr-find',
          label: 'LR range test',
          done,
          total: config.iters,
          etaSeconds: perIter * (config.iters - done),
        });
      },
    });
    return { ...base, status: result.cancelled ? 'cancelled' : 'completed', result, groups };
  } catch (err) {
    if (err instanceof CancelledError) return { ...base, groups: [] };
    throw err;
  } finally {
    optimizer.dispose();
    clf.model.dispose();
    // The head sub-model applied the dense layer a second time: its weights go only when both models are disposed.
    clf.head.dispose();
  }
}
