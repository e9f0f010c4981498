/**
 * fast.ai's eight steps, one row each, and the page that implements the step. The stepper lists them and the wizard
 * shows the current one's page; each page runs its step of the one run (state/recipe.svelte.ts). The rows keep their English
 * name/title/summary; pages and the stepper show them translated through stepName/stepTitle/stepSummary
 * (common:steps.N, stepText.ts), called at render time so that a language switch redraws them.
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
    name: 'Augment & precompute',
    title: 'Step 1 · The dataset',
    summary: 'Pick the image folder; check classes and the validation split.',
    trains: false,
    id: 'dataset',
    page: DatasetPage,
  },
  {
    step: 2,
    name: 'LR finder',
    title: 'Step 2 · LR finder',
    summary: 'Sweep the learning rate; pick where the loss falls fastest.',
    trains: false,
    id: 'lr-find',
    page: LrFindStep,
    recipe: true,
  },
  {
    step: 3,
    name: 'Train head (precomputed)',
    title: 'Step 3 · Train the head (precomputed)',
    summary: 'Train only the new head on cached backbone activations.',
    trains: true,
    id: 'train-head',
    page: Step3Head,
    recipe: true,
  },
  {
    step: 4,
    name: 'Train head with augmentation',
    title: 'Step 4 · Train the head with augmentation',
    summary: 'Augmented images on; SGDR restarts with cycle_len=1.',
    trains: true,
    id: 'recipe-4',
    page: Step4Augment,
    recipe: true,
  },
  {
    step: 5,
    name: 'Unfreeze',
    title: 'Step 5 · Unfreeze',
    summary: 'Let the backbone layers learn too.',
    trains: false,
    id: 'recipe-5',
    page: Step5Unfreeze,
    recipe: true,
  },
  {
    step: 6,
    name: 'Differential LRs',
    title: 'Step 6 · Differential learning rates',
    summary: 'Smaller LRs for early layers, larger for later ones.',
    trains: false,
    id: 'recipe-6',
    page: Step6GroupLrs,
    recipe: true,
  },
  {
    step: 7,
    name: 'LR finder (unfrozen)',
    title: 'Step 7 · LR finder on the unfrozen network',
    summary: 'Find the learning rate again, for the whole network.',
    trains: false,
    id: 'lr-find-full',
    page: LrFindStep,
    recipe: true,
  },
  {
    step: 8,
    name: 'Train all (SGDR cycle_mult=2)',
    title: 'Step 8 · Train all layers with SGDR (cycle_mult)',
    summary: 'Fine-tune all; each SGDR cycle twice as long.',
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
