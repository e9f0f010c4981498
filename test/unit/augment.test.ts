import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { initBackend } from '../../src-main/core/tf/backend';
import {
  AUGMENT_PRESETS,
  augmentBatch,
  augmentPreview,
  augmentWith,
  describePreset,
  type AugmentConfig,
} from '../../src-main/core/data/augment';
import { AugmentedImageDataSource } from '../../src-main/core/train/augmentedSource';
import { mulberry32 } from '../../src-main/core/util/random';
import { makeShapeDataset, SHAPE_CLASSES } from '../helpers/images';

const backend = await initBackend('wasm');

const OFF: AugmentConfig = { crop: null, flip: null, rotate: null, lighting: null };

/** A seeded batch of noise images in [0, 1]. */
function noise(n: number, size: number, seed: number): tf.Tensor4D {
  const rand = mulberry32(seed);
  return tf.tensor4d(
    Float32Array.from({ length: n * size * size * 3 }, () => rand()),
    [n, size, size, 3],
  );
}

/** Run `fn` on a fresh noise batch and return the output values; disposes everything. */
function run(fn: (x: tf.Tensor4D) => tf.Tensor4D, n = 4, size = 16, seed = 1): Float32Array {
  const x = noise(n, size, seed);
  const y = fn(x);
  assert.deepEqual(y.shape, x.shape);
  const out = y.dataSync() as Float32Array;
  tf.dispose([x, y]);
  return out;
}

