/** The eight fast.ai steps as the stepper shows them, plus the other pages of the wizard. */

export type PageId = 'dataset' | 'lr-find' | 'train-head' | 'lr-find-full' | 'export' | 'runs';

export interface StepDef {
  number: number;
  title: string;
  /** One line: what the step does. */
  summary: string;
  /** The page that implements the step, or null while it is "coming soon". */
  page: PageId | null;
  /** Set when the step only makes sense after a completed training run (stage 'full' starts from its model). */
  needsCompletedRun?: boolean;
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
    page: null,
  },
  {
    number: 5,
    title: 'Unfreeze',
    summary: 'Let the backbone layers learn too.',
    page: null,
  },
  {
    number: 6,
    title: 'Differential LRs',
    summary: 'Smaller LRs for early layers, larger for later ones.',
    page: null,
  },
  {
    number: 7,
    title: 'LR finder (unfrozen)',
    summary: 'Find the learning rate again, for the whole network.',
    page: 'lr-find-full',
    needsCompletedRun: true,
  },
  {
    number: 8,
    title: 'Train all (SGDR cycle_mult=2)',
    summary: 'Fine-tune all; each SGDR cycle twice as long.',
    page: null,
  },
];

export const PAGE_TITLES: Record<PageId, string> = {
  dataset: 'Step 1 · Augment & precompute: the dataset',
  'lr-find': 'Step 2 · LR finder',
  'lr-find-full': 'Step 7 · LR finder (unfrozen)',
  'train-head': 'Step 3 · Train the head on precomputed activations',
  export: 'Export & evaluate',
  runs: 'Run history',
};
