/**
 * Re-running a run (`runs.rerunConfig`, `finetune runs rerun`): the config a recorded run was started with, read back
 * from the history and checked against the contract's schema, so that a new run with the same dataset, settings and
 * seed repeats it. A head run's config is the `HeadTrainConfig`; a recipe run keeps its `RecipeConfig` under `recipe`.
 */
import { HeadTrainConfig, RecipeConfig, type RerunConfig } from '../../../src-shared/contract';
import type { RunStore } from './runStore';
import { requireRun } from './compare';

/** A run whose stored config cannot be started again (a kind we do not know, or a config from an older schema). */
export class NotRerunnableError extends Error {}

export function rerunConfig(store: RunStore, runId: number): RerunConfig {
  const run = requireRun(store, runId);
  if (run.kind === 'fastai8') {
    const recipe = (run.config as { recipe?: unknown } | null)?.recipe;
    const parsed = RecipeConfig.safeParse(recipe);
    if (!parsed.success) throw notRerunnable(runId, 'its recipe settings', parsed.error.issues);
    return { runId, kind: 'fastai8', config: parsed.data };
  }
  if (run.kind === 'head') {
    const parsed = HeadTrainConfig.safeParse(run.config);
    if (!parsed.success) throw notRerunnable(runId, 'its settings', parsed.error.issues);
    return { runId, kind: 'head', config: parsed.data };
  }
  throw new NotRerunnableError(`Run ${runId} is a "${run.kind}" run: only head and recipe runs can be run again.`);
}

function notRerunnable(runId: number, what: string, issues: Array<{ path: PropertyKey[]; message: string }>) {
  const where = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  return new NotRerunnableError(`Run ${runId} cannot be run again: ${what} do not fit this version (${where}).`);
}
