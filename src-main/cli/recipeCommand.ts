/**
 * `finetune train DIR --recipe fastai8` and `finetune resume RUN_ID`: fast.ai's eight steps from the command line.
 * Every epoch (with its step's name) and both LR range tests go into the run history; --json ends with one line.
 */
import { ProgressLine } from './progress';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { dirname, resolve } from 'node:path';
import { AUGMENT_PRESETS, type AugmentPreset } from '../core/data/augment';
import { scanDataset } from '../core/data/dataset';
import { homePaths, resolveHome } from '../core/paths';
import { RunStore, type RunTiming } from '../core/history/runStore';
import { recordFailure } from '../core/history/recorder';
import { initBackend } from '../core/tf/backend';
import { resolveBackendChoice } from '../core/settings';
import { pendingDatasetRecord } from '../core/train/headJob';
import { recipeJob, recipeRunConfig, resumeRecipe, type RecipeContext } from '../core/recipe/recipeJob';
import { recordRecipeEvent } from '../core/recipe/recorder';
import { estimateRecipeRun } from '../core/recipe/measure';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { formatEstimateLine, formatSeconds } from '../core/recipe/duration';
import { RunClock, timingFromEstimate } from '../core/recipe/timing';
import { DEFAULT_RECIPE_CONFIG, type RecipeConfig, type RecipeResult } from '../core/recipe/types';
import { machineFit } from '../core/machineDefaults';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const RECIPES = ['fastai8'] as const;

class RecipeUsageError extends Error {}

const common = {
  home: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new RecipeUsageError((err as Error).message.split('\n')[0]!);
  }
}

function num(value: string | undefined, name: string, fallback: number, min: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min) {
    throw new RecipeUsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${value}"`);
  }
  return n;
}

/** Usage errors are thrown as the CLI's own UsageError (exit 2) by the caller's import. */
async function usage(message: string): Promise<never> {
  const { UsageError } = await import('./main');
  throw new UsageError(message);
}

export async function recipeCommand(argv: string[], io: Io): Promise<void> {
  try {
    await trainRecipe(argv, io);
  } catch (err) {
    if (err instanceof RecipeUsageError) await usage(err.message);
    throw err;
  }
}

export async function resumeCommand(argv: string[], io: Io): Promise<void> {
  try {
    await resumeRun(argv, io);
  } catch (err) {
    if (err instanceof RecipeUsageError) await usage(err.message);
    throw err;
  }
}