test('runs on the wasm backend', () => {
  assert.equal(backend.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
});

test('every preset keeps the shape and the [0, 1] range; same seed same batch, another seed another', () => {
  for (const preset of AUGMENT_PRESETS) {
    const a = run((x) => augmentBatch(x, preset, mulberry32(5)));
    assert.ok(
      a.every((v) => v >= 0 && v <= 1),
      `${preset}: values in [0, 1]`,
    );
    assert.deepEqual(
      run((x) => augmentBatch(x, preset, mulberry32(5))),
      a,
      `${preset}: reproducible`,
    );
    const b = run((x) => augmentBatch(x, preset, mulberry32(6)));
    if (preset === 'none') assert.deepEqual(b, a);
    else assert.notDeepEqual(b, a, `${preset}: seed matters`);
  }
});

test("'none' is the identity and returns a new tensor", () => {
  const x = noise(3, 8, 2);
  const y = augmentBatch(x, 'none', mulberry32(1));
  assert.notEqual(y, x);
  assert.deepEqual(y.dataSync(), x.dataSync());
  x.dispose();
  assert.equal(y.isDisposed, false, 'the output does not share the input');
  y.dispose();
});

test('a horizontal flip really mirrors an asymmetric image', () => {
  const [h, w] = [5, 7];
  // A bright pixel near the left edge on a column gradient: no left-right symmetry.
  const px = (r: number, c: number, ch: number) => (r === 1 && c === 1 ? 1 : (c / w) * 0.5 + ch * 0.1);
  const img = Array.from({ length: h }, (_, r) =>
    Array.from({ length: w }, (_, c) => [0, 1, 2].map((ch) => px(r, c, ch))),
  );
  const x = tf.tensor4d([img]);
  const y = augmentWith(x, { ...OFF, flip: { p: 1, kind: 'horizontal' } }, mulberry32(1));
  // Compare against the float32 input, mirrored in JS.
  const mirrored = x.arraySync()[0]!.map((row) => [...row].reverse());
  assert.deepEqual(y.arraySync(), [mirrored]);
  tf.dispose([x, y]);
});

test('dihedral gives exactly the 8 symmetries of a square pattern, each of them', () => {
  const s = 6;
  // Float32 values, so that JS and tensor copies compare exactly.
  const base = Array.from({ length: s }, (_, r) =>
    Array.from({ length: s }, (_, c) => Math.fround((r * s + c) / (s * s))),
  );
  const transpose = (m: number[][]) => m.map((row, r) => row.map((_, c) => m[c]![r]!));
  const flipLr = (m: number[][]) => m.map((row) => [...row].reverse());
  const rot90 = (m: number[][]) => flipLr(transpose(m));
  const symmetries: number[][][] = [];
  for (let k = 0, m = base; k < 4; k++, m = rot90(m)) symmetries.push(m, flipLr(m));
  const key = (m: number[][]) => JSON.stringify(m);
  assert.equal(new Set(symmetries.map(key)).size, 8);

  const n = 64;
  const x = tf.tensor4d(Array.from({ length: n }, () => base.map((row) => row.map((v) => [v, v, v]))));
  const y = augmentWith(x, { ...OFF, flip: { p: 1, kind: 'dihedral' } }, mulberry32(3));
  const seen = new Set<string>();
  for (const img of y.arraySync()) {
    const grey = img.map((row) => row.map((px) => px[0]!));
    assert.ok(
      symmetries.some((m) => key(m) === key(grey)),
      'output is an exact symmetry of the input',
    );
    seen.add(key(grey));
  }
  assert.equal(seen.size, 8, 'all eight occur');
  tf.dispose([x, y]);
});

test('crops and rotations of a flat image stay flat (mirrored border, no black corners)', () => {
  const x = tf.fill([4, 16, 16, 3], 0.6) as tf.Tensor4D;
  const cfg: AugmentConfig = { ...OFF, crop: { p: 1, scale: [0.35, 1], ratio: [3 / 4, 4 / 3] } };
  const y = augmentWith(x, { ...cfg, rotate: { p: 1, maxDeg: 10 } }, mulberry32(4));
  for (const v of y.dataSync()) assert.ok(Math.abs(v - 0.6) < 1e-5, `${v} ≈ 0.6`);
  tf.dispose([x, y]);
});

test('lighting shifts and scales each image about its mean, within ±20%', () => {
  const x = tf.fill([16, 4, 4, 3], 0.5) as tf.Tensor4D;
  const y = augmentWith(x, { ...OFF, lighting: { p: 1, max: 0.2 } }, mulberry32(8));
  const values = y.dataSync();
  const perImage = Array.from({ length: 16 }, (_, i) => values[i * 48]!);
  assert.ok(perImage.every((v) => v >= 0.3 - 1e-6 && v <= 0.7 + 1e-6));
  assert.ok(new Set(perImage.map((v) => v.toFixed(4))).size > 8, 'each image gets its own jitter');
  tf.dispose([x, y]);
});

test('no tensor leaks over 20 calls', () => {
  const x = noise(4, 16, 9);
  const rand = mulberry32(1);
  augmentBatch(x, 'top-down', rand).dispose(); // warm-up: kernels may keep one-time state
  const before = tf.memory().numTensors;
  for (let i = 0; i < 20; i++) augmentBatch(x, AUGMENT_PRESETS[i % 3]!, rand).dispose();
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

test('describePreset gives one line per preset', () => {
  for (const p of AUGMENT_PRESETS) assert.match(describePreset(p), /^[^\n]+\.$/);
  assert.match(describePreset('side-on'), /left-right flips/);
  assert.match(describePreset('top-down'), /8 flips/);
});

test('AugmentedImageDataSource and augmentPreview are seeded and reproducible', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ft-aug-'));
  try {
    const files = await makeShapeDataset(dir, { perClass: 3, size: 24 });
    const items = SHAPE_CLASSES.flatMap((cls, label) => files[cls]!.map((file) => ({ file, label })));
    const opts = { batchSize: 4, numClasses: 3, size: 24, shuffleSeed: 1, preset: 'side-on' as const, seed: 5 };
    const epoch = async (src: AugmentedImageDataSource, e: number) => {
      const out: number[][] = [];
      for await (const b of src.batches(e)) {
        assert.equal(b.x.shape[0], b.y.shape[0]);
        out.push([...b.x.dataSync()], [...b.y.dataSync()]);
        tf.dispose([b.x, b.y]);
      }
      return out;
    };
    const before = tf.memory().numTensors;
    const a = new AugmentedImageDataSource(items, opts);
    assert.equal(a.numBatches, 3);
    const e0 = await epoch(a, 0);
    assert.equal(tf.memory().numTensors, before, 'no leaks');
    assert.deepEqual(await epoch(new AugmentedImageDataSource(items, opts), 0), e0, 'same seed, same epoch');
    assert.notDeepEqual(await epoch(a, 1), e0, 'another epoch, other augmentations');

    const urls = await augmentPreview([files.squares![0]!], 24, 'top-down', 3, 4);
    assert.equal(urls.length, 4);
    assert.deepEqual(await augmentPreview([files.squares![0]!], 24, 'top-down', 3, 4), urls);
    assert.equal(new Set(urls).size, 4, 'four different variations of one image');
    const png = Buffer.from(urls[0]!.replace(/^data:image\/png;base64,/, ''), 'base64');
    const meta = await sharp(png).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 24, 24]);
    assert.deepEqual(await augmentPreview([], 24, 'none', 1, 4), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cpu backend gives the same batch (its batched Transform is worked around)', async () => {
  const data = run((x) => augmentBatch(x, 'top-down', mulberry32(11)));
  await tf.setBackend('cpu');
  try {
    const cpu = run((x) => augmentBatch(x, 'top-down', mulberry32(11)));
    assert.ok(cpu.every((v, i) => Math.abs(v - data[i]!) < 1e-4));
  } finally {
    await tf.setBackend('wasm');
  }
});
