/**
 * Writes the recipe's events into the run history: epochs and iterations (with their step's name), LR range tests
 * and each finished step's result.
 */
import type { RunStore } from '../history/runStore';
import { recordEvent } from '../history/recorder';
import type { RecipeEvent } from './types';

export function recordRecipeEvent(store: RunStore, runId: number, e: RecipeEvent): void {
  if (e.type === 'lrFind') store.addLrFind(runId, e.name, { ...e.result, step: e.step });
  else if (e.type === 'step') {
    if (e.status === 'done' && e.result) store.addStepResult(runId, e.result);
  } else recordEvent(store, runId, e);
}
