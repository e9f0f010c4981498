/**
 * The short commands: `scan`, `export`, `backbones` and `serve` (`runs`: runsCommand.ts; `predict`: predictCommand.ts).
 */
import { resolve } from 'node:path';
import { requests } from '../../src-shared/contract';
import { DEFAULT_HEAD_CONFIG } from '../../src-shared/defaults';
import { scanDataset, classCounts } from '../core/data/dataset';
import { sampleDataset } from '../core/data/sample';
import { homePaths, resolveHome } from '../core/paths';
import { resolveBackendChoice } from '../core/settings';
import { exportEnsemble, exportRun, ExportTargetError, parseExportFormats } from '../core/export/exporter';
import { exportGuardFor } from '../core/export/exportGuard';
import { exportHistoryOf } from '../core/export/exportHistory';
import { listBackbones } from '../core/model/backbones';
import { COMMON_OPTIONS, num, parseOptions, PORT, runIdArg, stringOptions, UsageError, type Io } from './args';
import { openStore } from './session';
import { ProgressLine } from './progress';
import { acquireHomeLock } from '../core/homeLock';

export async function scanCommand(argv: string[], io: Io) {
  const { values, positionals } = parseOptions(argv, { ...COMMON_OPTIONS, ...stringOptions('seed', 'valid-pct') });
  const dir = positionals[0];
  if (!dir) throw new UsageError('scan needs a folder: finetune scan DIR');
  const s = requests['dataset.scan'].params.shape;
  const progress = new ProgressLine();
  const ds = await scanDataset(resolve(dir), {
    seed: num(values.seed, 'seed', s.seed, DEFAULT_HEAD_CONFIG.seed),
    validPct: num(values['valid-pct'], 'valid-pct', s.validPct, DEFAULT_HEAD_CONFIG.validPct),
    // Verdicts by path, size and time: a second scan of an unchanged folder reads no image.
    cacheDir: homePaths(resolveHome(values.home)).scanCache,
    onProgress: values.json
      ? undefined
      : (done, total, etaSeconds) => progress.update({ label: 'Reading images', done, total, etaSeconds }),
  });
  progress.clear();
  const classes = classCounts(ds);
  if (values.json) {
    const skipped = ds.skipped.map(({ file, reason }) => ({ file, reason }));
    io.out(JSON.stringify({ dir: ds.dir, layout: ds.layout, classes, skipped, warnings: ds.warnings }));
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

/** `finetune sample`: the sample dataset's folder in the home (copied there the first time), to train on. */
export async function sampleCommand(argv: string[], io: Io) {
  const { values } = parseOptions(argv, COMMON_OPTIONS);
  const dir = sampleDataset(resolveHome(values.home));
  io.out(values.json ? JSON.stringify({ dir }) : dir);
}

export async function backbonesCommand(argv: string[], io: Io) {
  const { values } = parseOptions(argv, COMMON_OPTIONS);
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

export async function exportCommand(argv: string[], io: Io) {
  const { values, positionals } = parseOptions(argv, {
    ...COMMON_OPTIONS,
    ...stringOptions('out', 'format'),
    ensemble: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
  });
  const runId = runIdArg(positionals[0], 'export needs a run id: finetune export RUN_ID --out DIR');
  const { paths, store } = openStore(values.home);
  try {
    const run = store.getRun(runId);
    if (!run) throw new UsageError(`No run ${runId} in ${paths.history}: see "finetune runs".`);
    const outDir = resolve(values.out ?? `${paths.exports}/run-${runId}${values.ensemble ? '-ensemble' : ''}`);
    const guard = exportGuardFor(paths.home, paths.runs, store.listRuns());
    // Not given: both, and a model ONNX cannot express is exported as TF.js with a warning.
    const parsed = values.format === undefined ? { formats: undefined } : parseExportFormats(values.format);
    if ('unknown' in parsed)
      throw new UsageError(`--format takes tfjs, onnx or both (tfjs,onnx), got "${parsed.unknown}"`);
    const history = exportHistoryOf(run, store.epochs(runId));
    const options = { force: values.force, history, guard, formats: parsed.formats };
    const r = await (values.ensemble ? exportEnsemble : exportRun)(runId, paths.runDir(runId), outDir, options).catch(
      (err: unknown) => {
        // An existing folder in the way is a bad --out: exit 2 like other usage mistakes.
        throw err instanceof ExportTargetError ? new UsageError(err.message) : err;
      },
    );
    for (const w of r.warnings) io.err(`warning: ${w}`);
    io.out(values.json ? JSON.stringify(r) : `exported run ${runId} to ${r.dir}: ${r.files.join(', ')}`);
  } finally {
    store.close();
  }
}

export async function serveCommand(argv: string[], io: Io) {
  const { values } = parseOptions(argv, { ...COMMON_OPTIONS, ...stringOptions('port', 'renderer-dir') });
  const port = num(values.port, 'port', PORT, 0);
  const { startHeadless } = await import('../server/headless');
  // One app instance per home (the app or another serve): a second one stops here with a clear message.
  const lock = acquireHomeLock(resolveHome(values.home), 'finetune serve');
  // Listening before the URL is printed: whoever reads it may signal at once, and a signal with no listener yet
  // would end the process by default, leaving the server unclosed and the lock behind.
  let signalled = false;
  const stopRequested = new Promise<void>((resolveStop) => {
    const onSignal = () => {
      signalled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  let server: Awaited<ReturnType<typeof startHeadless>>;
  try {
    server = await startHeadless({
      home: resolveHome(values.home),
      backend: resolveBackendChoice(values.backend, resolveHome(values.home)),
      port,
      rendererDir: values['renderer-dir'],
    });
  } catch (err) {
    lock.release();
    throw err;
  }
  if (!signalled) io.out(`Finetune Studio (headless) is running. Open this URL in a browser:\n${server.url}`);
  await stopRequested;
  // A second signal while closing finds no listener and ends the process at once.
  await server.close();
  lock.release();
}
