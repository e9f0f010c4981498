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
