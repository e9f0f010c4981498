/** An LR range test's curve as the plots draw it, and the LR picked on it (steps 2 and 7 of the run). */
import type { LrFindResult } from '../../../src-shared/contract';

export type SuggestionName = keyof LrFindResult['suggestions'];

/** The curve as the chart draws it: while running, the live points; afterwards, the result. */
export interface LrCurve {
  lr: number[];
  loss: (number | null)[];
  smoothedLoss: (number | null)[];
  /** The validation loss per point, when the test recorded it (the recipe's `lrFindOn: 'valid'`). */
  validLoss?: (number | null)[];
}

export interface LrFindPick {
  lr: number;
  source: SuggestionName | 'chart';
}

/** Learning rates are picked with 3 significant digits: what the page shows is exactly what training gets. */
export function roundLr(lr: number): number {
  return Number(lr.toPrecision(3));
}
