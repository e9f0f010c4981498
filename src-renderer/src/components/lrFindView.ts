/** The LR finder page's checks and status line (steps 2 and 7). */
import { t } from '../i18n/i18n.svelte';
import type { TrainSettings } from '../state/app.svelte';
import type { LrFindSession, LrFindSweep } from '../state/lrfind.svelte';
import { checkNumber } from '../validate';

export type SweepField = 'start' | 'end' | 'iters' | 'size' | 'batchSize' | 'seed';

/**
 * The problems of the sweep form, by field (absent when fine); the full stage takes its image size from the run.
 * Called inside a $derived: the messages follow the language.
 */
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
      (sweep.end > 0 && (!(sweep.start > 0) || sweep.end > sweep.start) ? null : t('lrfind:form.endAboveStart')),
  );
  add('iters', checkNumber(sweep.iters, { int: true, min: 5, max: 1000 }));
  if (!isFull) add('size', checkNumber(settings.size, { int: true, min: 32, max: 512 }));
  add('batchSize', checkNumber(settings.batchSize, { int: true, min: 1, max: 1024 }));
  add('seed', checkNumber(settings.seed, { int: true }));
  return out;
}

/** The sweep's state in a line (rendered in a template, so it follows the language). */
export function lrFindStatusText(session: LrFindSession): string {
  switch (session.state) {
    case 'idle':
    case 'starting':
    case 'cancelling':
    case 'cancelled':
    case 'failed':
      return t(`lrfind:status.${session.state}`);
    case 'running':
      return t('lrfind:status.running', { steps: session.steps, total: session.config?.iters ?? session.sweep.iters });
    case 'completed': {
      const steps = t('common:count.step', { count: session.steps });
      return session.result?.stoppedEarly
        ? t('lrfind:status.completedEarly', { steps })
        : t('lrfind:status.completed', { steps });
    }
  }
  return '';
}
