/**
 * What the step pages (2–8) compute from the recipe run and the shared settings: the checks, the learning
 * rates each step shows, SGDR's cycle ends, the status line. Plain functions over the reactive state, so that a
 * component's `$derived` follows them.
 */
import { DEFAULT_RECIPE_CONFIG } from '../../../src-shared/recipe/config';
import { formatSeconds } from '../../../src-shared/recipe/duration';
import { unfrozenLr } from '../../../src-shared/recipe/plan';
import { i18n, t } from '../i18n/i18n.svelte';
import { isolateLtr } from '../i18n/bidi';
import { app } from '../state/app.svelte';
import { recipe } from '../state/recipe.svelte';
import { previewPlan } from '../schedule';
import { checkNumber, intIn } from '../validate';

export type SettingKey =
  | 'headEpochs'
  | 'headSchedule'
  | 'augmentEpochs'
  | 'cycles'
  | 'cycleMult'
  | 'patience'
  | 'ensembleK'
  | 'iters'
  | 'size'
  | 'batch'
  | 'lrRatio'
  | 'mixAlpha';

export type SettingErrors = Record<SettingKey, string | null>;

/** Every setting a recipe run reads, checked (a new run needs them all, whichever page starts it). */
export function settingErrors(): SettingErrors {
  const s = recipe.settings;
  return {
    headEpochs: s.headEpochs === null ? null : intIn(s.headEpochs, 1, 100),
    // Step 3's schedule, checked as the trainer plans it (its own LR and length do not matter here).
    headSchedule: s.headSchedule ? previewPlan(1e-3, s.headSchedule, 1, 10).error : null,
    augmentEpochs: intIn(s.augmentEpochs, 1, 100),
    cycles: intIn(s.cycles, 1, 10),
    cycleMult: intIn(s.cycleMult, 1, 4),
    patience: intIn(s.patience, 0, 10),
    ensembleK: intIn(s.ensembleK, 1, 10),
    iters: intIn(s.lrFind.iters, 5, 1000),
    size: intIn(app.settings.size, 32, 512),
    batch: intIn(app.settings.batchSize, 1, 1024),
    lrRatio: !Number.isFinite(s.lrRatio) || s.lrRatio < 1 || s.lrRatio > 100 ? t('recipe:fields.lrRatioError') : null,
    mixAlpha: s.mix ? checkNumber(s.mix.alpha, { above: 0, max: 10 }) : null,
  };
}

/** Mixing of steps 4 and 8 (`RecipeConfig.mix`): the choices, and fastai's α for each. */
export const MIX_KINDS = ['none', 'mixup', 'cutmix'] as const;
export type MixChoice = (typeof MIX_KINDS)[number];
export const DEFAULT_MIX_ALPHA: Record<Exclude<MixChoice, 'none'>, number> = { mixup: 0.4, cutmix: 1 };

/** The step settings the recipe pages edit (fast.ai's defaults in the hints). */
export type StepSettingKey = 'augmentEpochs' | 'lrRatio' | 'cycles' | 'cycleMult' | 'patience' | 'ensembleK';

/** Each step setting's name in its field's element id (`r-…`) and test id (`recipe-…-input`). */
const STEP_SETTING_SLUGS: Record<StepSettingKey, string> = {
  augmentEpochs: 'augment-epochs',
  lrRatio: 'ratio',
  cycles: 'cycles',
  cycleMult: 'cycle-mult',
  patience: 'patience',
  ensembleK: 'ensemble',
};

/** Under a step setting's field: fast.ai's value as written, or a sentence in the current language. */
function stepSettingHint(key: StepSettingKey): string {
  switch (key) {
    case 'augmentEpochs':
      return 'fast.ai: 3';
    case 'lrRatio':
      return 'fast.ai: 3–10';
    case 'cycles':
      return t('recipe:fields.cyclesHint', { n: DEFAULT_RECIPE_CONFIG.cycles });
    case 'cycleMult':
      return 'fast.ai: 2';
    case 'patience':
      return t('recipe:fields.patienceHint');
    case 'ensembleK':
      return t('recipe:fields.ensembleKHint');
  }
}

/** A step setting's field, in the current language (call it inside a `$derived` so that it follows the language). */
export function stepSettingField(key: StepSettingKey): { id: string; label: string; hint: string; testid: string } {
  const slug = STEP_SETTING_SLUGS[key];
  // cycle_mult is fastai's own parameter name, the same in every language.
  const label = key === 'cycleMult' ? ltr('cycle_mult') : t(`recipe:fields.${key}`);
  return { id: `r-${slug}`, label, hint: stepSettingHint(key), testid: `recipe-${slug}-input` };
}

/** The three layer groups that get differential LRs (steps 6–8), early layers first. */
export const GROUP_KEYS = ['early', 'middle', 'head'] as const;

/** A layer group's name in the current language: of three groups, or 'head' when the head trains alone. */
export function groupName(index: number, groups: number): string {
  if (groups === 1) return t('recipe:groups.head');
  const key = GROUP_KEYS[index];
  return key ? t(`recipe:groups.${key}`) : t('recipe:groups.other', { n: index + 1 });
}

