/**
 * `finetune train DIR --recipe fastai8` and `finetune resume RUN_ID`: fast.ai's eight steps from the command line.
 * Every epoch (with its step's name) and both LR range tests go into the run history; --json ends with one line.
 */
import { dirname, resolve } from 'node:path';
import { MixConfig, RecipeConfig as RecipeSchema, type SwaResult } from '../../src-shared/contract';
import { scanDataset } from '../core/data/dataset';
import { resolveHome } from '../core/paths';
import type { RunStore, RunTiming } from '../core/history/runStore';
import { recordFailure } from '../core/history/recorder';
import { recipeJob, recipeRunConfig, resumeRecipe, type RecipeContext } from '../core/recipe/recipeJob';
import { recordRecipeEvent } from '../core/recipe/recorder';
import { estimateRecipeRun } from '../core/recipe/measure';
import { CheckpointWriteError } from '../core/recipe/checkpoint';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { formatEstimateLine, formatSeconds } from '../core/recipe/duration';
import { RunClock, timingFromEstimate } from '../core/recipe/timing';
import { DEFAULT_RECIPE_CONFIG, type RecipeConfig, type RecipeResult } from '../core/recipe/types';
import { machineFit } from '../core/machineDefaults';
import type { BackendInfo } from '../core/tf/backend';
import { progressiveProblem } from '../core/recipe/progressive';
import { COMMON_OPTIONS, num, oneOf, parseOptions, runIdArg, stringOptions, UsageError, type Io } from './args';
import { cancellable, createRun, openStore, runStatusLine, startBackend } from './session';
import { epochLine, ProgressLine } from './progress';

export const RECIPES = ['fastai8'] as const;

const TRAIN_OPTIONS = {
  ...COMMON_OPTIONS,
  ...stringOptions('recipe', 'size', 'seed', 'batch-size', 'cycles', 'preset', 'balance', 'backbone', 'optimizer'),
  ...stringOptions('lr-find-iters', 'lr-find-all-iters', 'valid-pct', 'mixup', 'cutmix', 'swa', 'lr-find-on'),
  ...stringOptions('progressive'),
  estimate: { type: 'boolean', default: false },
} as const;

/** `finetune train DIR --recipe fastai8`. */
export async function recipeCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, TRAIN_OPTIONS);
  const dir = positionals[0];
  if (!dir) throw new UsageError('train needs a folder: finetune train DIR --recipe fastai8');
  oneOf(values.recipe ?? '', 'recipe', RECIPES);
  const d = DEFAULT_RECIPE_CONFIG;
  const s = RecipeSchema.shape;
  const preset = oneOf(values.preset, 'preset', s.preset.options, d.preset);
  const optimizer = oneOf(values.optimizer, 'optimizer', s.optimizer.options, d.optimizer);
  const balance = oneOf(values.balance, 'balance', s.balance.unwrap().options, 'none');
  const validPct = num(values['valid-pct'], 'valid-pct', s.validPct, d.validPct);
  const mix = mixOption(values);
  const swa = num(values.swa, 'swa', s.swa);
  const lrFindOn = oneOf(values['lr-find-on'], 'lr-find-on', s.lrFindOn.unwrap().options);
  const backend = await startBackend(values);
  const fit = machineFit(backend);
  const config: RecipeConfig = {
    ...d,
    dir: resolve(dir),
    size: num(values.size, 'size', s.size, fit.size),
    seed: num(values.seed, 'seed', s.seed, d.seed),
    batchSize: num(values['batch-size'], 'batch-size', s.batchSize, fit.batchSize),
    cycles: num(values.cycles, 'cycles', s.cycles, d.cycles),
    preset,
    optimizer,
    validPct,
    balance,
    ...(values.backbone ? { backbone: values.backbone } : {}),
    ...(mix ? { mix } : {}),
    ...(swa !== undefined ? { swa } : {}),
    ...(lrFindOn ? { lrFindOn } : {}),
    lrFind: { ...d.lrFind, iters: num(values['lr-find-iters'], 'lr-find-iters', s.lrFind.shape.iters, d.lrFind.iters) },
    lrFindAllIters: num(values['lr-find-all-iters'], 'lr-find-all-iters', s.lrFindAllIters) ?? null,
    ...progressiveOption(values.progressive),
  };
  const problem = progressiveProblem(config);
  if (problem) throw new UsageError(`--progressive: ${problem}`);
  const machineNote = values.size === undefined || values['batch-size'] === undefined ? fit.reason : null;
  await trainRecipe(config, backend, { ...values, machineNote }, io);
}

/**
 * Estimates, then trains and records a recipe run of `config` (`finetune train --recipe`, and `finetune runs rerun`
 * of a recipe run, which passes the run it repeats as `rerunOf`). `machineNote`: why the size and batch are these.
 */
