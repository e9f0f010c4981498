/**
 * A run's dataset as the history keeps it, and reading a run's folder as every run does (progress while decoding,
 * the record for the history, a clear error when no training image is readable).
 */
import { englishText, type Message } from '../../../src-shared/messages';
import { homePaths } from '../paths';
import { classCounts, scanDataset, withoutMissingFiles, type LabeledDataset } from './dataset';
import { fingerprintOfDataset, type DatasetFingerprint } from './fingerprint';

/** What the history keeps of a dataset (no thumbnails). */
export interface DatasetRecord {
  dir: string;
  layout: 'split' | 'folders';
  validPct: number;
  seed: number;
  classes: Array<{ name: string; train: number; valid: number }>;
  skipped: Array<{ file: string; reason: string; message?: Message }>;
  warnings: string[];
  /** `warnings` as codes (src-shared/messages), in the same order; absent in records made before they were kept. */
  warningMessages?: Message[];
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
    ...(ds.warningMessages ? { warningMessages: ds.warningMessages } : {}),
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
export function pendingDatasetRecord(config: { dir: string; validPct: number; seed: number }): DatasetRecord {
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

const LOADING_PROGRESS_MS = 100;

/** Events a run emits while it reads the image folder. */
export type LoadingEvent =
  | {
      type: 'progress';
      phase: 'loading';
      label: string;
      message?: Message;
      done: number;
      total: number;
      etaSeconds: number | null;
    }
  | { type: 'dataset'; dataset: DatasetRecord };

/**
 * Read the folder: progress while decoding, the dataset record for the history, and a clear error when no training
 * image is readable. `scanned` (a scan the caller already made with the same seed and split) is reused instead of
 * decoding every image a second time. `home`: where the scan's cache is (HOME/cache/scan), so that an unchanged
 * folder's images are not read again; `shouldCancel` stops the scan.
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
    const message: Message = { code: 'progress.readingImages', params: {} };
    emit({ type: 'progress', phase: 'loading', label: englishText(message), message, done, total, etaSeconds });
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
