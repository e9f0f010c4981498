/**
 * The schedule a training step uses, from the few knobs the wizard and the CLI expose. Pure: the trainer and the
 * renderer's live preview call the same function, so the preview is exactly what will run.
 */
import { buildSchedule } from './build';
import { sgdrTotalIters } from './sgdr';
import type { Schedule } from './types';

export type TrainingSchedule =
  | { kind: 'constant' }
  | { kind: 'sgdr'; cycleLen: number; cycleMult: number; cycles: number; etaMin?: number; fastaiWarmStart?: boolean }
  | { kind: 'onecycle'; pctStart: number; divFactor: number; finalDivFactor: number }
  | {
      kind: 'cyclic';
      mode: 'triangular' | 'triangular2' | 'exp_range';
      /** Lower bound as a fraction of the max LR (Leslie Smith: 1/3 to 1/4). */
      baseFraction: number;
      /** Half-cycle length in epochs (Smith: 2 to 10 epochs' worth of iterations). */
      stepSizeEpochs: number;
      gamma?: number;
    };

export const SCHEDULE_DEFAULTS = {
  sgdr: { kind: 'sgdr', cycleLen: 1, cycleMult: 1, cycles: 3, etaMin: 0 },
  onecycle: { kind: 'onecycle', pctStart: 0.25, divFactor: 25, finalDivFactor: 4000 },
  cyclic: { kind: 'cyclic', mode: 'triangular', baseFraction: 0.25, stepSizeEpochs: 1, gamma: 1 },
} as const satisfies Record<string, TrainingSchedule>;

export interface PlannedSchedule extends Schedule {
  itersPerEpoch: number;
  /** Epochs actually run (SGDR: the sum of the cycle lengths; may be fractional). */
  epochs: number;
}

/** Total iterations and per-iteration LR for `epochs` epochs (SGDR: as many as its cycles take) at max LR `lr`. */
export function planSchedule(
  lr: number,
  schedule: TrainingSchedule,
  epochs: number,
  itersPerEpoch: number,
): PlannedSchedule {
  const ipe = Math.max(1, Math.round(itersPerEpoch));
  let total = Math.max(1, Math.round(epochs * ipe));
  let s: Schedule;
  switch (schedule.kind) {
    case 'constant':
      s = buildSchedule({ kind: 'constant', lr }, total);
      break;
    case 'sgdr': {
      const spec = { ...schedule, kind: 'sgdr' as const, lr, itersPerEpoch: ipe };
      total = sgdrTotalIters(spec);
      s = buildSchedule(spec, total);
      break;
    }
    case 'onecycle':
      s = buildSchedule({ ...schedule, kind: 'onecycle', maxLr: lr }, total);
      break;
    case 'cyclic':
      s = buildSchedule(
        {
          kind: 'cyclic',
          maxLr: lr,
          baseLr: lr * schedule.baseFraction,
          stepSizeUp: Math.max(1, Math.round(schedule.stepSizeEpochs * ipe)),
          mode: schedule.mode,
          gamma: schedule.gamma ?? 1,
        },
        total,
      );
      break;
  }
  return { ...s, itersPerEpoch: ipe, epochs: total / ipe };
}
