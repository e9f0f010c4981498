/**
 * A step's name, heading and summary in the current language (common:steps.N). Apart from steps.ts so that the step
 * pages, which steps.ts imports, can show their own heading without an import cycle.
 */
import { t } from '../i18n/i18n.svelte';
import { recipe } from '../state/recipe.svelte';
import type { StepDef } from './stepTypes';

type StepNumber = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8';

function stepKey(def: Pick<StepDef, 'step'>): StepNumber {
  return String(def.step) as StepNumber;
}

/**
 * The stepper's name of a step, in the current language. Step 8's says its cycle_mult: `cycleMult` where a view shows
 * another run (Run history), else the wizard run's (the store's settings: the run's config or step 8's page).
 */
export function stepName(def: Pick<StepDef, 'step'> & { cycleMult?: number }): string {
  return t(`common:steps.${stepKey(def)}.name`, { cycleMult: def.cycleMult ?? recipe.settings.cycleMult });
}

/** A step page's heading, in the current language. */
export function stepTitle(def: Pick<StepDef, 'step'>): string {
  return t(`common:steps.${stepKey(def)}.title`);
}

/** One line on what a step does, in the current language (step 8's with the run's cycle_mult, as stepName). */
export function stepSummary(def: Pick<StepDef, 'step'>): string {
  return t(`common:steps.${stepKey(def)}.summary`, { cycleMult: recipe.settings.cycleMult });
}
