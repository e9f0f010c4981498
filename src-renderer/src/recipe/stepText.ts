/**
 * A step's name, heading and summary in the current language (common:steps.N). Apart from steps.ts so that the step
 * pages, which steps.ts imports, can show their own heading without an import cycle.
 */
import { t } from '../i18n/i18n.svelte';
import type { StepDef } from './stepTypes';

type StepNumber = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8';

function stepKey(def: Pick<StepDef, 'step'>): StepNumber {
  return String(def.step) as StepNumber;
}

/** The stepper's name of a step, in the current language. */
export function stepName(def: Pick<StepDef, 'step'>): string {
  return t(`common:steps.${stepKey(def)}.name`);
}

/** A step page's heading, in the current language. */
export function stepTitle(def: Pick<StepDef, 'step'>): string {
  return t(`common:steps.${stepKey(def)}.title`);
}

/** One line on what a step does, in the current language. */
export function stepSummary(def: Pick<StepDef, 'step'>): string {
  return t(`common:steps.${stepKey(def)}.summary`);
}
