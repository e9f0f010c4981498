/**
 * fast.ai's eight steps, one row each, and the page that implements the step. The stepper lists them and the wizard
 * shows the current one's page; each page runs its step of the one run (state/recipe.svelte.ts). Their words live only
 * in the catalogs (common:steps.N): pages and the stepper say them through stepName/stepTitle/stepSummary
 * (stepText.ts), called at render time so that a language switch redraws them.
 */
import DatasetPage from '../components/DatasetPage.svelte';
import type { PageId } from '../state/app.svelte';
import type { StepDef } from './stepTypes';
import LrFindStep from './LrFindStep.svelte';
import Step3Head from './Step3Head.svelte';
import Step4Augment from './Step4Augment.svelte';
import Step5Unfreeze from './Step5Unfreeze.svelte';
import Step6GroupLrs from './Step6GroupLrs.svelte';
import Step8Sgdr from './Step8Sgdr.svelte';

export const STEPS: readonly StepDef[] = [
  {
    step: 1,
    trains: false,
    id: 'dataset',
    page: DatasetPage,
  },
  {
    step: 2,
    trains: false,
    id: 'lr-find',
    page: LrFindStep,
    recipe: true,
  },
  {
    step: 3,
    trains: true,
    id: 'train-head',
    page: Step3Head,
    recipe: true,
  },
  {
    step: 4,
    trains: true,
    id: 'recipe-4',
    page: Step4Augment,
    recipe: true,
  },
  {
    step: 5,
    trains: false,
    id: 'recipe-5',
    page: Step5Unfreeze,
    recipe: true,
  },
  {
    step: 6,
    trains: false,
    id: 'recipe-6',
    page: Step6GroupLrs,
    recipe: true,
  },
  {
    step: 7,
    trains: false,
    id: 'lr-find-full',
    page: LrFindStep,
    recipe: true,
  },
  {
    step: 8,
    trains: true,
    id: 'recipe-8',
    page: Step8Sgdr,
    recipe: true,
  },
];

/** The step shown on `page`, if it is a step's page. */
export function stepOfPage(page: PageId): StepDef | undefined {
  return STEPS.find((s) => s.id === page);
}

export { stepName, stepSummary, stepTitle } from './stepText';
