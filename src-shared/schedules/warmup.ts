/** Linear warm-up that can be put in front of any schedule. */
import { fail, requireFinite, requireInt, requireNonNegative, tabulate, type Schedule } from './types';

export interface WarmupParams {
  /** Iterations of linear warm-up placed in front of the schedule. */
  warmupIters: number;
  /** The warm-up starts at this fraction of the schedule's first LR. Default 0.1. */
  warmupStartFactor?: number;
}

/**
 * Puts a linear warm-up in front of a schedule, like PyTorch's
 * `SequentialLR([LinearLR(start_factor, total_iters=W), inner], milestones=[W])`: iteration i < W uses
 * `inner.lr[0] * (s + (1 - s) * i / W)`, then the inner schedule runs from its own iteration 0. Cycle ends shift by W;
 * momentum holds the inner schedule's first value during the warm-up.
 */
export function applyWarmup(inner: Schedule, p: WarmupParams): Schedule {
  requireInt('warmupIters', p.warmupIters, 0);
  const s = p.warmupStartFactor ?? 0.1;
  requireNonNegative('warmupStartFactor', s);
  if (s > 1) fail(`warmupStartFactor must be between 0 and 1 (got ${s})`);
  const w = p.warmupIters;
  if (w === 0) return inner;
  const first = inner.lr[0];
  if (first === undefined) fail('cannot warm up an empty schedule');
  requireFinite('first LR of the schedule', first);
  const ramp = tabulate(w, (i) => first * (s + ((1 - s) * i) / w));
  const out: Schedule = { lr: [...ramp, ...inner.lr], cycleEnds: inner.cycleEnds.map((e) => e + w) };
  if (inner.momentum) {
    const m0 = inner.momentum[0]!;
    out.momentum = [...tabulate(w, () => m0), ...inner.momentum];
  }
  return out;
}

/**
 * Ramps the first `iters` iterations of a schedule up from `startFactor` of their LR to all of it, in place of (not in
 * front of) them: the length and the cycle ends stay, so SGDR's snapshots still fall on epoch ends. Adam's first
 * steps on freshly unfrozen weights are the largest it takes; the ramp keeps them from wrecking the backbone.
 */
export function rampStart(inner: Schedule, iters: number, startFactor = 0.05): Schedule {
  requireInt('iters', iters, 0);
  requireNonNegative('startFactor', startFactor);
  if (startFactor > 1) fail(`startFactor must be between 0 and 1 (got ${startFactor})`);
  const w = Math.min(iters, inner.lr.length);
  const lr = inner.lr.map((x, i) => (i < w ? x * (startFactor + ((1 - startFactor) * i) / w) : x));
  return { ...inner, lr };
}
