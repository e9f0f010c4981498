/**
 * The run charts' data (Compare, and one run's detail): one colour per run, and each run's curves put on one shared x
 * axis for LineChart (the union of the runs' x values; a run is null where it has no point, and its line spans the
 * gap). Pure (unit-tested under Node); the words are in runLabels.ts.
 */
import type { RunComparison } from '../../../src-shared/contract';

/** Distinct on white and for the common colour-vision deficiencies (Okabe–Ito, darkened where too light). */
export const RUN_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#8a6d00', '#56b4e9', '#444444', '#b8860b'];

export function runColor(index: number): string {
  return RUN_COLORS[index % RUN_COLORS.length]!;
}

export interface OverlaidCurves {
  x: number[];
  /** One array per run, aligned with `x`. */
  ys: (number | null)[][];
  /** Points per run (non-null values), e.g. for tests and the chart's caption. */
  counts: number[];
}

/** Overlays per-run [x, y] points on the union of their x values. */
export function overlay(points: ReadonlyArray<ReadonlyArray<readonly [number, number | null]>>): OverlaidCurves {
  const x = [...new Set(points.flatMap((run) => run.map(([px]) => px)))].sort((a, b) => a - b);
  const at = new Map(x.map((v, i) => [v, i]));
  const ys = points.map((run) => {
    const column: (number | null)[] = new Array<number | null>(x.length).fill(null);
    for (const [px, py] of run) column[at.get(px)!] = py;
    return column;
  });
  return { x, ys, counts: ys.map((c) => c.filter((v) => v !== null).length) };
}

/** Epoch metrics numbered through the whole run (1, 2, … across recipe steps): people count epochs from 1. */
export function epochCurves(runs: readonly RunComparison[], key: 'validLoss' | 'validAccuracy'): OverlaidCurves {
  return overlay(runs.map((r) => r.metrics.map((m, i) => [i + 1, Number.isFinite(m[key]) ? m[key] : null] as const)));
}

/** Per-iteration values against the iteration's position in its run. */
export function iterationCurves(runs: readonly RunComparison[], key: 'lr' | 'loss'): OverlaidCurves {
  return overlay(runs.map((r) => r.iterations.map((p) => [p.index, p[key]] as const)));
}

/** The best validation accuracy of a run's epochs, or null. */
export function bestAccuracy(run: RunComparison): number | null {
  return run.metrics.length ? Math.max(...run.metrics.map((m) => m.validAccuracy)) : null;
}
