/**
 * The forms' number checks: one rule per field, one message per problem, the same wording on every page. The
 * messages come from the catalogs when the check runs (inside a $derived, so a language switch redraws them).
 */
import { t } from './i18n/i18n.svelte';

export interface NumberRule {
  /** Only whole numbers. */
  int?: boolean;
  /** Exclusive lower bound (a learning rate must be > 0). */
  above?: number;
  min?: number;
  max?: number;
}

/** Why `value` breaks `rule`, or null when it is fine (an empty field is "Enter a number"). */
export function checkNumber(value: number | null | undefined, rule: NumberRule = {}): string | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return t('common:validate.enterNumber');
  if (rule.int && !Number.isInteger(value)) return t('common:validate.wholeNumber');
  if (rule.above !== undefined && value <= rule.above) return t('common:validate.greaterThan', { n: rule.above });
  if (rule.min !== undefined && value < rule.min) return t('common:validate.atLeast', { n: rule.min });
  if (rule.max !== undefined && value > rule.max) return t('common:validate.atMost', { n: rule.max });
  return null;
}

/** A whole number in [lo, hi]. */
export function intIn(value: number | null | undefined, lo: number, hi: number): string | null {
  return checkNumber(value, { int: true, min: lo, max: hi });
}
