/**
 * Step 8's stochastic weight averaging (config `swa` = K): the mean of the last K cycle snapshots' weights, evaluated
 * on the validation images and saved in `swa/`; it becomes the run's model only when its validation loss is lower
 * than the best checkpoint's. BatchNorm: with `trainBatchNorm` off (the default) step 8 runs BatchNorm in inference
 * mode, so every snapshot has the same running statistics and their mean is exact; with it on, averaged weights
 * need statistics of their own (the snapshots' mean belongs to none of them), recomputed here as PyTorch's
 * `update_bn` does: a cumulative average of batch statistics over one pass of the training images.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { SwaResult } from '../../../src-shared/contract';
import { saveModelToDir } from '../model/modelFiles';
import type { BatchNormFields } from '../model/fusedBatchNorm';
import { evaluate, type DataSource } from '../train/learner';
import { loadWeightsInto } from './checkpoint';
import { lastSnapshots } from './ensemble';
import { averageSavedWeightsInto } from './swa';
import { augmentedSource, validImagesSource, type RecipeContext, type RecipeSession } from './session';
import type { Message } from '../../../src-shared/messages';

/** The averaged model's folder, relative to the run folder. */
export const SWA_DIR = 'swa';

/**
 * Resets every BatchNorm's running statistics and sets them to the mean of the batch statistics over one pass of
 * `data` (forward passes in training mode, `microBatch` images at a time as step 8 trained, no gradients).
 */
export async function recomputeBatchNorm(model: tf.LayersModel, data: DataSource, microBatch: number): Promise<void> {
  const bns = model.layers
    .filter((l) => l.getClassName() === 'BatchNormalization')
    .map((l) => l as unknown as BatchNormFields);
  if (bns.length === 0) return;
  const momenta = bns.map((bn) => bn.momentum);
  let seen = 0;
  try {
    for await (const batch of data.batches(0)) {
      const n = batch.x.shape[0]!;
      for (let start = 0; start < n; start += microBatch) {
        // moving ← moving − (moving − batch)·(1 − momentum): 1 − momentum = 1/(seen+1) keeps the running mean.
        for (const bn of bns) bn.momentum = seen / (seen + 1);
        const size = Math.min(microBatch, n - start);
        tf.tidy(() => void model.apply(tf.slice(batch.x, start, size), { training: true }));
        seen++;
      }
      tf.dispose([batch.x, batch.y]);
    }
  } finally {
    bns.forEach((bn, i) => (bn.momentum = momenta[i]!));
  }
}

/**
 * Averages the last `k` snapshots into the session's model, evaluates and saves it, and leaves in the model the
 * weights the run keeps: the average when it beats `bestValidLoss` (the best checkpoint's, evaluated the same way),
 * else the best checkpoint (`best/`). Null when there are fewer than two snapshots to average.
 */
export async function applySwa(
  sess: RecipeSession,
  ctx: RecipeContext,
  k: number,
  bestValidLoss: number | null,
): Promise<SwaResult | null> {
  const snapshots = lastSnapshots(sess.state.snapshots, k);
  if (snapshots.length < 2) return null;
  averageSavedWeightsInto(
    sess.clf.model,
    snapshots.map((rel) => join(ctx.runDir, rel)),
  );
  const recompute = sess.state.config.trainBatchNorm ?? false;
  if (recompute) await recomputeBatchNorm(sess.clf.model, augmentedSource(sess), sess.microBatch);
  const r = await evaluate(sess.clf.model, validImagesSource(sess));
  await saveModelToDir(sess.clf.model, join(ctx.runDir, SWA_DIR));
  const kept = bestValidLoss === null || r.loss < bestValidLoss;
  if (!kept) loadWeightsInto(sess.clf.model, join(ctx.runDir, 'best'));
  return {
    k: snapshots.length,
    snapshots,
    validLoss: r.loss,
    validAccuracy: r.accuracy,
    bestValidLoss,
    kept,
    batchNorm: recompute ? 'recomputed' : 'unchanged',
  };
}

/** Step 8's note on SWA: which model the run keeps and why. */
export function swaNote(s: SwaResult): Message {
  const params = { k: s.k, loss: s.validLoss.toFixed(4), best: s.bestValidLoss?.toFixed(4) ?? '' };
  if (!s.kept) return { code: 'stepNote.swaNotKept', params };
  return { code: s.bestValidLoss === null ? 'stepNote.swaKeptNoBest' : 'stepNote.swaKept', params };
}

/** The folder of the weights the run keeps after step 8: `swa/` when the average won, else `best/`. */
export function keptWeightsDir(sess: RecipeSession): string {
  const step8 = sess.state.results.find((r) => r.step === 8);
  return step8?.swa?.kept ? SWA_DIR : 'best';
}
