/**
 * `node --import tsx scripts/profile-step.ts [SIZE] [BATCH] [bn-train|bn-frozen]`: where the time of one full
 * fine-tune step goes, per kernel, on the backend this machine picks. Kernels run inside our gradient stand-ins are
 * counted under their own names too, so the column sums exceed the step time; "top level" counts each once.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src-main/core/tf/backend';
import { buildClassifier } from '../src-main/core/model/backbone';
import { Learner } from '../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/core/train/optimizers';
import { layerGroups } from '../src-main/core/model/layerGroups';

const size = Number(process.argv[2] ?? 128);
const batch = Number(process.argv[3] ?? 16);
const bnTrain = (process.argv[4] ?? 'bn-train') === 'bn-train';
const backend = await initBackend((process.env.FINETUNE_BACKEND as 'auto') ?? 'auto');
const clf = await buildClassifier({ size, numClasses: 10, dropout: 0, seed: 1 });
for (const l of clf.model.layers) l.trainable = true;
const learner = new Learner(
  clf.model,
  new Optimizer({ ...DEFAULT_OPTIMIZER, kind: 'sgd', weightDecay: 0 }),
  layerGroups(clf.model),
);
learner.trainingMode = bnTrain;
const x = tf.randomUniform([batch, size, size, 3]);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  ),
  10,
);
const state = { lr: 1e-3, momentum: 0.9, groupLrMults: [1 / 9, 1 / 3, 1] } as Parameters<Learner['trainStep']>[1];
learner.trainStep({ x, y }, state); // warm-up
const t0 = performance.now();
learner.trainStep({ x, y }, state);
const stepMs = performance.now() - t0;
const info = await tf.profile(() => void learner.trainStep({ x, y }, state));
const byName = new Map<string, { ms: number; n: number }>();
for (const k of info.kernels) {
  const e = byName.get(k.name) ?? { ms: 0, n: 0 };
  e.ms += Number(k.kernelTimeMs) || 0;
  e.n++;
  byName.set(k.name, e);
}
console.log(
  `${backend.name}, ${size} px, batch ${batch}, BatchNorm ${bnTrain ? 'training' : 'frozen'}: step ${stepMs.toFixed(0)} ms`,
);
for (const [name, e] of [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  console.log(
    `${name.padEnd(40)} ${e.ms.toFixed(0).padStart(7)} ms ${String(e.n).padStart(5)} calls ${((100 * e.ms) / stepMs).toFixed(1).padStart(5)} %`,
  );
}
