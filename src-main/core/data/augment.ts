/**
 * Seeded data augmentation on image batches (NHWC floats in [0, 1]), following fast.ai's presets:
 * `transforms_side_on` (photos of things: horizontal flips) and `transforms_top_down` (satellite, microscopy,
 * fabric: all eight flips/quarter turns), each with a random resized crop, a small rotation and lighting jitter.
 *
 * Like fastai v2, the geometric transforms (crop, flip/dihedral, rotation) are composed into one affine matrix per
 * image and applied with a single `tf.image.transform` (one bilinear resampling instead of three, per-image angles in
 * one kernel call). Rotations read past the border; fastai reflects there, and since wasm's 'reflect' fill mode is
 * wrong for negative coordinates (tfjs 4.22) the batch is mirror-padded first, which is equivalent and backend-proof.
 * (tf.image.cropAndResize and rotateWithOffset also run on wasm, but would mean three resamplings, black corners
 * and one angle per batch.)
 */
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { decodeSquare } from './images';
import { IO_CONCURRENCY, mapPool } from '../util/pool';
import { mulberry32, subSeed } from '../util/random';

export type AugmentPreset = 'none' | 'side-on' | 'top-down';
export const AUGMENT_PRESETS: readonly AugmentPreset[] = ['none', 'side-on', 'top-down'];

/** What to do to each image; every transform is drawn independently per image with probability `p`. */
export interface AugmentConfig {
  /** Random resized crop: `scale` is the fraction of the area kept, `ratio` the aspect-ratio range (log-uniform). */
  crop: { p: number; scale: [number, number]; ratio: [number, number] } | null;
  /** 'horizontal' mirrors left-right; 'dihedral' picks one of the 8 flips/quarter turns uniformly (identity too). */
  flip: { p: number; kind: 'horizontal' | 'dihedral' } | null;
  /** Rotation by a uniform angle in ±maxDeg degrees. */
  rotate: { p: number; maxDeg: number } | null;
  /** Brightness offset in ±max and contrast factor in 1±max, each drawn with probability p. */
  lighting: { p: number; max: number } | null;
}

// fastai's defaults: max_rotate=10, max_lighting=0.2, p_affine=p_lighting=0.75. Crops stay mild, like fast.ai
// v0.7's transforms_side_on (zoom up to 1.1 ≈ 80 % of the area): fastbook's min_scale 0.35 cut too much of small
// objects in small images and cost accuracy in our Fashion-MNIST benchmark.
const CROP: AugmentConfig['crop'] = { p: 1, scale: [0.75, 1], ratio: [3 / 4, 4 / 3] };
const ROTATE: AugmentConfig['rotate'] = { p: 0.75, maxDeg: 10 };
const LIGHTING: AugmentConfig['lighting'] = { p: 0.75, max: 0.2 };

export const PRESET_CONFIGS: Readonly<Record<AugmentPreset, AugmentConfig>> = {
  none: { crop: null, flip: null, rotate: null, lighting: null },
  'side-on': { crop: CROP, flip: { p: 0.5, kind: 'horizontal' }, rotate: ROTATE, lighting: LIGHTING },
  // Uniform over the 8 symmetries: for top-down images no orientation is more natural than another.
  'top-down': { crop: CROP, flip: { p: 1, kind: 'dihedral' }, rotate: ROTATE, lighting: LIGHTING },
};

/** 2×2 matrices [a, b, c, d] = [[a, b], [c, d]]: the 8 symmetries of the square; the first 4 keep the axes. */
const DIHEDRAL: readonly (readonly [number, number, number, number])[] = [
  [1, 0, 0, 1],
  [-1, 0, 0, 1],
  [1, 0, 0, -1],
  [-1, 0, 0, -1],
  [0, 1, 1, 0],
  [0, -1, 1, 0],
  [0, 1, -1, 0],
  [0, -1, -1, 0],
];

interface Draw {
  /** Output pixel → input pixel (x = column, y = row), tf.image.transform's 8-vector without the padding shift. */
  matrix: number[];
  rotated: boolean;
  contrast: number;
  brightness: number;
}

const uniform = (rand: () => number, lo: number, hi: number) => lo + (hi - lo) * rand();

