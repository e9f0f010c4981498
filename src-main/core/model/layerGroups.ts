/**
 * Layer groups for discriminative learning rates (fast.ai step 7): the classifier is split into three groups,
 * earliest first, that get LR multipliers such as [1/9, 1/3, 1]:
 *   0. the backbone's early layers (stem and MobileNetV2 blocks 0–7: generic edges and textures),
 *   1. its later layers (blocks 8–16 and the final 1×1 conv, `Conv_1` … `out_relu`),
 *   2. the head (global pooling, dropout, dense softmax).
 * The split before `block_8` is near the middle of the backbone's parameters' depth, like fastai's split of a body into
 * two halves. Models without these names are split by the middle of their weighted backbone layers.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ParamGroupSpec } from '../train/learner';
import { FEATURES_LAYER } from './backbone';

export const LATE_BACKBONE_START = 'block_8_';

export interface LayerGroup extends ParamGroupSpec {
  /** Names of the layers in the group, in model order. */
  layers: string[];
}

/**
 * The three layer groups of a classifier made by `buildClassifier` (or any model whose head starts at the pooling
 * layer `global_pool`). Every weight (trainable or not) belongs to exactly one group; the Learner only updates the
 * trainable ones, so freezing and unfreezing layers needs no new groups.
 */
export function layerGroups(model: tf.LayersModel): LayerGroup[] {
  const layers = model.layers;
  let headStart = layers.findIndex((l) => l.name === FEATURES_LAYER);
  if (headStart < 0) {
    // No pooling layer by that name: the head is the last layer with weights.
    headStart = layers.findLastIndex((l) => l.weights.length > 0);
    if (headStart < 0) throw new Error('The model has no weights to split into layer groups.');
  }
  let split = layers.findIndex((l, i) => i < headStart && l.name.startsWith(LATE_BACKBONE_START));
  if (split < 0) {
    const weighted = layers.flatMap((l, i) => (i < headStart && l.weights.length > 0 ? [i] : []));
    split = weighted.length > 1 ? weighted[Math.floor(weighted.length / 2)]! : headStart;
  }
  const group = (name: string, from: number, to: number): LayerGroup => {
    const slice = layers.slice(from, to);
    return { name, layers: slice.map((l) => l.name), variables: slice.flatMap((l) => l.weights) };
  };
  return [
    group('backbone-early', 0, split),
    group('backbone-late', split, headStart),
    group('head', headStart, layers.length),
  ];
}

/** fast.ai's discriminative LRs for three groups: the head at the LR, the body at 1/3 and 1/9 of it. */
export const DISCRIMINATIVE_MULTS: readonly number[] = [1 / 9, 1 / 3, 1];
