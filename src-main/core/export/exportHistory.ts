/**
 * What an export takes from the run history (SQLite) besides the run folder: when and on which backend the run
 * trained, its per-epoch metrics and timing, and the dataset summary it recorded (classes with counts, split, seed).
 * The caller (CLI, app service) reads it from its RunStore; core stays free of either.
 */
import { DatasetSummary, type EpochMetrics } from '../../../src-shared/contract';
import type { RunRow } from '../history/runStore';

export type ExportHistory = Pick<
  RunRow,
  'createdAt' | 'finishedAt' | 'status' | 'kind' | 'backend' | 'backendNote' | 'dataset' | 'timing'
> & { epochs: EpochMetrics[] };

/** A run's history record with its epochs, in the shape `exportRun` / `exportEnsemble` take. */
export function exportHistoryOf(run: RunRow, epochs: EpochMetrics[]): ExportHistory {
  const { createdAt, finishedAt, status, kind, backend, backendNote, dataset, timing } = run;
  return { createdAt, finishedAt, status, kind, backend, backendNote, dataset, timing, epochs };
}

const CardDataset = DatasetSummary.omit({ thumbnails: true });
/** The dataset as the history recorded it. */
export type CardDataset = ReturnType<typeof CardDataset.parse>;

/** The recorded dataset, or null when the record is missing, foreign, or was never filled in (no classes). */
export function recordedDataset(history: ExportHistory | null): CardDataset | null {
  const parsed = CardDataset.safeParse(history?.dataset);
  return parsed.success && parsed.data.classes.length ? parsed.data : null;
}
