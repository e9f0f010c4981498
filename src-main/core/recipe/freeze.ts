/**
 * Freezing over the three layer groups (fast.ai's `freeze`, `freeze_to(n)`, `unfreeze`).
 *
 * BatchNorm: tfjs-layers' BatchNormalization follows the `training` call argument, not `trainable`: a frozen BN
 * layer called with `training: true` still normalises with batch statistics and updates its moving averages. So the
 * recipe never trains through a frozen backbone: while it is frozen (steps 3–4) the backbone runs as the `features`
 * model in inference mode (`predict`) and only the head trains on its output. Once unfrozen (step 8) the whole
 * model trains with `training: true`, and BatchNorm trains too (batch statistics, moving averages), as in fastai.
 */
import type * as tf from '@tensorflow/tfjs';
import type { LayerGroup } from '../model/layerGroups';

/** Groups before `n` frozen, groups from `n` on trainable. */
export function freezeTo(model: tf.LayersModel, groups: readonly LayerGroup[], n: number): void {
  groups.forEach((g, i) => {
    for (const name of g.layers) model.getLayer(name).trainable = i >= n;
  });
}

/** Only the last group (the head) trains. */
export function freeze(model: tf.LayersModel, groups: readonly LayerGroup[]): void {
  freezeTo(model, groups, groups.length - 1);
}

export function unfreeze(model: tf.LayersModel, groups: readonly LayerGroup[]): void {
  freezeTo(model, groups, 0);
}
