/**
 * The classic decays, numerically the same as PyTorch's ConstantLR(factor=1), StepLR, MultiStepLR and
 * ExponentialLR stepped once per iteration.
 */
import { fail, requireInt, requirePositive, requireTotalIters, tabulate, type Schedule } from './types';

export interface ConstantParams {
  lr: number;
}

export interface StepParams {
  lr: number;
  /** Multiply the LR by `gamma` every `stepSize` iterations. */
  stepSize: number;
  /** Default 0.1 (PyTorch's default). */
  gamma?: number;
}

export interface MultiStepParams {
  lr: number;
  /** Iteration indices at which the LR is multiplied by `gamma` (a repeated milestone applies twice, as in PyTorch). */
  milestones: number[];
  /** Default 0.1. */
  gamma?: number;
}

export interface ExponentialParams {
  lr: number;
  /** Factor applied every iteration. */
  gamma: number;
}

export function constantSchedule(p: ConstantParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requirePositive('lr', p.lr);
  return { lr: tabulate(totalIters, () => p.lr), cycleEnds: [] };
}

export function stepSchedule(p: StepParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requirePositive('lr', p.lr);
  requireInt('stepSize', p.stepSize, 1);
  const gamma = p.gamma ?? 0.1;
  requirePositive('gamma', gamma);
  return { lr: tabulate(totalIters, (i) => p.lr * gamma ** Math.floor(i / p.stepSize)), cycleEnds: [] };
}

export function multiStepSchedule(p: MultiStepParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requirePositive('lr', p.lr);
  if (!Array.isArray(p.milestones) || p.milestones.length === 0) fail('milestones must be a non-empty list');
  for (const m of p.milestones) requireInt('each milestone', m, 0);
  const gamma = p.gamma ?? 0.1;
  requirePositive('gamma', gamma);
  // gamma^(number of milestones already reached), which is what PyTorch's recursive update amounts to.
  return {
    lr: tabulate(totalIters, (i) => p.lr * gamma ** p.milestones.filter((m) => m <= i).length),
    cycleEnds: [],
  };
}

export function exponentialSchedule(p: ExponentialParams, totalIters: number): Schedule {
  requireTotalIters(totalIters);
  requirePositive('lr', p.lr);
  requirePositive('gamma', p.gamma);
  return { lr: tabulate(totalIters, (i) => p.lr * p.gamma ** i), cycleEnds: [] };
}
