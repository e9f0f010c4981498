/**
 * Mixup and cutmix (fastai's MixUp and CutMix callbacks) as a DataSource wrapper: each training batch is blended
 * with a seeded shuffle of itself, and its one-hot targets become the matching soft targets. A regulariser for few
 * images: the network never sees the same input twice and is pushed towards linear behaviour between classes.
 * Validation sources are never wrapped. The plans are pure functions of a seeded stream, so a seed repeats a run.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, DataSource } from './learner';
import { mulberry32, shuffled, subSeed } from '../util/random';
import type { MixConfig } from '../../../src-shared/contract';

export type MixKind = MixConfig['kind'];

export interface MixOptions {
  kind: MixKind;
  /** λ ~ Beta(α, α): small α mixes little (λ near 0 or 1), α = 1 is uniform. fastai's default: 0.4 (mixup). */
  alpha: number;
  /** Each epoch draws from `subSeed(seed, 'mix' + epoch)`, consumed batch after batch. */
  seed: number;
}

/** A rectangle of pixels, [top, top + height) × [left, left + width). */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * How one batch is mixed: item i becomes λ_i · item i + (1 − λ_i) · item perm[i], for its pixels (mixup) or
 * its targets (both). Cutmix pastes `box` of item perm[i] into item i and λ is the share of pixels left.
 */
export interface MixPlan {
  perm: number[];
  lambdas: number[];
  box: Box | null;
}

/** A standard normal sample (Box–Muller; 1 − rand() keeps the log finite). */
function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/**
 * log of a Gamma(shape, 1) sample: Marsaglia–Tsang, with shape < 1 boosted by U^(1/shape). In logs because that
 * factor underflows to 0 for small shapes, and Beta's ratio of two zeros would be NaN.
 */
function logGamma(shape: number, rand: () => number): number {
  if (shape < 1) return logGamma(shape + 1, rand) + Math.log(1 - rand()) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = gaussian(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    if (Math.log(1 - rand()) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d * v);
  }
}

/** A Beta(a, b) sample: X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b). */
export function sampleBeta(a: number, b: number, rand: () => number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`Beta parameters must be > 0, got ${a}, ${b}`);
  const lx = logGamma(a, rand);
  const ly = logGamma(b, rand);
  return 1 / (1 + Math.exp(ly - lx));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Mixup as fastai does it: one λ per item, max(λ, 1 − λ), so each item stays mostly itself. */
export function mixupPlan(n: number, alpha: number, rand: () => number): MixPlan {
  const perm = shuffled(range(n), rand);
  const lambdas = perm.map(() => {
    const l = sampleBeta(alpha, alpha, rand);
    return Math.max(l, 1 - l);
  });
  return { perm, lambdas, box: null };
}

/**
 * Cutmix as fastai does it: one box per batch with area ≈ (1 − λ) of the image, centred anywhere and clipped at the
 * borders; λ is then recomputed from the clipped box, so the targets match the pixels actually pasted.
 */
export function cutmixPlan(n: number, height: number, width: number, alpha: number, rand: () => number): MixPlan {
  const perm = shuffled(range(n), rand);
  const cut = Math.sqrt(1 - sampleBeta(alpha, alpha, rand));
  const halfH = Math.floor(Math.round(height * cut) / 2);
  const halfW = Math.floor(Math.round(width * cut) / 2);
  const cy = Math.floor(rand() * height);
  const cx = Math.floor(rand() * width);
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const top = clamp(cy - halfH, height);
  const left = clamp(cx - halfW, width);
  const box = { top, left, height: clamp(cy + halfH, height) - top, width: clamp(cx + halfW, width) - left };
  const lambda = 1 - (box.height * box.width) / (height * width);
  return { perm, lambdas: perm.map(() => lambda), box };
}

/** The plan for a batch of images [n, h, w, c] (cutmix needs images; mixup mixes any rows). */
export function mixPlanFor(kind: MixKind, shape: readonly number[], alpha: number, rand: () => number): MixPlan {
  const n = shape[0]!;
  if (kind === 'mixup') return mixupPlan(n, alpha, rand);
  if (shape.length !== 4) throw new Error(`cutmix needs image batches [n, h, w, c], got shape [${shape.join(', ')}]`);
  return cutmixPlan(n, shape[1]!, shape[2]!, alpha, rand);
}

/** 1 inside the box, 0 outside, shaped [1, h, w, 1] to broadcast over the batch and the channels. */
function boxMask(box: Box, height: number, width: number): tf.Tensor4D {
  const mask = new Float32Array(height * width);
  for (let r = box.top; r < box.top + box.height; r++)
    mask.fill(1, r * width + box.left, r * width + box.left + box.width);
  return tf.tensor4d(mask, [1, height, width, 1]);
}

/** The mixed batch (new tensors; the caller still owns and disposes `batch`). */
export function mixBatch(batch: Batch, plan: MixPlan): Batch {
  return tf.tidy(() => {
    const n = batch.x.shape[0]!;
    const perm = tf.tensor1d(plan.perm, 'int32');
    const lam = tf.tensor1d(plan.lambdas);
    const y = tf.add(
      tf.mul(batch.y, lam.reshape([n, 1])),
      tf.mul(tf.gather(batch.y, perm), tf.sub(1, lam).reshape([n, 1])),
    );
    const other = tf.gather(batch.x, perm);
    if (plan.box) {
      const mask = boxMask(plan.box, batch.x.shape[1]!, batch.x.shape[2]!);
      return { x: tf.add(tf.mul(batch.x, tf.sub(1, mask)), tf.mul(other, mask)), y };
    }
    const rows = [n, ...batch.x.shape.slice(1).map(() => 1)];
    return { x: tf.add(tf.mul(batch.x, lam.reshape(rows)), tf.mul(other, tf.sub(1, lam).reshape(rows))), y };
  });
}

/** Training batches, each mixed with a seeded shuffle of itself; every input batch is disposed once mixed. */
export class MixSource implements DataSource {
  readonly numBatches: number;
  readonly numItems: number;

  constructor(
    private readonly source: DataSource,
    private readonly opts: MixOptions,
  ) {
    if (!(opts.alpha > 0)) throw new RangeError(`${opts.kind} needs alpha > 0, got ${opts.alpha}`);
    this.numBatches = source.numBatches;
    this.numItems = source.numItems;
  }

  async *batches(epoch: number): AsyncIterable<Batch> {
    // One stream per epoch, like the augmentation's: epoch k mixes the same whether or not earlier ones ran.
    const rand = mulberry32(subSeed(this.opts.seed, `mix${epoch}`));
    for await (const b of this.source.batches(epoch)) {
      let mixed: Batch;
      try {
        mixed = mixBatch(b, mixPlanFor(this.opts.kind, b.x.shape, this.opts.alpha, rand));
      } finally {
        tf.dispose([b.x, b.y]);
      }
      yield mixed;
    }
  }
}

/** `source` mixed as `mix` asks, or unchanged when mixing is off (null or absent). */
export function withMix(source: DataSource, mix: MixConfig | null | undefined, seed: number): DataSource {
  return mix ? new MixSource(source, { ...mix, seed: subSeed(seed, 'mix') }) : source;
}
