/**
 * Step 7's guard: the range test of the unfrozen network often stops early (the head is trained already) or stays
 * flat, and fastai's rules on such a curve can land orders of magnitude below any LR that trains (6.7e-7 once: step 8
 * learnt nothing). Each suggestion that would stall step 8 is flagged, never offered silently; the LR step 8 takes
 * when the user picks none is the recipe's rule (`unfrozenLr`: bounded by the head's LR and a decade below the
 * divergence point), flagged too when the sweep pushes it below the floor.
 */
import type { RecommendedLr, SuggestionWarnings } from '../../../src-shared/contract';
import { ADAMW_UNFROZEN_LR, unfrozenLr } from '../../../src-shared/recipe/plan';

/** Fewer finite points than this: the sweep says little (fastai sweeps 100). */
export const SHORT_SWEEP_POINTS = 20;
/** A smoothed loss that moves less than this fraction of its level over the sweep is flat. */
export const FLAT_SWEEP_RANGE = 0.05;

export interface SweepForGuard {
  lr: readonly number[];
  smoothedLoss: readonly number[];
  stoppedEarly: boolean;
  suggestions: { valley: number | null; steep: number | null; minDiv10: number | null };
}

const fmt = (x: number) => x.toExponential(1);

/**
 * The lowest LR step 8 may take without a warning: a decade below the unfrozen network's reference LR (the head's
 * LR with SGD; with AdamW fastai's 1e-3, or the head's LR if lower).
 */
export function unfrozenFloor(lrHead: number, optimizer: 'sgd' | 'adamw'): number {
  return (optimizer === 'adamw' ? Math.min(lrHead, ADAMW_UNFROZEN_LR) : lrHead) / 10;
}

/** Why the sweep as a whole cannot be trusted (short, flat), or null. */
export function sweepProblem(r: SweepForGuard): string | null {
  const finite = r.smoothedLoss.filter((v) => Number.isFinite(v));
  if (finite.length < SHORT_SWEEP_POINTS) {
    const where = r.stoppedEarly ? `the loss diverged at ${fmt(r.lr[r.lr.length - 1] ?? NaN)} ` : '';
    return `The sweep ${where}after ${finite.length} points: too short to read a slope from.`;
  }
  const hi = Math.max(...finite);
  const lo = Math.min(...finite);
  if (hi - lo < FLAT_SWEEP_RANGE * Math.abs(hi)) return 'The loss stayed flat over the sweep: its minimum is noise.';
  return null;
}

/** Flags each suggestion that would stall (or overwrite) the unfrozen network, and the LR step 8 takes by default. */
export function guardUnfrozenLr(
  r: SweepForGuard,
  lrHead: number,
  optimizer: 'sgd' | 'adamw',
): { recommended: RecommendedLr; warnings: SuggestionWarnings } {
  const divergedAt = r.stoppedEarly && r.lr.length > 0 ? r.lr[r.lr.length - 1]! : null;
  const floor = unfrozenFloor(lrHead, optimizer);
  const sweep = sweepProblem(r);
  const warn = (lr: number | null): string | null => {
    if (lr === null) return null;
    const problems: string[] = [];
    if (lr < floor) problems.push(`${fmt(lr)} is more than 10x below ${fmt(floor * 10)}: step 8 would barely learn.`);
    if (lr > lrHead) problems.push(`${fmt(lr)} is above the head's LR ${fmt(lrHead)}: it would wreck the backbone.`);
    if (divergedAt !== null && lr > divergedAt / 10)
      problems.push(`${fmt(lr)} is within a decade of where the loss diverged (${fmt(divergedAt)}).`);
    if (sweep) problems.push(sweep);
    return problems.length ? problems.join(' ') : null;
  };
  const { lr, pick } = unfrozenLr(lrHead, optimizer, divergedAt);
  const low = lr < floor ? `${fmt(lr)} is more than 10x below ${fmt(floor * 10)}: step 8 may learn little; ` : '';
  const recommended: RecommendedLr = {
    lr,
    pick,
    warning: low ? `${low}look at the curve and pick an LR, or run step 7 again.` : null,
  };
  return {
    recommended,
    warnings: {
      valley: warn(r.suggestions.valley),
      steep: warn(r.suggestions.steep),
      minDiv10: warn(r.suggestions.minDiv10),
    },
  };
}
