/**
 * fast.ai step 3 as one job: scan the folder, build the classifier on the frozen backbone, precompute the
 * backbone's activations, train the new head on them, and save the whole classifier.
 * Plain TypeScript: the CLI runs it in-process, the app in its training worker.
 */
import { join } from 'node:path';
import type { EpochMetrics, HeadTrainConfig } from '../../../src-shared/contract';
import { classCounts, scanDataset, withoutMissingFiles, type LabeledDataset } from '../data/dataset';
import { fingerprintOfDataset, type DatasetFingerprint } from '../data/fingerprint';
import { BACKBONE_ID, buildClassifier, disposeClassifier } from '../model/backbone';
import { classifierBackbone } from '../model/loadBackbone';
import { saveModelToDir } from '../model/modelFiles';
import { writeRunMeta } from '../runFiles';
import { homePaths } from '../paths';
import type { RunStore } from '../history/runStore';
import { Learner } from './learner';
import { Optimizer, DEFAULT_OPTIMIZER } from './optimizers';
import { RowsDataSource } from './dataSources';
import { CancelledError, precomputeSplits } from './precompute';
import { trainingCallbacks } from './callbacks';
import { planSchedule } from '../schedules/training';
import { lossForBalance } from './imbalance';
import { subSeed } from '../util/random';

export type TrainPhase = 'loading' | 'precompute' | 'train' | 'validate';

export type TrainEvent =
  | { type: 'progress'; phase: TrainPhase; label: string; done: number; total: number; etaSeconds: number | null }
  | { type: 'dataset'; dataset: DatasetRecord }
  /** `step`: the step the iteration belongs to, as in the epoch events ('head', 'step8-all', ...). */
  | { type: 'batch'; step: string; epoch: number; iteration: number; loss: number; lr: number }
  | ({ type: 'epoch' } & EpochMetrics);

/** What the history keeps of a dataset (no thumbnails). */
export interface DatasetRecord {
  dir: string;
  layout: 'split' | 'folders';
  validPct: number;
  seed: number;
  classes: Array<{ name: string; train: number; valid: number }>;
  skipped: Array<{ file: string; reason: string }>;
  warnings: string[];
  /** The images used, fingerprinted as the run read them: what its export's model card names. */
  fingerprint?: DatasetFingerprint;
}

export function datasetRecord(ds: LabeledDataset): DatasetRecord {
  return {
    dir: ds.dir,
    layout: ds.layout,
    validPct: ds.validPct,
    seed: ds.seed,
    classes: classCounts(ds),
    skipped: ds.skipped,
    warnings: ds.warnings,
    ...recordedFingerprint(ds),
  };
}

/** A file gone in the instant since the scan leaves the fingerprint out (the export then takes one from the folder). */
function recordedFingerprint(ds: LabeledDataset): { fingerprint?: DatasetFingerprint } {
  try {
    return { fingerprint: fingerprintOfDataset(ds) };
  } catch {
    return {};
  }
}

/** The dataset record of a run whose folder has not been read yet. */
export function pendingDatasetRecord(config: HeadTrainConfig): DatasetRecord {
  return {
    dir: config.dir,
    layout: 'folders',
    validPct: config.validPct,
    seed: config.seed,
    classes: [],
    skipped: [],
    warnings: [],
  };
}

/**
 * Records a new run before its dataset is read: the app and the CLI start runs the same way. The classes come with
 * the run's first events unless the caller already knows them.
 */
export function createPendingRun(
  store: RunStore,
  run: { kind: string; backend: { name: string; note: string }; config: HeadTrainConfig },
  opts: { rerunOf?: number | null; classes?: string[] } = {},
): number {
  return store.createRun({
    dir: run.config.dir,
    kind: run.kind,
    backend: run.backend.name,
    backendNote: run.backend.note,
    config: run.config,
    dataset: pendingDatasetRecord(run.config),
    classes: opts.classes ?? [],
    rerunOf: opts.rerunOf ?? null,
  });
}

export interface JobContext {
  runDir: string;
  featureCache: string;
  /** The home folder, for downloadable backbones' cache. */
  home?: string;
  /** The folder already scanned with the config's seed and split (the CLI validates it first). */
  dataset?: LabeledDataset;
  emit: (e: TrainEvent) => void;
  shouldCancel: () => boolean;
}

export interface JobResult {
  status: 'completed' | 'cancelled' | 'failed';
  error: string | null;
  modelDir: string | null;
}

const LOADING_PROGRESS_MS = 100;

/** Events every job emits while it reads the image folder. */
export type LoadingEvent =
  | { type: 'progress'; phase: 'loading'; label: string; done: number; total: number; etaSeconds: number | null }
  | { type: 'dataset'; dataset: DatasetRecord };

/**
 * Read the folder as every job does: progress while decoding, the dataset record for the history, and a clear error
 * when no training image is readable. `scanned` (a scan the caller already made with the same seed and split) is
 * reused instead of decoding every image a second time. `home`: where the scan's cache is (HOME/cache/scan), so that
 * an unchanged folder's images are not read again; `shouldCancel` stops the scan.
 */
