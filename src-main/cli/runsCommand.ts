/**
 * `finetune runs`: the run history. `runs` lists, `runs show ID` details one run, `runs compare A B ...` puts runs
 * side by side (the same payload as the app's `runs.compare`), `runs rm ID --yes` deletes a run and its folder,
 * `runs rerun ID` trains a new run with the same config (dataset, settings, seed) and records which run it repeats.
 */
import type { RunStore } from '../core/history/runStore';
import {
  compareRun,
  compareRuns,
  deleteRunWithFolder,
  untilStepOf,
  UnknownRunError,
  type CompareOptions,
} from '../core/history/compare';
import type { homePaths } from '../core/paths';
import { COMMON_OPTIONS, parseOptions, runIdArg, UsageError, type Io } from './args';
import { openStore, openStoreForReading, startBackend } from './session';
import { NotRerunnableError, recipeOfRunOrNull, rerunConfig } from '../core/history/rerun';
import type { RerunConfig } from '../../src-shared/contract';
import { differentialLrs } from '../../src-shared/recipe/differentialLrs';
import { stepLrText, timingLine } from './runReport';
import { englishText } from '../../src-shared/messages';
import { runKindMessage, type RunPlanOf } from '../../src-shared/recipe/runKind';

const USAGE = 'finetune runs [show RUN_ID | compare RUN_ID RUN_ID... | rm RUN_ID --yes | rerun RUN_ID] [--json]';

type Paths = ReturnType<typeof homePaths>;

export async function runsCommand(argv: string[], io: Io) {
  const { values, positionals } = parseOptions(argv, {
    ...COMMON_OPTIONS,
    yes: { type: 'boolean', default: false },
  });
  const [sub, ...ids] = positionals;
  if (sub !== undefined && !['show', 'compare', 'rm', 'rerun'].includes(sub))
    throw new UsageError(`unknown subcommand "${sub}": ${USAGE}`);
  if (values.yes && sub !== 'rm') throw new UsageError(`--yes is only for "runs rm": ${USAGE}`);
  const runIds = ids.map((raw) => runIdArg(raw, `"${raw}" is not a run id: ${USAGE}`));
  if (sub === 'rerun') {
    if (runIds.length !== 1) throw new UsageError(`runs rerun needs one run id: finetune runs rerun RUN_ID`);
    return rerun(runIds[0]!, values, io);
  }
  // Listing works where the history cannot be written (a read-only home, a full disk); deleting does not.
  const { paths, store } = sub === 'rm' ? openStore(values.home) : openStoreForReading(values.home);
  try {
    const options: CompareOptions = { runDir: (id) => paths.runDir(id) };
    if (sub === undefined) return list(store, values.json, io);
    if (sub === 'show') {
      if (runIds.length !== 1) throw new UsageError(`runs show needs one run id: finetune runs show RUN_ID`);
      return show(store, runIds[0]!, options, values.json, io);
    }
    if (sub === 'compare') {
      if (new Set(runIds).size < 2)
        throw new UsageError(`runs compare needs two or more run ids: finetune runs compare A B [...]`);
      return compare(store, runIds, options, values.json, io);
    }
    if (runIds.length !== 1) throw new UsageError(`runs rm needs one run id: finetune runs rm RUN_ID --yes`);
    return remove(store, paths, runIds[0]!, values.yes, values.json, io);
  } catch (err) {
    // A run id that is not there is a mistake on the command line (exit 2); a busy run is not (exit 1).
    if (err instanceof UnknownRunError) throw new UsageError(`${err.message} See "finetune runs".`);
    throw err;
  } finally {
    store.close();
  }
}

/** "eight steps", "head only (steps 1–3)", "paused after step 5" (src-shared/recipe/runKind.ts). */
function kindText(run: RunPlanOf): string {
  return englishText(runKindMessage(run), 'cli');
}

function list(store: RunStore, json: boolean, io: Io) {
  const runs = store.listRuns().map((r) => {
    const metrics = store.epochs(r.id);
    const untilStep = untilStepOf(r);
    return {
      id: r.id,
      createdAt: r.createdAt,
      status: r.status,
      dir: r.dir,
      kind: r.kind,
      untilStep,
      kindText: kindText({ kind: r.kind, status: r.status, untilStep }),
      backend: r.backend,
      backendNote: r.backendNote,
      classes: r.classes,
      epochs: metrics.length,
      bestValidAccuracy: metrics.length ? Math.max(...metrics.map((m) => m.validAccuracy)) : null,
      error: r.error,
      rerunOf: r.rerunOf,
    };
  });
  if (json) io.out(JSON.stringify(runs));
  else
    for (const r of runs)
      io.out(
        `${String(r.id).padStart(4)}  ${r.createdAt}  ${r.status.padEnd(11)} ${r.kindText.padEnd(22)} ${r.backend.padEnd(8)} ${r.bestValidAccuracy === null ? '   -  ' : `${(r.bestValidAccuracy * 100).toFixed(1)}%`}  ${r.dir}`,
      );
}

