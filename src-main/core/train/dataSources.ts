/** Data sources for the Learner: in-memory rows (precomputed activations) and images decoded on the fly. */
import * as tf from '@tensorflow/tfjs';
import type { Batch, DataSource } from './learner';
import type { LabeledItem } from '../data/dataset';
import { decodeSquare } from '../data/images';
import { IO_CONCURRENCY, mapPool } from '../util/pool';
import { rowsInMemory, type FeatureRows } from './featureStore';
import { mulberry32, shuffled, subSeed } from '../util/random';
import { balancedOrder } from './imbalance';

export interface RowsOptions {
  batchSize: number;
  numClasses: number;
  /** Shuffle each epoch with this seed; undefined keeps the order (validation). */
  shuffleSeed?: number;
  /** Class imbalance: sample each class equally often per epoch (small classes oversampled). Needs shuffleSeed. */
  balanced?: boolean;
}

/** This epoch's order of item indices: as given, shuffled, or class-balanced. */
export function epochOrder(labels: readonly number[], opts: RowsOptions, epoch: number): number[] {
  if (opts.shuffleSeed === undefined) return [...labels.keys()];
  const rand = mulberry32(subSeed(opts.shuffleSeed, `epoch${epoch}`));
  return opts.balanced ? balancedOrder(labels, rand) : shuffled([...labels.keys()], rand);
}

/**
 * Fixed-width float rows (e.g. 1280-d backbone activations) with integer labels: the precompute's rows on disk, read
 * a batch at a time (featureStore.ts), or rows in memory.
 */
export class RowsDataSource implements DataSource {
  readonly numItems: number;
  readonly numBatches: number;
  private readonly rows: FeatureRows;

  constructor(
    rows: FeatureRows | readonly Float32Array[],
    private readonly labels: number[],
    private readonly opts: RowsOptions,
  ) {
    this.rows = Array.isArray(rows) ? rowsInMemory(rows) : (rows as FeatureRows);
    this.numItems = this.rows.length;
    this.numBatches = Math.ceil(this.rows.length / opts.batchSize);
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    const order = epochOrder(this.labels, this.opts, epoch);
    const width = this.rows.width;
    for (let start = 0; start < order.length; start += this.opts.batchSize) {
      const ids = order.slice(start, start + this.opts.batchSize);
      const flat = this.rows.read(ids);
      yield {
        x: tf.tensor2d(flat, [ids.length, width]),
        y: tf.tidy(() =>
          tf.oneHot(
            tf.tensor1d(
              ids.map((id) => this.labels[id]!),
              'int32',
            ),
            this.opts.numClasses,
          ),
        ),
      };
    }
  }
}

export interface ImageOptions extends RowsOptions {
  size: number;
}

/** Images decoded (and later augmented) per batch; used when precompute is off and for prediction. */
export class ImageDataSource implements DataSource {
  readonly numItems: number;
  readonly numBatches: number;

  constructor(
    private readonly items: LabeledItem[],
    private readonly opts: ImageOptions,
  ) {
    this.numItems = items.length;
    this.numBatches = Math.ceil(items.length / opts.batchSize);
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    const order = epochOrder(
      this.items.map((i) => i.label),
      this.opts,
      epoch,
    ).map((k) => this.items[k]!);
    const { size, batchSize, numClasses } = this.opts;
    for (let start = 0; start < order.length; start += batchSize) {
      const chunk = order.slice(start, start + batchSize);
      const x = await imagesToTensor(
        chunk.map((c) => c.file),
        size,
      );
      yield {
        x,
        y: tf.tidy(() =>
          tf.oneHot(
            tf.tensor1d(
              chunk.map((c) => c.label),
              'int32',
            ),
            numClasses,
          ),
        ),
      };
    }
  }
}

/**
 * Decode files into one [n,size,size,3] float tensor in [0,1]: the backbone's expected input, as `predict` computes
 * it (decodeSquare). IO_CONCURRENCY decodes at once: more than libuv's threads, so the next ones are queued while a
 * prefetched batch's training step holds the JS thread; bounded, so a batch of 256 does not open 256 files.
 */
export async function imagesToTensor(files: readonly string[], size: number): Promise<tf.Tensor4D> {
  const pixels = size * size * 3;
  const flat = new Float32Array(files.length * pixels);
  await mapPool(files, IO_CONCURRENCY, async (file, i) => flat.set(await decodeSquare(file, size), i * pixels));
  return tf.tensor4d(flat, [files.length, size, size, 3]);
}
