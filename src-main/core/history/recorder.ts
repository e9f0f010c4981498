/** Writes a training job's events into the run history: the one place where jobs meet the RunStore. */
import type { RunStore } from './runStore';
import type { JobResult, TrainEvent } from '../train/headJob';

export function recordEvent(store: RunStore, runId: number, e: TrainEvent): void {
  if (e.type === 'dataset')
    store.setDataset(
      runId,
      e.dataset,
      e.dataset.classes.map((c) => c.name),
    );
  else if (e.type === 'epoch') store.addEpoch(runId, e);
  else if (e.type === 'batch')
    store.addIteration(runId, { step: e.step, epoch: e.epoch, iteration: e.iteration, loss: e.loss, lr: e.lr });
}

export function recordResult(store: RunStore, runId: number, r: JobResult): void {
  store.finishRun(runId, r.status, { modelDir: r.modelDir, error: r.error });
}

export function recordFailure(store: RunStore, runId: number, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  store.finishRun(runId, 'failed', { error: message });
  return message;
}
