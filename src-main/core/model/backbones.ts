/**
 * The backbone registry: the bundled offline MobileNetV2 (the default) plus ImageNet backbones that are downloaded
 * once from their public TensorFlow.js URLs and cached under `home/cache/backbones/<id>/` (see
 * `downloadBackbone.ts`).
 *
 * Every backbone takes images in [0, 1] from the data pipeline; `inputRange` records what the network itself
 * expects, and the loader rescales to it. Graph models (TF Hub / Kaggle) cannot be trained by tfjs, so they are
 * frozen feature extractors only: `canFineTune` is false for them.
 */
import type { Message, MessageCode } from '../../../src-shared/messages';
import { BACKBONE_ID, BACKBONE_NAME, BACKBONE_NOTE, FEATURE_DIM } from './backbone';

/** `bundled`: shipped with npm nsfwjs; `layers`: a Keras layers model (trainable); `graph`: a frozen TF graph. */
export type BackboneFormat = 'bundled' | 'layers' | 'graph';
/** The pixel range the network was trained on. */
export type InputRange = '[0,1]' | '[-1,1]';

export interface BackboneDescriptor {
  id: string;
  name: string;
  format: BackboneFormat;
  /** Folder URL that holds model.json and its shards; absent for the bundled backbone. */
  url?: string;
  /** Query appended to every file URL, e.g. TF Hub's `?tfjs-format=file`; not used with a mirror. */
  urlQuery?: string;
  /** Supported input sizes, the first is the default. */
  inputSizes: number[];
  /** Layers models cut before any flatten/dense accept other sizes too (fully convolutional up to the cut). */
  flexibleSize: boolean;
  inputRange: InputRange;
  /** Layers models: the layer to cut at; global average pooling is appended after it. */
  featureLayer?: string;
  featureDim: number;
  license: string;
  note: string;
  /** sha256 (hex) of model.json and each shard, by file name; absent = trust on first use. */
  sha256?: Record<string, string>;
  /** Whether steps 5–8 (unfreezing) are possible: only for models tfjs can train. */
  canFineTune: boolean;
  /** Usable without any network. */
  offline: boolean;
  /** How the URL was checked, for the people who maintain this list. */
  source: string;
}

export const DEFAULT_BACKBONE_ID = BACKBONE_ID;

/** The registry's notes as codes (src-shared/messages), by backbone id; a backbone registered later has none. */
const NOTE_CODES: Record<string, MessageCode> = {
  [BACKBONE_ID]: 'backbone.nsfwjs',
  'mobilenet_v1_0.25_224': 'backbone.mobilenetV1Small',
  'mobilenet_v1_1.0_224': 'backbone.mobilenetV1',
  'tfhub-mobilenet_v2_100_224-fv5': 'backbone.mobilenetV2',
  'tfhub-mobilenet_v3_small_100_224-fv5': 'backbone.mobilenetV3Small',
  'tfhub-mobilenet_v3_large_100_224-fv5': 'backbone.mobilenetV3Large',
  'tfhub-efficientnet_lite0-fv2': 'backbone.efficientnetLite0',
};

/** A backbone's note as a code, or nothing (the renderer then shows the English note). */
export function backboneNoteMessage(id: string): { noteMessage?: Message } {
  const code = NOTE_CODES[id];
  return code ? { noteMessage: { code, params: {} } } : {};
}
export const TFHUB_QUERY = '?tfjs-format=file';

const APACHE = 'Apache-2.0 (Google / TensorFlow models)';

/** What differs between the downloadable entries of one kind. */
type EntryFields = Pick<BackboneDescriptor, 'id' | 'name' | 'featureDim' | 'note' | 'source'> & { url: string };
/** What the entries of one kind share. */
type EntryKind = Pick<
  BackboneDescriptor,
  'format' | 'urlQuery' | 'flexibleSize' | 'inputRange' | 'featureLayer' | 'canFineTune'
>;

