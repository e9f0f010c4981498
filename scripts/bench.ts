/**
 * `npm run bench`: step times of the work that matters, on the backend this machine picks, each reported as a ratio
 * against a baseline measured in the same run (the pure-JS cpu backend for the frozen forward pass), so numbers from
 * different machines can be compared. Not a test: nothing here asserts timings.
 *   BENCH_SIZE (default 96), BENCH_BATCH (default 8), BENCH_REPS (default 3)
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/tf/backend';
import { buildClassifier, disposeClassifier } from '../src-main/core/model/backbone';
import { Learner } from '../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/core/train/optimizers';
import { layerGroups } from '../src-main/core/model/layerGroups';

const size = Number(process.env.BENCH_SIZE ?? 96);
const batch = Number(process.env.BENCH_BATCH ?? 8);
const reps = Number(process.env.BENCH_REPS ?? 3);

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

const backend = await initBackend('auto');
const clf = await buildClassifier({ size, numClasses: 10, dropout: 0, seed: 1 });
const x = tf.randomUniform([batch, size, size, 3]) as tf.Tensor4D;
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
const feats = tf.randomNormal([256, 1280]);
const featY = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 256 }, (_, i) => i % 10),
    'int32',
  ),
  10,
);

const forward = await time(() => tf.tidy(() => void (clf.features.predict(x) as tf.Tensor).dataSync()));
const headLearner = new Learner(clf.head, new Optimizer(DEFAULT_OPTIMIZER), [
  { name: 'head', variables: clf.head.trainableWeights },
]);
const state = { lr: 1e-3, momentum: 0.9, groupLrMults: [1] } as Parameters<Learner['trainStep']>[1];
const headStep = await time(() => void headLearner.trainStep({ x: feats, y: featY }, state), 10);
for (const l of clf.model.layers) l.trainable = true;
const groups = layerGroups(clf.model);
const full = new Learner(clf.model, new Optimizer({ ...DEFAULT_OPTIMIZER, kind: 'sgd', weightDecay: 0 }), groups);
const fullState = { ...state, groupLrMults: [1 / 9, 1 / 3, 1] };
const fullStep = await time(() => void full.trainStep({ x, y }, fullState));

await tf.setBackend('cpu');
const cpuClf = await buildClassifier({ size, numClasses: 10, dropout: 0, seed: 1 });
const xc = tf.randomUniform([batch, size, size, 3]);
const baseline = await time(() => tf.tidy(() => void (cpuClf.features.predict(xc) as tf.Tensor).dataSync()), 1);

const rows = [
  ['frozen backbone forward', forward],
  ['head step on 256 precomputed rows', headStep],
  ['full fine-tune step (3 groups)', fullStep],
];
console.log(
  `backend ${backend.name}, ${size} px, batch ${batch}; baseline: cpu backend forward = ${baseline.toFixed(0)} ms`,
);
for (const [name, ms] of rows) {
  console.log(
    `${String(name).padEnd(36)} ${(ms as number).toFixed(1).padStart(9)} ms   ${((ms as number) / baseline).toFixed(3)} x baseline`,
  );
}
disposeClassifier(cpuClf);
tf.dispose([xc]);
await tf.setBackend(backend.name === 'tensorflow-gpu' ? 'tensorflow' : backend.name);
disposeClassifier(clf);
tf.dispose([x, y, feats, featY]);
