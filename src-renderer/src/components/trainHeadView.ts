/** Step 3's form fields, their checks, and the training status line. */
import { formatPct } from '../format';
import { t } from '../i18n/i18n.svelte';
import type { TrainSettings } from '../state/app.svelte';
import { training } from '../state/training.svelte';
import { checkNumber, type NumberRule } from '../validate';

export type HeadField = Exclude<keyof TrainSettings, 'validPct' | 'schedule' | 'backbone' | 'balance'>;

export interface HeadFieldSpec extends NumberRule {
  id: string;
  label: string;
  step: number | 'any';
  hint: string;
  testid: string;
}

/** A field whose label and hint are read from the catalogs each time (getters), so that they follow the language. */
function field(key: HeadField, spec: Omit<HeadFieldSpec, 'label' | 'hint'>): HeadFieldSpec {
  return {
    ...spec,
    get label() {
      return t(`train:fields.${key}.label`);
    },
    get hint() {
      return t(`train:fields.${key}.hint`);
    },
  };
}

export const HEAD_FIELDS: Record<HeadField, HeadFieldSpec> = {
  epochs: field('epochs', { id: 'f-epochs', min: 1, max: 1000, int: true, step: 1, testid: 'epochs-input' }),
  lr: field('lr', { id: 'f-lr', above: 0, max: 10, step: 'any', testid: 'lr-input' }),
  size: field('size', { id: 'f-size', min: 32, max: 512, int: true, step: 1, testid: 'size-input' }),
  batchSize: field('batchSize', { id: 'f-batch', min: 1, max: 1024, int: true, step: 1, testid: 'batch-size-input' }),
  dropout: field('dropout', { id: 'f-dropout', min: 0, max: 0.9, step: 0.05, testid: 'dropout-input' }),
  seed: field('seed', { id: 'f-seed', int: true, step: 1, testid: 'seed-input' }),
};

/** The fields after the epochs and the learning rate (whose fields depend on the schedule). */
export const PLAIN_HEAD_FIELDS = ['size', 'batchSize', 'dropout', 'seed'] as const;

/** The problems of the form, by field (absent when fine); with SGDR the cycles decide the epochs. */
export function headErrors(s: TrainSettings, isSgdr: boolean): Partial<Record<HeadField | 'validPct', string>> {
  const out: Partial<Record<HeadField | 'validPct', string>> = {};
  for (const key of Object.keys(HEAD_FIELDS) as HeadField[]) {
    if (key === 'epochs' && isSgdr) continue;
    const message = checkNumber(s[key], HEAD_FIELDS[key]);
    if (message) out[key] = message;
  }
  const vp = checkNumber(s.validPct * 100, { min: 5, max: 50 });
  if (vp) out.validPct = vp;
  return out;
}

/** The training run's state in a line (rendered in a template, so it follows the language). */
export function trainStatusText(): string {
  const run = training.runId !== null ? t('train:status.run', { id: training.runId }) : '';
  switch (training.state) {
    case 'idle':
    case 'starting':
      return t(`train:status.${training.state}`);
    case 'running':
    case 'cancelling':
    case 'cancelled':
    case 'interrupted':
    case 'failed':
      return t(`train:status.${training.state}`, { run });
    case 'completed': {
      const accuracies = training.epochs.map((e) => e.validAccuracy);
      const best = accuracies.length > 0 ? t('train:status.best', { acc: formatPct(Math.max(...accuracies)) }) : '';
      return t('train:status.completed', { run, best });
    }
  }
  return '';
}