/** fastai's RandomResizedCrop sampling: up to 10 tries for a box inside the image, else the whole image. */
function sampleCrop(crop: NonNullable<AugmentConfig['crop']>, h: number, w: number, rand: () => number) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const area = uniform(rand, crop.scale[0], crop.scale[1]);
    const ratio = Math.exp(uniform(rand, Math.log(crop.ratio[0]), Math.log(crop.ratio[1])));
    const sw = Math.sqrt((area * ratio * h) / w);
    const sh = Math.sqrt((area / ratio) * (w / h));
    if (sw <= 1 && sh <= 1) return { sw, sh, cx: uniform(rand, -1, 1) * (1 - sw), cy: uniform(rand, -1, 1) * (1 - sh) };
  }
  return { sw: 1, sh: 1, cx: 0, cy: 0 };
}

/** Draw one image's parameters; the order of `rand` calls is fixed, so a seed always gives the same batch. */
function drawImage(cfg: AugmentConfig, h: number, w: number, rand: () => number): Draw {
  const box = cfg.crop && rand() < cfg.crop.p ? sampleCrop(cfg.crop, h, w, rand) : { sw: 1, sh: 1, cx: 0, cy: 0 };
  let d = DIHEDRAL[0]!;
  if (cfg.flip && rand() < cfg.flip.p) {
    // Quarter turns of a non-square image would leave it; keep to the 4 axis-preserving flips there.
    const k = cfg.flip.kind === 'horizontal' ? 1 : Math.floor(rand() * (h === w ? 8 : 4));
    d = DIHEDRAL[k]!;
  }
  const angle = cfg.rotate && rand() < cfg.rotate.p ? (uniform(rand, -1, 1) * cfg.rotate.maxDeg * Math.PI) / 180 : 0;
  const lit = cfg.lighting;
  const brightness = lit && rand() < lit.p ? uniform(rand, -lit.max, lit.max) : 0;
  const contrast = lit && rand() < lit.p ? 1 + uniform(rand, -lit.max, lit.max) : 1;

  // input = centre + cropCentre + R·S·D·(output − centre), in pixels about the image centre.
  const [ox, oy] = [(w - 1) / 2, (h - 1) / 2];
  const [cos, sin] = angle === 0 ? [1, 0] : [Math.cos(angle), Math.sin(angle)];
  // S·D first (crop scale per axis), then R: rotating after scaling keeps it a true rotation on non-square crops.
  const sd = [box.sw * d[0], box.sw * d[1], box.sh * d[2], box.sh * d[3]];
  const m = [
    cos * sd[0]! - sin * sd[2]!,
    cos * sd[1]! - sin * sd[3]!,
    sin * sd[0]! + cos * sd[2]!,
    sin * sd[1]! + cos * sd[3]!,
  ];
  const tx = ox + box.cx * ox - (m[0]! * ox + m[1]! * oy);
  const ty = oy + box.cy * oy - (m[2]! * ox + m[3]! * oy);
  return { matrix: [m[0]!, m[1]!, tx, m[2]!, m[3]!, ty, 0, 0], rotated: angle !== 0, contrast, brightness };
}

const isIdentity = (m: number[]) => m.every((v, i) => v === [1, 0, 0, 0, 1, 0, 0, 0][i]);

/**
 * Augment a batch with an explicit config (presets, TTA and tests use this). Returns a new tensor; the caller
 * still owns and disposes `x`.
 */
