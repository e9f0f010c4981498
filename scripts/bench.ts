/**
 * `npm run bench`: the work that matters, timed on the best backend this machine has, each against PyTorch on the same
 * CPU in the same run (Debian's python3-torch, 2 threads, the same MobileNetV2 step: SGD with momentum, BatchNorm in
 * training mode) where it can be installed. Not a test: nothing here asserts timings.
 *   BENCH_SIZE (default: 128 and 224), BENCH_BATCH (16), BENCH_REPS (5), BENCH_RECIPE=0 skips the recipe run.
 * With BENCH_SIZE set (as ../shared/bench/perf-ratio.sh does) only the step timings run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/tf/backend';
import { buildClassifier, disposeClassifier } from '../src-main/core/model/backbone';
import { Learner } from '../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/core/train/optimizers';
import { layerGroups } from '../src-main/core/model/layerGroups';
import { microBatchFor } from '../src-main/core/recipe/memory';

const here = dirname(fileURLToPath(import.meta.url));
const sizes = process.env.BENCH_SIZE ? [Number(process.env.BENCH_SIZE)] : [128, 224];
const batch = Number(process.env.BENCH_BATCH ?? 16);
const reps = Number(process.env.BENCH_REPS ?? 5);
const quick = Boolean(process.env.BENCH_SIZE);

function median(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time(fn: () => Promise<void> | void, n = reps): Promise<number> {
  await fn(); // warm-up
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

/** PyTorch's step times at this size, or why there are none. Installs Debian's python3-torch when root can. */
function pytorch(size: number): { forward: number; full: number } | string {
  const python = '/usr/bin/python3';
  const hasTorch = () => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  if (!existsSync(python)) return 'no /usr/bin/python3';
  if (!hasTorch() && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get') && !process.env.BENCH_NO_INSTALL) {
    console.error('installing Debian python3-torch for the PyTorch column…');
    spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'python3-torchvision'], { stdio: 'ignore' });
  }
  if (!hasTorch()) return 'python3-torch is not installed and could not be (apt-get install python3-torch)';
  const out = execFileSync(
    python,
    [join(here, 'bench/torch-mobilenetv2.py'), String(size), String(batch), '2', String(2 * reps - 1)],
    {
      encoding: 'utf8',
    },
  );
  return JSON.parse(out) as { forward: number; full: number };
}

// PyTorch first, in this process's quiet: our backend's thread pool must not share the cores with it.
const references = new Map(sizes.map((size) => [size, pytorch(size)]));
const backend = await initBackend('auto');
const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `machine: ${cpuModel}, ${os.availableParallelism()} cores, Node ${process.version}; backend ${backend.name}, ${backend.threads} thread(s): ${backend.note}`,
);
const sgd = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, weightDecay: 0 };
const state = { lr: 1e-3, momentum: 0.9, groupLrMults: [1 / 9, 1 / 3, 1] } as Parameters<Learner['trainStep']>[1];
const ratio = (ours: number, ref: { forward: number; full: number } | string, key: 'forward' | 'full') =>
  typeof ref === 'string' ? '' : `   PyTorch ${ref[key].toFixed(0)} ms   ${(ours / ref[key]).toFixed(1)}x PyTorch`;

for (const size of sizes) {
  const clf = await buildClassifier({ size, numClasses: 10, dropout: 0, seed: 1 });
  const x = tf.randomUniform([batch, size, size, 3]) as tf.Tensor4D;
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const forward = await time(() => tf.tidy(() => void (clf.features.predict(x) as tf.Tensor).dataSync()));
  for (const l of clf.model.layers) l.trainable = true;
  // BatchNorm in training mode, like PyTorch's m.train(): the same work on both sides.
  const full = new Learner(clf.model, new Optimizer(sgd), layerGroups(clf.model));
  // As the recipe does: micro-batches (gradients summed) where the whole batch would not fit wasm's 4 GB heap.
  full.microBatch = microBatchFor(size, batch, tf.getBackend());
  const fullStep = await time(() => void full.trainStep({ x, y }, state));
  full.optimizer.dispose();
  disposeClassifier(clf);
  tf.dispose([x, y]);
  const ref = references.get(size)!;
  if (typeof ref === 'string') console.log(`(PyTorch column skipped at ${size} px: ${ref})`);
  console.log(
    `frozen backbone forward (${size} px, batch ${batch})      ${forward.toFixed(1).padStart(8)} ms${ratio(forward, ref, 'forward')}`,
  );
  const micro = full.microBatch < batch ? `, micro-batches of ${full.microBatch}` : '';
  console.log(
    `full fine-tune step (${size} px, batch ${batch}, 3 groups${micro}) ${fullStep.toFixed(1).padStart(8)} ms${ratio(fullStep, ref, 'full')}`,
  );
}

// The head on cached activations: call overhead more than compute.
{
  const clf = await buildClassifier({ size: 96, numClasses: 10, dropout: 0, seed: 1 });
  const feats = tf.randomNormal([256, 1280]);
  const featY = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 256 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const head = new Learner(clf.head, new Optimizer(sgd), [{ name: 'head', variables: clf.head.trainableWeights }]);
  const headStep = await time(() => void head.trainStep({ x: feats, y: featY }, { ...state, groupLrMults: [1] }), 10);
  console.log(`head step on 256 cached activations        ${headStep.toFixed(1).padStart(8)} ms`);
  head.optimizer.dispose();
  disposeClassifier(clf);
  tf.dispose([feats, featY]);
}

if (!quick) {
  for (const module of ['./bench-pipeline.ts', './bench-latency.ts']) {
    if (!existsSync(join(here, module))) continue;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, module)], { encoding: 'utf8' });
    process.stdout.write(r.stdout);
    if (r.status !== 0) console.log(`${module} failed: ${r.stderr.trim().split('\n').pop()}`);
  }
  if (
    process.env.BENCH_RECIPE !== '0' &&
    !existsSync('/usr/share/datasets/fashion-mnist') &&
    process.getuid?.() === 0
  ) {
    console.error('installing Debian dataset-fashion-mnist for the recipe run…');
    spawnSync('apt-get', ['install', '-y', '-qq', 'dataset-fashion-mnist'], { stdio: 'ignore' });
  }
  if (process.env.BENCH_RECIPE !== '0') {
    // The default recipe on 400 images (Fashion-MNIST upscaled to 84 px): wall time per step and accuracy.
    const args = ['--per-class', '32', '--valid-per-class', '8', '--side', '84', '--machine-defaults'];
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'bench-recipe.ts'), ...args], {
      encoding: 'utf8',
    });
    if (r.status !== 0) console.log(`recipe run failed: ${r.stderr.trim().split('\n').pop()}`);
    else {
      const out = JSON.parse(r.stdout) as {
        size: number;
        batchSize: number;
        recipe: {
          seconds: number;
          validAccuracy: number;
          stepSeconds: Record<string, number>;
          best: { validLoss: number } | null;
        };
        headOnly8Epochs: { validAccuracy: number };
      };
      const steps = Object.entries(out.recipe.stepSeconds)
        .map(([s, sec]) => `${s}: ${sec.toFixed(0)} s`)
        .join(', ');
      console.log(
        `recipe on 400 images at the defaults (${out.size} px, batch ${out.batchSize}) ${out.recipe.seconds.toFixed(0)} s (${steps}); valid accuracy ${(100 * out.recipe.validAccuracy).toFixed(1)} % vs head-only 8 epochs ${(100 * out.headOnly8Epochs.validAccuracy).toFixed(1)} %`,
      );
    }
  }
}
