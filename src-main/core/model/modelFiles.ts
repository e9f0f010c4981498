/** Saving and loading tfjs layers models as plain files (model.json + weights.bin), without tfjs-node. */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { MODEL_JSON, ModelJson, concatWeights } from './modelJson';
import { parseJson } from '../util/json';
import { writeFileAtomic } from '../util/atomicFile';

export const WEIGHTS_FILE = 'weights.bin';

export async function saveModelToDir(model: tf.LayersModel, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData
        ? tf.io.CompositeArrayBuffer.join(artifacts.weightData as ArrayBuffer | ArrayBuffer[])
        : new ArrayBuffer(0);
      // Each file whole or not at all: a full disk never leaves a truncated weights.bin under the name.
      writeFileAtomic(join(dir, WEIGHTS_FILE), Buffer.from(data));
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: 'Finetune Studio',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return [MODEL_JSON, WEIGHTS_FILE];
}

/** Read artifacts written by `saveModelToDir` (or any single-folder tfjs layers model). */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const path = join(dir, MODEL_JSON);
  const cannot = (why: string, cause?: unknown) =>
    new Error(
      `Cannot read a model from ${dir}: ${why}. Point at a folder made by "finetune export".`,
      cause === undefined ? undefined : { cause },
    );
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw cannot((err as Error).message, err);
  }
  const parsed = parseJson(text, ModelJson);
  if (!parsed.ok) {
    throw cannot(parsed.syntax ? parsed.issue : `${path} is not a valid TensorFlow.js model.json (${parsed.issue})`);
  }
  const { specs, weights } = concatWeights(parsed.value, (p) => readFileSync(join(dir, p)));
  return { modelTopology: parsed.value.modelTopology, weightSpecs: specs, weightData: weights };
}

export async function loadModelFromDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(dir)));
}
