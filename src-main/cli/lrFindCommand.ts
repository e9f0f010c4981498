/**
 * `finetune lr-find`: the LR range test (fastai's `lr_find`) as a step of a run: step 2 (the head on precomputed
 * activations) of a new run stopped there, or step 7 (the whole unfrozen network with the recipe's group LRs) of a
 * run continued up to it (`--run ID`) or of a new one. Prints the suggestions with the rule behind each and a
 * sparkline of the smoothed loss; the run (and its curve) is in the history and `recipe continue` goes on from it.
 */
import { resolve } from 'node:path';
import { LrFindConfig as LrFindSchema, type LrFindCurve, type RecipeConfig } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../../src-shared/defaults';
import { DEFAULT_RECIPE_CONFIG } from '../../src-shared/recipe/config';
import { scanDataset } from '../core/data/dataset';
import { COMMON_OPTIONS, num, oneOf, parseOptions, stringOptions, UsageError, type Io } from './args';
import { openStore, startBackend } from './session';
import { continueLeg, requireRun, runLeg } from './runReport';

type LrFindStage = 'head' | 'full';

export const LR_FIND_USAGE = `Usage: finetune lr-find DIR [--stage head|full] [--start 1e-7] [--end 10] [--iters 100] [--mode exp|linear]
                        [--size PX] [--batch-size B] [--seed S] [--dropout D] [--valid-pct P] [--valid-loss]
                        [--run RUN_ID] [--json]

The LR range test: one mini-batch per step while the LR grows from --start to --end; stops when the smoothed loss
exceeds 4x its best. Suggests LRs by fastai's rules (valley, steep, minimum/10). The model is left untouched.
  --stage head   (default) the new head on precomputed activations (fast.ai step 2)
  --stage full   the whole unfrozen network on images, LR multipliers 1/9, 1/3, 1 for early backbone, late backbone
                 and head (step 7); --run RUN_ID continues that run up to step 7, else a new run trains
                 steps 3-4 first
  --valid-loss   also record the validation loss after every step, and suggest from it (slower)
The range test is a step of a run (paused after it): finetune recipe continue RUN_ID goes on from there.`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  ...stringOptions('stage', 'start', 'end', 'iters', 'mode', 'run'),
  ...stringOptions('size', 'batch-size', 'seed', 'dropout', 'valid-pct'),
  'valid-loss': { type: 'boolean', default: false },
} as const;

const fmtLr = (x: number | null) => (x === null ? '   -   ' : x.toExponential(1).padEnd(7));

/** One line of block characters for the smoothed loss (log-spaced LRs are evenly spaced steps). */
export function sparkline(values: readonly number[], width = 60): string {
  const bars = '▁▂▃▄▅▆▇█';
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const cols = Math.min(width, values.length);
  let line = '';
  for (let c = 0; c < cols; c++) {
    const i = Math.min(values.length - 1, Math.round((c * (values.length - 1)) / Math.max(1, cols - 1)));
    const v = values[i]!;
    if (!Number.isFinite(v)) line += '!';
    else line += bars[hi > lo ? Math.round(((v - lo) / (hi - lo)) * (bars.length - 1)) : 0];
  }
  return line;
}

function markerLine(result: LrFindCurve, width = 60): string {
  const n = result.lr.length;
  const cols = Math.min(width, n);
  const chars = new Array<string>(cols).fill(' ');
  const put = (lr: number | null, mark: string) => {
    if (lr === null || n < 2) return;
    let best = 0;
    for (let i = 1; i < n; i++)
      if (Math.abs(Math.log(result.lr[i]!) - Math.log(lr)) < Math.abs(Math.log(result.lr[best]!) - Math.log(lr)))
        best = i;
    const col = Math.round((best * (cols - 1)) / (n - 1));
    chars[col] = chars[col] === ' ' ? mark : '*';
  };
  put(result.suggestions.minDiv10, 'm');
  put(result.suggestions.steep, 's');
  put(result.suggestions.valley, 'v');
  return chars.join('').trimEnd();
}

function humanReport(io: Io, stage: LrFindStage, result: LrFindCurve, runId: number, backend: string) {
  const n = result.lr.length;
  const how = result.stoppedEarly ? `stopped at iteration ${n}: the loss diverged` : `${n} iterations`;
  io.out(`LR range test (${stage}, ${backend}): ${how}`);
  const s = result.suggestions;
  io.out(`  valley    ${fmtLr(s.valley)}  ${result.rules.valley}`);
  io.out(`  steep     ${fmtLr(s.steep)}  ${result.rules.steep}`);
  io.out(`  minDiv10  ${fmtLr(s.minDiv10)}  ${result.rules.minDiv10}`);
  if (n > 1) {
    io.out('');
    io.out(`  smoothed loss from LR ${result.lr[0]!.toExponential(0)} to ${result.lr[n - 1]!.toExponential(0)}:`);
    io.out(`  ${sparkline(result.smoothedLoss.map((v) => v ?? NaN))}`);
    const marks = markerLine(result);
    if (marks) io.out(`  ${marks}   (v valley, s steep, m minDiv10)`);
  }
  for (const [rule, warning] of Object.entries(result.warnings)) if (warning) io.out(`  ${rule}: ${warning}`);
  io.out(`  recommended ${fmtLr(result.recommended.lr)} ${result.recommended.pick}`);
  if (result.recommended.warning) io.out(`  warning: ${result.recommended.warning}`);
  io.out(`run ${runId} paused after step ${result.step}: finetune recipe continue ${runId} goes on from it`);
}

