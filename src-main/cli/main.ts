/**
 * `finetune`: the command-line face of the same core the app uses. Human output by default, --json for machines.
 * Errors are one line naming the problem; usage errors exit 2, failures exit 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { HeadTrainConfig } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../core/defaults';
import { ProgressLine } from './progress';
import { initBackend } from '../core/tf/backend';
import { resolveBackendChoice } from '../core/settings';
import { scanDataset, classCounts, DatasetError } from '../core/data/dataset';
import { homePaths, resolveHome } from '../core/paths';
import { RunStore } from '../core/history/runStore';
import { recordEvent, recordFailure, recordResult } from '../core/history/recorder';
import { pendingDatasetRecord, trainHeadJob, type TrainEvent } from '../core/train/headJob';
import { exportEnsemble, exportRun } from '../core/export/exporter';
import { getBackbone, listBackbones } from '../core/model/backbones';
import { SCHEDULE_DEFAULTS, type TrainingSchedule } from '../core/schedules/training';
import { Predictor } from '../core/export/predictor';
import { machineFit } from '../core/machineDefaults';

export class UsageError extends Error {}

const HELP = `finetune — fine-tune an image classifier on a folder of labeled images (fast.ai's method)

Usage:
  finetune scan DIR [--seed S] [--valid-pct P] [--json]
  finetune train DIR --steps head [--epochs N] [--lr X] [--size PX] [--batch-size B] [--seed S]
                 [--dropout D] [--valid-pct P] [--schedule constant|sgdr|onecycle|cyclic]
                 [--cycle-len E] [--cycle-mult M] [--cycles N] [--backbone ID]
                 [--balance none|weights|sampler] [--json]
  finetune train DIR --recipe fastai8 [--size PX] [--seed S] [--batch-size B] [--cycles N]
                 [--preset side-on|top-down|none] [--optimizer sgd|adamw] [--lr-find-iters N]
                 [--lr-find-all-iters N] [--json]
                 [--estimate]                     fast.ai's eight steps, checkpointed after every epoch;
                                                  prints the estimated time first (--estimate: only that)
  finetune resume RUN_ID [--json]                 continue an interrupted --recipe run from its checkpoint
  finetune export RUN_ID [--out DIR] [--ensemble] [--json]
  finetune predict MODEL_DIR FILE... [--json]
  finetune runs [--json]
  finetune backbones [--json]                     the bundled backbone and the downloadable ones
  finetune schedule --kind KIND [...] --json      (finetune schedule --help)
  finetune lr-find DIR [--stage head|full] [--start 1e-7] [--end 10] [--iters 100] [--mode exp|linear]
                 [--size PX] [--batch-size B] [--seed S] [--valid-loss] [--run RUN_ID] [--json]
  finetune serve [--port N]                       headless server for the wizard in a browser

Common options:
  --home DIR       where history, runs and caches live (default: FINETUNE_HOME or the user data folder)
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (default: FINETUNE_BACKEND or auto)
  --json           machine-readable output on stdout
`;

const common = {
  home: { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!);
  }
}

function num(value: string | undefined, name: string, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
  }
  return n;
}

function openStore(home: string | undefined) {
  const paths = homePaths(resolveHome(home));
  const store = new RunStore(paths.history);
  store.markInterrupted();
  return { paths, store };
}

async function scanCmd(argv: string[], io: Io) {
  const { values, positionals } = parse(argv, { seed: { type: 'string' }, 'valid-pct': { type: 'string' } });
  const dir = positionals[0];
  if (!dir) throw new UsageError('scan needs a folder: finetune scan DIR');
  const ds = await scanDataset(resolve(dir), {
    seed: num(values.seed, 'seed', DEFAULT_HEAD_CONFIG.seed, true),
    validPct: num(values['valid-pct'], 'valid-pct', DEFAULT_HEAD_CONFIG.validPct),
  });
  const classes = classCounts(ds);
  if (values.json) {
    io.out(JSON.stringify({ dir: ds.dir, layout: ds.layout, classes, skipped: ds.skipped, warnings: ds.warnings }));
    return;
  }
  io.out(
    `${ds.dir} (${ds.layout === 'split' ? 'train/valid folders' : `auto ${Math.round(ds.validPct * 100)}% validation split`})`,
  );
  for (const c of classes)
    io.out(`  ${c.name.padEnd(24)} train ${String(c.train).padStart(5)}  valid ${String(c.valid).padStart(5)}`);
  for (const s of ds.skipped) io.out(`  skipped ${s.file}: ${s.reason}`);
  for (const w of ds.warnings) io.out(`  warning: ${w}`);
}

async function trainCmd(argv: string[], io: Io) {
  if (argv.some((a) => a === '--recipe' || a.startsWith('--recipe=')))
    return (await import('./recipeCommand')).recipeCommand(argv, io);
  const { values, positionals } = parse(argv, {
    steps: { type: 'string', default: 'head' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    size: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    dropout: { type: 'string' },
    'valid-pct': { type: 'string' },
    schedule: { type: 'string', default: 'constant' },
    backbone: { type: 'string' },
    balance: { type: 'string' },
    'cycle-len': { type: 'string' },
    'cycle-mult': { type: 'string' },
    cycles: { type: 'string' },
  });
  const dir = positionals[0];
  if (!dir) throw new UsageError('train needs a folder: finetune train DIR --steps head');
  if (values.steps !== 'head') {
    throw new UsageError(`--steps ${values.steps} is not available yet; use --steps head`);
  }
  const d = DEFAULT_HEAD_CONFIG;
  const backend = await initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
  const fit = machineFit(backend);
  const parsed = HeadTrainConfig.safeParse({
    dir: resolve(dir),
    epochs: num(values.epochs, 'epochs', d.epochs, true),
    lr: num(values.lr, 'lr', d.lr),
    size: num(values.size, 'size', fit.size, true),
    batchSize: num(values['batch-size'], 'batch-size', d.batchSize, true),
    seed: num(values.seed, 'seed', d.seed, true),
    dropout: num(values.dropout, 'dropout', d.dropout),
    validPct: num(values['valid-pct'], 'valid-pct', d.validPct),
    schedule: headSchedule(values),
    ...(values.backbone ? { backbone: values.backbone } : {}),
    ...(values.balance ? { balance: values.balance } : {}),
  });
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new UsageError(`--${String(i.path[0])}: ${i.message}`);
  }
  const config = parsed.data;
  if (config.backbone) {
    try {
      getBackbone(config.backbone);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const { paths, store } = openStore(values.home);
  // Scan first so that a bad folder fails before a run is recorded.
  const scanned = await scanDataset(config.dir, { seed: config.seed, validPct: config.validPct });
  const runId = store.createRun({
    dir: config.dir,
    kind: 'head',
    backend: backend.name,
    backendNote: backend.note,
    config,
    dataset: pendingDatasetRecord(config),
    classes: [],
  });
  if (!values.json) io.err(`run ${runId}: backend ${backend.name} (${backend.note})`);
  const epochs: Array<Extract<TrainEvent, { type: 'epoch' }>> = [];
  let classes: string[] = [];
  const progress = new ProgressLine();
  let cancelled = false;
  const onSigint = () => (cancelled = true);
  process.once('SIGINT', onSigint);
  try {
    const result = await trainHeadJob(config, {
      runDir: paths.runDir(runId),
      featureCache: paths.featureCache,
      home: paths.home,
      dataset: scanned,
      shouldCancel: () => cancelled,
      emit: (e) => {
        recordEvent(store, runId, e);
        if (e.type === 'dataset') classes = e.dataset.classes.map((c) => c.name);
        if (e.type === 'epoch') {
          epochs.push(e);
          if (!values.json) {
            progress.log(
              `epoch ${e.epoch + 1}  train loss ${e.trainLoss.toFixed(4)}  valid loss ${e.validLoss.toFixed(4)}  valid accuracy ${(e.validAccuracy * 100).toFixed(1)}%  (${e.seconds.toFixed(1)} s)`,
            );
          }
        }
        if (e.type === 'progress' && !values.json) progress.update(e);
      },
    });
    progress.clear();
    recordResult(store, runId, result);
    const summary = {
      runId,
      status: result.status,
      error: result.error,
      backend: backend.name,
      classes,
      trainLoss: epochs.map((e) => e.trainLoss),
      validLoss: epochs.map((e) => e.validLoss),
      validAccuracy: epochs.map((e) => e.validAccuracy),
      epochs: epochs.map(({ epoch, trainLoss, validLoss, validAccuracy, lr, seconds }) => ({
        epoch,
        trainLoss,
        validLoss,
        validAccuracy,
        lr,
        seconds,
      })),
    };
    if (values.json) io.out(JSON.stringify(summary));
    else io.out(`run ${runId} ${result.status}${result.error ? `: ${result.error}` : ''}`);
    if (result.status !== 'completed') process.exitCode = 1;
  } catch (err) {
    recordFailure(store, runId, err);
    throw err;
  } finally {
    process.off('SIGINT', onSigint);
    store.close();
  }
}

/** --schedule constant|sgdr|onecycle|cyclic (SGDR: --cycle-len, --cycle-mult, --cycles; its cycles set the epochs). */
function headSchedule(values: { schedule?: string; 'cycle-len'?: string; 'cycle-mult'?: string; cycles?: string }) {
  const kind = values.schedule ?? 'constant';
  if (kind === 'constant') return { kind } as TrainingSchedule;
  if (kind === 'sgdr') {
    const d = SCHEDULE_DEFAULTS.sgdr;
    return {
      ...d,
      cycleLen: num(values['cycle-len'], 'cycle-len', d.cycleLen),
      cycleMult: num(values['cycle-mult'], 'cycle-mult', d.cycleMult, true),
      cycles: num(values.cycles, 'cycles', d.cycles, true),
    };
  }
  if (kind === 'onecycle' || kind === 'cyclic') return SCHEDULE_DEFAULTS[kind];
  throw new UsageError(`--schedule must be constant, sgdr, onecycle or cyclic, got "${kind}"`);
}

