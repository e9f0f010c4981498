/**
 * Progressive resizing (fast.ai lesson 2: train at a small size, then continue at a larger one) for step 8.
 *
 * Steps 1–7 run at the run's size (the feature cache, the range tests). Step 8's first cycles run at the smaller
 * sizes, one cycle each in order, and the rest at the run's size, which the exported model keeps. Only the cycles at the run's
 * size save snapshots and count for the best checkpoint and patience: the smaller sizes prepare the network, and
 * validation losses at different sizes do not compare. The weights do not depend on the input size (the backbone
 * ends in global pooling), so a size change rebuilds the classifier at the new size and copies the weights and the
 * optimizer state across by the weights' original names, like a checkpoint does.
 */
import * as tf from '@tensorflow/tfjs';
import { buildClassifier, disposeClassifier } from '../model/backbone';
import { classifierBackbone } from '../model/loadBackbone';
import { layerGroups } from '../model/layerGroups';
import type { OptimizerState } from '../train/optimizers';
import { subSeed } from '../util/random';
import { unfreeze } from './freeze';
import { microBatchFor } from './memory';
import type { RecipeContext, RecipeSession } from './session';
export {
  cycleSizes,
  progressiveProblem,
  sizeSegments,
  type SizeSegment,
} from '../../../src-shared/recipe/progressiveSizes';

/** Optimizer state keyed by another model's variable names, through the weights' original names. */
function remapState(state: OptimizerState, from: tf.LayersModel, to: tf.LayersModel): OptimizerState {
  const original = new Map(from.weights.map((v) => [(v.read() as tf.Variable).name, v.originalName]));
  const target = new Map(to.weights.map((v) => [v.originalName, (v.read() as tf.Variable).name]));
  const slots: OptimizerState['slots'] = {};
  for (const [name, slot] of Object.entries(state.slots)) {
    const next = target.get(original.get(name) ?? '');
    if (next) slots[next] = slot;
  }
  return { step: state.step, slots };
}

/**
 * Rebuild the session's classifier at `size` with the same weights (unfrozen, as in step 8), its micro-batch for that
 * size, and `optimizer` (the state of the step in progress) remapped to the new variables. The old one is disposed.
 */
export async function resizeSession(
  sess: RecipeSession,
  ctx: Pick<RecipeContext, 'home'>,
  size: number,
  optimizer: OptimizerState | null,
): Promise<OptimizerState | null> {
  const { config } = sess.state;
  const old = sess.clf;
  const clf = await buildClassifier({
    size,
    numClasses: sess.ds.classes.length,
    dropout: config.dropout,
    seed: subSeed(config.seed, 'init'),
    backbone: await classifierBackbone(config.backbone, size, { home: ctx.home, needsFineTuning: true }),
  });
  const byName = new Map(old.model.weights.map((v) => [v.originalName, v]));
  for (const v of clf.model.weights) {
    const from = byName.get(v.originalName);
    if (!from) throw new Error(`Resizing to ${size} px: the model has no weight ${v.originalName}.`);
    v.write(from.read());
  }
  const remapped = optimizer ? remapState(optimizer, old.model, clf.model) : null;
  sess.optimizer?.dispose();
  sess.optimizer = null;
  disposeClassifier(old);
  sess.clf = clf;
  sess.groups = layerGroups(clf.model);
  unfreeze(clf.model, sess.groups);
  sess.microBatch = microBatchFor(size, config.batchSize, tf.getBackend());
  return remapped;
}
