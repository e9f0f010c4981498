/** The LR plans of the recipe's SGDR steps (4 and 8): pure, so the wizard draws exactly what the trainer will run. */
import { planSchedule, type PlannedSchedule } from '../schedules/training';
import { rampStart } from '../schedules/warmup';

/**
 * Step 8's ramp when the config has none: its first half epoch rises from 5 % of the LR. Without it AdamW's first
 * full-size steps on the freshly unfrozen backbone dropped a 128 px run from 67 % to chance (BENCHMARKS.md).
 */
export const DEFAULT_STEP8_WARMUP_EPOCHS = 0.5;

/** SGDR with cycle_len=1 for `cycles` cycles, each `cycleMult` times longer, the first `warmupEpochs` ramped up. */
export function sgdrStepPlan(
  lr: number,
  cycles: number,
  cycleMult: number,
  itersPerEpoch: number,
  warmupEpochs = 0,
): PlannedSchedule {
  const plan = planSchedule(lr, { kind: 'sgdr', cycleLen: 1, cycleMult, cycles }, 0, itersPerEpoch);
  if (!(warmupEpochs > 0)) return plan;
  return { ...plan, ...rampStart(plan, Math.round(warmupEpochs * plan.itersPerEpoch)) };
}
