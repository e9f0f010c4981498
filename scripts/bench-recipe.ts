/**
 * fast.ai's eight-step recipe vs "head only, constant LR, same total epochs" and vs "head only, 8 epochs, its own
 * defaults" on Fashion-MNIST (10 classes × 60 training images; validation 20 per class from the test set), with the
 * wall time of every step.
 * Usage: node --import tsx scripts/bench-recipe.ts [--size 64] [--batch-size 32] [--cycles N (the recipe's default)] [--lr-find-iters 100]
 *        [--per-class 60] [--valid-per-class 20] [--side PX] [--machine-defaults] [--mixup ALPHA | --cutmix ALPHA]
 *        [--swa K] [--lr-find-on train|valid] [--progressive PX,PX] [--preset none|side-on|top-down]
 *        [--lr-rule minDiv10|valley|steep] [--warmup-epochs E]
 * --machine-defaults: size and batch size (unless given) and step 7's LR-finder length as the app picks them.
 * Besides the best epoch it reports the kept model as the app evaluates it (Results page), with and without TTA, and
 * the snapshot ensemble; and the recipe's CPU seconds (all threads), which a busy machine does not inflate.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src-main/core/tf/backend';
import { buildClassifier, disposeClassifier } from '../src-main/core/model/backbone';
import { Learner, evaluate } from '../src-main/core/train/learner';
import { DEFAULT_OPTIMIZER, Optimizer } from '../src-main/core/train/optimizers';
import { scheduleCallback, validationCallback } from '../src-main/core/train/callbacks';
import { subSeed } from '../src-main/core/util/random';
import { recipeJob } from '../src-main/core/recipe/recipeJob';
import { type RecipeConfig } from '../src-main/core/recipe/types';
import { DEFAULT_RECIPE_CONFIG } from '../src-shared/recipe/config';
import { writeFashionMnist } from './fashion-mnist';
import { openHeadProblem } from './lib/headLrGrid';
import { machineFit } from '../src-main/core/machineDefaults';
import { DEFAULT_HEAD_CONFIG } from '../src-shared/defaults';
import { mixOption, progressiveOption } from '../src-main/cli/recipeCommand';
import { interpretRunJob } from '../src-main/core/train/interpretJob';
import { readRunMeta } from '../src-main/core/runFiles';

const { values } = parseArgs({
  options: {
    size: { type: 'string' },
    'batch-size': { type: 'string' },
    cycles: { type: 'string' },
    'lr-find-iters': { type: 'string' },
    seed: { type: 'string', default: '42' },
    'per-class': { type: 'string', default: '60' },
    'valid-per-class': { type: 'string', default: '20' },
    side: { type: 'string' },
    'machine-defaults': { type: 'boolean', default: false },
    optimizer: { type: 'string' },
    'lr-head': { type: 'string' },
    'lr-all': { type: 'string' },
    'lr-ratio': { type: 'string' },
    'head-epochs': { type: 'string' },
    'augment-epochs': { type: 'string' },
    'train-bn': { type: 'boolean' },
    'cycle-mult': { type: 'string' },
    patience: { type: 'string' },
    mixup: { type: 'string' },
    cutmix: { type: 'string' },
    swa: { type: 'string' },
    'lr-find-on': { type: 'string' },
    progressive: { type: 'string' },
    preset: { type: 'string' },
    'lr-rule': { type: 'string' },
    'warmup-epochs': { type: 'string' },
  },
});
const mix = mixOption(values);
const backend = await initBackend('auto');
const machine = values['machine-defaults'];
const fit = machineFit(backend);
const work = mkdtempSync(join(tmpdir(), 'bench-recipe-'));
const data = join(work, 'fashion');
const perClass = Number(values['per-class']);
const validPerClass = Number(values['valid-per-class']);
await writeFashionMnist(data, perClass, validPerClass, values.side ? Number(values.side) : undefined);
const cache = join(work, 'cache');
const config: RecipeConfig = {
  ...DEFAULT_RECIPE_CONFIG,
  dir: data,
  size: Number(values.size ?? (machine ? fit.size : 64)),
  batchSize: Number(values['batch-size'] ?? (machine ? fit.batchSize : 32)),
  cycles: values.cycles ? Number(values.cycles) : DEFAULT_RECIPE_CONFIG.cycles,
  seed: Number(values.seed),
  lrFind: { ...DEFAULT_RECIPE_CONFIG.lrFind, iters: Number(values['lr-find-iters'] ?? 100) },
  // Without --machine-defaults step 7 runs all its iterations, as before the cap existed.
  lrFindAllIters: machine ? null : Number(values['lr-find-iters'] ?? 100),
  ...(values.optimizer ? { optimizer: values.optimizer as RecipeConfig['optimizer'] } : {}),
  ...(values['lr-head'] ? { lrHead: Number(values['lr-head']) } : {}),
  ...(values['lr-all'] ? { lrAll: Number(values['lr-all']) } : {}),
  ...(values['lr-ratio'] ? { lrRatio: Number(values['lr-ratio']) } : {}),
  ...(values['head-epochs'] ? { headEpochs: Number(values['head-epochs']) } : {}),
  ...(values['augment-epochs'] ? { augmentEpochs: Number(values['augment-epochs']) } : {}),
  ...(values['cycle-mult'] ? { cycleMult: Number(values['cycle-mult']) } : {}),
  ...(values.patience ? { patience: Number(values.patience) } : {}),
  ...(values['train-bn'] !== undefined ? { trainBatchNorm: values['train-bn'] } : {}),
  ...(mix ? { mix } : {}),
  ...(values.swa ? { swa: Number(values.swa) } : {}),
  ...(values['lr-find-on'] ? { lrFindOn: values['lr-find-on'] === 'valid' ? 'valid' : 'train' } : {}),
  ...progressiveOption(values.progressive),
  ...(values.preset ? { preset: values.preset as RecipeConfig['preset'] } : {}),
  ...(values['lr-rule'] ? { lrRule: values['lr-rule'] as NonNullable<RecipeConfig['lrRule']> } : {}),
  ...(values['warmup-epochs'] ? { warmupEpochs: Number(values['warmup-epochs']) } : {}),
};
const stepSeconds: Record<number, number> = {};
let stepStart = Date.now();

const recipeAccuracies: number[] = [];
const lrFinds: Record<number, unknown> = {};
const t0 = Date.now();
const cpu0 = process.cpuUsage();
const runDir = join(work, 'run');
mkdirSync(runDir);
const recipe = await recipeJob(config, {
  runDir,
  featureCache: cache,
  shouldCancel: () => false,
  emit: (e) => {
    if (e.type === 'lrFind')
      lrFinds[e.step] = {
        ...e.result.suggestions,
        lastLr: e.result.lr.at(-1),
        steps: e.result.lr.length,
        stoppedEarly: e.result.stoppedEarly,
        curve: e.result.lr.map((lr, i) => [lr, e.result.smoothedLoss[i]]),
      };
    if (e.type === 'epoch') {
      recipeAccuracies.push(e.validAccuracy);
      console.error(`${e.step} epoch ${e.epoch + 1}: valid accuracy ${e.validAccuracy.toFixed(3)}`);
    }
    if (e.type === 'step' && e.status === 'started') stepStart = Date.now();
    if (e.type === 'step' && e.status === 'done') {
      stepSeconds[e.step] = (Date.now() - stepStart) / 1000;
      console.error(`step ${e.step} done (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  },
});
const recipeSeconds = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const recipeCpuSeconds = (cpu.user + cpu.system) / 1e6;
if (recipe.status !== 'completed') throw new Error(`recipe ${recipe.status}: ${recipe.error}`);
// The kept model (the best checkpoint) as the app's Results page evaluates it, plain and with TTA.
const runConfig = readRunMeta(runDir).config;
const kept = await interpretRunJob(runDir, runConfig, { tta: false, thumbnails: 0 });
const keptTta = await interpretRunJob(runDir, runConfig, { tta: true, thumbnails: 0 });
const step8 = recipe.steps[7]!;
const epochs = recipe.steps.reduce((a, s) => a + s.epochs, 0);
const lrHead = recipe.steps[1]!.lr!;

// Baseline: the head alone on precomputed activations, constant LR (the recipe's step-2 pick), same total epochs.
const t1 = Date.now();
const problem = await openHeadProblem(data, {
  size: config.size,
  seed: config.seed,
  batchSize: config.batchSize,
  dropout: config.dropout,
  validPct: config.validPct,
  cacheDir: cache,
});
const { train, valid, numClasses: nc } = problem;
const opt = new Optimizer({ ...DEFAULT_OPTIMIZER, kind: config.optimizer });
const learner = new Learner(
  problem.head,
  opt,
  [{ name: 'head', variables: problem.head.trainableWeights }],
  [scheduleCallback(() => lrHead)],
);
await learner.fit(epochs, train);
const baseline = await evaluate(problem.head, valid);
opt.dispose();
// Head only as `finetune train --steps head` runs it: its default optimizer and LR, 8 epochs, the same seed.
problem.dispose();
const clf8 = await buildClassifier({
  size: config.size,
  numClasses: nc,
  dropout: DEFAULT_HEAD_CONFIG.dropout,
  seed: subSeed(config.seed, 'init'),
});
const opt8 = new Optimizer(DEFAULT_OPTIMIZER);
const learner8 = new Learner(
  clf8.head,
  opt8,
  [{ name: 'head', variables: clf8.head.trainableWeights }],
  [
    scheduleCallback(() => DEFAULT_HEAD_CONFIG.lr),
    validationCallback(valid),
    { afterEpoch: (s) => void headOnly8PerEpoch.push(s.metrics.validAccuracy ?? NaN) },
  ],
);
const headOnly8PerEpoch: number[] = [];
await learner8.fit(8, train);
const headOnly8 = await evaluate(clf8.head, valid);
opt8.dispose();
disposeClassifier(clf8);

const command = `node --import tsx scripts/bench-recipe.ts ${process.argv.slice(2).join(' ')}`;
console.log(
  JSON.stringify(
    {
      command,
      backend: backend.name,
      threads: backend.threads,
      size: config.size,
      batchSize: config.batchSize,
      mix: config.mix ?? null,
      data: `Fashion-MNIST, 10 classes × ${perClass} train, ${validPerClass} valid per class (test set)${values.side ? `, ${values.side} px` : ''}`,
      epochs,
      recipe: {
        validAccuracy: step8.validAccuracy,
        bestValidAccuracy: Math.max(...recipeAccuracies),
        lrFinds,
        ensemble: recipe.ensemble && {
          k: recipe.ensemble.k,
          validAccuracy: recipe.ensemble.validAccuracy,
          memberAccuracies: recipe.ensemble.memberAccuracies,
        },
        kept: { validAccuracy: kept.accuracy, ttaValidAccuracy: keptTta.accuracy },
        // With --swa: the averaged model's own metrics, and whether it beat the best checkpoint (then it is `kept`).
        swa: step8.swa
          ? {
              k: step8.swa.k,
              validAccuracy: step8.swa.validAccuracy,
              validLoss: step8.swa.validLoss,
              bestValidLoss: step8.swa.bestValidLoss,
              kept: step8.swa.kept,
            }
          : null,
        best: recipe.best,
        steps: recipe.steps.map(({ step, epochs: e, lr, validAccuracy }) => ({ step, epochs: e, lr, validAccuracy })),
        seconds: recipeSeconds,
        cpuSeconds: recipeCpuSeconds,
        stepSeconds,
      },
      headOnlyConstantLr: { lr: lrHead, validAccuracy: baseline.accuracy, seconds: (Date.now() - t1) / 1000 },
      headOnly8Epochs: {
        lr: DEFAULT_HEAD_CONFIG.lr,
        optimizer: DEFAULT_OPTIMIZER.kind,
        validAccuracy: headOnly8.accuracy,
        bestValidAccuracy: Math.max(...headOnly8PerEpoch),
      },
    },
    null,
    2,
  ),
);
