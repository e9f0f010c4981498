/** The LR finder page's checks and status line (steps 2 and 7). */
import { plural } from '../format';
import type { TrainSettings } from '../state/app.svelte';
import type { LrFindSession, LrFindSweep } from '../state/lrfind.svelte';
import { checkNumber } from '../validate';

export type SweepField = 'start' | 'end' | 'iters' | 'size' | 'batchSize' | 'seed';

/** The problems of the sweep form, by field (absent when fine); the full stage takes its image size from the run. */
export function sweepErrors(
  sweep: LrFindSweep,
  settings: TrainSettings,
  isFull: boolean,
): Partial<Record<SweepField, string>> {
  const out: Partial<Record<SweepField, string>> = {};
  const add = (key: SweepField, message: string | null): void => {
    if (message) out[key] = message;
  };
  add('start', checkNumber(sweep.start, { above: 0 }));
  add(
    'end',
    checkNumber(sweep.end) ??
      (sweep.end > 0 && (!(sweep.start > 0) || sweep.end > sweep.start) ? null : 'Must be above start'),
  );
  add('iters', checkNumber(sweep.iters, { int: true, min: 5, max: 1000 }));
  if (!isFull) add('size', checkNumber(settings.size, { int: true, min: 32, max: 512 }));
  add('batchSize', checkNumber(settings.batchSize, { int: true, min: 1, max: 1024 }));
  add('seed', checkNumber(settings.seed, { int: true }));
  return out;
}

/** The sweep's state in a line. */
export function lrFindStatusText(session: LrFindSession): string {
  switch (session.state) {
    case 'idle':
      return 'Not run yet.';
    case 'starting':
      return 'Starting…';
    case 'running':
      return `Sweeping… ${session.steps} / ${session.config?.iters ?? session.sweep.iters} steps`;
    case 'cancelling':
      return 'Cancelling…';
    case 'completed':
      return `LR finder completed: ${plural(session.steps, 'step')}${session.result?.stoppedEarly ? ', stopped early when the loss blew up' : ''}.`;
    case 'cancelled':
      return 'LR finder cancelled.';
    case 'failed':
      return 'LR finder failed.';
  }
  return '';
}
