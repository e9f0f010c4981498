/** Writes the recipe's events into the run history: epochs (with their step's name) and LR range tests. */
import type { RunStore } from '../history/runStore';
import { recordEvent } from '../history/recorder';
import type { RecipeEvent } from './types';

export function recordRecipeEvent(store: RunStore, runId: number, e: RecipeEvent): void {
  if (e.type === 'lrFind') store.addLrFind(runId, e.name, { ...e.result, step: e.step });
  else if (e.type !== 'step') recordEvent(store, runId, e);
}