/** ImageNet MobileNet v1 Keras layers models from the tfjs-models bucket: trainable, cut at the last block. */
const KERAS_MOBILENET_V1: EntryKind = {
  format: 'layers',
  flexibleSize: true,
  inputRange: '[-1,1]',
  featureLayer: 'conv_pw_13_relu',
  canFineTune: true,
};
/** ImageNet feature-vector graphs from TF Hub: input in [0, 1], frozen feature extractors only. */
const TFHUB_FEATURE_VECTOR: EntryKind = {
  format: 'graph',
  urlQuery: TFHUB_QUERY,
  flexibleSize: false,
  inputRange: '[0,1]',
  canFineTune: false,
};

/** A downloadable 224-pixel ImageNet backbone (Apache-2.0) of the given kind. */
function downloadable(kind: EntryKind, e: EntryFields): BackboneDescriptor {
  const { format, urlQuery, flexibleSize, inputRange, featureLayer, canFineTune } = kind;
  return {
    id: e.id,
    name: e.name,
    format,
    url: e.url,
    ...(urlQuery ? { urlQuery } : {}),
    inputSizes: [224],
    flexibleSize,
    inputRange,
    ...(featureLayer ? { featureLayer } : {}),
    featureDim: e.featureDim,
    license: APACHE,
    note: e.note,
    canFineTune,
    offline: false,
    source: e.source,
  };
}

const BUILTIN: readonly BackboneDescriptor[] = [
  {
    id: BACKBONE_ID,
    name: BACKBONE_NAME,
    format: 'bundled',
    inputSizes: [224],
    flexibleSize: true,
    inputRange: '[0,1]',
    featureLayer: 'out_relu',
    featureDim: FEATURE_DIM,
    license: 'MIT (nsfwjs, Infinite Red); MobileNetV2 architecture Apache-2.0',
    note: BACKBONE_NOTE,
    canFineTune: true,
    offline: true,
    source: 'npm nsfwjs@4.4.0, dist/models/mobilenet_v2',
  },
  downloadable(KERAS_MOBILENET_V1, {
    id: 'mobilenet_v1_0.25_224',
    name: 'MobileNet v1 0.25 (ImageNet, Keras layers)',
    url: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224',
    featureDim: 256,
    note: 'Tiny (0.47 M parameters) ImageNet MobileNet v1 used by the official tfjs transfer-learning examples; trainable.',
    source: 'tfjs-examples webcam-transfer-learning; many repos load it and cut at conv_pw_13_relu',
  }),
  downloadable(KERAS_MOBILENET_V1, {
    id: 'mobilenet_v1_1.0_224',
    name: 'MobileNet v1 1.0 (ImageNet, Keras layers)',
    url: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_1.0_224',
    featureDim: 1024,
    note: 'Full-width ImageNet MobileNet v1 (4.2 M parameters, about 17 MB); trainable.',
    source: 'kostasx/tfjs-mobilenet-offline-model README (curl of model.json and shards) and other repos',
  }),
  downloadable(TFHUB_FEATURE_VECTOR, {
    id: 'tfhub-mobilenet_v2_100_224-fv5',
    name: 'MobileNetV2 1.0 feature vector (ImageNet, TF Hub graph)',
    url: 'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v2_100_224/feature_vector/5/default/1',
    featureDim: 1280,
    note: 'The usual ImageNet MobileNetV2; frozen feature extractor only (graph model).',
    source: 'URL seen in several public repos with loadGraphModel(…, {fromTFHub: true}); not fetched here',
  }),
  downloadable(TFHUB_FEATURE_VECTOR, {
    id: 'tfhub-mobilenet_v3_small_100_224-fv5',
    name: 'MobileNetV3 Small 1.0 feature vector (ImageNet, TF Hub graph)',
    url: 'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_small_100_224/feature_vector/5/default/1',
    featureDim: 1024,
    note: 'Small and fast; frozen feature extractor only (graph model). Used by the Teachable Machine codelab.',
    source: 'Google codelab "tensorflowjs-transfer-learning-teachable-machine" (quoted in public repos)',
  }),
  downloadable(TFHUB_FEATURE_VECTOR, {
    id: 'tfhub-mobilenet_v3_large_100_224-fv5',
    name: 'MobileNetV3 Large 1.0 feature vector (ImageNet, TF Hub graph)',
    url: 'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v3_large_100_224/feature_vector/5/default/1',
    featureDim: 1280,
    note: 'More accurate MobileNetV3; frozen feature extractor only (graph model).',
    source: 'URL seen in a public repo loading it with tfjs; not fetched here',
  }),
  downloadable(TFHUB_FEATURE_VECTOR, {
    id: 'tfhub-efficientnet_lite0-fv2',
    name: 'EfficientNet-Lite0 feature vector (ImageNet, TF Hub graph)',
    url: 'https://tfhub.dev/tensorflow/tfjs-model/efficientnet/lite0/feature-vector/2/default/1',
    featureDim: 1280,
    note: 'EfficientNet-Lite0 (4.7 M parameters); frozen feature extractor only (graph model).',
    source: 'URL seen in three public repos; not confirmed against TF Hub / Kaggle docs here',
  }),
];

