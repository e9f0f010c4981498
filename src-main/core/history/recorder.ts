/**
 * Writes a run's events into the history: the one place where runs meet the RunStore's rows (the dataset, epochs and
 * iterations with their step, LR range tests and each finished step's result). Non-finite losses are stored as null.
 */
import type { RunStore } from './runStore';
import type { RecipeEvent } from '../recipe/types';

export function recordRunEvent(store: RunStore, runId: number, e: RecipeEvent): void {
  switch (e.type) {
    case 'dataset':
      return store.setDataset(
        runId,
        e.dataset,
        e.dataset.classes.map((c) => c.name),
      );
    case 'epoch': {
      const { type: _type, ...epoch } = e;
      return store.addEpoch(runId, epoch);
    }
    case 'batch':
      return store.addIteration(runId, {
        step: e.step,
        epoch: e.epoch,
        iteration: e.iteration,
        loss: Number.isFinite(e.loss) ? e.loss : null,
        lr: e.lr,
      });
    case 'lrFind':
      store.addLrFind(runId, e.name, {
        ...e.result,
        step: e.step,
        recommended: e.recommended,
        warnings: e.warnings,
        ...(e.warningMessages ? { warningMessages: e.warningMessages } : {}),
      });
      return;
    case 'step':
      if (e.status === 'done' && e.result) store.addStepResult(runId, e.result);
      return;
  }
}

/** A run that threw: stored as failed with the error's message (returned, for the caller's event). */
export function recordFailure(store: RunStore, runId: number, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  store.finishRun(runId, 'failed', { error: message });
  return message;
}
