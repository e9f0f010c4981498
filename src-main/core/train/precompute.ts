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
import { ahead } from './prefetch';

const PREFETCH_DEPTH = 2;

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

async function contentKey(file: string, backboneId: string, size: number): Promise<string> {
  const bytes = await readFile(file);
  return createHash('sha256').update(backboneId).update(`@${size}:`).update(bytes).digest('hex');
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

/** Features for each file, in order. */
export async function precomputeFeatures(
  features: tf.LayersModel,
  files: string[],
  opts: PrecomputeOptions,
): Promise<Float32Array[]> {
  const dim = (features.outputs[0]!.shape as number[])[1]!;
  const dir = join(opts.cacheDir, `${opts.backboneId.replace(/[^\w.@-]/g, '_')}-${opts.size}`);
  const keys = await Promise.all(files.map((f) => contentKey(f, opts.backboneId, opts.size)));
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
        // Write then rename: a crash never leaves a half-written cache entry.
        await writeFile(`${path}.tmp`, Buffer.from(row.buffer));
        await rename(`${path}.tmp`, path);
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
 * the one way every job precomputes.
 */
export async function precomputeSplits(
  features: tf.LayersModel,
  ds: { train: Array<{ file: string }>; valid: Array<{ file: string }> },
  opts: Omit<PrecomputeOptions, 'onProgress'> & { emit: (e: PrecomputeProgress) => void },
): Promise<{ train: Float32Array[]; valid: Float32Array[] }> {
  const { emit, ...rest } = opts;
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
  return { train: feats.slice(0, ds.train.length), valid: feats.slice(ds.train.length) };
}
