/**
 * Step 6 sets differential LRs: one per layer group, earliest smallest. It runs before step 7 settles step 8's LR,
 * so what it sets is known only later: step 8's LR (`lrAll`) × step 6's group multipliers, the LRs step 8 trains
 * each group at (its iterations record the last group's, × 1). The run's step table and `runs show` show these.
 */
import type { RecipeStepResult } from '../schemas';

/**
 * Step 6's per-group LRs, earliest group first: the LR step 8 trained at, else the run's `lrAll` (a continuation's
 * override), else step 7's pick; null until one is known or without step 6's multipliers.
 */
export function differentialLrs(steps: readonly RecipeStepResult[], configLrAll: number | null): number[] | null {
  const mults = steps.find((s) => s.step === 6)?.groupLrMults;
  const lrAll = steps.find((s) => s.step === 8)?.lr ?? configLrAll ?? steps.find((s) => s.step === 7)?.lr ?? null;
  if (!mults || lrAll === null) return null;
  return mults.map((m) => lrAll * m);
}
