/**
 * Precomputed backbone activations (fast.ai's precompute=True): the frozen backbone runs once per image, and
 * the head trains on the cached 1280-d features. The cache is on disk (featureStore.ts: packs of rows), keyed by
 * backbone, input size and the image's bytes, so a second run on the same images reuses it; training reads the rows
 * from it a batch at a time. Activations are of un-augmented images: with precompute on, augmentation has no effect.
 * Every pass over the files is bounded (util/pool.ts): a folder of any size keeps a few files open and a few batches
 * in memory.
 */
import { englishText, type Message } from '../../../src-shared/messages';
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imagesToTensor } from './dataSources';
import { leaveOutMissing, type LabeledDataset } from '../data/dataset';
import { IMAGE_FILE_SLOTS, NOT_FOUND_REASON } from '../data/images';
import { ahead } from './prefetch';
import { FeatureCache, sliceRows, type FeatureRows } from './featureStore';
import { CancelledError, IO_CONCURRENCY, mapPool } from '../util/pool';
import { EtaClock } from '../util/eta';

export { CancelledError };

const PREFETCH_DEPTH = 2;

/**
 * Part of every cache key: changed whenever the images' preprocessing changes, so that activations computed from the
 * old pixels are not reused. 'square-1': training's input is decodeSquare (squareInput.ts, as predict), no longer
 * sharp's resize.
 */
export const PREPROCESSING_VERSION = 'square-1';

export interface PrecomputeOptions {
  cacheDir: string;
  backboneId: string;
  size: number;
  batchSize: number;
  onProgress?: (done: number, total: number, cached: number, etaSeconds: number | null) => void;
  shouldCancel?: () => boolean;
}

/** Files deleted or moved between the scan and the precompute (the first one named, with the fix). */
export class MissingFilesError extends Error {
  constructor(readonly files: string[]) {
    const more = files.length > 1 ? ` (and ${files.length - 1} more)` : '';
    super(`${files[0]}: ${NOT_FOUND_REASON}${more}`);
    this.name = 'MissingFilesError';
  }
}

/** The cache key of a file's bytes. */
async function contentKey(file: string, backboneId: string, size: number): Promise<string> {
  const bytes = await IMAGE_FILE_SLOTS.run(() => readFile(file));
  const hash = createHash('sha256').update(`${PREPROCESSING_VERSION}|`).update(backboneId).update(`@${size}:`);
  return hash.update(bytes).digest('hex');
}

/** The files that are gone (deleted or moved since the scan), found with a stat each, before anything is read. */
async function goneFiles(files: readonly string[], shouldCancel?: () => boolean): Promise<string[]> {
  const present = await mapPool(
    files,
    IO_CONCURRENCY,
    (f) =>
      access(f).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return false;
          throw err;
        },
      ),
    { shouldCancel },
  );
  return files.filter((_, i) => !present[i]);
}

/**
 * Features for each file, in order, as rows read from the on-disk cache. Throws MissingFilesError, before any work,
 * when files have gone; CancelledError (checked per file while hashing, per batch while computing) on a cancel.
 */
