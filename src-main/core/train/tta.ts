/**
 * Test-time augmentation and ensembles. TTA follows fastai v1's `TTA`: final = β·p(original) + (1 − β)·mean of
 * p(augmented views), β = 0.4 by default (fastai v2's `tta` uses the same blend with β = 0.25; we keep v1's, which
 * trusts the unaugmented view a little more and so never strays far from plain prediction). The views are light:
 * the preset's flips plus a small square crop (≥ 80% of the area, no aspect change, rotation or lighting), because
 * heavy crops can cut the object out and make TTA worse than none.
 */
import * as tf from '@tensorflow/tfjs';
import { augmentWith, type AugmentConfig, type AugmentPreset } from '../data/augment';
import { mulberry32, subSeed } from '../util/random';

export interface TtaOptions {
  preset: AugmentPreset;
  /** Number of augmented views besides the original. */
  n: number;
  seed: number;
  /** Weight of the original view; default 0.4 (fastai v1). */
  beta?: number;
  /** Smallest fraction of the area a view's crop keeps; 1 means flips only. Default 0.8. */
  minScale?: number;
}

export const DEFAULT_TTA_BETA = 0.4;
export const DEFAULT_TTA_MIN_SCALE = 0.8;

/** The light view config for a preset, or null when the preset allows no augmentation at all. */
export function ttaConfig(preset: AugmentPreset, minScale = DEFAULT_TTA_MIN_SCALE): AugmentConfig | null {
  if (preset === 'none') return null; // trained without augmentation: flips may not be label-preserving
  return {
    crop: minScale < 1 ? { p: 1, scale: [minScale, 1], ratio: [1, 1] } : null,
    flip: preset === 'side-on' ? { p: 0.5, kind: 'horizontal' } : { p: 1, kind: 'dihedral' },
    rotate: null,
    lighting: null,
  };
}

/**
 * Class probabilities for `x` with TTA. Returns a new [n, classes] tensor; the caller disposes it and `x`.
 * With preset 'none' or n = 0 this is the plain prediction.
 */
export async function predictWithTta(model: tf.LayersModel, x: tf.Tensor4D, opts: TtaOptions): Promise<tf.Tensor2D> {
  const beta = opts.beta ?? DEFAULT_TTA_BETA;
  if (!(beta >= 0 && beta <= 1)) throw new RangeError(`TTA beta must be in [0, 1], got ${beta}`);
  if (!Number.isInteger(opts.n) || opts.n < 0) throw new RangeError(`TTA views must be a whole number ≥ 0`);
  const orig = tf.tidy(() => model.predict(x) as tf.Tensor2D);
  const cfg = ttaConfig(opts.preset, opts.minScale);
  if (!cfg || opts.n === 0) return orig;
  const rand = mulberry32(subSeed(opts.seed, 'tta'));
  let sum: tf.Tensor = tf.zerosLike(orig);
  try {
    for (let i = 0; i < opts.n; i++) {
      const next = tf.tidy(() => {
        const view = augmentWith(x, cfg, rand);
        return tf.add(sum, model.predict(view) as tf.Tensor2D);
      });
      sum.dispose();
      sum = next;
      // Let the event loop breathe between views (progress messages, cancel).
      await tf.nextFrame();
    }
    return tf.tidy(() => tf.add(tf.mul(orig, beta), tf.mul(sum, (1 - beta) / opts.n)) as tf.Tensor2D);
  } finally {
    tf.dispose([orig, sum]);
  }
}

/** Mean of several models' probabilities (snapshot ensembles); returns a new tensor, the inputs stay the caller's. */
export function ensembleAverage(probs: tf.Tensor2D[]): tf.Tensor2D {
  if (probs.length === 0) throw new RangeError('ensembleAverage needs at least one set of probabilities');
  return tf.tidy(() => tf.div(tf.addN(probs), probs.length));
}
