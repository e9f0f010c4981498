/**
 * The 1cycle policy (Leslie Smith, "Super-Convergence", 2018, in fast.ai's two-phase form), numerically the same as
 * PyTorch's `OneCycleLR(three_phase=False)` stepped once per iteration. With Adam, "momentum" means beta1: the same
 * numbers are used.
 */
import { checkMomentumPair } from './cyclic';
import { fail, requireFinite, requirePositive, requireTotalIters, type Schedule } from './types';

export type AnnealStrategy = 'cos' | 'linear';

export interface OneCycleParams {
  /** Peak LR. */
  maxLr: number;
  /** Fraction of the iterations spent increasing the LR. Default 0.3 (PyTorch). */
  pctStart?: number;
  /** Default 'cos'. */
  anneal?: AnnealStrategy;
  /** Starting LR = maxLr / divFactor. Default 25. */
  divFactor?: number;
  /** Final LR = maxLr / divFactor / finalDivFactor. Default 1e4 (PyTorch). */
  finalDivFactor?: number;
  /** Cycle momentum inversely to the LR, from maxMomentum down to baseMomentum and back. Default true. */
  cycleMomentum?: boolean;
  /** Default 0.85. */
  baseMomentum?: number;
  /** Default 0.95. */
  maxMomentum?: number;
}

/**
 * fast.ai's `fit_one_cycle` defaults: pct_start 0.25, div 25, div_final 1e5, moms (0.95, 0.85, 0.95), cosine.
 * fast.ai's final LR is lr_max / div_final, while PyTorch divides the *starting* LR by final_div_factor, hence
 * 1e5 / 25. (Phase boundaries follow PyTorch's per-step arithmetic, which differs from fast.ai's by at most one step.)
 */
export const FASTAI_ONE_CYCLE: Required<Omit<OneCycleParams, 'maxLr'>> = {
  pctStart: 0.25,
  anneal: 'cos',
  divFactor: 25,
  finalDivFactor: 1e5 / 25,
  cycleMomentum: true,
  baseMomentum: 0.85,
  maxMomentum: 0.95,
};

/** One-cycle parameters with fast.ai's defaults for a given peak LR (fastai's default lr_max is 1e-3). */
export function fastaiOneCycle(maxLr = 1e-3): OneCycleParams {
  return { maxLr, ...FASTAI_ONE_CYCLE };
}

export function annealCos(start: number, end: number, pct: number): number {
  return end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
}

export function annealLinear(start: number, end: number, pct: number): number {
  return (end - start) * pct + start;
}

export function oneCycleSchedule(p: OneCycleParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requirePositive('maxLr', p.maxLr);
  const pctStart = p.pctStart ?? 0.3;
  requireFinite('pctStart', pctStart);
  if (pctStart < 0 || pctStart > 1) fail(`pctStart must be between 0 and 1 (got ${pctStart})`);
  const anneal = p.anneal ?? 'cos';
  if (anneal !== 'cos' && anneal !== 'linear') fail(`anneal must be 'cos' or 'linear' (got ${String(anneal)})`);
  const divFactor = p.divFactor ?? 25;
  requirePositive('divFactor', divFactor);
  const finalDivFactor = p.finalDivFactor ?? 1e4;
  requirePositive('finalDivFactor', finalDivFactor);
  const moms = p.cycleMomentum === false ? null : checkMomentumPair(p.baseMomentum ?? 0.85, p.maxMomentum ?? 0.95);

  const initialLr = p.maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const f = anneal === 'cos' ? annealCos : annealLinear;
  // PyTorch's phase boundaries: phase 1 ends at step pct*total - 1, phase 2 at total - 1.
  const end1 = pctStart * totalIters - 1;
  const end2 = totalIters - 1;
  // PyTorch divides by the phase length; a zero-length phase (e.g. pct*total == 1 at step 0) would be 0/0 there
  // (ZeroDivisionError). Treat it as already finished.
  const frac = (step: number, start: number, end: number) => (end === start ? 1 : (step - start) / (end - start));

  const lr = new Array<number>(totalIters);
  const momentum = moms ? new Array<number>(totalIters) : undefined;
  for (let i = 0; i < totalIters; i++) {
    if (i <= end1) {
      const pct = frac(i, 0, end1);
      lr[i] = f(initialLr, p.maxLr, pct);
      if (momentum && moms) momentum[i] = f(moms[1], moms[0], pct);
    } else {
      const pct = frac(i, end1, end2);
      lr[i] = f(p.maxLr, minLr, pct);
      if (momentum && moms) momentum[i] = f(moms[0], moms[1], pct);
    }
  }
  const out: Schedule = { lr, cycleEnds: [totalIters - 1] };
  if (momentum) out.momentum = momentum;
  return out;
}