export async function trainRecipe(
  config: RecipeConfig,
  backend: BackendInfo,
  values: { home?: string; json: boolean; estimate?: boolean; machineNote?: string | null },
  io: Io,
  rerunOf: number | null = null,
): Promise<void> {
  const { paths, store } = openStore(values.home);
  try {
    // Scan first so that a bad folder fails before a run is recorded.
    const ds = await scanDataset(config.dir, {
      seed: config.seed,
      validPct: config.validPct,
      cacheDir: paths.scanCache,
    });
    const estimate = await estimateRecipeRun(config, { home: resolveHome(values.home), ds });
    io.err(`estimate: ${estimateSummary(estimate)}`);
    if (values.estimate) {
      if (values.json) io.out(JSON.stringify({ estimate }));
      else for (const line of estimateTable(estimate)) io.out(line);
      return;
    }
    const runId = createRun(store, 'fastai8', backend, recipeRunConfig(config, ds.train.length, null), rerunOf);
    store.setTiming(runId, timingFromEstimate(estimate));
    if (!values.json) {
      const again = rerunOf === null ? '' : ` (again: run ${rerunOf})`;
      io.err(`run ${runId}${again}: fast.ai's eight steps, backend ${backend.name} (${backend.note})`);
      if (values.machineNote) io.err(`defaults for this machine: ${values.machineNote}`);
    }
    await runAndReport(store, runId, paths.featureCache, values.json, io, (ctx) =>
      recipeJob(config, { ...ctx, runDir: paths.runDir(runId) }, runId),
    );
  } finally {
    store.close();
  }
}

/** `--mixup ALPHA` or `--cutmix ALPHA` (not both): mixing in steps 4 and 8; neither: off (null). */
export function mixOption(values: { mixup?: string; cutmix?: string }): MixConfig | null {
  if (values.mixup !== undefined && values.cutmix !== undefined)
    throw new UsageError('--mixup and --cutmix cannot be combined: choose one of them (or neither: no mixing)');
  const alpha = MixConfig.shape.alpha;
  if (values.mixup !== undefined) return { kind: 'mixup', alpha: num(values.mixup, 'mixup', alpha, 0) };
  if (values.cutmix !== undefined) return { kind: 'cutmix', alpha: num(values.cutmix, 'cutmix', alpha, 0) };
  return null;
}

/** `--progressive 64,96`: step 8's first cycles at these smaller sizes (progressive.ts); absent: off. */
export function progressiveOption(raw: string | undefined): Pick<RecipeConfig, 'progressive'> {
  if (raw === undefined) return {};
  const each = RecipeSchema.shape.progressive.unwrap().unwrap().element;
  const sizes = raw.split(',').map((part) => num(part, 'progressive', each, NaN));
  return { progressive: sizes };
}

/** "SWA of the last 3 cycles: 93.3%, valid loss 0.2100: exported (the best cycle: 0.2300)". */
export function swaLine(s: SwaResult): string {
  const best = s.bestValidLoss === null ? '' : ` (the best checkpoint: ${s.bestValidLoss.toFixed(4)})`;
  const what = s.kept ? 'exported' : 'not exported, the best checkpoint is';
  return `SWA of the last ${s.k} cycles: ${(s.validAccuracy * 100).toFixed(1)}%, valid loss ${s.validLoss.toFixed(4)}: ${what}${best}`;
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

/** `finetune resume RUN_ID`: an interrupted or cancelled recipe run from its last checkpoint. */
export async function resumeCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, COMMON_OPTIONS);
  const runId = runIdArg(positionals[0], 'resume needs a run id: finetune resume RUN_ID');
  const { paths, store } = openStore(values.home);
  try {
    const run = store.getRun(runId);
    if (!run) throw new UsageError(`No run ${runId} in ${paths.history}: see "finetune runs".`);
    if (run.kind !== 'fastai8') throw new UsageError(`Run ${runId} is a ${run.kind} run: only recipe runs resume.`);
    if (run.status === 'completed') throw new UsageError(`Run ${runId} is already completed.`);
    // openStore marked the runs of dead processes interrupted: 'running' is a live process's (the app, a CLI).
    if (run.status === 'running')
      throw new UsageError(`Run ${runId} is running in another process: wait for it to end, or cancel it first.`);
    // After the checks: a refusal should not wait for TensorFlow.js to start.
    await startBackend(values);
    store.setStatus(runId, 'running');
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
  const progress = new ProgressLine();
  try {
    const result = await cancellable((shouldCancel) =>
      job({
        featureCache,
        // The history lives in HOME/history.sqlite; downloadable backbones cache under the same HOME.
        home: dirname(store.path),
        shouldCancel,
        emit: (e) => {
          recordRecipeEvent(store, runId, e);
          clock.onEvent(e);
          if (json) return;
          if (e.type === 'progress') progress.update(e);
          if (e.type === 'step') progress.log(`step ${e.step} ${e.name}: ${e.status}`);
          if (e.type === 'epoch') progress.log(`  ${e.step} ${epochLine(e)}`);
        },
      }),
    );
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
      swa: result.steps.find((s) => s.step === 8)?.swa ?? null,
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
      if (summary.swa) io.out(swaLine(summary.swa));
      const timed = timing.steps.filter((t) => t.actual !== null && (t.actual >= 0.5 || (t.estimate ?? 0) >= 0.5));
      io.out(`time ${timed.map((t) => timingLine(`step ${t.step}`, t)).join(', ')}`);
      io.out(timingLine('total time', timing.total));
      io.out(runStatusLine(runId, result));
      if (result.status === 'cancelled') io.out(`continue it with: finetune resume ${runId}`);
    }
    if (result.status !== 'completed') process.exitCode = 1;
  } catch (err) {
    if (err instanceof CheckpointWriteError) err.message += ` Then: finetune resume ${runId}`;
    recordFailure(store, runId, err);
    throw err;
  }
}
