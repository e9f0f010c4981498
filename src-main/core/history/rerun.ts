/**
 * Re-running a run (`runs.rerunConfig`, `finetune runs rerun`): the recipe config a recorded run was started with,
 * read back from the history and checked against the contract's schema, so that a new run with the same dataset,
 * settings and seed repeats it. A recipe run keeps its `RecipeConfig` under `recipe`; a 'head' run of an older version
 * is the recipe stopped after step 3 with its epochs, LR and schedule.
 */
import { HeadTrainConfig, RecipeConfig, type RerunConfig } from '../../../src-shared/contract';
import { DEFAULT_RECIPE_CONFIG } from '../../../src-shared/recipe/config';
import type { RunRow, RunStore } from './runStore';
import { requireRun, untilStepOf } from './compare';

/** A run whose stored config cannot be started again (a kind we do not know, or a config from an older schema). */
export class NotRerunnableError extends Error {}

/** An older head run's settings as the recipe stopped after step 3. */
export function recipeFromHeadConfig(head: HeadTrainConfig): RecipeConfig {
  return {
    ...DEFAULT_RECIPE_CONFIG,
    dir: head.dir,
    size: head.size,
    batchSize: head.batchSize,
    seed: head.seed,
    validPct: head.validPct,
    dropout: head.dropout,
    headEpochs: head.epochs,
    lrHead: head.lr,
    headSchedule: head.schedule,
    ...(head.backbone ? { backbone: head.backbone } : {}),
    ...(head.balance ? { balance: head.balance } : {}),
  };
}

/** The recipe config of a stored run; throws NotRerunnableError when it does not fit this version. */
export function recipeOfRun(run: RunRow): RecipeConfig {
  if (run.kind === 'fastai8') {
    const parsed = RecipeConfig.safeParse((run.config as { recipe?: unknown } | null)?.recipe);
    if (!parsed.success) throw notRerunnable(run.id, 'its recipe settings', parsed.error.issues);
    return parsed.data;
  }
  if (run.kind === 'head') {
    const parsed = HeadTrainConfig.safeParse(run.config);
    if (!parsed.success) throw notRerunnable(run.id, 'its settings', parsed.error.issues);
    return recipeFromHeadConfig(parsed.data);
  }
  throw new NotRerunnableError(`Run ${run.id} is a "${run.kind}" run: only head and recipe runs can be run again.`);
}

/** recipeOfRun, or null for a stored config this version cannot read (such a run is still listed and shown). */
export function recipeOfRunOrNull(run: RunRow): RecipeConfig | null {
  try {
    return recipeOfRun(run);
  } catch {
    return null;
  }
}

export function rerunConfig(store: RunStore, runId: number): RerunConfig {
  const run = requireRun(store, runId);
  return { runId, kind: run.kind, config: recipeOfRun(run), untilStep: untilStepOf(run) };
}

function notRerunnable(runId: number, what: string, issues: Array<{ path: PropertyKey[]; message: string }>) {
  const where = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  return new NotRerunnableError(`Run ${runId} cannot be run again: ${what} do not fit this version (${where}).`);
}
