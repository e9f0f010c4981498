/**
 * The bundled offline backbone: the Keras MobileNetV2 that npm `nsfwjs` ships as JS modules, loaded without
 * network. It is cut at `out_relu` and ends in global average pooling (1280 features); the classifier head
 * (dropout + dense softmax) is appended in the same functional graph so one model can be saved and exported.
 *
 * Note for users: these weights were trained for NSFW classification, not ImageNet. The features are general,
 * but it is not the usual ImageNet MobileNetV2.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { PREPROCESSING_NOTE } from '../data/images';
import { releaseFoldedWeights, useFoldedPredict } from './foldedInference';
import { useRelu6 } from './fusedRelu6';
import { usePadsInConvs } from './padsInConvs';
import { useFrozenBatchNormFold } from './frozenBatchNormFold';
import { useFusedBatchNorm } from './fusedBatchNorm';
import { globalAveragePooling, inboundFrom, type KerasTopology } from './kerasTopology';
import { arrayBufferOf } from './modelJson';
import { parseJson } from '../util/json';
import { seedDropout } from '../train/seededDropout';

export const BACKBONE_ID = 'nsfwjs-mobilenet_v2@4.4.0';
export const BACKBONE_NAME = 'MobileNetV2 (offline, from nsfwjs)';
export const BACKBONE_NOTE =
  'Bundled offline MobileNetV2 (2.26 M parameters). Its weights were trained to classify NSFW content, not on ImageNet: general image features, but not the usual ImageNet backbone.';
export const FEATURE_DIM = 1280;
export const FEATURES_LAYER = 'global_pool';
export const HEAD_DROPOUT_LAYER = 'head_dropout';
export const HEAD_DENSE_LAYER = 'head_dense';
export { PREPROCESSING_NOTE };

interface BundledModel {
  modelTopology: KerasTopology;
  weightsManifest: Array<{ weights: tf.io.WeightsManifestEntry[] }>;
}

const require = createRequire(import.meta.url);
const PackageJson = z.looseObject({ name: z.string().optional() });

/** Whether `dir` holds the nsfwjs package.json (folders inside it may hold others, e.g. `{"type": "commonjs"}`). */
function isNsfwjsRoot(dir: string): boolean {
  const path = join(dir, 'package.json');
  if (!existsSync(path)) return false;
  const parsed = parseJson(readFileSync(path, 'utf8'), PackageJson);
  if (!parsed.ok) {
    throw new Error(`${path} is not a valid package.json (${parsed.issue}). Run "npm install" to restore it.`);
  }
  return parsed.value.name === 'nsfwjs';
}

/** The nsfwjs package's `exports` map blocks subpath requires: find its folder from its main entry. */
function nsfwjsModelDir(): string {
  let dir = dirname(require.resolve('nsfwjs'));
  while (!isNsfwjsRoot(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const modelDir = join(dir, 'dist', 'models', 'mobilenet_v2');
  if (!existsSync(join(modelDir, 'model.min.js'))) {
    throw new Error(`The offline backbone is missing (${modelDir}). Run "npm install" to restore the nsfwjs package.`);
  }
  return modelDir;
}

let cached: { topology: KerasTopology; specs: tf.io.WeightsManifestEntry[]; weights: ArrayBuffer } | null = null;

function loadBundled() {
  if (cached) return cached;
  const dir = nsfwjsModelDir();
  const bundle = require(join(dir, 'model.min.js')) as BundledModel;
  const b64 = require(join(dir, 'group1-shard1of1.min.js')) as string | { default: string };
  const buf = Buffer.from(typeof b64 === 'string' ? b64 : b64.default, 'base64');
  cached = { topology: bundle.modelTopology, specs: bundle.weightsManifest[0]!.weights, weights: arrayBufferOf(buf) };
  return cached;
}

export interface ClassifierOptions {
  size: number;
  numClasses: number;
  dropout: number;
  seed?: number;
  /** A downloaded backbone from `loadBackbone` (loadBackbone.ts); absent = the bundled offline one. */
  backbone?: ClassifierBackbone;
}

/** What `buildClassifier` needs from a downloaded backbone (a `LoadedBackbone` fits). */
export interface ClassifierBackbone {
  id: string;
  name: string;
  /** Keras layers backbones: topology whose output is the pooled `FEATURES_LAYER`, input in [0, 1]. */
  pooled?: { topology: object; specs: tf.io.WeightsManifestEntry[]; weights: ArrayBuffer };
}

/** Topology JSON: backbone cut at out_relu, global pooling, dropout, dense softmax; input size edited. */
function classifierTopology(base: KerasTopology, opts: ClassifierOptions): KerasTopology {
  const topo = structuredClone(base);
  const layers = topo.model_config.config.layers;
  const cut = layers.findIndex((l) => l.name === 'out_relu');
  if (cut < 0) throw new Error('Backbone topology has no out_relu layer');
  const kept = layers.slice(0, cut + 1);
  const input = kept[0]!;
  input.config.batch_input_shape = [null, opts.size, opts.size, 3];
  kept.push(globalAveragePooling(FEATURES_LAYER, 'out_relu'));
  topo.model_config.config.layers = kept;
  return appendHead(topo, opts);
}

/** Append dropout + dense softmax after `FEATURES_LAYER` (a copy; training config dropped). */
function appendHead(base: KerasTopology, opts: ClassifierOptions): KerasTopology {
  const topo = structuredClone(base);
  const kept = topo.model_config.config.layers;
  kept.push(
    {
      name: HEAD_DROPOUT_LAYER,
      class_name: 'Dropout',
      config: { name: HEAD_DROPOUT_LAYER, trainable: true, rate: opts.dropout, noise_shape: null, seed: null },
      inbound_nodes: inboundFrom(FEATURES_LAYER),
    },
    {
      name: HEAD_DENSE_LAYER,
      class_name: 'Dense',
      config: {
        name: HEAD_DENSE_LAYER,
        trainable: true,
        units: opts.numClasses,
        activation: 'softmax',
        use_bias: true,
        kernel_initializer: {
          class_name: 'GlorotUniform',
          config: { seed: opts.seed ?? null },
        },
        bias_initializer: { class_name: 'Zeros', config: {} },
      },
      inbound_nodes: inboundFrom(HEAD_DROPOUT_LAYER),
    },
  );
  topo.model_config.config.layers = kept;
  topo.model_config.config.output_layers = [[HEAD_DENSE_LAYER, 0, 0]];
  delete topo.training_config;
  return topo;
}

export interface Classifier {
  /** input image [n,size,size,3] in [0,1] → class probabilities. */
  model: tf.LayersModel;
  /** input image → 1280 pooled features (shares the backbone's weights). */
  features: tf.LayersModel;
  /** 1280 features → probabilities (shares the head's weights): trained on precomputed activations. */
  head: tf.LayersModel;
  size: number;
}

/** Build the classifier on the bundled backbone (or `opts.backbone`) with a freshly initialised head. */
export async function buildClassifier(opts: ClassifierOptions): Promise<Classifier> {
  if (opts.backbone && opts.backbone.id !== BACKBONE_ID) return buildOnDownloaded(opts.backbone, opts);
  const bundled = loadBundled();
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: classifierTopology(bundled.topology, opts),
      weightSpecs: bundled.specs,
      weightData: bundled.weights,
    }),
    // The NSFW head's weights in the file have no layer here any more.
    { strict: false },
  );
  seedDropout(model, opts.seed ?? 0);
  return wrapClassifier(model, opts.size);
}

