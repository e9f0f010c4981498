/**
 * `finetune lr-find`: the LR range test (fastai's `lr_find`) on a folder of images, for the head on precomputed
 * activations (fast.ai step 2) or for the whole unfrozen network with discriminative LRs (step 7). Prints the
 * suggestions with the rule behind each and a sparkline of the smoothed loss; stores the curve in the run history.
 */
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { DEFAULT_HEAD_CONFIG } from '../core/defaults';
import { initBackend } from '../core/tf/backend';
import { resolveBackendChoice } from '../core/settings';
import { scanDataset } from '../core/data/dataset';
import { homePaths, resolveHome } from '../core/paths';
import { RunStore } from '../core/history/runStore';
import { readRunMeta } from '../core/export/exporter';
import { lrFindJob, maxFullBatchOnWasm, type LrFindConfig, type LrFindStage } from '../core/lrfind/lrFindJob';
import type { LrRangeTestResult } from '../core/lrfind/lrRangeTest';
import type { LrRangeMode } from '../core/lrfind/suggest';
import { ProgressLine } from './progress';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

class UsageError extends Error {}

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
  stage: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  iters: { type: 'string' },
  mode: { type: 'string' },
  size: { type: 'string' },
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  dropout: { type: 'string' },
  'valid-pct': { type: 'string' },
  'valid-loss': { type: 'boolean', default: false },
  run: { type: 'string' },
  home: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function num(value: string | undefined, name: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

function range(value: number, name: string, min: number, max: number): number {
  if (value < min || value > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

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

export async function lrFindCommand(argv: string[], io: Io): Promise<void> {
  try {
    await run(argv, io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`finetune lr-find: ${err.message}`);
    process.exitCode = 2;
  }
}

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

async function run(argv: string[], io: Io): Promise<void> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    io.out(LR_FIND_USAGE);
    return;
  }
  const dir = positionals[0];
  if (!dir) throw new UsageError('lr-find needs a folder: finetune lr-find DIR');
  const stage = values.stage ?? 'head';
  if (stage !== 'head' && stage !== 'full') throw new UsageError(`--stage must be head or full, got "${stage}"`);
  const mode = values.mode ?? 'exp';
  if (mode !== 'exp' && mode !== 'linear') throw new UsageError(`--mode must be exp or linear, got "${mode}"`);
  const start = num(values.start, 'start', 1e-7);
  const end = num(values.end, 'end', 10);
  if (mode === 'exp' && !(start > 0)) throw new UsageError('--start must be > 0 with --mode exp');
  if (start < 0) throw new UsageError('--start must be >= 0');
  if (!(end > start)) throw new UsageError(`--end (${end}) must be larger than --start (${start})`);
  const iters = range(num(values.iters, 'iters', 100, true), 'iters', 2, 100_000);
  const runId = values.run === undefined ? null : num(values.run, 'run', 0, true);
  if (runId !== null && stage !== 'full')
    throw new UsageError('--run is for --stage full (the head run to start from)');

  const d = DEFAULT_HEAD_CONFIG;
  const paths = homePaths(resolveHome(values.home));
  const meta = runId === null ? null : readRunMeta(paths.runDir(runId));
  const size = range(num(values.size, 'size', meta?.size ?? d.size, true), 'size', 32, 512);
  const backend = await initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
  const defaultBatch =
    stage === 'full' && backend.name === 'wasm' ? Math.min(d.batchSize, maxFullBatchOnWasm(size)) : d.batchSize;
  const config: LrFindConfig = {
    dir: resolve(dir),
    size,
    batchSize: range(num(values['batch-size'], 'batch-size', defaultBatch, true), 'batch-size', 1, 1024),
    seed: num(values.seed, 'seed', meta?.config.seed ?? d.seed, true),
    validPct: range(num(values['valid-pct'], 'valid-pct', meta?.config.validPct ?? d.validPct), 'valid-pct', 0.05, 0.5),
    dropout: range(num(values.dropout, 'dropout', d.dropout), 'dropout', 0, 0.9),
    stage,
    start,
    end,
    iters,
    mode: mode as LrRangeMode,
  };
  if (values['valid-loss']) config.recordValidLoss = true;
  if (meta && runId !== null) {
    config.modelDir = join(paths.runDir(runId), 'model');
    config.modelClasses = meta.classes;
  }
  // Scan first so that a bad folder fails (exit 2) before anything is loaded.
  await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct });
  if (!values.json) io.err(`backend ${backend.name} (${backend.note})`);

  let cancelled = false;
  const onSigint = () => (cancelled = true);
  process.once('SIGINT', onSigint);
  const progress = new ProgressLine();
  try {
    const job = await lrFindJob(config, {
      featureCache: paths.featureCache,
      shouldCancel: () => cancelled,
      emit: (e) => {
        if (values.json) return;
        if (e.type === 'warning') progress.log(`warning: ${e.message}`);
        if (e.type === 'progress') progress.update(e);
      },
    });
    progress.clear();
    const result = job.result;
    let lrFindId: number | null = null;
    if (job.status === 'completed' && result) {
      const store = new RunStore(paths.history);
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
  } finally {
    process.off('SIGINT', onSigint);
  }
}