async function backbonesCmd(argv: string[], io: Io) {
  const { values } = parse(argv, {});
  const list = listBackbones().map((b) => ({
    id: b.id,
    name: b.name,
    format: b.format,
    offline: b.offline,
    canFineTune: b.canFineTune,
    inputSizes: b.inputSizes,
    featureDim: b.featureDim,
    note: b.note,
  }));
  if (values.json) io.out(JSON.stringify(list));
  else
    for (const b of list)
      io.out(
        `${b.id.padEnd(44)} ${b.format.padEnd(8)} ${b.offline ? 'offline ' : 'download'} ${b.canFineTune ? 'fine-tune' : 'frozen only'}  ${b.name}`,
      );
}

async function exportCmd(argv: string[], io: Io) {
  const { values, positionals } = parse(argv, {
    out: { type: 'string' },
    ensemble: { type: 'boolean', default: false },
  });
  const runId = Number(positionals[0]);
  if (!Number.isInteger(runId)) throw new UsageError('export needs a run id: finetune export RUN_ID --out DIR');
  const { paths, store } = openStore(values.home);
  try {
    if (!store.getRun(runId)) throw new UsageError(`No run ${runId} in ${paths.history}: see "finetune runs".`);
    const outDir = resolve(values.out ?? `${paths.exports}/run-${runId}${values.ensemble ? '-ensemble' : ''}`);
    const r = values.ensemble
      ? exportEnsemble(runId, paths.runDir(runId), outDir)
      : exportRun(runId, paths.runDir(runId), outDir);
    io.out(values.json ? JSON.stringify(r) : `exported run ${runId} to ${r.dir}: ${r.files.join(', ')}`);
  } finally {
    store.close();
  }
}