/** Derive the feature extractor and the head sub-models from a full classifier graph. */
export function wrapClassifier(model: tf.LayersModel, size: number): Classifier {
  // Order matters: each wraps the calls the ones before it left (ReLU6 kernel, then batch norm + ReLU6 in one pass
  // with batch statistics, then pads, then frozen batch norm folded into its convolution).
  useRelu6(model);
  useFusedBatchNorm(model);
  usePadsInConvs(model);
  useFrozenBatchNormFold(model);
  const featuresOut = model.getLayer(FEATURES_LAYER).output as tf.SymbolicTensor;
  const features = tf.model({ inputs: model.inputs, outputs: featuresOut, name: 'features' });
  // Downloaded backbones have other widths than the bundled 1280.
  const dim = featuresOut.shape[featuresOut.shape.length - 1] ?? FEATURE_DIM;
  const headIn = tf.input({ shape: [dim], name: 'features_in' });
  const dropped = model.getLayer(HEAD_DROPOUT_LAYER).apply(headIn) as tf.SymbolicTensor;
  const probs = model.getLayer(HEAD_DENSE_LAYER).apply(dropped) as tf.SymbolicTensor;
  const head = tf.model({ inputs: headIn, outputs: probs, name: 'head' });
  useFoldedPredict(features, features);
  useFoldedPredict(model, features, head);
  return { model, features, head, size };
}

/** The same flat functional graph on a downloaded Keras backbone, so saving and exporting work unchanged. */
async function buildOnDownloaded(backbone: ClassifierBackbone, opts: ClassifierOptions): Promise<Classifier> {
  if (!backbone.pooled) {
    throw new Error(
      `The backbone "${backbone.name}" (${backbone.id}) is a TensorFlow graph model: it cannot be part of a ` +
        'trainable classifier. Use it as a frozen feature extractor with buildHead() (steps 1–4), or pick a Keras ' +
        'layers backbone to fine-tune.',
    );
  }
  const topo = structuredClone(backbone.pooled.topology) as KerasTopology;
  for (const l of topo.model_config.config.layers) {
    if (l.class_name === 'InputLayer') l.config.batch_input_shape = [null, opts.size, opts.size, 3];
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: appendHead(topo, opts),
      weightSpecs: backbone.pooled.specs,
      weightData: backbone.pooled.weights,
    }),
    // Weights of the layers after the cut are in the files but have no layer here.
    { strict: false },
  );
  seedDropout(model, opts.seed ?? 0);
  return wrapClassifier(model, opts.size);
}

/** A head alone (features → probabilities), for frozen graph backbones: same layer names as in a classifier. */
export function buildHead(opts: { featureDim: number; numClasses: number; dropout: number; seed?: number }) {
  const input = tf.input({ shape: [opts.featureDim], name: 'features_in' });
  const dropped = tf.layers.dropout({ rate: opts.dropout, name: HEAD_DROPOUT_LAYER }).apply(input);
  const probs = tf.layers
    .dense({
      units: opts.numClasses,
      activation: 'softmax',
      name: HEAD_DENSE_LAYER,
      kernelInitializer: tf.initializers.glorotUniform({ seed: opts.seed }),
    })
    .apply(dropped) as tf.SymbolicTensor;
  const head = tf.model({ inputs: input, outputs: probs, name: 'head' });
  seedDropout(head, opts.seed ?? 0);
  return head;
}

export function backboneSummary() {
  return { name: BACKBONE_NAME, note: BACKBONE_NOTE, preprocessing: PREPROCESSING_NOTE };
}

/** Dispose a classifier's weights: the head sub-model re-applies the head layers, so it holds them too. */
export function disposeClassifier(c: Classifier): void {
  releaseFoldedWeights(c.model);
  c.model.dispose();
  c.head.dispose();
}
