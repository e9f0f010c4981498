/** The LR plans of the recipe's SGDR steps (4 and 8): pure, so the wizard draws exactly what the trainer will run. */
import { planSchedule, type PlannedSchedule } from '../schedules/training';
import { rampStart } from '../schedules/warmup';

/**
 * Step 8's ramp when the config has none: its first half epoch rises from 5 % of the LR. Without it AdamW's first
 * full-size steps on the freshly unfrozen backbone dropped a 128 px run from 67 % to chance (docs/benchmarks.md).
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

/** fastai v2's `fine_tune` top LR for the unfrozen net with Adam: its base_lr 2e-3, halved on unfreezing. */
export const ADAMW_UNFROZEN_LR = 1e-3;

/**
 * The unfrozen network's LR (its last group; the groups below get less, step 6). With AdamW fastai v2's fine-tuning LR,
 * 1e-3, whatever the head's LR: a tenth of the head's LR tied step 8 to the noise of step 2's pick (5.5e-4 … 1.4e-3
 * over three seeds at 96 px), and 1e-3 beat it (README, Results); above 1e-3 restarts at 96 and 128 px knocked the
 * net to 40–55 % or to chance. With SGD a decade below the head's LR, as fast.ai v0.7 did. Never above the head's LR,
 * and a decade below where step 7's loss diverged. Step 7's own minimum is not used: with a trained head it sits in
 * noise (it once gave 5e-8, and step 8 learnt nothing).
 */
export function unfrozenLr(
  lrHead: number,
  optimizer: 'sgd' | 'adamw',
  divergedAt: number | null,
): { lr: number; pick: string } {
  const picks: Array<[number, string]> = [
    optimizer === 'adamw'
      ? [ADAMW_UNFROZEN_LR, "fastai's fine-tuning LR for Adam (1e-3)"]
      : [lrHead / 10, 'a decade below the head LR'],
    [lrHead, 'the head LR'],
    [divergedAt === null ? Infinity : divergedAt / 10, 'a decade below where the loss diverged'],
  ];
  const [lr, pick] = picks.reduce((a, b) => (b[0] < a[0] ? b : a));
  return { lr, pick };
}
