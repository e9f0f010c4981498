/** LR schedules in words, for the model card: a head run's schedule, and what each recipe step ran. */
import type { RecipeConfig, RecipeStepResult, TrainingSchedule } from '../../../src-shared/contract';
import { DEFAULT_STEP8_WARMUP_EPOCHS } from '../../../src-shared/recipe/plan';

export function describeSchedule(s: TrainingSchedule): string {
  switch (s.kind) {
    case 'constant':
      return 'constant';
    case 'sgdr':
      return `SGDR (cosine with restarts): cycle_len ${s.cycleLen}, cycle_mult ${s.cycleMult}, ${s.cycles} cycles`;
    case 'onecycle':
      return `one-cycle: pct_start ${s.pctStart}, div ${s.divFactor}, final div ${s.finalDivFactor}`;
    case 'cyclic':
      return `cyclic ${s.mode}: base ${s.baseFraction} × LR, ${s.stepSizeEpochs} epochs per half cycle`;
  }
}

/** What schedule recipe step `s.step` ran (core/recipe/steps.ts), from the run's recipe config. */
export function stepSchedule(s: RecipeStepResult, recipe: Partial<RecipeConfig> | undefined): string {
  switch (s.step) {
    case 1:
      return 'none (backbone activations precomputed)';
    case 2:
    case 7: {
      const f = recipe?.lrFind;
      const range = f ? `, ${f.start} → ${f.end}` : '';
      const pick = s.lrPick ?? (s.step === 2 ? (recipe?.lrRule ?? 'minDiv10') : null);
      return `LR range test${range}${pick ? `; picked ${pick}` : ''}`;
    }
    case 3:
      return 'constant, on precomputed activations';
    case 4:
      return `SGDR cycle_len 1, cycle_mult 1, ${s.epochs} cycles; augmented images`;
    case 5:
      return 'none (backbone unfrozen)';
    case 6:
      return 'none (differential LRs set)';
    case 8: {
      const warm = recipe?.warmupEpochs ?? DEFAULT_STEP8_WARMUP_EPOCHS;
      const cycles = recipe?.cycles !== undefined ? `${recipe.cycles} cycles planned` : 'cycles';
      const ramp = warm > 0 ? `, first ${warm} epoch ramped up from 5 %` : '';
      const best = s.bestCycle !== undefined ? `; kept cycle ${s.bestCycle}` : '';
      const early = s.stoppedEarly ? ', stopped early' : '';
      return `SGDR cycle_len 1, cycle_mult ${recipe?.cycleMult ?? '?'}, ${cycles}${ramp}${best}${early}`;
    }
    default:
      return '–';
  }
}
