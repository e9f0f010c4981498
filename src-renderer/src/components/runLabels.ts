/** A run's name, kind and status in the current language (the runs catalogs), for the run history's views. */
import type { RunStatus } from '../../../src-shared/contract';
import { say, t } from '../i18n/i18n.svelte';
import { englishText } from '../../../src-shared/messages';
import { runKindMessage, type RunPlanOf } from '../../../src-shared/recipe/runKind';
import { isolateLtr } from '../i18n/bidi';
import { formatLr } from '../format';

/** "Run #3": a run's name in legends and tables. */
export function runLabel(id: number): string {
  return t('runs:runLabel', { id });
}

/** What the run is: "eight steps", "head only (steps 1–3)", "paused after step 5" (src-shared/recipe/runKind.ts). */
export function kindLabel(run: RunPlanOf): string {
  const message = runKindMessage(run);
  return say(message, englishText(message));
}

/** A run's status in words. */
export function statusLabel(status: RunStatus): string {
  return t(`runs:status.${status}`);
}

/**
 * How a step's LR was chosen, in the wizard's words: "picked on step 2", "step 7's valley", "set in the settings";
 * a rule the engine words itself (step 7's guard) is shown as it comes.
 */
const STEP7_RULES: Record<string, 'adamFineTune' | 'decadeBelowHead' | 'headLr' | 'decadeBelowDiverged'> = {
  "fastai's fine-tuning LR for Adam (1e-3)": 'adamFineTune',
  'a decade below the head LR': 'decadeBelowHead',
  'the head LR': 'headLr',
  'a decade below where the loss diverged': 'decadeBelowDiverged',
};

export function lrPickLabel(step: number, pick: string): string {
  const lrStep = step >= 6 ? 7 : 2;
  switch (pick) {
    case 'picked':
      return t('runs:lrPick.picked', { step: lrStep });
    case 'config':
      return t('runs:lrPick.config');
    case 'valley':
    case 'steep':
    case 'minDiv10':
      return t('runs:lrPick.suggestion', {
        step: lrStep,
        name: isolateLtr(pick === 'minDiv10' ? 'min/10' : pick),
      });
    case 'fallback':
      return t('runs:lrPick.fallback', { step: lrStep });
    default: {
      // Step 7's guard words its rule in English (src-shared/recipe/plan.ts: unfrozenLr); said here in the user's.
      const rule = STEP7_RULES[pick];
      return rule ? t(`runs:lrPick.${rule}`) : pick;
    }
  }
}

/**
 * A step's LR as its table cell shows it; null: none. Step 6's: the per-group LRs step 8 trains at
 * ("[1.1e-4, 3.3e-4, 1e-3]": src-shared/recipe/differentialLrs.ts), not known before step 7.
 */
export function stepLrText(step: number, lr: number | null, groupLrs: number[] | null): string | null {
  if (step === 6) return groupLrs ? `[${groupLrs.map((v) => formatLr(v)).join(', ')}]` : null;
  return lr === null ? null : formatLr(lr);
}
