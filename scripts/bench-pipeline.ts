/**
 * Images/s of the training data pipeline (decode + resize + augment, the recipe's step 4/6/8 input), with and
 * without prefetching, on generated 256 px PNG/JPEG images: the pipeline alone, with a step that blocks the JS
 * thread but not the cores (a GPU's), and feeding the frozen backbone's forward pass on wasm as step 4 does.
 * Usage: node --import tsx scripts/bench-pipeline.ts [--size 128] [--batch-size 16] [--images 192] [--depth 2] [--repeats 3] [--blocking-step-ms 100]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend, parseBackendChoice } from '../src-main/core/tf/backend';
import { buildClassifier, disposeClassifier } from '../src-main/core/model/backbone';
import { AugmentedImageDataSource } from '../src-main/core/train/augmentedSource';
import { prefetch } from '../src-main/core/train/prefetch';
import type { DataSource } from '../src-main/core/train/learner';
import { makeShapeDataset, SHAPE_CLASSES } from '../test/helpers/images';

export interface PipelineBenchOptions {
  size: number;
  batchSize: number;
  images: number;
  depth: number;
  /** Each measure is repeated, interleaved with the others, and its median reported (shared machines are noisy). */
  repeats: number;
  /** The synthetic step's length: the JS thread blocked, the cores idle. */
  blockingStepMs: number;
}

export interface PipelineMeasure {
  label: string;
  imagesPerSecond: number;
}

/** Images/s of one epoch of `source`; `step` is the consumer's (synchronous) work per batch. */
async function measure(source: DataSource, epoch: number, step: (x: tf.Tensor) => void): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  for await (const b of source.batches(epoch)) {
    step(b.x);
    n += b.x.shape[0]!;
    tf.dispose([b.x, b.y]);
  }
  return n / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

export async function benchPipeline(opts: PipelineBenchOptions): Promise<PipelineMeasure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  try {
    // Larger than the input size, as real photos are, so the resize does real work.
    const files = await makeShapeDataset(dir, { perClass: Math.ceil(opts.images / SHAPE_CLASSES.length), size: 256 });
    const items = SHAPE_CLASSES.flatMap((cls, label) => files[cls]!.map((file) => ({ file, label })));
    const source = new AugmentedImageDataSource(items, {
      size: opts.size,
      batchSize: opts.batchSize,
      numClasses: SHAPE_CLASSES.length,
      shuffleSeed: 1,
      preset: 'side-on',
      seed: 2,
    });
    const variants: Array<[string, DataSource]> = [
      ['', source],
      [`, prefetch ${opts.depth}`, prefetch(source, opts.depth)],
    ];
    const clf = await buildClassifier({ size: opts.size, numClasses: SHAPE_CLASSES.length, dropout: 0, seed: 3 });
    const forward = (x: tf.Tensor) => tf.tidy(() => void (clf.features.predict(x) as tf.Tensor).dataSync());
    // A step that blocks the JS thread but leaves the cores free, as a GPU (or native backend) step does: shows
    // how much of the pipeline prefetching can hide when there is CPU to spare.
    const blocked = new Int32Array(new SharedArrayBuffer(4));
    const wait = () => void Atomics.wait(blocked, 0, 0, opts.blockingStepMs);
    const what = `augmented, ${opts.size} px`;
    const consumers: Array<[string, (x: tf.Tensor) => void]> = [
      ['data pipeline', () => {}],
      [`data pipeline + ${opts.blockingStepMs} ms blocking step`, wait],
      ['data pipeline + backbone forward', forward],
    ];
    const runs = consumers.flatMap(([name, step]) =>
      variants.map(([how, src]): [string, DataSource, (x: tf.Tensor) => void] => [
        `${name} (${what}${how})`,
        src,
        step,
      ]),
    );
    // Warm up the decoder, the augmentation kernels and the backbone once before timing anything.
    await measure(source, 99, forward);
    const samples: number[][] = runs.map(() => []);
    for (let r = 0; r < opts.repeats; r++) {
      for (const [i, [, src, step]] of runs.entries()) samples[i]!.push(await measure(src, r, step));
    }
    disposeClassifier(clf);
    return runs.map(([label], i) => ({ label, imagesPerSecond: median(samples[i]!) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '128' },
      'batch-size': { type: 'string', default: '16' },
      images: { type: 'string', default: '192' },
      depth: { type: 'string', default: '2' },
      repeats: { type: 'string', default: '3' },
      'blocking-step-ms': { type: 'string', default: '100' },
      backend: { type: 'string', default: 'wasm' },
    },
  });
  const backend = await initBackend(parseBackendChoice(values.backend));
  console.error(`backend ${backend.name} (${backend.threads} threads)`);
  const results = await benchPipeline({
    size: Number(values.size),
    batchSize: Number(values['batch-size']),
    images: Number(values.images),
    depth: Number(values.depth),
    repeats: Number(values.repeats),
    blockingStepMs: Number(values['blocking-step-ms']),
  });
  for (const r of results) console.log(`${r.label} ${Math.round(r.imagesPerSecond)} images/s`);
}
