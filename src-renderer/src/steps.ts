/** The eight fast.ai steps as the stepper shows them, plus the other pages of the wizard. */

export type PageId =
  | 'dataset'
  | 'lr-find'
  | 'train-head'
  | 'recipe-4'
  | 'recipe-5'
  | 'recipe-6'
  | 'lr-find-full'
  | 'recipe-8'
  | 'results'
  | 'export'
  | 'runs';

export interface StepDef {
  number: number;
  title: string;
  /** One line: what the step does. */
  summary: string;
  /** The page that implements the step, or null while it is "coming soon". */
  page: PageId | null;
  /** Set when the step only makes sense after a completed training run or inside a recipe run. */
  needsCompletedRun?: boolean;
  /** Steps 4–8: run inside the eight-step recipe (they need a scanned dataset or a recipe run). */
  recipe?: boolean;
}

export const STEPS: readonly StepDef[] = [
  {
    number: 1,
    title: 'Augment & precompute',
    summary: 'Pick the image folder; check classes and the validation split.',
    page: 'dataset',
  },
  {
    number: 2,
    title: 'LR finder',
    summary: 'Sweep the learning rate; pick where the loss falls fastest.',
    page: 'lr-find',
  },
  {
    number: 3,
    title: 'Train head (precomputed)',
    summary: 'Train only the new head on cached backbone activations.',
    page: 'train-head',
  },
  {
    number: 4,
    title: 'Train head with augmentation',
    summary: 'Augmented images on; SGDR restarts with cycle_len=1.',
    page: 'recipe-4',
    recipe: true,
  },
  {
    number: 5,
    title: 'Unfreeze',
    summary: 'Let the backbone layers learn too.',
    page: 'recipe-5',
    recipe: true,
  },
  {
    number: 6,
    title: 'Differential LRs',
    summary: 'Smaller LRs for early layers, larger for later ones.',
    page: 'recipe-6',
    recipe: true,
  },
  {
    number: 7,
    title: 'LR finder (unfrozen)',
    summary: 'Find the learning rate again, for the whole network.',
    page: 'lr-find-full',
    needsCompletedRun: true,
    recipe: true,
  },
  {
    number: 8,
    title: 'Train all (SGDR cycle_mult=2)',
    summary: 'Fine-tune all; each SGDR cycle twice as long.',
    page: 'recipe-8',
    recipe: true,
  },
];

export const PAGE_TITLES: Record<PageId, string> = {
  dataset: 'Step 1 · Augment & precompute: the dataset',
  'lr-find': 'Step 2 · LR finder',
  'lr-find-full': 'Step 7 · LR finder (unfrozen)',
  'train-head': 'Step 3 · Train the head on precomputed activations',
  'recipe-4': 'Step 4 · Train the head with augmentation',
  'recipe-5': 'Step 5 · Unfreeze',
  'recipe-6': 'Step 6 · Differential learning rates',
  'recipe-8': 'Step 8 · Train all layers (SGDR)',
  results: 'Results',
  export: 'Export & evaluate',
  runs: 'Run history',
};