export async function loadJobDataset(
  config: { dir: string; seed: number; validPct: number },
  emit: (e: LoadingEvent) => void,
  scanned?: LabeledDataset,
  opts: { home?: string; shouldCancel?: () => boolean } = {},
): Promise<LabeledDataset> {
  // The scan reports every image; relaying each would be thousands of messages through the app's main process
  // for a large folder. A few a second (and the last) are enough for a progress bar.
  let last = -Infinity;
  const progress = (done: number, total: number, etaSeconds: number | null = null) => {
    const now = performance.now();
    if (done < total && now - last < LOADING_PROGRESS_MS) return;
    last = now;
    emit({ type: 'progress', phase: 'loading', label: 'Reading images', done, total, etaSeconds });
  };
  progress(0, 1);
  // A reused scan may be stale: images deleted since are left out and reported, not a crash mid-training.
  const ds = scanned
    ? await withoutMissingFiles(scanned)
    : await scanDataset(config.dir, {
        seed: config.seed,
        validPct: config.validPct,
        onProgress: progress,
        shouldCancel: opts.shouldCancel,
        cacheDir: opts.home === undefined ? undefined : homePaths(opts.home).scanCache,
      });
  emit({ type: 'dataset', dataset: datasetRecord(ds) });
  if (ds.train.length === 0) throw new Error(`No readable training images in ${config.dir}.`);
  return ds;
}

export async function trainHeadJob(config: HeadTrainConfig, ctx: JobContext): Promise<JobResult> {
  const { emit } = ctx;
  let ds = await loadJobDataset(config, emit, ctx.dataset, ctx);

  const backboneId = config.backbone ?? BACKBONE_ID;
  const clf = await buildClassifier({
    size: config.size,
    numClasses: ds.classes.length,
    dropout: config.dropout,
    seed: subSeed(config.seed, 'init'),
    backbone: await classifierBackbone(config.backbone, config.size, {
      home: ctx.home,
      onProgress: (f) =>
        emit({
          type: 'progress',
          phase: 'loading',
          label: `Downloading backbone ${backboneId}`,
          done: Math.round(f * 100),
          total: 100,
          etaSeconds: null,
        }),
    }),
  });
  try {
    const pre = await precomputeSplits(clf.features, ds, {
      cacheDir: ctx.featureCache,
      backboneId,
      size: config.size,
      batchSize: 16,
      shouldCancel: ctx.shouldCancel,
      emit,
    });
    const { train: trainRows, valid: validRows } = pre;
    // Images deleted since the scan were left out: the history records it.
    if (pre.ds !== ds) emit({ type: 'dataset', dataset: datasetRecord((ds = pre.ds)) });
    const numClasses = ds.classes.length;
    const train = new RowsDataSource(
      trainRows,
      ds.train.map((i) => i.label),
      {
        batchSize: config.batchSize,
        numClasses,
        shuffleSeed: subSeed(config.seed, 'shuffle'),
        balanced: config.balance === 'sampler',
      },
    );
    const valid = new RowsDataSource(
      validRows,
      ds.valid.map((i) => i.label),
      { batchSize: 256, numClasses },
    );
    const optimizer = new Optimizer(DEFAULT_OPTIMIZER);
    const headVars = clf.head.trainableWeights;
    // The same plan the wizard previews: one LR (and momentum, where cycled) per iteration.
    const plan = planSchedule(config.lr, config.schedule, config.epochs, train.numBatches);
    const learner = new Learner(
      clf.head,
      optimizer,
      [{ name: 'head', variables: headVars }],
      trainingCallbacks({
        plan,
        valid,
        shouldCancel: ctx.shouldCancel,
        report: {
          batch: (b) => emit({ type: 'batch', step: 'head', ...b }),
          epoch: (e) => emit({ type: 'epoch', step: 'head', ...e }),
          progress: (p) => emit({ type: 'progress', phase: 'train', label: 'Training the head', ...p }),
        },
      }),
      lossForBalance(
        config.balance,
        ds.train.map((i) => i.label),
        numClasses,
      ),
    );
    const fit = await learner.fit(Math.ceil(plan.epochs), train);
    optimizer.dispose();
    if (fit.stopReason === 'cancelled') return { status: 'cancelled', error: null, modelDir: null };
    if (fit.stopReason === 'diverged') {
      return {
        status: 'failed',
        error: `The loss became ${fit.lastLoss} at iteration ${fit.iteration}: the learning rate ${config.lr} is too high. Lower it (run the LR finder).`,
        modelDir: null,
      };
    }
    const modelDir = join(ctx.runDir, 'model');
    await saveModelToDir(clf.model, modelDir);
    writeRunMeta(ctx.runDir, { classes: ds.classes, size: config.size, backboneId, config });
    return { status: 'completed', error: null, modelDir };
  } catch (err) {
    if (err instanceof CancelledError) return { status: 'cancelled', error: null, modelDir: null };
    throw err;
  } finally {
    disposeClassifier(clf);
  }
}
