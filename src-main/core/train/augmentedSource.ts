/** Training images decoded per batch and augmented with a seeded stream per epoch, so runs are reproducible. */
import type * as tf from '@tensorflow/tfjs';
import type { Batch, DataSource } from './learner';
import type { LabeledItem } from '../data/dataset';
import { augmentBatch, type AugmentPreset } from '../data/augment';
import { ImageDataSource, type ImageOptions } from './dataSources';
import { mulberry32, subSeed } from '../util/random';

export interface AugmentedImageOptions extends ImageOptions {
  preset: AugmentPreset;
  /** The run seed; each epoch draws its augmentations from `subSeed(seed, 'augment' + epoch)`. */
  seed: number;
}

export class AugmentedImageDataSource implements DataSource {
  readonly numItems: number;
  readonly numBatches: number;
  private readonly images: ImageDataSource;

  constructor(
    items: LabeledItem[],
    private readonly opts: AugmentedImageOptions,
  ) {
    // Decoding and shuffling are ImageDataSource's; this only adds the augmentation step.
    this.images = new ImageDataSource(items, opts);
    this.numItems = this.images.numItems;
    this.numBatches = this.images.numBatches;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    // One stream per epoch, consumed batch after batch: epoch k looks the same whether or not earlier ones ran.
    const rand = mulberry32(subSeed(this.opts.seed, `augment${epoch}`));
    for await (const batch of this.images.batches(epoch)) {
      let x: tf.Tensor4D;
      try {
        x = augmentBatch(batch.x as tf.Tensor4D, this.opts.preset, rand);
      } catch (err) {
        batch.y.dispose();
        throw err;
      } finally {
        batch.x.dispose();
      }
      yield { x, y: batch.y };
    }
  }
}
