/** A run's name, kind and status in the current language (the runs catalogs), for the run history's views. */
import type { RunStatus } from '../../../src-shared/contract';
import { t } from '../i18n/i18n.svelte';

/** "Run #3": a run's name in legends and tables. */
export function runLabel(id: number): string {
  return t('runs:runLabel', { id });
}

/** "head" or "eight steps". */
export function kindLabel(kind: string): string {
  return kind === 'fastai8' ? t('runs:kind.fastai8') : kind === 'head' ? t('runs:kind.head') : kind;
}

/** A run's status in words. */
export function statusLabel(status: RunStatus): string {
  return t(`runs:status.${status}`);
}

/**
 * How a step's LR was chosen, in the wizard's words: "picked on step 2", "step 7's valley", "set in the settings";
 * a rule the engine words itself (step 7's guard) is shown as it comes.
 */
export function lrPickLabel(step: number, pick: string): string {
  const lrStep = step >= 6 ? 7 : 2;
  switch (pick) {
    case 'picked':
      return t('runs:lrPick.picked', { step: lrStep });
    case 'config':
      return t('runs:lrPick.config');
    case 'valley':
    case 'steep':
    case 'minDiv10':
      return t('runs:lrPick.suggestion', { step: lrStep, name: pick === 'minDiv10' ? 'min/10' : pick });
    case 'fallback':
      return t('runs:lrPick.fallback', { step: lrStep });
    default:
      return pick;
  }
}