async function predictCmd(argv: string[], io: Io) {
  const { values, positionals } = parse(argv, {});
  const [modelDir, ...files] = positionals;
  if (!modelDir || files.length === 0)
    throw new UsageError('predict needs a model folder and files: finetune predict MODEL_DIR FILE...');
  await initBackend(resolveBackendChoice(values.backend, resolveHome(values.home)));
  const predictor = await Predictor.load(resolve(modelDir));
  try {
    const results = await predictor.predict(files.map((f) => resolve(f)));
    const shown = results.map((r, i) => ({ ...r, file: files[i]! }));
    if (values.json) io.out(JSON.stringify(shown));
    else for (const r of shown) io.out(`${r.file}\t${r.label}\t${(r.probabilities[r.label]! * 100).toFixed(1)}%`);
  } finally {
    predictor.dispose();
  }
}

async function runsCmd(argv: string[], io: Io) {
  const { values } = parse(argv, {});
  const { store } = openStore(values.home);
  try {
    const runs = store.listRuns().map((r) => {
      const metrics = store.epochs(r.id);
      return {
        id: r.id,
        createdAt: r.createdAt,
        status: r.status,
        dir: r.dir,
        kind: r.kind,
        backend: r.backend,
        backendNote: r.backendNote,
        classes: r.classes,
        epochs: metrics.length,
        bestValidAccuracy: metrics.length ? Math.max(...metrics.map((m) => m.validAccuracy)) : null,
        error: r.error,
      };
    });
    if (values.json) io.out(JSON.stringify(runs));
    else
      for (const r of runs)
        io.out(
          `${String(r.id).padStart(4)}  ${r.createdAt}  ${r.status.padEnd(11)} ${r.backend.padEnd(8)} ${r.bestValidAccuracy === null ? '   -  ' : `${(r.bestValidAccuracy * 100).toFixed(1)}%`}  ${r.dir}`,
        );
  } finally {
    store.close();
  }
}

