/**
 * Interpretation of a trained run on its validation images: confusion matrix, per-class precision/recall and every
 * image sorted by loss (top losses first, with thumbnails for the worst), optionally with test-time augmentation.
 */
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { HeadTrainConfig } from '../../../src-shared/contract';
import { scanDataset } from '../data/dataset';
import { thumbnailDataUrl } from '../data/images';
import { loadModelFromDir } from '../model/modelFiles';
import { imagesToTensor } from './dataSources';
import { IO_CONCURRENCY, mapPool } from '../util/pool';
import { predictWithTta } from './tta';
import { confusionMatrix, perClassMetrics, topLosses, argMax } from './interpret';
import type { AugmentPreset } from '../data/augment';

export interface InterpretResult {
  classes: string[];
  accuracy: number;
  matrix: number[][];
  perClass: Array<{ class: string; precision: number; recall: number; f1: number; support: number }>;
  items: Array<{
    file: string;
    actual: string;
    predicted: string;
    probability: number;
    actualProbability: number;
    loss: number;
    thumbnail: string | null;
  }>;
  tta: boolean;
}

export async function interpretRunJob(
  runDir: string,
  config: HeadTrainConfig & { recipe?: { preset?: AugmentPreset } },
  opts: { tta: boolean; thumbnails?: number },
): Promise<InterpretResult> {
  const ds = await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct });
  const model = await loadModelFromDir(join(runDir, 'model'));
  const size = model.inputs[0]!.shape[1] as number;
  const preset: AugmentPreset =
    config.recipe?.preset && config.recipe.preset !== 'none' ? config.recipe.preset : 'side-on';
  const probs: number[][] = [];
  try {
    for (let start = 0; start < ds.valid.length; start += 16) {
      const chunk = ds.valid.slice(start, start + 16);
      const x = await imagesToTensor(
        chunk.map((i) => i.file),
        size,
      );
      const p = opts.tta
        ? await predictWithTta(model, x, { preset, n: 4, seed: config.seed })
        : (model.predict(x) as tf.Tensor2D);
      probs.push(...((await p.array()) as number[][]));
      tf.dispose([x, p]);
    }
  } finally {
    model.dispose();
  }
  const actual = ds.valid.map((i) => i.label);
  const predicted = probs.map((p) => argMax(p));
  const matrix = confusionMatrix(actual, predicted, ds.classes.length);
  const ranked = topLosses(
    ds.valid.map((item, i) => ({ file: item.file, actual: item.label, probabilities: probs[i]! })),
    ds.valid.length,
  );
  const withThumbs = opts.thumbnails ?? 24;
  const items = await mapPool(ranked, IO_CONCURRENCY, async (r, i) => ({
    file: relative(ds.dir, r.file),
    actual: ds.classes[r.actual]!,
    predicted: ds.classes[r.predicted]!,
    probability: r.probability,
    actualProbability: r.actualProbability,
    loss: r.loss,
    thumbnail: i < withThumbs ? await thumbnailDataUrl(r.file, 96) : null,
  }));
  const correct = actual.filter((a, i) => a === predicted[i]).length;
  return {
    classes: ds.classes,
    accuracy: correct / Math.max(1, actual.length),
    matrix,
    perClass: perClassMetrics(matrix, ds.classes),
    items,
    tta: opts.tta,
  };
}