async function trainRecipe(argv: string[], io: Io) {
  const { values, positionals } = parse(argv, {
    recipe: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string' },
    'batch-size': { type: 'string' },
    'lr-find-all-iters': { type: 'string' },
    cycles: { type: 'string' },
    preset: { type: 'string' },
    balance: { type: 'string' },
    backbone: { type: 'string' },
    optimizer: { type: 'string' },
    'lr-find-iters': { type: 'string' },
    'valid-pct': { type: 'string' },
    estimate: { type: 'boolean', default: false },
  });
  const dir = positionals[0];
  if (!dir) throw new RecipeUsageError('train needs a folder: finetune train DIR --recipe fastai8');
  if (!(RECIPES as readonly string[]).includes(values.recipe ?? '')) {
    throw new RecipeUsageError(`--recipe must be one of ${RECIPES.join(', ')}`);
  }
  const preset = values.preset ?? DEFAULT_RECIPE_CONFIG.preset;
  if (!(AUGMENT_PRESETS as readonly string[]).includes(preset)) {
    throw new RecipeUsageError(`--preset must be one of ${AUGMENT_PRESETS.join(', ')}`);
  }
  const optimizer = values.optimizer ?? DEFAULT_RECIPE_CONFIG.optimizer;
  if (optimizer !== 'sgd' && optimizer !== 'adamw') throw new RecipeUsageError('--optimizer must be sgd or adamw');
  const d = DEFAULT_RECIPE_CONFIG;
  const backend = await initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
  const fit = machineFit(backend);
  const balance = values.balance ?? 'none';
  if (balance !== 'none' && balance !== 'weights' && balance !== 'sampler') {
    throw new RecipeUsageError('--balance must be none, weights or sampler');
  }
  const validPct = num(values['valid-pct'], 'valid-pct', d.validPct, 0.05, false);
  if (validPct > 0.5) throw new RecipeUsageError('--valid-pct must be <= 0.5');
  const config: RecipeConfig = {
    ...d,
    dir: resolve(dir),
    size: num(values.size, 'size', fit.size, 32),
    seed: num(values.seed, 'seed', d.seed, 0),
    batchSize: num(values['batch-size'], 'batch-size', fit.batchSize, 1),
    cycles: num(values.cycles, 'cycles', d.cycles, 1),
    preset: preset as AugmentPreset,
    optimizer,
    validPct,
    balance,
    ...(values.backbone ? { backbone: values.backbone } : {}),
    lrFind: { ...d.lrFind, iters: num(values['lr-find-iters'], 'lr-find-iters', d.lrFind.iters, 5) },
    lrFindAllIters:
      values['lr-find-all-iters'] === undefined ? null : num(values['lr-find-all-iters'], 'lr-find-all-iters', 0, 5),
  };
  const paths = homePaths(resolveHome(values.home));
  const store = new RunStore(paths.history);
  store.markInterrupted();
  try {
    // Scan first so that a bad folder fails before a run is recorded.
    const ds = await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct });
    const estimate = await estimateRecipeRun(config, { home: resolveHome(values.home), ds });
    io.err(`estimate: ${estimateSummary(estimate)}`);
    if (values.estimate) {
      if (values.json) io.out(JSON.stringify({ estimate }));
      else for (const line of estimateTable(estimate)) io.out(line);
      return;
    }
    const runConfig = recipeRunConfig(config, ds.train.length, null);
    const runId = store.createRun({
      dir: config.dir,
      kind: 'fastai8',
      backend: backend.name,
      backendNote: backend.note,
      config: runConfig,
      dataset: pendingDatasetRecord(runConfig),
      classes: [],
    });
    store.setTiming(runId, timingFromEstimate(estimate));
    if (!values.json) {
      io.err(`run ${runId}: fast.ai's eight steps, backend ${backend.name} (${backend.note})`);
      if (values.size === undefined || values['batch-size'] === undefined)
        io.err(`defaults for this machine: ${fit.reason}`);
    }
    await runAndReport(store, runId, paths.featureCache, values.json, io, (ctx) =>
      recipeJob(config, { ...ctx, runDir: paths.runDir(runId) }, runId),
    );
  } finally {
    store.close();
  }
}

/** One line: "about 6 min (step 7: 1 min 20 s, …); steps 7 and 8 may end sooner". */
function estimateSummary(e: RecipeEstimate): string {
  return `${formatEstimateLine(e.steps, e.totalSeconds)}; steps ${e.upperBoundSteps.join(' and ')} may end sooner`;
}

function estimateTable(e: RecipeEstimate): string[] {
  const row = (label: string, seconds: number) => `${label.padEnd(28)} ${formatSeconds(seconds)}`;
  return [
    ...e.steps.map((s) => row(`${s.step}. ${s.name}`, s.seconds)),
    row('snapshot ensemble', e.ensembleSeconds),
    row('total', e.totalSeconds),
  ];
}

/** "step 7: 1 min 20 s (estimated 1 min 10 s)". */
function timingLine(label: string, t: { estimate: number | null; actual: number | null }): string {
  const actual = t.actual === null ? '-' : formatSeconds(t.actual);
  return `${label}: ${actual}${t.estimate === null ? '' : ` (estimated ${formatSeconds(t.estimate)})`}`;
}

