/** A Learner for the training-loop tests: one model, one optimizer of its own, all the weights in one layer group. */
import type * as tf from '@tensorflow/tfjs';
import { Learner, type Callback } from '../../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer, type OptimizerConfig } from '../../src-main/core/train/optimizers';

/** A Learner over all of `model`'s trainable weights as the one group `group` (default 'head'), with a new optimizer. */
export function wholeModelLearner(
  model: tf.LayersModel,
  opts: { group?: string; optimizer?: OptimizerConfig; callbacks?: Callback[] } = {},
): Learner {
  const { group = 'head', optimizer = DEFAULT_OPTIMIZER, callbacks = [] } = opts;
  return new Learner(model, new Optimizer(optimizer), [{ name: group, variables: model.trainableWeights }], callbacks);
}

/** Frees what wholeModelLearner made: the optimizer's state and the model's weights. */
export function disposeLearner(learner: Learner): void {
  learner.optimizer.dispose();
  learner.model.dispose();
}
