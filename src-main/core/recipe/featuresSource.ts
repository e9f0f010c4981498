/**
 * Step 4's data: each (augmented) image batch goes through the frozen backbone in inference mode, and the head
 * trains on the pooled activations. Equivalent to training the whole model with the backbone frozen, but
 * BatchNorm cannot drift (see freeze.ts) and no backbone gradients are computed.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, DataSource } from '../train/learner';

export class FeaturesDataSource implements DataSource {
  readonly numBatches: number;
  readonly numItems: number;

  constructor(
    private readonly images: DataSource,
    private readonly features: tf.LayersModel,
    /** Largest batch per forward pass (memory). */
    private readonly microBatch: number,
  ) {
    this.numBatches = images.numBatches;
    this.numItems = images.numItems;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    for await (const b of this.images.batches(epoch)) {
      const x = tf.tidy(() => this.features.predict(b.x, { batchSize: this.microBatch }) as tf.Tensor);
      b.x.dispose();
      yield { x, y: b.y };
    }
  }
}