async function serveCmd(argv: string[], io: Io) {
  const { values } = parse(argv, { port: { type: 'string' }, 'renderer-dir': { type: 'string' } });
  const { startHeadless } = await import('../server/headless');
  const server = await startHeadless({
    home: resolveHome(values.home),
    backend: resolveBackendChoice(values.backend, resolveHome(values.home)),
    port: num(values.port, 'port', 0, true),
    rendererDir: values['renderer-dir'],
  });
  io.out(`Finetune Studio (headless) is running. Open this URL in a browser:\n${server.url}`);
  await new Promise<void>((resolveStop) => {
    const stop = () => void server.close().then(resolveStop);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<void>> = {
  scan: scanCmd,
  train: trainCmd,
  export: exportCmd,
  predict: predictCmd,
  runs: runsCmd,
  backbones: backbonesCmd,
  serve: serveCmd,
  'lr-find': async (argv, io) => (await import('./lrFindCommand')).lrFindCommand(argv, io),
  resume: async (argv, io) => (await import('./recipeCommand')).resumeCommand(argv, io),
};

const OWN_HELP = new Set(['lr-find']);

export async function main(argv: string[], io: Io = { out: console.log, err: console.error }): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out(HELP);
    return command ? 0 : 2;
  }
  try {
    if (command === 'schedule') return await (await import('./scheduleCommand')).scheduleCommand(rest, io.out);
    const run = COMMANDS[command];
    if (!run) throw new UsageError(`unknown command "${command}"; run "finetune --help"`);
    // Commands with their own usage text print it themselves.
    if ((rest.includes('--help') || rest.includes('-h')) && !OWN_HELP.has(command)) {
      io.out(HELP);
      return 0;
    }
    await run(rest, io);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.err(`finetune ${command}: ${message.split('\n')[0]}`);
    return err instanceof UsageError || err instanceof DatasetError ? 2 : 1;
  }
}
