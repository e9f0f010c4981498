/**
 * Shared shapes and parameter checks for the learning-rate schedules.
 *
 * Every schedule is a pure function of its parameters that returns one value per iteration (mini-batch), so the
 * trainer, the CLI and the renderer's live preview all see exactly the same numbers.
 */

/** One value per iteration: `lr[i]` is the learning rate used for mini-batch i (0-based). */
export interface Schedule {
  lr: number[];
  /** SGD momentum (or Adam's beta1) per iteration, only for schedules that cycle it. */
  momentum?: number[];
  /** Last iteration index of each completed cycle (SGDR restarts, cyclic LR, one-cycle); used for snapshots. */
  cycleEnds: number[];
}

/** A bad schedule parameter; the message names the parameter and what it must be. */
export class ScheduleParamError extends Error {
  override name = 'ScheduleParamError';
}

export function fail(message: string): never {
  throw new ScheduleParamError(message);
}

export function requireFinite(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${name} must be a finite number (got ${String(v)})`);
}

export function requirePositive(name: string, v: number): void {
  requireFinite(name, v);
  if (v <= 0) fail(`${name} must be > 0 (got ${v})`);
}

export function requireNonNegative(name: string, v: number): void {
  requireFinite(name, v);
  if (v < 0) fail(`${name} must be >= 0 (got ${v})`);
}

export function requireInt(name: string, v: number, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    fail(`${name} must be an integer >= ${min} (got ${String(v)})`);
  }
}

/** Checks the schedule length shared by every kind. */
export function requireTotalIters(totalIters: number): void {
  requireInt('totalIters', totalIters, 1);
}

/** Array of n values from f(i). */
export function tabulate(n: number, f: (i: number) => number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}
