/**
 * The TensorFlow.js model.json format (layers and graph models): a zod schema for the parts this app relies on,
 * and the weights its manifest lists.
 */
import type * as tf from '@tensorflow/tfjs';
import { z } from 'zod';

export const MODEL_JSON = 'model.json';

const WeightSpec = z.looseObject({
  name: z.string(),
  shape: z.array(z.number()),
  dtype: z.enum(['float32', 'int32', 'bool', 'string', 'complex64']),
  group: z.enum(['model', 'optimizer']).optional(),
  quantization: z
    .looseObject({
      scale: z.number().optional(),
      min: z.number().optional(),
      dtype: z.enum(['uint16', 'uint8', 'float16']),
    })
    .optional(),
});

export const ModelJson = z.looseObject({
  format: z.string().optional(),
  modelTopology: z.looseObject({}),
  weightsManifest: z.array(z.looseObject({ paths: z.array(z.string()), weights: z.array(WeightSpec) })),
});
export type ModelJson = z.infer<typeof ModelJson>;

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the shards should hold, from the weight specs (exact for unquantized numeric weights). */
export function expectedWeightBytes(json: ModelJson): number {
  let total = 0;
  for (const group of json.weightsManifest) {
    for (const w of group.weights) {
      const per = DTYPE_BYTES[w.quantization?.dtype ?? w.dtype] ?? 0;
      total += w.shape.reduce((a, b) => a * b, 1) * per;
    }
  }
  return total;
}

/** A Buffer's bytes as an ArrayBuffer of their own (a Buffer may be a view into a larger pool). */
export function arrayBufferOf(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** Every weight spec, and the shards' bytes joined in manifest order; `read` gets each shard path as listed. */
export function concatWeights(
  json: ModelJson,
  read: (path: string) => Buffer,
): { specs: tf.io.WeightsManifestEntry[]; weights: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Buffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) parts.push(read(p));
  }
  return { specs, weights: arrayBufferOf(Buffer.concat(parts)) };
}