export async function precomputeFeatures(
  features: tf.LayersModel,
  files: string[],
  opts: PrecomputeOptions,
): Promise<FeatureRows> {
  const dim = (features.outputs[0]!.shape as number[])[1]!;
  const dir = join(opts.cacheDir, `${opts.backboneId.replace(/[^\w.@-]/g, '_')}-${opts.size}`, 'packs');
  const gone = await goneFiles(files, opts.shouldCancel);
  if (gone.length > 0) throw new MissingFilesError(gone);
  const cache = await FeatureCache.open(dir, dim);
  let hashed = 0;
  let hits = 0;
  const keys = await mapPool(
    files,
    IO_CONCURRENCY,
    async (f) => {
      const key = await contentKey(f, opts.backboneId, opts.size);
      // Hashing is the pass a cached folder spends its time in: the cached files found so far are done.
      if (cache.has(key)) hits++;
      if (++hashed % 256 === 0) opts.onProgress?.(hits, files.length, hits, null);
      return key;
    },
    { shouldCancel: opts.shouldCancel },
  );
  // One computation per distinct image (byte-identical files share a key).
  const todo = new Map<string, string>();
  keys.forEach((k, i) => {
    if (!cache.has(k) && !todo.has(k)) todo.set(k, files[i]!);
  });
  const missing = [...todo.entries()];
  const total = missing.length;
  const cached = files.length - keys.filter((k) => todo.has(k)).length;
  let done = 0;
  const progress = new EtaClock();
  opts.onProgress?.(cached, files.length, cached, progress.eta(0, total));
  async function* decoded() {
    for (let start = 0; start < missing.length; start += opts.batchSize) {
      const batch = missing.slice(start, start + opts.batchSize);
      yield {
        keys: batch.map(([k]) => k),
        x: await imagesToTensor(
          batch.map(([, f]) => f),
          opts.size,
        ),
      };
    }
  }
  try {
    // The next batches decode (sharp's threads) while the backbone runs on this one; unused ones are disposed.
    for await (const { keys: batchKeys, x } of ahead(decoded(), PREFETCH_DEPTH, (b) => b.x.dispose())) {
      if (opts.shouldCancel?.()) {
        x.dispose();
        throw new CancelledError();
      }
      const y = features.predict(x) as tf.Tensor;
      const flat = (await y.data()) as Float32Array;
      tf.dispose([x, y]);
      for (const [j, key] of batchKeys.entries()) await cache.add(key, flat.slice(j * dim, (j + 1) * dim));
      done += batchKeys.length;
      const all = Math.min(files.length, cached + done);
      opts.onProgress?.(all, files.length, cached, progress.eta(done, total));
    }
  } finally {
    // What was computed is kept, a cancelled precompute included: the next run starts from there.
    await cache.flush();
  }
  return cache.rows(keys);
}

const PRECOMPUTING: Message = { code: 'progress.precomputing', params: {} };

/** The progress event every job emits while precomputing (head training, LR finder, recipe step 1). */
export interface PrecomputeProgress {
  type: 'progress';
  phase: 'precompute';
  label: string;
  message?: Message;
  done: number;
  total: number;
  etaSeconds: number | null;
}

/**
 * Activations of a dataset's training and validation images, in that order, reporting progress as `emit` events:
 * the one way every job precomputes. Images deleted since the scan are left out and reported like those found gone
 * before training (`ds` is then a new dataset without them, for the caller to use and record).
 */
export async function precomputeSplits(
  features: tf.LayersModel,
  dataset: LabeledDataset,
  opts: Omit<PrecomputeOptions, 'onProgress'> & { emit: (e: PrecomputeProgress) => void },
): Promise<{ train: FeatureRows; valid: FeatureRows; ds: LabeledDataset }> {
  const { emit, ...rest } = opts;
  let ds = dataset;
  for (;;) {
    try {
      const feats = await precomputeFeatures(
        features,
        [...ds.train, ...ds.valid].map((i) => i.file),
        {
          ...rest,
          onProgress: (done, total, _cached, etaSeconds) =>
            emit({
              type: 'progress',
              phase: 'precompute',
              label: englishText(PRECOMPUTING),
              message: PRECOMPUTING,
              done,
              total,
              etaSeconds,
            }),
        },
      );
      return {
        train: sliceRows(feats, 0, ds.train.length),
        valid: sliceRows(feats, ds.train.length, feats.length),
        ds,
      };
    } catch (err) {
      if (!(err instanceof MissingFilesError)) throw err;
      // Found before any activation was computed: leave them out and start again.
      ds = leaveOutMissing(ds, new Set(err.files));
      if (ds.train.length === 0) throw new Error(`No readable training images left in ${ds.dir}.`, { cause: err });
    }
  }
}
