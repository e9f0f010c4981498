/**
 * squareInput (predict's and the web demo's preprocessing): exact where sharp needs no resizing, close to sharp's
 * resize elsewhere, white behind transparency, and its source text (which the demo runs) gives the same numbers on
 * its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import sharp from 'sharp';
import { squareInput } from '../../src-main/core/data/squareInput';
import { decodeRgb, decodeRgba } from '../../src-main/core/data/images';
import { demoScript } from '../../src-main/core/export/webDemo';

/** Opaque RGBA test pattern: noise, or a smooth gradient. */
function pattern(width: number, height: number, smooth: boolean): Buffer {
  const px = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      if (smooth) px.set([(x * 255) / width, (y * 255) / height, 128 + 100 * Math.sin(x / 7 + y / 9), 255], p);
      else px.set([(p * 37 + y * 11) & 255, (p * 13 + x * 7) & 255, (x * y) & 255, 255], p);
    }
  }
  return px;
}

async function png(px: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(px, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** Largest and mean absolute difference, in 0–255 levels, between sharp's decodeRgb and squareInput. */
async function vsSharp(px: Buffer, width: number, height: number, size: number): Promise<[number, number]> {
  const ref = await decodeRgb(await png(px, width, height), size);
  const mine = squareInput(px, width, height, size);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ref[i]! - Math.round(mine[i]! * 255));
    max = Math.max(max, d);
    sum += d;
  }
  return [max, sum / ref.length];
}

test("no resizing needed: sharp's centre crop exactly (odd margins too)", async () => {
  assert.deepEqual(await vsSharp(pattern(50, 41, false), 50, 41, 41), [0, 0]);
  assert.deepEqual(await vsSharp(pattern(32, 45, false), 32, 45, 32), [0, 0]);
  assert.deepEqual(await vsSharp(pattern(24, 24, false), 24, 24, 24), [0, 0]);
});

test("shrinking: within a few levels of sharp's linear resize, less than one on average", async () => {
  const [max, mean] = await vsSharp(pattern(300, 200, true), 300, 200, 96);
  assert.ok(max <= 3 && mean < 0.5, `max ${max}, mean ${mean}`);
  const [, noisy] = await vsSharp(pattern(120, 90, false), 120, 90, 48);
  assert.ok(noisy < 2, `noise: mean ${noisy}`);
});

test('alpha goes on white; values are bytes / 255; decodeRgba gives RGBA at full size', async () => {
  const px = Buffer.from([255, 0, 0, 0, 255, 0, 0, 128, 0, 0, 255, 255, 10, 20, 30, 255]);
  const out = squareInput(px, 2, 2, 2);
  assert.deepEqual(Array.from(out.slice(0, 3)), [1, 1, 1], 'transparent red is white');
  assert.deepEqual(
    Array.from(out.slice(3, 6), (v) => Math.round(v * 255)),
    [255, 127, 127],
    'half-transparent red on white',
  );
  assert.ok(
    out.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4),
    'bytes / 255',
  );
  const img = await decodeRgba(await png(px, 2, 2));
  assert.deepEqual([img.width, img.height, Array.from(img.data)], [2, 2, Array.from(px)]);
});

test('the source text the web demo runs gives the same numbers with nothing else in scope', () => {
  const px = pattern(70, 53, false);
  const isolated = vm.runInNewContext(`(${squareInput.toString()})`) as typeof squareInput;
  assert.deepEqual(Array.from(isolated(px, 70, 53, 32)), Array.from(squareInput(px, 70, 53, 32)));
  // demo.js is valid JavaScript as written (the browser test runs it).
  assert.doesNotThrow(() => new vm.Script(demoScript({ labels: ['a', 'b'], inputSize: 8 })));
});