async function resumeRun(argv: string[], io: Io) {
  const { values, positionals } = parse(argv, {});
  const runId = Number(positionals[0]);
  if (!Number.isInteger(runId)) throw new RecipeUsageError('resume needs a run id: finetune resume RUN_ID');
  await initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
  const paths = homePaths(resolveHome(values.home));
  const store = new RunStore(paths.history);
  store.markInterrupted();
  try {
    const run = store.getRun(runId);
    if (!run) throw new RecipeUsageError(`No run ${runId} in ${paths.history}: see "finetune runs".`);
    if (run.kind !== 'fastai8')
      throw new RecipeUsageError(`Run ${runId} is a ${run.kind} run: only recipe runs resume.`);
    if (run.status === 'completed') throw new RecipeUsageError(`Run ${runId} is already completed.`);
    await runAndReport(store, runId, paths.featureCache, values.json, io, (ctx) =>
      resumeRecipe(paths.runDir(runId), ctx),
    );
  } finally {
    store.close();
  }
}

async function runAndReport(
  store: RunStore,
  runId: number,
  featureCache: string,
  json: boolean,
  io: Io,
  job: (ctx: Omit<RecipeContext, 'runDir'>) => Promise<RecipeResult>,
) {
  const clock = new RunClock(store.getRun(runId)?.timing ?? timingFromEstimate(null), (t) => store.setTiming(runId, t));
  let cancelled = false;
  const onSigint = () => (cancelled = true);
  process.once('SIGINT', onSigint);
  const progress = new ProgressLine();
  try {
    const result = await job({
      featureCache,
      // The history lives in HOME/history.sqlite; downloadable backbones cache under the same HOME.
      home: dirname(store.path),
      shouldCancel: () => cancelled,
      emit: (e) => {
        recordRecipeEvent(store, runId, e);
        clock.onEvent(e);
        if (json) return;
        if (e.type === 'progress') progress.update(e);
        if (e.type === 'step') progress.log(`step ${e.step} ${e.name}: ${e.status}`);
        if (e.type === 'epoch') {
          progress.log(
            `  ${e.step} epoch ${e.epoch + 1}  train loss ${e.trainLoss.toFixed(4)}  valid loss ${e.validLoss.toFixed(4)}  valid accuracy ${(e.validAccuracy * 100).toFixed(1)}%  (${e.seconds.toFixed(1)} s)`,
          );
        }
      },
    });
    progress.clear();
    const timing: RunTiming = clock.finish();
    store.finishRun(runId, result.status, { modelDir: result.modelDir, error: result.error });
    const summary = {
      runId,
      status: result.status,
      error: result.error,
      seed: result.seed,
      steps: result.steps.map(({ step, name, epochs, lr, validLoss, validAccuracy }) => ({
        step,
        name,
        epochs,
        lr,
        validLoss,
        validAccuracy,
      })),
      ensemble: result.ensemble && { k: result.ensemble.k, validAccuracy: result.ensemble.validAccuracy },
      best: result.best,
      timing,
    };
    if (json) io.out(JSON.stringify(summary));
    else {
      for (const s of summary.steps) {
        const acc = s.validAccuracy === null ? '' : `  valid accuracy ${(s.validAccuracy * 100).toFixed(1)}%`;
        io.out(`${s.step}. ${s.name.padEnd(24)} epochs ${s.epochs}  lr ${s.lr?.toExponential(1) ?? '-'}${acc}`);
      }
      if (summary.ensemble)
        io.out(`snapshot ensemble of ${summary.ensemble.k}: ${(summary.ensemble.validAccuracy * 100).toFixed(1)}%`);
      const timed = timing.steps.filter((t) => t.actual !== null && (t.actual >= 0.5 || (t.estimate ?? 0) >= 0.5));
      io.out(`time ${timed.map((t) => timingLine(`step ${t.step}`, t)).join(', ')}`);
      io.out(timingLine('total time', timing.total));
      io.out(`run ${runId} ${result.status}${result.error ? `: ${result.error}` : ''}`);
      if (result.status === 'cancelled') io.out(`continue it with: finetune resume ${runId}`);
    }
    if (result.status !== 'completed') process.exitCode = 1;
  } catch (err) {
    recordFailure(store, runId, err);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
