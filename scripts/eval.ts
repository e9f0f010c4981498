/**
 * `npm run eval`, on real data (Debian's Fashion-MNIST, validation 20 per class from its test set):
 * 1. the eight steps against the head alone, three seeds, mean ± spread and wall time, on 10 classes × 40 and × 100
 *    training images at 96 px (EVAL_SEEDS, EVAL_SETS, EVAL_SIZE override; EVAL_SETS= skips it);
 *    EVAL_VARIANTS=mixup,cutmix,swa,lrfind2,progressive (off by default: each adds a recipe run per seed and set)
 *    runs the eight steps again with that option on, one table each;
 * 2. the acceptance run: 10 × 30 trained with `finetune train --steps head`, exported, then `finetune predict` on the
 *    validation images is compared with the app's own evaluation of the same run.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { writeFashionMnist } from './fashion-mnist';
import { StudioService } from '../src-main/app/service';
import { compareOnFashion, comparisonTable } from './lib/compare';

const work = mkdtempSync(join(tmpdir(), 'ft-eval-'));
const home = join(work, 'home');
const data = join(work, 'fashion');
const size = process.env.EVAL_SIZE ?? '96';

function finetune(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/finetune.mjs', ...args, '--home', home], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`finetune ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
}

const seeds = (process.env.EVAL_SEEDS ?? '42,1,2').split(',').filter(Boolean).map(Number);
const sets = (process.env.EVAL_SETS ?? '40,100').split(',').filter(Boolean).map(Number);
/** The recipe's optional tools as bench-recipe options; progressive: half the size for step 8's first cycle. */
const VARIANTS: Record<string, string[]> = {
  mixup: ['--mixup', '0.4'],
  cutmix: ['--cutmix', '1'],
  swa: ['--swa', '2'],
  lrfind2: ['--lr-find-on', 'valid'],
  progressive: ['--progressive', String(Math.max(32, Math.round(Number(size) / 16) * 8))],
};
const variants = (process.env.EVAL_VARIANTS ?? '').split(',').filter(Boolean);
for (const v of variants) if (!VARIANTS[v]) throw new Error(`EVAL_VARIANTS: unknown "${v}" (${Object.keys(VARIANTS)})`);
for (const perClass of sets) {
  for (const variant of ['', ...variants]) {
    const extra = VARIANTS[variant] ?? [];
    const runs = seeds.map((seed) => compareOnFashion({ perClass, seed, size: Number(size), extra }));
    const label = variant ? ` — the recipe with ${extra.join(' ')}` : '';
    console.log(
      `\nFashion-MNIST 10 × ${perClass} train, 20 valid per class, ${size} px, seeds ${seeds.join(', ')}${label}`,
    );
    console.log(comparisonTable(runs));
  }
}

await writeFashionMnist(data, 30, 20);
const t0 = Date.now();
const train = finetune([
  'train',
  data,
  '--steps',
  'head',
  '--epochs',
  '8',
  '--lr',
  '0.003',
  '--size',
  size,
  '--json',
]) as {
  runId: number;
  validAccuracy: number[];
  backend: string;
};
const seconds = (Date.now() - t0) / 1000;
const out = join(work, 'export');
finetune(['export', String(train.runId), '--out', out, '--json']);

const service = new StudioService({ home, backend: 'auto', mode: 'headless' });
const app = (await service.handle('model.evaluate', { runId: train.runId })) as {
  accuracy: number;
  predictions: Array<{ file: string; label: string }>;
};
await service.close();
const files = app.predictions.map((p) => join(data, p.file));
const cli = finetune(['predict', out, ...files, '--json']) as Array<{ label: string }>;
const agree = cli.filter((p, i) => p.label === app.predictions[i]!.label).length;

const result = {
  dataset: 'Fashion-MNIST, 10 classes x 30 train (+20 valid per class from the test set)',
  size: Number(size),
  backend: train.backend,
  trainSeconds: seconds,
  validAccuracyPerEpoch: train.validAccuracy,
  appAccuracy: app.accuracy,
  chance: 0.1,
  predictAgreesWithApp: `${agree}/${cli.length}`,
};
console.log(JSON.stringify(result, null, 2));
if (agree !== cli.length || app.accuracy < 0.4) process.exit(1);
