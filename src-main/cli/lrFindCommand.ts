/**
 * `finetune lr-find`: the LR range test (fastai's `lr_find`) on a folder of images, for the head on precomputed
 * activations (fast.ai step 2) or for the whole unfrozen network with discriminative LRs (step 7). Prints the
 * suggestions with the rule behind each and a sparkline of the smoothed loss; stores the curve in the run history.
 */
import { join, resolve } from 'node:path';
import { LrFindConfig as LrFindSchema } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../core/defaults';
import { scanDataset } from '../core/data/dataset';
import { homePaths, resolveHome } from '../core/paths';
import { RunStore } from '../core/history/runStore';
import { readRunMeta } from '../core/runFiles';
import { lrFindJob, maxFullBatchOnWasm, type LrFindConfig, type LrFindStage } from '../core/lrfind/lrFindJob';
import type { LrRangeTestResult } from '../core/lrfind/lrRangeTest';
import { COMMON_OPTIONS, num, oneOf, parseOptions, stringOptions, UsageError, type Io } from './args';
import { cancellable, startBackend } from './session';
import { ProgressLine } from './progress';

export const LR_FIND_USAGE = `Usage: finetune lr-find DIR [--stage head|full] [--start 1e-7] [--end 10] [--iters 100] [--mode exp|linear]
                        [--size PX] [--batch-size B] [--seed S] [--dropout D] [--valid-pct P] [--valid-loss]
                        [--run RUN_ID] [--json]

The LR range test: one mini-batch per step while the LR grows from --start to --end; stops when the smoothed loss
exceeds 4x its best. Suggests LRs by fastai's rules (valley, steep, minimum/10). The model is left untouched.
  --stage head   (default) the new head on precomputed activations (fast.ai step 2)
  --stage full   the whole unfrozen network on images, LR multipliers 1/9, 1/3, 1 for early backbone, late backbone
                 and head (step 7); --run RUN_ID starts from that head run's trained model
  --valid-loss   also record the validation loss after every step (slower)`;

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

function markerLine(result: LrRangeTestResult, width = 60): string {
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

function humanReport(io: Io, stage: LrFindStage, result: LrRangeTestResult, id: number | null, backend: string) {
  const n = result.lr.length;
  const how = result.cancelled
    ? `cancelled after ${n} iteration(s)`
    : result.stoppedEarly
      ? `stopped at iteration ${n} of ${result.iters}: the loss diverged`
      : `${n} iterations`;
  io.out(`LR range test (${stage}, ${backend}): ${how}`);
  const s = result.suggestions;
  io.out(`  valley    ${fmtLr(s.valley)}  ${result.rules.valley}`);
  io.out(`  steep     ${fmtLr(s.steep)}  ${result.rules.steep}`);
  io.out(`  minDiv10  ${fmtLr(s.minDiv10)}  ${result.rules.minDiv10}`);
  if (n > 1) {
    io.out('');
    io.out(`  smoothed loss from LR ${result.lr[0]!.toExponential(0)} to ${result.lr[n - 1]!.toExponential(0)}:`);
    io.out(`  ${sparkline(result.smoothedLoss)}`);
    const marks = markerLine(result);
    if (marks) io.out(`  ${marks}   (v valley, s steep, m minDiv10)`);
  }
  if (id !== null) io.out(`saved as LR finder result ${id} in the run history`);
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
  const paths = homePaths(resolveHome(values.home));
  const meta = runId === null ? null : readRunMeta(paths.runDir(runId));
  const size = num(values.size, 'size', s.size, meta?.size ?? d.size);
  const backend = await startBackend(values);
  const defaultBatch =
    stage === 'full' && backend.name === 'wasm' ? Math.min(d.batchSize, maxFullBatchOnWasm(size)) : d.batchSize;
  const config: LrFindConfig = {
    dir: resolve(dir),
    size,
    batchSize: num(values['batch-size'], 'batch-size', s.batchSize, defaultBatch),
    seed: num(values.seed, 'seed', s.seed, meta?.config.seed ?? d.seed),
    validPct: num(values['valid-pct'], 'valid-pct', s.validPct, meta?.config.validPct ?? d.validPct),
    dropout: num(values.dropout, 'dropout', s.dropout, d.dropout),
    stage,
    start,
    end,
    iters,
    mode,
  };
  if (values['valid-loss']) config.recordValidLoss = true;
  if (meta && runId !== null) {
    config.modelDir = join(paths.runDir(runId), 'model');
    config.modelClasses = meta.classes;
  }
  // Scan first so that a bad folder fails (exit 2) before anything is loaded.
  await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct, cacheDir: paths.scanCache });
  if (!values.json) io.err(`backend ${backend.name} (${backend.note})`);

  const progress = new ProgressLine();
  const job = await cancellable((shouldCancel) =>
    lrFindJob(config, {
      featureCache: paths.featureCache,
      shouldCancel,
      emit: (e) => {
        if (values.json) return;
        if (e.type === 'warning') progress.log(`warning: ${e.message}`);
        if (e.type === 'progress') progress.update(e);
      },
    }),
  );
  progress.clear();
  const result = job.result;
  let lrFindId: number | null = null;
  if (job.status === 'completed' && result) {
    const store = new RunStore(paths.history);
    if (store.notice) io.err(`warning: ${store.notice}`);
    try {
      lrFindId = store.addLrFind(runId, stage, {
        ...result,
        config,
        backend: backend.name,
        classes: job.classes,
        groups: job.groups,
        warnings: job.warnings,
      });
    } finally {
      store.close();
    }
  }
  if (values.json) {
    io.out(
      JSON.stringify({
        status: job.status,
        stage,
        backend: backend.name,
        ...(result ?? {}),
        classes: job.classes,
        groups: job.groups,
        warnings: job.warnings,
        lrFindId,
      }),
    );
  } else if (result) {
    humanReport(io, stage, result, lrFindId, backend.name);
  } else {
    io.out('LR range test cancelled');
  }
  if (job.status !== 'completed') process.exitCode = 1;
}
