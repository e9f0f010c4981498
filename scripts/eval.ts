/**
 * `npm run eval`, on real data (Debian's Fashion-MNIST, validation 20 per class from its test set):
 * 1. every training option alone on top of the recipe's defaults, beside the defaults and the head alone
 *    (scripts/lib/evalOptions.ts): 10 classes × 40 training images at three seeds, × 100 at one, the machine's
 *    default size. Each run's raw numbers go to eval/options/<commit>/ and a run already there is not run again, so
 *    the matrix (hours of CPU) resumes where it stopped; the tree must be clean, so that every number is of that
 *    commit. EVAL_VARIANTS, EVAL_SEEDS, EVAL_SETS narrow it (EVAL_SETS= skips it); EVAL_SIZE overrides the size.
 *    `npm run eval -- --table [COMMIT]` prints the table of what is stored and runs nothing; `--effects [COMMIT]`
 *    writes each option's measured effect for the CLI's help and the wizard (src-shared/recipe/measuredEffectsData.ts)
 *    and README's Results table.
 * 2. the acceptance run: 10 × 30 trained with `finetune train --steps head`, exported, then `finetune predict` on the
 *    validation images is compared with the app's own evaluation of the same run.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFashionMnist } from './fashion-mnist';
import { StudioService } from '../src-main/app/service';
import { initBackend } from '../src-main/core/tf/backend';
import { machineFit } from '../src-main/core/machineDefaults';
import {
  EVAL_VARIANTS,
  evalPlan,
  evalTable,
  measuredEffectsMarkdown,
  measuredEffectsOf,
  measuredEffectsSource,
  withMeasuredEffectsTable,
  readResults,
  runFile,
  runOne,
} from './lib/evalOptions';

const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
const commit = process.argv[3] ?? git('rev-parse', '--short=10', 'HEAD');
const optionsDir = join(import.meta.dirname, '..', 'eval', 'options', commit);
if (process.argv[2] === '--table') {
  console.log(evalTable(readResults(optionsDir)));
  process.exit(0);
}
if (process.argv[2] === '--effects') {
  // What the CLI's help and the wizard's hints say of each option, and README's Results table (between its markers).
  const file = join(import.meta.dirname, '..', 'src-shared', 'recipe', 'measuredEffectsData.ts');
  const readme = join(import.meta.dirname, '..', 'README.md');
  const effects = measuredEffectsOf(readResults(optionsDir), commit);
  writeFileSync(file, measuredEffectsSource(effects));
  writeFileSync(readme, withMeasuredEffectsTable(readFileSync(readme, 'utf8'), measuredEffectsMarkdown(effects)));
  const prettier = join(import.meta.dirname, '..', 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  execFileSync(process.execPath, [prettier, '--write', file, readme]);
  console.log(`wrote ${file} and README.md's Results table`);
  process.exit(0);
}

const size = Number(process.env.EVAL_SIZE ?? machineFit(await initBackend('auto')).size);
const seeds = (process.env.EVAL_SEEDS ?? '42,1,2').split(',').filter(Boolean).map(Number);
const sets = (process.env.EVAL_SETS ?? '40,100').split(',').filter(Boolean).map(Number);
const variants = (process.env.EVAL_VARIANTS ?? EVAL_VARIANTS.map((v) => v.name).join(',')).split(',').filter(Boolean);
for (const v of variants)
  if (!EVAL_VARIANTS.some((e) => e.name === v))
    throw new Error(`EVAL_VARIANTS: unknown "${v}" (${EVAL_VARIANTS.map((e) => e.name).join(', ')})`);
const plan = evalPlan({ variants, seeds, sets }).filter((key) => !existsSync(runFile(optionsDir, key)));
if (plan.length > 0 && git('status', '--porcelain', '--untracked-files=no') !== '')
  throw new Error('npm run eval: commit your changes first; the stored numbers are named by the commit they ran at');
for (const [i, key] of plan.entries()) {
  const r = runOne(key, { dir: optionsDir, commit, size });
  console.error(
    `[${i + 1}/${plan.length}] 10 × ${key.perClass} ${key.variant} seed ${key.seed}: best epoch ${(100 * r.bestEpoch).toFixed(1)} %, ` +
      `kept ${(100 * r.kept).toFixed(1)} %, TTA ${(100 * r.keptTta).toFixed(1)} %, head alone ${(100 * r.headOnly).toFixed(1)} %, ` +
      `${(r.cpuSeconds / 60).toFixed(0)} CPU min`,
  );
}
if (sets.length > 0) console.log(`Options at commit ${commit}, ${size} px:\n${evalTable(readResults(optionsDir))}`);

const work = mkdtempSync(join(tmpdir(), 'ft-eval-'));
const home = join(work, 'home');
const data = join(work, 'fashion');

function finetune(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/finetune.mjs', ...args, '--home', home], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`finetune ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown;
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
  String(size),
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
