/**
 * SGDR: cosine annealing with warm restarts (Loshchilov & Hutter, 2017), numerically the same as PyTorch's
 * `CosineAnnealingWarmRestarts(T_0 = round(cycleLen * itersPerEpoch), T_mult = cycleMult, eta_min)` stepped once per
 * iteration, plus fast.ai v0.7's optional warm start.
 */
import { fail, requireInt, requireNonNegative, requirePositive, requireTotalIters, type Schedule } from './types';

export interface SgdrParams {
  /** LR at the start of every cycle (eta_max). */
  lr: number;
  /** Length of the first cycle in epochs; may be fractional (rounded to whole iterations, half up). */
  cycleLen: number;
  /** Each cycle is this many times longer than the previous one. Integer >= 1 (as PyTorch requires). Default 1. */
  cycleMult?: number;
  /** LR at the bottom of each cosine. Default 0. */
  etaMin?: number;
  /** Number of cycles; without an explicit length the schedule is exactly this many cycles long. */
  cycles?: number;
  itersPerEpoch: number;
  /**
   * fast.ai v0.7 `CosAnneal` warm start: while the iteration index is below 1/20 of the current cycle's length, use
   * lr/100 (the cosine keeps counting underneath). In practice this only touches the start of the first cycle.
   */
  fastaiWarmStart?: boolean;
}

// Schedules are materialised as arrays; refuse lengths nobody could train for.
const MAX_ITERS = 10_000_000;

/** Iterations in the first cycle: T_0 of PyTorch. */
export function sgdrFirstCycleIters(p: SgdrParams): number {
  requirePositive('cycleLen', p.cycleLen);
  requireInt('itersPerEpoch', p.itersPerEpoch, 1);
  const t0 = Math.round(p.cycleLen * p.itersPerEpoch);
  if (t0 < 1) fail(`cycleLen * itersPerEpoch must round to at least 1 iteration (got ${p.cycleLen * p.itersPerEpoch})`);
  return t0;
}

/** Iteration counts of the first `count` cycles. */
export function sgdrCycleLengths(p: SgdrParams, count: number): number[] {
  requireInt('cycles', count, 1);
  const mult = p.cycleMult ?? 1;
  requireInt('cycleMult', mult, 1);
  const lengths = [sgdrFirstCycleIters(p)];
  let sum = lengths[0]!;
  while (lengths.length < count) {
    const next = lengths[lengths.length - 1]! * mult;
    sum += next;
    if (sum > MAX_ITERS) fail(`cycles (${count}) would need more than ${MAX_ITERS} iterations`);
    lengths.push(next);
  }
  return lengths;
}

/** Total iterations of `p.cycles` complete cycles. */
export function sgdrTotalIters(p: SgdrParams): number {
  if (p.cycles === undefined) fail('cycles is required to derive the SGDR length');
  return sgdrCycleLengths(p, p.cycles).reduce((a, b) => a + b, 0);
}

/**
 * `totalIters` wins when given (restarts simply continue, as PyTorch would, or the last cycle is cut short);
 * otherwise the length is the sum of `cycles` cycle lengths. `cycleEnds` lists only cycles that complete.
 */
export function sgdrSchedule(p: SgdrParams, totalIters?: number): Schedule {
  requirePositive('lr', p.lr);
  const etaMin = p.etaMin ?? 0;
  requireNonNegative('etaMin', etaMin);
  if (etaMin > p.lr) fail(`etaMin must be <= lr (got etaMin ${etaMin}, lr ${p.lr})`);
  const mult = p.cycleMult ?? 1;
  requireInt('cycleMult', mult, 1);
  const t0 = sgdrFirstCycleIters(p);
  if (p.cycles !== undefined) requireInt('cycles', p.cycles, 1);
  if (totalIters === undefined && p.cycles === undefined) fail('sgdr needs either a total length or cycles');
  const n = totalIters ?? sgdrTotalIters(p);
  requireTotalIters(n);

  const lr = new Array<number>(n);
  const cycleEnds: number[] = [];
  let tCur = 0;
  let tI = t0;
  for (let i = 0; i < n; i++) {
    // PyTorch: eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2
    lr[i] =
      p.fastaiWarmStart && i < tI / 20
        ? p.lr / 100
        : etaMin + ((p.lr - etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
    tCur += 1;
    if (tCur >= tI) {
      tCur -= tI;
      tI *= mult;
      cycleEnds.push(i);
    }
  }
  return { lr, cycleEnds };
}
