/**
 * Precomputed backbone activations (fast.ai's precompute=True): the frozen backbone runs once per image, and
 * the head trains on the cached 1280-d features. The cache is on disk, keyed by backbone, input size and the
 * image's bytes, so a second run on the same images reuses it. Activations are of un-augmented images: with
 * precompute on, augmentation has no effect.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { imagesToTensor } from './dataSources';
import { leaveOutMissing, type LabeledDataset } from '../data/dataset';
import { NOT_FOUND_REASON } from '../data/images';
import { ahead } from './prefetch';

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
  onProgress?: (done: number, total: number, cached: number) => void;
  shouldCancel?: () => boolean;
}

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** Files deleted or moved between the scan and the precompute (the first one named, with the fix). */
export class MissingFilesError extends Error {
  constructor(readonly files: string[]) {
    const more = files.length > 1 ? ` (and ${files.length - 1} more)` : '';
    super(`${files[0]}: ${NOT_FOUND_REASON}${more}`);
    this.name = 'MissingFilesError';
  }
}

/** The cache key of a file's bytes; null when the file is gone (deleted or moved since the scan). */
async function contentKey(file: string, backboneId: string, size: number): Promise<string | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const hash = createHash('sha256').update(`${PREPROCESSING_VERSION}|`).update(backboneId).update(`@${size}:`);
  return hash.update(bytes).digest('hex');
}

function cachePath(dir: string, key: string) {
  return join(dir, key.slice(0, 2), `${key}.f32`);
}

async function readCached(path: string, dim: number): Promise<Float32Array | null> {
  try {
    const buf = await readFile(path);
    if (buf.byteLength !== dim * 4) return null;
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  } catch {
    return null;
  }
}

/** Features for each file, in order. Throws MissingFilesError, before any work, when files have gone. */
export async function precomputeFeatures(
  features: tf.LayersModel,
  files: string[],
  opts: PrecomputeOptions,
): Promise<Float32Array[]> {
  const dim = (features.outputs[0]!.shape as number[])[1]!;
  const dir = join(opts.cacheDir, `${opts.backboneId.replace(/[^\w.@-]/g, '_')}-${opts.size}`);
  const maybeKeys = await Promise.all(files.map((f) => contentKey(f, opts.backboneId, opts.size)));
  const gone = files.filter((_, i) => maybeKeys[i] === null);
  if (gone.length > 0) throw new MissingFilesError(gone);
  const keys = maybeKeys as string[];
  const out: Array<Float32Array | null> = await Promise.all(keys.map((k) => readCached(cachePath(dir, k), dim)));
  const missing = out.flatMap((v, i) => (v ? [] : [i]));
  const cached = files.length - missing.length;
  let done = cached;
  opts.onProgress?.(done, files.length, cached);
  async function* decoded() {
    for (let start = 0; start < missing.length; start += opts.batchSize) {
      const ids = missing.slice(start, start + opts.batchSize);
      yield {
        ids,
        x: await imagesToTensor(
          ids.map((i) => files[i]!),
          opts.size,
        ),
      };
    }
  }
  // The next batches decode (sharp's threads) while the backbone runs on this one; unused ones are disposed.
  for await (const { ids, x } of ahead(decoded(), PREFETCH_DEPTH, (b) => b.x.dispose())) {
    if (opts.shouldCancel?.()) {
      x.dispose();
      throw new CancelledError();
    }
    const y = features.predict(x) as tf.Tensor;
    const flat = (await y.data()) as Float32Array;
    tf.dispose([x, y]);
    await Promise.all(
      ids.map(async (fileIndex, j) => {
        const row = flat.slice(j * dim, (j + 1) * dim);
        out[fileIndex] = row;
        const path = cachePath(dir, keys[fileIndex]!);
        await mkdir(join(path, '..'), { recursive: true });
        // Write then rename: a crash never leaves a half-written cache entry. The temporary name is this write's own:
        // identical images (one key) in a batch, or two processes on one cache, would otherwise rename each other's.
        const tmp = `${path}.${process.pid}-${fileIndex}.tmp`;
        await writeFile(tmp, Buffer.from(row.buffer));
        await rename(tmp, path);
      }),
    );
    done += ids.length;
    opts.onProgress?.(done, files.length, cached);
  }
  return out as Float32Array[];
}

/** The progress event every job emits while precomputing (head training, LR finder, recipe step 1). */
export interface PrecomputeProgress {
  type: 'progress';
  phase: 'precompute';
  label: string;
  done: number;
  total: number;
  etaSeconds: null;
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
): Promise<{ train: Float32Array[]; valid: Float32Array[]; ds: LabeledDataset }> {
  const { emit, ...rest } = opts;
  let ds = dataset;
  for (;;) {
    try {
      const feats = await precomputeFeatures(
        features,
        [...ds.train, ...ds.valid].map((i) => i.file),
        {
          ...rest,
          onProgress: (done, total) =>
            emit({
              type: 'progress',
              phase: 'precompute',
              label: 'Precomputing activations',
              done,
              total,
              etaSeconds: null,
            }),
        },
      );
      return { train: feats.slice(0, ds.train.length), valid: feats.slice(ds.train.length), ds };
    } catch (err) {
      if (!(err instanceof MissingFilesError)) throw err;
      // Found before any activation was computed: leave them out and start again.
      ds = leaveOutMissing(ds, new Set(err.files));
      if (ds.train.length === 0) throw new Error(`No readable training images left in ${ds.dir}.`, { cause: err });
    }
  }
}
