/**
 * The files a finished run leaves in its folder, checked when read: `run.json` (what export, predict and the LR
 * finder need) and, for eight-step runs, `ensemble.json` (the SGDR snapshots to average).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HeadTrainConfig, RecipeConfig, RecipeStepResult } from '../../src-shared/contract';
import { readJsonFile } from './util/json';
import { writeFileAtomic } from './util/atomicFile';

export const RunMeta = z.object({
  classes: z.array(z.string()).min(1),
  size: z.number().int().positive(),
  backboneId: z.string(),
  config: HeadTrainConfig,
});
/** Per-run metadata saved next to the model. */
export type RunMeta = z.infer<typeof RunMeta>;

/**
 * What a recipe run's run.json adds: its recipe config and every step's LR and validation metrics (the export's
 * model card lists them). Tolerant (`catch`): a run.json from an older version gives what it can, never an error.
 */
const RunRecipe = z.object({
  config: z.object({ recipe: RecipeConfig.partial().optional().catch(undefined) }).catch({}),
  steps: z.array(RecipeStepResult).optional().catch(undefined),
});
export interface RunRecipe {
  recipe?: Partial<RecipeConfig>;
  steps?: RecipeStepResult[];
}

export const RunEnsemble = z.object({
  k: z.number().int().min(1),
  snapshots: z.array(z.string()).min(1),
  validAccuracy: z.number(),
  /** Each member's own accuracy, in the order of `snapshots` (absent in runs from before it was recorded). */
  memberAccuracies: z.array(z.number().min(0).max(1)).optional(),
});
export type RunEnsemble = z.infer<typeof RunEnsemble>;

const REDO = 'Train the run again (or delete its folder) to replace it.';

export function writeRunMeta(runDir: string, meta: RunMeta & Record<string, unknown>): void {
  writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(meta, null, 2));
}

export function readRunMeta(runDir: string): RunMeta {
  const path = join(runDir, 'run.json');
  if (!existsSync(path)) throw new Error(`Run folder ${runDir} has no trained model (run.json missing).`);
  return readJsonFile(path, RunMeta, REDO);
}

/** A recipe run's config and step results from run.json; empty for head runs. */
export function readRunRecipe(runDir: string): RunRecipe {
  const r = readJsonFile(join(runDir, 'run.json'), RunRecipe, REDO);
  return { recipe: r.config.recipe, steps: r.steps };
}

/** The run's snapshot ensemble, or null when it has none (head-only runs, unfinished recipes). */
export function readRunEnsemble(runDir: string): RunEnsemble | null {
  const path = join(runDir, 'ensemble.json');
  return existsSync(path) ? readJsonFile(path, RunEnsemble, REDO) : null;
}
