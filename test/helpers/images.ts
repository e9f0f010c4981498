/**
 * Small real images for tests: three visually distinct classes drawn as SVG and rendered to PNG/JPEG by sharp,
 * with seeded jitter in position, size, colour and background so that the task is easy but not trivial.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src-main/core/util/random';
import { classCounts, type LabeledDataset } from '../../src-main/core/data/dataset';

export const SHAPE_CLASSES = ['circles', 'squares', 'stripes'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

function svgFor(cls: ShapeClass, size: number, rand: () => number): string {
  const bg = `rgb(${Math.floor(200 + rand() * 55)},${Math.floor(200 + rand() * 55)},${Math.floor(200 + rand() * 55)})`;
  const r = size * (0.2 + rand() * 0.15);
  const cx = size * (0.35 + rand() * 0.3);
  const cy = size * (0.35 + rand() * 0.3);
  let body = '';
  if (cls === 'circles') {
    body = `<circle cx="${cx}" cy="${cy}" r="${r}" fill="rgb(${Math.floor(180 + rand() * 75)},30,30)"/>`;
  } else if (cls === 'squares') {
    body = `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="rgb(30,${Math.floor(120 + rand() * 100)},40)"/>`;
  } else {
    const w = size / (6 + Math.floor(rand() * 3));
    for (let x = rand() * w; x < size; x += 2 * w)
      body += `<rect x="${x}" y="0" width="${w}" height="${size}" fill="rgb(30,40,${Math.floor(150 + rand() * 100)})"/>`;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><rect width="100%" height="100%" fill="${bg}"/>${body}</svg>`;
}

export interface MakeOptions {
  perClass: number;
  size?: number;
  seed?: number;
  /** Also write a corrupt file and a non-image file into the first class. */
  withBadFiles?: boolean;
  /** fast.ai layout: DIR/train/<class> + DIR/valid/<class> with `validPerClass` images. */
  validPerClass?: number;
  classes?: readonly ShapeClass[];
}

/** Write a dataset folder; returns the file paths per class. */
export async function makeShapeDataset(dir: string, opts: MakeOptions): Promise<Record<string, string[]>> {
  const size = opts.size ?? 48;
  const rand = mulberry32(opts.seed ?? 1);
  const classes = opts.classes ?? SHAPE_CLASSES;
  const files: Record<string, string[]> = {};
  const write = async (root: string, cls: ShapeClass, n: number, tag: string) => {
    const folder = join(root, cls);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < n; i++) {
      const img = sharp(Buffer.from(svgFor(cls, size, rand)));
      const jpeg = i % 3 === 2;
      const file = join(folder, `${tag}${String(i).padStart(3, '0')}.${jpeg ? 'jpg' : 'png'}`);
      await (jpeg ? img.jpeg({ quality: 90 }) : img.png()).toFile(file);
      (files[cls] ??= []).push(file);
    }
  };
  for (const cls of classes) {
    if (opts.validPerClass !== undefined) {
      await write(join(dir, 'train'), cls, opts.perClass, 't');
      await write(join(dir, 'valid'), cls, opts.validPerClass, 'v');
    } else {
      await write(dir, cls, opts.perClass, 'img');
    }
  }
  if (opts.withBadFiles) {
    const first = opts.validPerClass !== undefined ? join(dir, 'train', classes[0]!) : join(dir, classes[0]!);
    writeFileSync(join(first, 'broken.jpg'), Buffer.from('this is not really a jpeg'));
    const png = await sharp(Buffer.from(svgFor(classes[0]!, size, rand)))
      .png()
      .toBuffer();
    writeFileSync(join(first, 'truncated.png'), png.subarray(0, Math.floor(png.length / 2)));
    writeFileSync(join(first, 'notes.txt'), 'not an image');
  }
  return files;
}

/** A scan's classes as [name, train, valid] rows: what the dataset tests compare against. */
export function splitRows(ds: LabeledDataset): Array<[string, number, number]> {
  return classCounts(ds).map((c) => [c.name, c.train, c.valid]);
}
