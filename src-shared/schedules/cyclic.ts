/**
 * Cyclical learning rates (Leslie Smith, "Cyclical Learning Rates for Training Neural Networks", 2017), numerically
 * the same as PyTorch's `CyclicLR` stepped once per iteration, including its optional inverse momentum cycling.
 */
import { fail, requireFinite, requireNonNegative, requirePositive, requireTotalIters, tabulate } from './types';
import type { Schedule } from './types';

export type CyclicMode = 'triangular' | 'triangular2' | 'exp_range';
export const CYCLIC_MODES: readonly CyclicMode[] = ['triangular', 'triangular2', 'exp_range'];

export interface CyclicParams {
  baseLr: number;
  maxLr: number;
  /** Iterations from baseLr up to maxLr (may be fractional, as in PyTorch). */
  stepSizeUp: number;
  /** Iterations from maxLr back down; defaults to stepSizeUp. */
  stepSizeDown?: number;
  /** Default 'triangular'. triangular2 halves the amplitude each cycle; exp_range scales it by gamma^iteration. */
  mode?: CyclicMode;
  /** Only used by exp_range. Default 1. */
  gamma?: number;
  /** Give both to cycle momentum inversely to the LR (max at baseLr, base at maxLr), like CyclicLR. */
  baseMomentum?: number;
  maxMomentum?: number;
}

export function cyclicSchedule(p: CyclicParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requireNonNegative('baseLr', p.baseLr);
  requirePositive('maxLr', p.maxLr);
  if (p.maxLr < p.baseLr) fail(`maxLr must be >= baseLr (got maxLr ${p.maxLr}, baseLr ${p.baseLr})`);
  requirePositive('stepSizeUp', p.stepSizeUp);
  const down = p.stepSizeDown ?? p.stepSizeUp;
  requirePositive('stepSizeDown', down);
  const mode = p.mode ?? 'triangular';
  if (!CYCLIC_MODES.includes(mode)) fail(`mode must be one of ${CYCLIC_MODES.join(', ')} (got ${String(mode)})`);
  const gamma = p.gamma ?? 1;
  requirePositive('gamma', gamma);
  const cycleMomentum = checkMomentumPair(p.baseMomentum, p.maxMomentum);

  const totalSize = p.stepSizeUp + down;
  const stepRatio = p.stepSizeUp / totalSize;
  // Same expression order as PyTorch so the numbers agree to the last bits.
  const cycleOf = (i: number) => Math.floor(1 + i / totalSize);
  const scaleFactor = (i: number) => {
    const x = 1 + i / totalSize - cycleOf(i);
    return x <= stepRatio ? x / stepRatio : (x - 1) / (stepRatio - 1);
  };
  // triangular and triangular2 scale per cycle, exp_range per iteration (PyTorch's scale_mode).
  const amplitude = (i: number) =>
    mode === 'triangular' ? 1 : mode === 'triangular2' ? 1 / 2 ** (cycleOf(i) - 1) : gamma ** i;

  const out: Schedule = {
    lr: tabulate(totalIters, (i) => p.baseLr + (p.maxLr - p.baseLr) * scaleFactor(i) * amplitude(i)),
    cycleEnds: [],
  };
  if (cycleMomentum) {
    const [base, max] = cycleMomentum;
    out.momentum = tabulate(totalIters, (i) => max - (max - base) * scaleFactor(i) * amplitude(i));
  }
  // A cycle ends on the iteration before the cycle counter ticks over.
  for (let i = 0; i < totalIters; i++) if (cycleOf(i + 1) > cycleOf(i)) out.cycleEnds.push(i);
  return out;
}

/** Validates an optional (baseMomentum, maxMomentum) pair; returns it when both are given. */
export function checkMomentumPair(base: number | undefined, max: number | undefined): [number, number] | null {
  if (base === undefined && max === undefined) return null;
  if (base === undefined || max === undefined) fail('baseMomentum and maxMomentum must be given together');
  requireFinite('baseMomentum', base);
  requireFinite('maxMomentum', max);
  if (base < 0 || base >= 1) fail(`baseMomentum must be in [0, 1) (got ${base})`);
  if (max < 0 || max >= 1) fail(`maxMomentum must be in [0, 1) (got ${max})`);
  if (base > max) fail(`baseMomentum must be <= maxMomentum (got ${base} > ${max})`);
  return [base, max];
}
