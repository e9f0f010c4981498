/** Step 3's form fields, their checks, and the training status line. */
import { formatPct } from '../format';
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

export const HEAD_FIELDS: Record<HeadField, HeadFieldSpec> = {
  epochs: {
    id: 'f-epochs',
    label: 'Epochs',
    min: 1,
    max: 1000,
    int: true,
    step: 1,
    hint: 'Passes over the training images',
    testid: 'epochs-input',
  },
  lr: {
    id: 'f-lr',
    label: 'Learning rate',
    above: 0,
    max: 10,
    step: 'any',
    hint: 'Step size, e.g. 0.01',
    testid: 'lr-input',
  },
  size: {
    id: 'f-size',
    label: 'Image size (px)',
    min: 32,
    max: 512,
    int: true,
    step: 1,
    hint: 'Images are resized to this',
    testid: 'size-input',
  },
  batchSize: {
    id: 'f-batch',
    label: 'Batch size',
    min: 1,
    max: 1024,
    int: true,
    step: 1,
    hint: 'Images per gradient step',
    testid: 'batch-size-input',
  },
  dropout: {
    id: 'f-dropout',
    label: 'Dropout',
    min: 0,
    max: 0.9,
    step: 0.05,
    hint: 'Head regularisation, 0–0.9',
    testid: 'dropout-input',
  },
  seed: {
    id: 'f-seed',
    label: 'Seed',
    int: true,
    step: 1,
    hint: 'Makes the split and shuffling repeatable',
    testid: 'seed-input',
  },
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

/** The training run's state in a line. */
export function trainStatusText(): string {
  const run = training.runId !== null ? ` (run #${training.runId})` : '';
  switch (training.state) {
    case 'idle':
      return 'Ready to train.';
    case 'starting':
      return 'Starting…';
    case 'running':
      return `Training${run}…`;
    case 'cancelling':
      return `Cancelling${run}…`;
    case 'completed': {
      const accuracies = training.epochs.map((e) => e.validAccuracy);
      const best = accuracies.length > 0 ? ` Best validation accuracy ${formatPct(Math.max(...accuracies))}.` : '';
      return `Training completed${run}.${best}`;
    }
    case 'cancelled':
    case 'interrupted':
    case 'failed':
      return `Training ${training.state}${run}.`;
  }
  return '';
}
