/**
 * A config key of the Compare view's "settings that differ" in the wizard's words ("Step 8 cycles", not
 * `recipe.cycles`), and its value as the wizard would say it (a null LR is the step's own suggestion). Keys without a
 * name stay as they are.
 */
import { t } from '../i18n/i18n.svelte';

const NAMED = [
  'lr',
  'epochs',
  'size',
  'batchSize',
  'seed',
  'validPct',
  'dropout',
  'schedule.kind',
  'backbone',
  'balance',
  'recipe.lrHead',
  'recipe.lrAll',
  'recipe.headEpochs',
  'recipe.augmentEpochs',
  'recipe.cycles',
  'recipe.cycleMult',
  'recipe.lrRatio',
  'recipe.patience',
  'recipe.ensembleK',
  'recipe.preset',
  'recipe.optimizer',
  'recipe.lrRule',
  'recipe.headSchedule.kind',
  'recipe.warmupEpochs',
] as const;
type NamedKey = (typeof NAMED)[number];

const isNamed = (key: string): key is NamedKey => (NAMED as readonly string[]).includes(key);

/** The i18n key of a config key: dots become underscores ('recipe.lrAll' → 'recipe_lrAll'). */
const i18nKey = (key: NamedKey) => key.replace(/\./g, '_') as 'lr';

/** A schedule's parameters by their PyTorch/fastai names (the wizard's schedule editor shows the same). */
const SCHEDULE_PARAMS: Record<string, string> = {
  cycleLen: 'cycle_len',
  cycleMult: 'cycle_mult',
  etaMin: 'eta_min',
  pctStart: 'pct_start',
  divFactor: 'div_factor',
  finalDivFactor: 'final_div_factor',
};

export function settingLabel(key: string): string {
  if (isNamed(key)) return t(`runs:settings.${i18nKey(key)}`);
  // A schedule's parameter: the schedule's name, then the parameter ("Step 3 LR schedule · cycle_mult").
  for (const [prefix, kind] of [
    ['recipe.headSchedule.', 'recipe.headSchedule.kind'],
    ['schedule.', 'schedule.kind'],
  ] as const) {
    if (!key.startsWith(prefix)) continue;
    const param = key.slice(prefix.length);
    const name = param === 'cycles' ? t('recipe:fields.cycles') : (SCHEDULE_PARAMS[param] ?? param);
    return `${settingLabel(kind)} · ${name}`;
  }
  return key;
}

/** What a missing value means for the settings that have a default the run decides. */
export function settingValue(key: string, value: string | null): string {
  if (value !== null) return value;
  if (key === 'recipe.lrHead') return t('runs:settingsNull.lrHead');
  if (key === 'recipe.lrAll') return t('runs:settingsNull.lrAll');
  if (key === 'recipe.headEpochs') return t('runs:settingsNull.headEpochs');
  return '—';
}
