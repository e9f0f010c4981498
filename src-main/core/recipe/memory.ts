/** Micro-batches that fit the backend's memory: wasm's heap is capped at 4 GB, so large batches accumulate. */
import * as tf from '@tensorflow/tfjs';

/**
 * The largest full-network batch that fits wasm's 4 GB heap at this input size (measured: ~1.9 GB at 128 px
 * batch 16, ~2.9 GB at 224 px batch 8; 224 px batch 16 aborts).
 */
export function maxFullBatchOnWasm(size: number): number {
  return Math.max(1, Math.min(1024, Math.floor(8 * (224 / size) ** 2)));
}

/** Images per forward/backward pass of the whole network at this size; the batch itself when it fits. */
export function microBatchFor(size: number, batchSize: number, backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? Math.min(batchSize, maxFullBatchOnWasm(size)) : batchSize;
}

/** Gradient-accumulation steps per batch. */
export function accumulationSteps(batchSize: number, microBatch: number): number {
  return Math.ceil(batchSize / Math.max(1, microBatch));
}