/** Runs `finetune lr-find ARGV`; a bad flag or folder throws (main.ts reports it and exits 2). */
export async function lrFindCommand(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parseOptions(argv, OPTIONS);
  if (values.help) {
    io.out(LR_FIND_USAGE);
    return;
  }
  const dir = positionals[0];
  if (!dir) throw new UsageError('lr-find needs a folder: finetune lr-find DIR');
  const s = LrFindSchema.shape;
  const stage = oneOf(values.stage, 'stage', s.stage.options, 'head');
  const mode = oneOf(values.mode, 'mode', s.mode.options, 'exp');
  const start = num(values.start, 'start', s.start, 1e-7);
  const end = num(values.end, 'end', s.end, 10);
  if (!(end > start)) throw new UsageError(`--end (${end}) must be larger than --start (${start})`);
  const iters = num(values.iters, 'iters', s.iters, 100);
  const runId = num(values.run, 'run', s.runId) ?? null;
  if (runId !== null && stage !== 'full')
    throw new UsageError('--run is for --stage full (the head run to start from)');

  const d = DEFAULT_HEAD_CONFIG;
  const step = stage === 'head' ? 2 : 7;
  const lrFind: RecipeConfig['lrFind'] = { start, end, iters, mode };
  const { paths, store } = openStore(values.home);
  try {
    if (runId !== null) requireRun(store, paths, runId);
    const config: RecipeConfig = {
      ...DEFAULT_RECIPE_CONFIG,
      dir: resolve(dir),
      size: num(values.size, 'size', s.size, d.size),
      batchSize: num(values['batch-size'], 'batch-size', s.batchSize, d.batchSize),
      seed: num(values.seed, 'seed', s.seed, d.seed),
      validPct: num(values['valid-pct'], 'valid-pct', s.validPct, d.validPct),
      dropout: num(values.dropout, 'dropout', s.dropout, d.dropout),
      lrFind,
      ...(stage === 'full' ? { lrFindAllIters: iters } : {}),
      ...(values['valid-loss'] ? { lrFindOn: 'valid' as const } : {}),
    };
    // Scan first so that a bad folder fails (exit 2) before anything is loaded.
    const ds =
      runId === null
        ? await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct, cacheDir: paths.scanCache })
        : null;
    const backend = await startBackend(values);
    if (!values.json) io.err(`backend ${backend.name} (${backend.note})`);
    let curve: LrFindCurve | null = null;
    const warnings: string[] = [];
    const outcome = await runLeg({
      store,
      paths,
      json: values.json,
      io,
      onEvent: (e) => {
        if (e.type === 'lrfind' && e.result.step === step) curve = e.result;
        if (e.type === 'warning') warnings.push(e.message);
      },
      launch: (runs) => {
        if (runId === null)
          return runs.start({
            config,
            untilStep: step,
            backend,
            dataset: { classes: ds!.classes, trainItems: ds!.train.length },
          });
        const overrides = { lrFind, ...(stage === 'full' ? { lrFindAllIters: iters } : {}) };
        return continueLeg(runs, { runId, untilStep: step, overrides });
      },
    });
    const result = curve as LrFindCurve | null;
    const status = result ? 'completed' : outcome.status === 'failed' ? 'failed' : 'cancelled';
    if (values.json) {
      const classes = store.getRun(outcome.runId)?.classes ?? [];
      const stepResult = store.stepResults(outcome.runId).find((r) => r.step === step);
      io.out(
        JSON.stringify({
          status,
          stage,
          backend: backend.name,
          runId: outcome.runId,
          ...(result ?? {}),
          ...(stepResult?.groupLrMults ? { groupLrMults: stepResult.groupLrMults } : {}),
          classes,
          notices: warnings,
          error: outcome.error,
        }),
      );
    } else if (result) {
      humanReport(io, stage, result, outcome.runId, backend.name);
    } else {
      io.out(`LR range test ${status}${outcome.error ? `: ${outcome.error}` : ''}`);
    }
    process.exitCode = status === 'completed' ? 0 : 1;
  } finally {
    store.close();
  }
}
