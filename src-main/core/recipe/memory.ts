/** Micro-batches that fit the backend's memory: wasm's heap is capped at 4 GB, so large batches accumulate. */
import * as tf from '@tensorflow/tfjs';
import { maxFullBatchOnWasm } from '../lrfind/lrFindJob';

/** Images per forward/backward pass of the whole network at this size; the batch itself when it fits. */
export function microBatchFor(size: number, batchSize: number, backend: string = tf.getBackend()): number {
  return backend === 'wasm' ? Math.min(batchSize, maxFullBatchOnWasm(size)) : batchSize;
}

/** Gradient-accumulation steps per batch. */
export function accumulationSteps(batchSize: number, microBatch: number): number {
  return Math.ceil(batchSize / Math.max(1, microBatch));
}
