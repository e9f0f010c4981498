/**
 * Runs side by side (`runs.compare`, `finetune runs compare`): each run's config, epochs, iterations (downsampled so
 * that a long recipe run stays a small message) and step results, and the config keys whose values differ.
 * Also deleting a run with its folder (`runs.delete`, `finetune runs rm`).
 */
import { existsSync, lstatSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type {
  ConfigDiffRow,
  IterationPoint,
  RecipeStepResult,
  Result,
  RunComparison,
} from '../../../src-shared/contract';
import type { IterationRow, RunRow, RunStore } from './runStore';
import { readRunRecipe } from '../runFiles';
import { readCheckpointState } from '../recipe/checkpoint';

/** Points per run in a comparison: far more than a chart's width, far fewer than step 8's iterations. */
export const COMPARE_MAX_POINTS = 2000;

/**
 * At most `max` points: buckets of consecutive iterations, each shown by its first iteration (step, epoch, LR,
 * index) with the mean of its finite losses (null if none). Averaging keeps the loss curve's level where sampling
 * would keep its noise; the LR is a smooth function of the iteration, so sampling it loses nothing visible.
 */
export function downsampleIterations(rows: readonly IterationRow[], max = COMPARE_MAX_POINTS): IterationPoint[] {
  const size = Math.max(1, Math.ceil(rows.length / max));
  const out: IterationPoint[] = [];
  for (let start = 0; start < rows.length; start += size) {
    const bucket = rows.slice(start, start + size);
    const losses = bucket.map((r) => r.loss).filter((l): l is number => l !== null && Number.isFinite(l));
    const first = bucket[0]!;
    out.push({
      ...first,
      index: start,
      loss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : null,
    });
  }
  return out;
}

/** `{ schedule: { kind: 'sgdr' } }` → `{ 'schedule.kind': 'sgdr' }`; leaves as text (strings as they are). */
export function flattenConfig(config: unknown, prefix = ''): Record<string, string> {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    return prefix ? { [prefix]: typeof config === 'string' ? config : JSON.stringify(config) } : {};
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config as Record<string, unknown>))
    if (value !== undefined) Object.assign(out, flattenConfig(value, prefix ? `${prefix}.${key}` : key));
  return out;
}

/** The keys (sorted) whose values are not the same in every config; a key absent from a run is null there. */
export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return keys
    .map((key) => ({ key, values: flat.map((f) => f[key] ?? null) }))
    .filter((row) => row.values.some((v) => v !== row.values[0]));
}

/** A run id that is not in the history. */
export class UnknownRunError extends Error {}

export function requireRun(store: RunStore, runId: number): RunRow {
  const run = store.getRun(runId);
  if (!run) throw new UnknownRunError(`No run ${runId} in the history (${store.path}).`);
  return run;
}

/** The step a run's plan stops after (its stored `untilStep`; an older head run: 3): a rerun stops there too. */
export function untilStepOf(run: RunRow): number {
  if (run.kind === 'head') return 3;
  const until = (run.config as { untilStep?: unknown } | null)?.untilStep;
  return typeof until === 'number' && until >= 1 && until <= 8 ? until : 8;
}

export interface CompareOptions {
  /** A run's folder: step results of runs recorded before the history kept them (schema < 4) are read from it. */
  runDir?: (runId: number) => string;
}

export function compareRun(store: RunStore, runId: number, options: CompareOptions = {}): RunComparison {
  const run = requireRun(store, runId);
  const iterations = store.iterations(runId);
  const steps = store.stepResults(runId);
  return {
    id: run.id,
    kind: run.kind,
    untilStep: untilStepOf(run),
    createdAt: run.createdAt,
    dir: run.dir,
    status: run.status,
    backend: run.backend,
    config: isRecord(run.config) ? run.config : {},
    metrics: store.epochs(runId),
    iterations: downsampleIterations(iterations),
    iterationCount: iterations.length,
    steps: steps.length || !options.runDir ? steps : folderSteps(run, options.runDir(run.id)),
  };
}

export function compareRuns(
  store: RunStore,
  runIds: readonly number[],
  options: CompareOptions = {},
): Result<'runs.compare'> {
  const runs = [...new Set(runIds)].map((id) => compareRun(store, id, options));
  return { runs, configDiff: configDiff(runs.map((r) => r.config)) };
}

/** Step results of a recipe run recorded before the history kept them: its checkpoint's, else its run.json's. */
function folderSteps(run: RunRow, runDir: string): RecipeStepResult[] {
  if (run.kind !== 'fastai8') return [];
  try {
    return readCheckpointState(runDir).results;
  } catch {
    return runJsonSteps(runDir);
  }
}

/** Step results from a finished recipe run's run.json; else none. */
function runJsonSteps(runDir: string): RecipeStepResult[] {
  if (!existsSync(join(runDir, 'run.json'))) return [];
  try {
    return readRunRecipe(runDir).steps ?? [];
  } catch {
    return [];
  }
}

/** A run that cannot be deleted now (it is training). */
export class RunBusyError extends Error {}

/** A run whose folder is not a plain folder of the runs folder (a link, a file): nothing is deleted. */
export class RunFolderError extends Error {}

/**
 * Whether `runDir` exists, after checking it is what deleting a run may remove: a real folder (no link) whose real
 * path is in the real runs folder. A link is refused, not followed nor removed: it was made by someone, not us.
 */
function checkRunFolder(runId: number, runDir: string): boolean {
  let st;
  try {
    st = lstatSync(runDir);
  } catch {
    return false;
  }
  const keep = 'nothing was deleted';
  if (st.isSymbolicLink())
    throw new RunFolderError(
      `Run ${runId}'s folder ${runDir} is a link (to ${readlinkSync(runDir)}), not the run's own folder: ${keep}. ` +
        `Remove the link yourself if the run should go.`,
    );
  if (!st.isDirectory()) throw new RunFolderError(`Run ${runId}'s folder ${runDir} is not a folder: ${keep}.`);
  const real = realpathSync(runDir);
  if (real !== join(realpathSync(dirname(runDir)), basename(runDir)))
    throw new RunFolderError(`Run ${runId}'s folder ${runDir} resolves to ${real}, outside the runs folder: ${keep}.`);
  return true;
}

/**
 * Deletes a run: its folder first (a failure there leaves the history row, so deleting again finishes the job),
 * then its rows in every table. `isActive` says whether this process is training it; a run marked running by
 * another live process (another app or CLI) is refused too.
 */
export function deleteRunWithFolder(
  store: RunStore,
  runId: number,
  runDir: string,
  isActive = false,
): Result<'runs.delete'> {
  // A run left 'running' by a process that died since start-up is deletable: mark such runs first.
  store.markInterrupted();
  const run = requireRun(store, runId);
  if (isActive || run.status === 'running')
    throw new RunBusyError(`Run ${runId} is running: cancel it (or let it finish) before deleting it.`);
  const folderRemoved = checkRunFolder(runId, runDir);
  // rmSync removes links inside the folder without following them.
  if (folderRemoved) rmSync(runDir, { recursive: true });
  store.deleteRun(runId);
  return { runId, folderRemoved };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}
