/**
 * Differential (discriminative) learning rates: earlier layer groups get smaller multiples of the schedule, as in
 * fast.ai's `lr=[lr/9, lr/3, lr]` or `slice(lo, hi)`. Groups are ordered earliest layers first; the last group gets
 * the schedule itself (multiplier 1 when given as a ratio).
 */
import { fail, requireFinite, requireInt, requirePositive } from './types';

export type GroupSpec =
  /** One multiplier per group, e.g. [1/9, 1/3, 1]. */
  | { multipliers: number[] }
  /**
   * Geometric spacing: with ratio r and n groups (default 3), [1/r^(n-1), ..., 1/r, 1]. fast.ai suggests r in
   * [3, 10] for image models (r = 3 gives lr/9, lr/3, lr).
   */
  | { ratio: number; groups?: number };

/** Per-group multipliers of the base schedule. */
export function groupMultipliers(spec: GroupSpec): number[] {
  if ('multipliers' in spec) {
    if (!Array.isArray(spec.multipliers) || spec.multipliers.length === 0) fail('multipliers must be a non-empty list');
    spec.multipliers.forEach((m, i) => requirePositive(`multipliers[${i}]`, m));
    return [...spec.multipliers];
  }
  requireFinite('ratio', spec.ratio);
  if (spec.ratio < 1) fail(`ratio must be >= 1 (got ${spec.ratio}); fast.ai suggests 3 to 10`);
  const n = spec.groups ?? 3;
  requireInt('groups', n, 1);
  return Array.from({ length: n }, (_, k) => 1 / spec.ratio ** (n - 1 - k));
}

/** Per-group LR arrays: `result[g][i] = lr[i] * multiplier[g]`. */
export function groupLrs(lr: readonly number[], spec: GroupSpec): number[][] {
  return groupMultipliers(spec).map((m) => lr.map((v) => v * m));
}
