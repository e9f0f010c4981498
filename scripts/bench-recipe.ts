/**
 * fast.ai's eight-step recipe vs "head only, constant LR, same total epochs" on Fashion-MNIST
 * (10 classes × 60 training images; validation 20 per class from the test set).
 * Usage: node --import tsx scripts/bench-recipe.ts [--size 64] [--batch-size 32] [--cycles 3] [--lr-find-iters 100]
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/core/tf/backend';
import { scanDataset } from '../src-main/core/data/dataset';
import { BACKBONE_ID, buildClassifier, disposeClassifier } from '../src-main/core/model/backbone';
import { precomputeFeatures } from '../src-main/core/train/precompute';
import { RowsDataSource } from '../src-main/core/train/dataSources';
import { Learner, evaluate } from '../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/core/train/optimizers';
import { scheduleCallback } from '../src-main/core/train/callbacks';
import { subSeed } from '../src-main/core/util/random';
import { recipeJob } from '../src-main/core/recipe/recipeJob';
import { DEFAULT_RECIPE_CONFIG, type RecipeConfig } from '../src-main/core/recipe/types';
import { writeFashionMnist } from './fashion-mnist';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '64' },
    'batch-size': { type: 'string', default: '32' },
    cycles: { type: 'string', default: '3' },
    'lr-find-iters': { type: 'string', default: '100' },
    seed: { type: 'string', default: '42' },
  },
});
const backend = await initBackend('auto');
const work = mkdtempSync(join(tmpdir(), 'bench-recipe-'));
const data = join(work, 'fashion');
await writeFashionMnist(data, 60, 20);
const cache = join(work, 'cache');
const config: RecipeConfig = {
  ...DEFAULT_RECIPE_CONFIG,
  dir: data,
  size: Number(values.size),
  batchSize: Number(values['batch-size']),
  cycles: Number(values.cycles),
  seed: Number(values.seed),
  lrFind: { ...DEFAULT_RECIPE_CONFIG.lrFind, iters: Number(values['lr-find-iters']) },
};

const t0 = Date.now();
const runDir = join(work, 'run');
mkdirSync(runDir);
const recipe = await recipeJob(config, {
  runDir,
  featureCache: cache,
  shouldCancel: () => false,
  emit: (e) => {
    if (e.type === 'epoch')
      console.error(`${e.step} epoch ${e.epoch + 1}: valid accuracy ${e.validAccuracy.toFixed(3)}`);
    if (e.type === 'step' && e.status === 'done')
      console.error(`step ${e.step} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  },
});
const recipeSeconds = (Date.now() - t0) / 1000;
if (recipe.status !== 'completed') throw new Error(`recipe ${recipe.status}: ${recipe.error}`);
const step8 = recipe.steps[7]!;
const epochs = recipe.steps.reduce((a, s) => a + s.epochs, 0);
const lrHead = recipe.steps[1]!.lr!;

// Baseline: the head alone on precomputed activations, constant LR (the recipe's step-2 pick), same total epochs.
const t1 = Date.now();
const ds = await scanDataset(data, { seed: config.seed, validPct: config.validPct });
const clf = await buildClassifier({
  size: config.size,
  numClasses: ds.classes.length,
  dropout: config.dropout,
  seed: subSeed(config.seed, 'init'),
});
const feats = await precomputeFeatures(
  clf.features,
  [...ds.train, ...ds.valid].map((i) => i.file),
  { cacheDir: cache, backboneId: BACKBONE_ID, size: config.size, batchSize: 16 },
);
const nc = ds.classes.length;
const train = new RowsDataSource(
  feats.slice(0, ds.train.length),
  ds.train.map((i) => i.label),
  { batchSize: config.batchSize, numClasses: nc, shuffleSeed: subSeed(config.seed, 'shuffle') },
);
const valid = new RowsDataSource(
  feats.slice(ds.train.length),
  ds.valid.map((i) => i.label),
  { batchSize: 256, numClasses: nc },
);
const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: config.optimizer });
const learner = new Learner(
  clf.head,
  opt,
  [{ name: 'head', variables: clf.head.trainableWeights }],
  [scheduleCallback(() => lrHead)],
);
await learner.fit(epochs, train);
const baseline = await evaluate(clf.head, valid);
opt.dispose();
disposeClassifier(clf);

const command = `node --import tsx scripts/bench-recipe.ts --size ${values.size} --batch-size ${values['batch-size']} --cycles ${values.cycles} --lr-find-iters ${values['lr-find-iters']} --seed ${values.seed}`;
console.log(
  JSON.stringify(
    {
      command,
      backend: backend.name,
      data: 'Fashion-MNIST, 10 classes × 60 train, 20 valid per class (test set)',
      epochs,
      recipe: {
        validAccuracy: step8.validAccuracy,
        ensemble: recipe.ensemble && { k: recipe.ensemble.k, validAccuracy: recipe.ensemble.validAccuracy },
        best: recipe.best,
        steps: recipe.steps.map(({ step, epochs: e, lr, validAccuracy }) => ({ step, epochs: e, lr, validAccuracy })),
        seconds: recipeSeconds,
      },
      headOnlyConstantLr: { lr: lrHead, validAccuracy: baseline.accuracy, seconds: (Date.now() - t1) / 1000 },
    },
    null,
    2,
  ),
);
