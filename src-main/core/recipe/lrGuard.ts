/**
 * Step 7's guard: the range test of the unfrozen network often stops early (the head is trained already) or stays
 * flat, and fastai's rules on such a curve can land orders of magnitude below any LR that trains (6.7e-7 once: step 8
 * learnt nothing). Each suggestion that would stall step 8 is flagged, never offered silently; the LR step 8 takes
 * when the user picks none is the recipe's rule (`unfrozenLr`: bounded by the head's LR and a decade below the
 * divergence point), flagged too when the sweep pushes it below the floor.
 */
import type { RecommendedLr, SuggestionWarningMessages, SuggestionWarnings } from '../../../src-shared/contract';
import { englishText, type Message } from '../../../src-shared/messages';
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

/** The sweep's finite smoothed losses (a diverged sweep ends in Infinity or NaN). */
const finiteLosses = (r: SweepForGuard) => r.smoothedLoss.filter((v) => Number.isFinite(v));

/** Why the sweep as a whole cannot be trusted (short, flat), or null. */
export function sweepProblem(r: SweepForGuard): Message | null {
  const finite = finiteLosses(r);
  if (finite.length < SHORT_SWEEP_POINTS) {
    return r.stoppedEarly
      ? {
          code: 'lrGuard.shortSweepDiverged',
          params: { diverged: fmt(r.lr[r.lr.length - 1] ?? NaN), points: finite.length },
        }
      : { code: 'lrGuard.shortSweep', params: { points: finite.length } };
  }
  const hi = Math.max(...finite);
  const lo = Math.min(...finite);
  if (hi - lo < FLAT_SWEEP_RANGE * Math.abs(hi)) return { code: 'lrGuard.flatSweep', params: {} };
  return null;
}

/** Problems said in English, one after another (logs, the CLI, older clients). */
const inEnglish = (problems: Message[] | null) => (problems ? problems.map((p) => englishText(p)).join(' ') : null);

/** Flags each suggestion that would stall (or overwrite) the unfrozen network, and the LR step 8 takes by default. */
export function guardUnfrozenLr(
  r: SweepForGuard,
  lrHead: number,
  optimizer: 'sgd' | 'adamw',
): { recommended: RecommendedLr; warnings: SuggestionWarnings; warningMessages: SuggestionWarningMessages } {
  const divergedAt = r.stoppedEarly && r.lr.length > 0 ? r.lr[r.lr.length - 1]! : null;
  const floor = unfrozenFloor(lrHead, optimizer);
  const sweep = sweepProblem(r);
  // A sweep that "diverges" within its first few points is a trained head's loss spike, not the network's limit
  // (a 12-point sweep once stopped at 8e-7, and a decade below it step 8 learnt nothing): only a sweep long enough
  // to read bounds step 8's LR by its divergence point.
  const limitAt = finiteLosses(r).length >= SHORT_SWEEP_POINTS ? divergedAt : null;
  const warn = (lr: number | null): Message[] | null => {
    if (lr === null) return null;
    const problems: Message[] = [];
    if (lr < floor) problems.push({ code: 'lrGuard.belowFloor', params: { lr: fmt(lr), floor: fmt(floor * 10) } });
    if (lr > lrHead) problems.push({ code: 'lrGuard.aboveHead', params: { lr: fmt(lr), head: fmt(lrHead) } });
    if (divergedAt !== null && lr > divergedAt / 10)
      problems.push({ code: 'lrGuard.nearDivergence', params: { lr: fmt(lr), diverged: fmt(divergedAt) } });
    if (sweep) problems.push(sweep);
    return problems.length ? problems : null;
  };
  const { lr, pick } = unfrozenLr(lrHead, optimizer, limitAt);
  const low: Message | null =
    lr < floor ? { code: 'lrGuard.lowRecommended', params: { lr: fmt(lr), floor: fmt(floor * 10) } } : null;
  const recommended: RecommendedLr = {
    lr,
    pick,
    warning: low ? englishText(low) : null,
    ...(low ? { warningMessage: low } : {}),
  };
  const warningMessages = {
    valley: warn(r.suggestions.valley),
    steep: warn(r.suggestions.steep),
    minDiv10: warn(r.suggestions.minDiv10),
  };
  return {
    recommended,
    warnings: {
      valley: inEnglish(warningMessages.valley),
      steep: inEnglish(warningMessages.steep),
      minDiv10: inEnglish(warningMessages.minDiv10),
    },
    warningMessages,
  };
}