export function augmentWith(x: tf.Tensor4D, cfg: AugmentConfig, rand: () => number): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const draws = Array.from({ length: n }, () => drawImage(cfg, h, w, rand));
  return tf.tidy(() => {
    let out: tf.Tensor4D = x;
    if (draws.some((d) => !isIdentity(d.matrix))) {
      // Enough mirrored border for the largest rotation about any crop; 'nearest' fill is only a safety net.
      const maxRad = ((cfg.rotate?.maxDeg ?? 0) * Math.PI) / 180;
      // A crop's far corner moves out by at most half its long side × (|sin| + 1 − cos).
      const slack = Math.abs(Math.sin(maxRad)) + 1 - Math.cos(maxRad);
      const pad = draws.some((d) => d.rotated)
        ? Math.min(h - 1, w - 1, Math.ceil((Math.max(h, w) / 2) * slack) + 1)
        : 0;
      const side: [number, number] = [pad, pad];
      const src = pad > 0 ? tf.mirrorPad(x, [[0, 0], side, side, [0, 0]], 'symmetric') : x;
      const mats = draws.map((d) => d.matrix.map((v, i) => (i === 2 || i === 5 ? v + pad : v)));
      const warp = (img: tf.Tensor4D, m: number[][]) =>
        tf.image.transform(img, tf.tensor2d(m, [m.length, 8]), 'bilinear', 'nearest', 0, [h, w]);
      // tfjs-backend-cpu 4.22's Transform returns after the first image of a batch (zeros after it): one at a time.
      out =
        tf.getBackend() === 'cpu'
          ? tf.concat(
              mats.map((m, i) => warp(tf.slice(src, [i, 0, 0, 0], [1, -1, -1, -1]), [m])),
              0,
            )
          : warp(src, mats);
    }
    if (draws.some((d) => d.contrast !== 1 || d.brightness !== 0)) {
      // y = (x − mean)·c + mean + b, written as x·c + (mean·(1 − c) + b) so untouched images stay bit-exact.
      const perImage = (f: (d: Draw) => number) => tf.tensor4d(draws.map(f), [n, 1, 1, 1]);
      const c = perImage((d) => d.contrast);
      const b = perImage((d) => d.brightness);
      const mean = tf.mean(out, [1, 2, 3], true);
      out = tf.add(tf.mul(out, c), tf.add(tf.mul(mean, tf.sub(1, c)), b));
    }
    // Bilinear resampling stays in range; lighting can leave it.
    return out === x ? tf.clone(x) : tf.clipByValue(out, 0, 1);
  });
}

/** Augment a batch with a preset. `rand` is consumed in a fixed order, so a seeded stream reproduces the batch. */
export function augmentBatch(x: tf.Tensor4D, preset: AugmentPreset, rand: () => number): tf.Tensor4D {
  return augmentWith(x, PRESET_CONFIGS[preset], rand);
}

const pct = (v: number) => `${Math.round(v * 100)}%`;

/** One line for people, generated from the config so the text cannot drift from what runs. */
export function describeConfig(cfg: AugmentConfig): string {
  const parts: string[] = [];
  if (cfg.crop) parts.push(`random crops keeping ${pct(cfg.crop.scale[0])}–${pct(cfg.crop.scale[1])} of the area`);
  if (cfg.flip?.kind === 'horizontal') parts.push('left-right flips');
  if (cfg.flip?.kind === 'dihedral') parts.push('all 8 flips and quarter turns');
  if (cfg.rotate) parts.push(`rotations up to ±${cfg.rotate.maxDeg}°`);
  if (cfg.lighting) parts.push(`brightness and contrast ±${pct(cfg.lighting.max)}`);
  return parts.length ? parts.join(', ') : 'no augmentation';
}

export function describePreset(preset: AugmentPreset): string {
  const what = describeConfig(PRESET_CONFIGS[preset]);
  if (preset === 'none') return 'None: every epoch sees the same images.';
  if (preset === 'side-on') return `Side-on (photos of things): ${what}.`;
  return `Top-down (satellite, microscopy, fabric): ${what}.`;
}

/**
 * PNG data URLs of `count` augmented samples for the preview grid, cycling through `files` (pass one file to see
 * its variations). Seeded: the same arguments give the same pictures.
 */
export async function augmentPreview(
  files: string[],
  size: number,
  preset: AugmentPreset,
  seed: number,
  count: number,
): Promise<string[]> {
  if (files.length === 0 || count <= 0) return [];
  const unique = [...new Set(files.slice(0, count))];
  const decoded = new Map(
    (await mapPool(unique, IO_CONCURRENCY, (f) => decodeSquare(f, size))).map((px, i) => [unique[i]!, px]),
  );
  const pixels = size * size * 3;
  const flat = new Float32Array(count * pixels);
  for (let i = 0; i < count; i++) flat.set(decoded.get(files[i % files.length]!)!, i * pixels);
  const x = tf.tensor4d(flat, [count, size, size, 3]);
  const y = augmentBatch(x, preset, mulberry32(subSeed(seed, 'preview')));
  const data = await y.data();
  tf.dispose([x, y]);
  return mapPool(
    Array.from({ length: count }, (_, i) => i),
    IO_CONCURRENCY,
    async (i) => {
      const bytes = Buffer.alloc(pixels);
      for (let j = 0; j < pixels; j++) bytes[j] = Math.round(data[i * pixels + j]! * 255);
      const png = await sharp(bytes, { raw: { width: size, height: size, channels: 3 } })
        .png()
        .toBuffer();
      return `data:image/png;base64,${png.toString('base64')}`;
    },
  );
}
