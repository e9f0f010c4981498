/**
 * Loading a registry backbone (backbones.ts) as a feature extractor: the bundled one offline, the others from the
 * verified cache after downloading them when needed (downloadBackbone.ts).
 */
import { normalize } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BACKBONE_ID, buildClassifier, disposeClassifier, type ClassifierBackbone } from './backbone';
import { assertCanFineTune, getBackbone, type BackboneDescriptor } from './backbones';
import { downloadBackbone, type DownloadOptions } from './downloadBackbone';
import { pooledTopology } from './kerasSurgery';
import { concatWeights } from './modelJson';

/** A backbone ready to use: `predict` maps images in [0, 1] to pooled features. */
export interface LoadedBackbone extends ClassifierBackbone {
  descriptor: BackboneDescriptor;
  format: BackboneDescriptor['format'];
  size: number;
  featureDim: number;
  canFineTune: boolean;
  /** Keras backbones (downloaded or bundled): image → pooled features. */
  model?: tf.LayersModel;
  /** Graph backbones: the frozen TF graph. */
  graph?: tf.GraphModel;
  /** [n, size, size, 3] in [0, 1] → [n, featureDim]. */
  predict(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

export interface LoadBackboneOptions extends DownloadOptions {
  size?: number;
}

function checkSize(desc: BackboneDescriptor, size: number): void {
  const ok = desc.flexibleSize ? Number.isInteger(size) && size >= 32 : desc.inputSizes.includes(size);
  if (!ok) {
    throw new Error(
      `The backbone "${desc.id}" takes input sizes ${desc.flexibleSize ? '≥ 32 (best: ' : ''}` +
        `${desc.inputSizes.join(', ')}${desc.flexibleSize ? ')' : ''}, not ${size}.`,
    );
  }
}

/** A Keras model image → pooled features as a LoadedBackbone. */
function layersBackbone(
  desc: BackboneDescriptor,
  size: number,
  model: tf.LayersModel,
  pooled: LoadedBackbone['pooled'],
  dispose: () => void,
): LoadedBackbone {
  const shape = model.outputs[0]!.shape;
  return {
    id: desc.id,
    name: desc.name,
    descriptor: desc,
    format: desc.format,
    size,
    featureDim: shape[shape.length - 1] ?? desc.featureDim,
    canFineTune: desc.canFineTune,
    pooled,
    model,
    predict: (images) => model.predict(images) as tf.Tensor2D,
    dispose,
  };
}

/**
 * Load a backbone by id, downloading it first when needed (see `downloadBackbone`). Keras backbones come back cut
 * at their feature layer with global pooling appended, ready for `buildClassifier({ backbone })`; graph backbones
 * come back as frozen feature extractors.
 */
export async function loadBackbone(id: string, opts: LoadBackboneOptions): Promise<LoadedBackbone> {
  const desc = getBackbone(id);
  const size = opts.size ?? desc.inputSizes[0]!;
  checkSize(desc, size);

  if (desc.format === 'bundled' || desc.id === BACKBONE_ID) {
    const clf = await buildClassifier({ size, numClasses: 1, dropout: 0 });
    return layersBackbone(desc, size, clf.features, undefined, () => disposeClassifier(clf));
  }

  const cached = await downloadBackbone(desc, opts);
  const json = cached.modelJson;
  const { specs, weights } = concatWeights(json, (p) => cached.contents.get(normalize(p).replace(/\\/g, '/'))!);

  if (desc.format === 'layers') {
    const topology = pooledTopology(json.modelTopology, desc, size);
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs, weightData: weights }),
        // Weights of the layers past the cut have no layer here.
        { strict: false },
      );
    } catch (err) {
      throw new Error(`The backbone "${desc.id}" could not be built: ${(err as Error).message}`, { cause: err });
    }
    return layersBackbone(desc, size, model, { topology, specs, weights }, () => model.dispose());
  }

  const artifacts = await tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async () => [
    specs,
    weights,
  ]);
  let graph: tf.GraphModel;
  try {
    graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(`The graph backbone "${desc.id}" could not be loaded: ${(err as Error).message}`, { cause: err });
  }
  const scale = desc.inputRange === '[-1,1]';
  const predict = (images: tf.Tensor4D): tf.Tensor2D =>
    tf.tidy(() => {
      const x = scale ? images.mul(2).sub(1) : images;
      let out = graph.predict(x) as tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;
      if (!(out instanceof tf.Tensor)) out = Array.isArray(out) ? out[0]! : Object.values(out)[0]!;
      // Some feature-vector graphs stop before pooling.
      return (out.rank === 4 ? out.mean([1, 2]) : out.reshape([out.shape[0]!, -1])) as tf.Tensor2D;
    });
  const probe = tf.tidy(() => predict(tf.zeros([1, size, size, 3])));
  const featureDim = probe.shape[1];
  probe.dispose();
  return {
    id: desc.id,
    name: desc.name,
    descriptor: desc,
    format: 'graph',
    size,
    featureDim,
    canFineTune: false,
    graph,
    predict,
    dispose: () => graph.dispose(),
  };
}

/**
 * The backbone a classifier should be built on: undefined for the bundled default, else the registry entry
 * downloaded (or read from the verified cache). Its weights are copied into the classifier, so it is disposed here.
 */
export async function classifierBackbone(
  id: string | undefined,
  size: number,
  opts: { home?: string; onProgress?: (fraction: number) => void; needsFineTuning?: boolean },
): Promise<ClassifierBackbone | undefined> {
  if (!id || id === BACKBONE_ID) return undefined;
  const desc = getBackbone(id);
  if (opts.needsFineTuning) assertCanFineTune(desc);
  if (!opts.home) throw new Error(`Backbone "${id}" needs the home folder for its download cache.`);
  const loaded = await loadBackbone(id, {
    home: opts.home,
    size,
    onProgress: (p) => opts.onProgress?.(p.fraction ?? 0),
  });
  const { id: loadedId, name, pooled } = loaded;
  loaded.dispose();
  return { id: loadedId, name, pooled };
}