function show(store: RunStore, runId: number, options: CompareOptions, json: boolean, io: Io) {
  const c = compareRun(store, runId, options);
  const run = store.getRun(runId)!;
  const recipe = recipeOfRunOrNull(run);
  const detail = {
    ...c,
    kindText: kindText(c),
    // One config: the run's RecipeConfig, `recipe` the same object (docs/cli.md); a stored config this version
    // cannot read is shown as it is.
    config: recipe ?? c.config,
    recipe,
    classes: run.classes,
    error: run.error,
    timing: run.timing,
    finishedAt: run.finishedAt,
    rerunOf: run.rerunOf,
  };
  if (json) return io.out(JSON.stringify(detail));
  io.out(`run ${c.id} (${kindText(c)}) ${c.status}, ${c.createdAt}, ${c.backend}: ${c.dir}`);
  if (run.rerunOf !== null) io.out(`  run again from run ${run.rerunOf} (same settings and seed)`);
  if (run.error) io.out(`  error: ${run.error}`);
  for (const [key, value] of Object.entries(detail.config)) io.out(`  ${key.padEnd(16)} ${JSON.stringify(value)}`);
  for (const m of c.metrics)
    io.out(
      `  ${m.step.padEnd(24)} epoch ${String(m.epoch + 1).padStart(3)}  train ${m.trainLoss.toFixed(4)}  valid ${m.validLoss.toFixed(4)}  ${pct(m.validAccuracy)}  lr ${m.lr.toExponential(2)}`,
    );
  const groupLrs = differentialLrs(c.steps, recipe?.lrAll ?? null);
  for (const s of c.steps)
    io.out(`  step ${s.step} ${s.name.padEnd(24)} lr ${stepLrText(s, groupLrs)}  ${pct(s.validAccuracy)}`);
  io.out(`  ${c.iterationCount} iterations recorded`);
  if (run.timing) {
    for (const t of run.timing.steps.filter((x) => x.actual !== null || x.estimate !== null))
      io.out(`  ${timingLine(`step ${t.step} time`, t)}`);
    io.out(`  ${timingLine('total time', run.timing.total)}`);
  }
}

function compare(store: RunStore, runIds: number[], options: CompareOptions, json: boolean, io: Io) {
  const r = compareRuns(store, runIds, options);
  if (json) return io.out(JSON.stringify(r));
  for (const c of r.runs) {
    const best = c.metrics.length ? Math.max(...c.metrics.map((m) => m.validAccuracy)) : null;
    const last = c.metrics[c.metrics.length - 1];
    io.out(
      `run ${String(c.id).padStart(4)}  ${c.kind.padEnd(8)} ${c.status.padEnd(11)} best ${pct(best)}  last valid loss ${last ? last.validLoss.toFixed(4) : '-'}  ${c.metrics.length} epochs, ${c.iterationCount} iterations`,
    );
  }
  if (r.configDiff.length === 0) return io.out('the configs are the same');
  io.out(`${'config'.padEnd(20)} ${r.runs.map((c) => `run ${c.id}`.padEnd(16)).join(' ')}`);
  for (const row of r.configDiff)
    io.out(`${row.key.padEnd(20)} ${row.values.map((v) => (v ?? '-').padEnd(16)).join(' ')}`);
}

function remove(store: RunStore, paths: Paths, runId: number, yes: boolean, json: boolean, io: Io) {
  const runDir = paths.runDir(runId);
  // Nothing to ask in CI or a script: deleting needs the explicit flag.
  if (!yes)
    throw new UsageError(
      `runs rm deletes run ${runId}'s history and its folder ${runDir}; confirm with --yes: finetune runs rm ${runId} --yes`,
    );
  const r = deleteRunWithFolder(store, runId, runDir);
  io.out(json ? JSON.stringify(r) : `deleted run ${runId}${r.folderRemoved ? ` and ${runDir}` : ''}`);
}

/** Reads the run's config (the history closed again before training opens it), then trains it like `train` would. */
async function rerun(runId: number, values: { home?: string; backend?: string; json: boolean }, io: Io) {
  const { store } = openStore(values.home);
  let plan: RerunConfig;
  try {
    plan = rerunConfig(store, runId);
  } catch (err) {
    if (err instanceof UnknownRunError || err instanceof NotRerunnableError)
      throw new UsageError(`${err.message} See "finetune runs".`);
    throw err;
  } finally {
    store.close();
  }
  const backend = await startBackend(values);
  // The same recipe to the step the run stopped after (an older head run: step 3).
  const { trainRecipe } = await import('./recipeCommand');
  await trainRecipe(plan.config, backend, values, io, {
    untilStep: plan.untilStep,
    rerunOf: runId,
    measure: plan.untilStep > 4,
  });
}

/** A step's LR; step 6's: the per-group LRs step 8 uses ("[1.11e-4, 3.33e-4, 1.00e-3]"), once step 7 settled them. */
function pct(x: number | null): string {
  return x === null ? '    -  ' : `${(x * 100).toFixed(1).padStart(5)}%`;
}