/**
 * Text that must read left to right inside a sentence (an LR, a formula, a loss) in Arabic: wrapped in Unicode's
 * left-to-right isolate (LRI … PDI), with a non-breaking hyphen in exponents so that "7.85e-3" never wraps at
 * its minus. English text is left as it is.
 */
export function ltr(text: string | number): string {
  if (i18n.locale !== 'ar') return String(text);
  return isolateLtr(String(text).replace(/(\d)e-(\d)/g, '$1e\u2011$2'));
}

/** The learning rates a step's page shows. */
export interface StepLrs {
  /** The head's LR (steps 3–4), once known. */
  headLr: number | null;
  /** The whole network's LR as step 8 will use it (picked on step 7's curve, else the recipe's recommendation). */
  allLr: number | null;
  /** The LR the previews draw: the step's own, else 0.01. */
  previewLr: number;
  /** The preview's LR is the 0.01 stand-in. */
  lrAssumed: boolean;
  /** Step 6's ratio r, and the layer groups' multipliers [1/r², 1/r, 1]. */
  ratio: number;
  mults: number[];
}

export function stepLrs(step: number): StepLrs {
  const s = recipe.settings;
  const headLr = recipe.headLr;
  // What step 8 will use: the LR picked on step 7's curve, else step 7's recommendation, else (before step 7 has run)
  // the recipe's own rule on the head's LR (src-shared/recipe/plan.ts), the same the engine applies.
  const allLr =
    s.lrAll ??
    recipe.result(8)?.lr ??
    recipe.lrFinds[7]?.recommended.lr ??
    recipe.result(7)?.lr ??
    (headLr !== null ? unfrozenLr(headLr, s.optimizer, null).lr : null);
  // From step 6 on the whole network trains with `allLr`; before, the head alone with `headLr`.
  const own = step >= 6 ? (allLr ?? headLr) : headLr;
  const ratio = s.lrRatio;
  return {
    headLr,
    allLr,
    previewLr: own ?? 0.01,
    lrAssumed: own === null,
    ratio,
    mults: [1 / (ratio * ratio), 1 / ratio, 1],
  };
}

/** A step's settings can change until it has run. */
export function stepLocked(step: number): boolean {
  return recipe.active || recipe.nextStep > step;
}

/** What the recipe pages hand to the parts a step adds to them. */
export interface StepContext {
  errors: SettingErrors;
  locked: boolean;
  lrs: StepLrs;
}

/** SGDR with cycle_len=1: the epochs (1-based) that end a cycle, e.g. [1, 3, 7] for 3 cycles with cycle_mult 2. */
export function cycleEndEpochs(cycles: number, cycleMult: number): number[] {
  const out: number[] = [];
  let total = 0;
  for (let k = 0; k < cycles; k++) {
    total += cycleMult ** k;
    out.push(total);
  }
  return out;
}

/** The index of the epoch with the lowest validation loss (the first of equals), or null when there is none. */
export function bestEpochIndex(epochs: readonly { validLoss: number }[]): number | null {
  let best: number | null = null;
  epochs.forEach((e, i) => {
    if (best === null || e.validLoss < (epochs[best]?.validLoss ?? Infinity)) best = i;
  });
  return best;
}

/** The recipe run's state in a line. */
export function recipeStatusText(): string {
  const id = recipe.runId !== null ? t('recipe:status.runId', { id: recipe.runId }) : '';
  const step = recipe.nextStep;
  switch (recipe.state) {
    case 'idle':
      return t('recipe:status.idle');
    case 'starting':
      return t('recipe:status.starting');
    case 'running':
      return t('recipe:status.running', { id, step: recipe.currentStep ?? '…', until: recipe.untilStep ?? 8 });
    case 'cancelling':
      return t('recipe:status.cancelling', { id });
    case 'paused':
      return t('recipe:status.paused', { id, step });
    case 'completed':
      return t('recipe:status.completed', { id });
    case 'cancelled':
      return t('recipe:status.cancelled', { id, step });
    case 'interrupted':
      return t('recipe:status.interrupted', { id, step });
    case 'failed':
      return t('recipe:status.failed', { id });
    default:
      return t('recipe:status.other', { id, state: recipe.state });
  }
}

/** "about 6 min (step 7: 1 min 20 s, …)" for steps 1 to `step` (plus the ensemble after step 8), once measured. */
export function estimateLine(step: number): string | null {
  const e = recipe.estimate;
  if (e === null) return null;
  const steps = e.steps.filter((x) => x.step <= step);
  const total = ltr(formatSeconds(steps.reduce((a, x) => a + x.seconds, 0) + (step === 8 ? e.ensembleSeconds : 0)));
  const parts = steps
    .filter((x) => x.seconds >= 0.5)
    .map((x) => t('recipe:layout.estimatePart', { step: x.step, time: ltr(formatSeconds(x.seconds)) }));
  return parts.length
    ? t('recipe:layout.estimateAboutParts', { total, parts: parts.join(i18n.locale === 'ar' ? '، ' : ', ') })
    : t('recipe:layout.estimateAbout', { total });
}
