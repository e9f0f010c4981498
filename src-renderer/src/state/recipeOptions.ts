/**
 * The recipe's optional tools (fast.ai v0.7's `use_swa` and `lr_find2`) as the wizard offers them: the choices and
 * which of them a continued run still takes. Kept out of recipe.svelte.ts, which is near its size limit.
 */
import type { RecipeConfig } from '../../../src-shared/contract';
import { t } from '../i18n/i18n.svelte';

type Settings = Omit<RecipeConfig, 'dir'>;

/** Step 8's weight averaging: off, or the last K cycle snapshots (the contract's 2–10). */
export const SWA_CHOICES = [null, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export type SwaChoice = (typeof SWA_CHOICES)[number];

export function swaLabel(k: SwaChoice): string {
  return k === null ? t('recipe:fields.swaOff') : t('recipe:fields.swaLast', { k });
}

/** The curve the range tests of steps 2 and 7 suggest LRs from (labels: call `label()` where it is shown). */
export const LR_FIND_CURVES = [
  { value: 'train', label: () => t('recipe:fields.curveTrain') },
  { value: 'valid', label: () => t('recipe:fields.curveValid') },
] as const;
export type LrFindCurve = (typeof LR_FIND_CURVES)[number]['value'];

/**
 * The optional tools a continue still applies, given the step it starts with: mixing and SWA until step 8 has run,
 * the range tests' curve until step 7 has.
 */
export function optionOverrides(s: Settings, nextStep: number): Partial<Settings> {
  const out: Partial<Settings> = { mix: s.mix ?? null, swa: s.swa ?? null };
  if (nextStep <= 7) out.lrFindOn = s.lrFindOn ?? 'train';
  if (nextStep <= 8) out.progressive = s.progressive ?? null;
  return out;
}
