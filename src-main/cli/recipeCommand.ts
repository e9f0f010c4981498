/**
 * `finetune train DIR --recipe fastai8 [--until-step N]`: fast.ai's eight steps from the command line, one run
 * through the core's run lifecycle (`recipe continue` goes on with the same run: continueCommand.ts). Every epoch
 * (with its step's name) and both LR range tests go into the run history; --json ends with one line.
 */
import { resolve } from 'node:path';
import { MixConfig, RecipeConfig as RecipeSchema, type RunEvent } from '../../src-shared/contract';
import { scanDataset } from '../core/data/dataset';
import { resolveHome } from '../core/paths';
import { estimateRecipeRun } from '../core/recipe/measure';
import type { RecipeEstimate } from '../core/recipe/estimate';
import { formatEstimateLine, formatSeconds } from '../../src-shared/recipe/duration';
import type { RecipeConfig } from '../core/recipe/types';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { machineFit } from '../core/machineDefaults';
import type { BackendInfo } from '../core/tf/backend';
import { progressiveProblem } from '../core/recipe/progressive';
import { COMMON_OPTIONS, num, oneOf, parseOptions, stringOptions, UsageError, type Io } from './args';
import { openStore, startBackend } from './session';
import { printSummary, runLeg, runSummary } from './runReport';
import { OVERRIDE_OPTIONS, parseOverrides, untilStepOption } from './continueCommand';

export const RECIPES = ['fastai8'] as const;

const TRAIN_OPTIONS = {
  ...COMMON_OPTIONS,
  ...OVERRIDE_OPTIONS,
  ...stringOptions('recipe', 'size', 'seed', 'batch-size', 'preset', 'balance', 'backbone', 'optimizer', 'until-step'),
  ...stringOptions('lr-find-iters', 'lr-find-all-iters', 'valid-pct', 'mixup', 'cutmix', 'swa', 'lr-find-on'),
  ...stringOptions('progressive', 'lr-rule'),
  estimate: { type: 'boolean', default: false },
  'train-bn': { type: 'boolean', default: false },
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
  const lrRule = oneOf(values['lr-rule'], 'lr-rule', s.lrRule.unwrap().options);
  const backend = await startBackend(values);
  const fit = machineFit(backend);
  const untilStep = untilStepOption(values['until-step']);
  const overrides = parseOverrides(values);
  const config: RecipeConfig = {
    ...d,
    ...overrides,
    dir: resolve(dir),
    size: num(values.size, 'size', s.size, fit.size),
    seed: num(values.seed, 'seed', s.seed, d.seed),
    batchSize: num(values['batch-size'], 'batch-size', s.batchSize, fit.batchSize),
    preset,
    optimizer,
    validPct,
    balance,
    ...(values.backbone ? { backbone: values.backbone } : {}),
    ...(mix ? { mix } : {}),
    ...(swa !== undefined ? { swa } : {}),
    ...(lrFindOn ? { lrFindOn } : {}),
    ...(lrRule ? { lrRule } : {}),
    ...(values['train-bn'] ? { trainBatchNorm: true } : {}),
    lrFind: { ...d.lrFind, iters: num(values['lr-find-iters'], 'lr-find-iters', s.lrFind.shape.iters, d.lrFind.iters) },
    lrFindAllIters: num(values['lr-find-all-iters'], 'lr-find-all-iters', s.lrFindAllIters) ?? null,
    ...progressiveOption(values.progressive),
  };
  const problem = progressiveProblem(config);
  if (problem) throw new UsageError(`--progressive: ${problem}`);
  const machineNote = values.size === undefined || values['batch-size'] === undefined ? fit.reason : null;
  await trainRecipe(config, backend, { ...values, machineNote }, io, { untilStep });
}

/**
 * Estimates, then trains and records a run of `config` up to `untilStep` (`finetune train --recipe`, `train --steps
 * head`, `lr-find`, and `finetune runs rerun`, which passes the run it repeats as `rerunOf`). `machineNote`: why the
 * size and batch are these. `estimate: false` skips measuring (the head-only wrappers: it measures step 8 too).
 */
export async function trainRecipe(
  config: RecipeConfig,
  backend: BackendInfo,
  values: { home?: string; json: boolean; estimate?: boolean; machineNote?: string | null },
  io: Io,
  opts: {
    untilStep?: number;
    rerunOf?: number | null;
    measure?: boolean;
    /** 'none': the caller prints its own summary (`train --steps head`). */
    report?: 'recipe' | 'none';
    onEvent?: (e: RunEvent) => void;
  } = {},
): Promise<ReturnType<typeof runSummary> & { classes: string[] }> {
  const { paths, store } = openStore(values.home);
  const rerunOf = opts.rerunOf ?? null;
  const untilStep = opts.untilStep ?? 8;
  try {
    // Scan first so that a bad folder fails before a run is recorded.
    const ds = await scanDataset(config.dir, {
      seed: config.seed,
      validPct: config.validPct,
      cacheDir: paths.scanCache,
    });
    let estimate: RecipeEstimate | null = null;
    if (opts.measure ?? true) {
      estimate = await estimateRecipeRun(config, { home: resolveHome(values.home), ds });
      io.err(`estimate: ${estimateSummary(estimate)}`);
      if (values.estimate) {
        if (values.json) io.out(JSON.stringify({ estimate }));
        else for (const line of estimateTable(estimate)) io.out(line);
        return { ...emptySummary(config), classes: ds.classes };
      }
    }
    const outcome = await runLeg({
      store,
      paths,
      json: values.json,
      io,
      onEvent: opts.onEvent,
      launch: (runs) => {
        const runId = runs.start({
          config,
          untilStep,
          rerunOf,
          backend,
          estimate,
          dataset: { classes: ds.classes, trainItems: ds.train.length },
        });
        if (!values.json) {
          const again = rerunOf === null ? '' : ` (again: run ${rerunOf})`;
          const steps = untilStep === 8 ? "fast.ai's eight steps" : `fast.ai's steps 1–${untilStep}`;
          io.err(`run ${runId}${again}: ${steps}, backend ${backend.name} (${backend.note})`);
          if (values.machineNote) io.err(`defaults for this machine: ${values.machineNote}`);
        }
        return runId;
      },
    });
    const summary = runSummary(store, outcome);
    if (opts.report !== 'none') {
      if (values.json) io.out(JSON.stringify(rerunOf === null ? summary : { ...summary, rerunOf }));
      else printSummary(summary, io);
    }
    return { ...summary, classes: store.getRun(outcome.runId)?.classes ?? ds.classes };
  } finally {
    store.close();
  }
}

function emptySummary(config: RecipeConfig): ReturnType<typeof runSummary> {
  return {
    runId: -1,
    status: 'paused',
    error: null,
    seed: config.seed,
    nextStep: 1,
    config,
    steps: [],
    groupLrs: null,
    ensemble: null,
    swa: null,
    best: null,
    timing: null,
  };
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