const registry = new Map<string, BackboneDescriptor>(BUILTIN.map((b) => [b.id, b]));

/** Problems with a descriptor, empty when it is well-formed. */
export function validateBackbone(b: BackboneDescriptor): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]*$/.test(b.id)) problems.push(`id "${b.id}" must be a plain file name`);
  if (!b.name.trim()) problems.push('name is empty');
  if (!b.inputSizes.length || b.inputSizes.some((s) => !Number.isInteger(s) || s < 32)) {
    problems.push('inputSizes must list integers ≥ 32');
  }
  if (!Number.isInteger(b.featureDim) || b.featureDim < 1) problems.push('featureDim must be a positive integer');
  if (b.format === 'bundled') {
    if (!b.offline) problems.push('the bundled backbone is offline');
  } else {
    if (b.offline) problems.push('a downloaded backbone is not offline');
    if (!b.url || !/^https?:\/\//.test(b.url)) problems.push('url must be http(s)');
    else if (b.url.endsWith('/') || b.url.endsWith('model.json'))
      problems.push('url is the folder, without model.json');
  }
  if (b.format === 'layers' && !b.featureLayer) problems.push('layers models need a featureLayer to cut at');
  if (b.format === 'graph' && b.canFineTune) problems.push('graph models cannot be fine-tuned in tfjs');
  for (const [file, hash] of Object.entries(b.sha256 ?? {})) {
    if (!/^[0-9a-f]{64}$/.test(hash)) problems.push(`sha256 of ${file} is not 64 lowercase hex digits`);
  }
  if (!b.license.trim()) problems.push('license is empty');
  return problems;
}

export function listBackbones(): BackboneDescriptor[] {
  return [...registry.values()];
}

export function getBackbone(id: string = DEFAULT_BACKBONE_ID): BackboneDescriptor {
  const b = registry.get(id);
  if (!b) throw new Error(`Unknown backbone "${id}": use one of ${[...registry.keys()].join(', ')}.`);
  return b;
}

/** Add (or replace) an entry: for tests, mirrors and user-supplied models. Built-in entries cannot be replaced. */
export function registerBackbone(b: BackboneDescriptor): void {
  const problems = validateBackbone(b);
  if (problems.length) throw new Error(`Backbone "${b.id}" is malformed: ${problems.join('; ')}.`);
  if (BUILTIN.some((x) => x.id === b.id)) throw new Error(`Backbone "${b.id}" is built in and cannot be replaced.`);
  registry.set(b.id, b);
}

export function unregisterBackbone(id: string): void {
  if (!BUILTIN.some((x) => x.id === id)) registry.delete(id);
}

/** Throw a message naming the backbone when steps 5–8 (unfreezing) are asked of a frozen-only one. */
export function assertCanFineTune(b: BackboneDescriptor): void {
  if (b.canFineTune) return;
  throw new Error(
    `The backbone "${b.name}" (${b.id}) is a TensorFlow graph model: TensorFlow.js can use it only as a frozen ` +
      'feature extractor (steps 1–4: precompute features and train the head). Unfreezing and fine-tuning ' +
      '(steps 5–8) need a Keras layers model: choose one of ' +
      listBackbones()
        .filter((x) => x.canFineTune)
        .map((x) => x.id)
        .join(', ') +
      '.',
  );
}
