/**
 * Write Fashion-MNIST (Debian package dataset-fashion-mnist) out as PNG folders for benchmarks and evals:
 *   OUT/train/<class>/*.png (perClass per class from the training set)
 *   OUT/valid/<class>/*.png (validPerClass per class from the test set)
 * Usage: node --import tsx scripts/fashion-mnist.ts OUT [--per-class 30] [--valid-per-class 20]
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { IO_CONCURRENCY, mapPool } from '../src-main/core/util/pool';

export const FASHION_DIR = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
export const FASHION_CLASSES = [
  'tshirt',
  'trouser',
  'pullover',
  'dress',
  'coat',
  'sandal',
  'shirt',
  'sneaker',
  'bag',
  'boot',
];

function readIdx(file: string): Buffer {
  const raw = readFileSync(join(FASHION_DIR, file));
  return file.endsWith('.gz') ? gunzipSync(raw) : raw;
}

async function writeSplit(
  images: string,
  labels: string,
  out: string,
  perClass: number,
  side?: number,
  classes: readonly string[] = FASHION_CLASSES,
) {
  const img = readIdx(images);
  const lab = readIdx(labels);
  const n = img.readUInt32BE(4);
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  const counts = new Array(10).fill(0) as number[];
  const wanted = new Set(classes.map((c) => FASHION_CLASSES.indexOf(c)));
  for (let i = 0; i < n && [...wanted].some((c) => counts[c]! < perClass); i++) {
    const label = lab[8 + i]!;
    if (!wanted.has(label) || counts[label]! >= perClass) continue;
    const dir = join(out, FASHION_CLASSES[label]!);
    mkdirSync(dir, { recursive: true });
    const pixels = img.subarray(16 + i * rows * cols, 16 + (i + 1) * rows * cols);
    const img28 = sharp(pixels, { raw: { width: cols, height: rows, channels: 1 } });
    await (side ? img28.resize(side, side) : img28).png().toFile(join(dir, `${String(i).padStart(5, '0')}.png`));
    counts[label]!++;
  }
}

/** `side`: upscale the 28 px images to this size (bilinear), as photos of a few dozen pixels would come. */
export async function writeFashionMnist(
  out: string,
  perClass: number,
  validPerClass: number,
  side?: number,
  classes: readonly string[] = FASHION_CLASSES,
) {
  if (!existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))) {
    throw new Error(`Fashion-MNIST not found in ${FASHION_DIR}: apt-get install dataset-fashion-mnist`);
  }
  const train = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz'] as const;
  const test = ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'] as const;
  await writeSplit(...train, join(out, 'train'), perClass, side, classes);
  await writeSplit(...test, join(out, 'valid'), validPerClass, side, classes);
}

/**
 * The first `n` images of the training split as `out/<class>/NNNNN.png`, scaled to `side` px (bench:scale's photo
 * library: no valid/ folder, so the app makes its seeded 20 % split).
 */
export async function writeFashionTrainSplit(out: string, n: number, side: number) {
  if (!existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz'))) {
    throw new Error(`Fashion-MNIST not found in ${FASHION_DIR}: apt-get install dataset-fashion-mnist`);
  }
  const img = readIdx('train-images-idx3-ubyte.gz');
  const lab = readIdx('train-labels-idx1-ubyte.gz');
  const rows = img.readUInt32BE(8);
  const cols = img.readUInt32BE(12);
  const count = Math.min(n, img.readUInt32BE(4));
  for (const cls of FASHION_CLASSES) mkdirSync(join(out, cls), { recursive: true });
  await mapPool(
    Array.from({ length: count }, (_, i) => i),
    IO_CONCURRENCY,
    async (i) => {
      const pixels = img.subarray(16 + i * rows * cols, 16 + (i + 1) * rows * cols);
      await sharp(pixels, { raw: { width: cols, height: rows, channels: 1 } })
        .resize(side, side)
        .png()
        .toFile(join(out, FASHION_CLASSES[lab[8 + i]!]!, `${String(i).padStart(5, '0')}.png`));
    },
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'per-class': { type: 'string', default: '30' }, 'valid-per-class': { type: 'string', default: '20' } },
  });
  if (!positionals[0]) throw new Error('usage: fashion-mnist.ts OUT [--per-class N] [--valid-per-class N]');
  await writeFashionMnist(positionals[0], Number(values['per-class']), Number(values['valid-per-class']));
  console.log(`wrote ${positionals[0]}`);
}
