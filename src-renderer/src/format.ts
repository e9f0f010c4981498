/** Small display helpers shared by the pages. */
import { i18n, t } from './i18n/i18n.svelte';
import { numberLocale } from './i18n/locales';

/**
 * A left-to-right island inside a translated sentence (an LR like 3e-3, a path, a run id): in Arabic it is wrapped
 * in Unicode's LEFT-TO-RIGHT ISOLATE … POP DIRECTIONAL ISOLATE, the plain-text twin of <bdi dir="ltr">, so that
 * the bidi algorithm cannot reorder its characters; English text is left as it is.
 */
export function ltr(text: string | number): string {
  return i18n.locale === 'en' ? String(text) : `\u2066${text}\u2069`;
}

/**
 * Text whose direction is its own: an Arabic sentence inside a left-to-right island (a plot's empty-state text), or
 * the backend's English messages (errors naming files) inside an Arabic page. Wrapped in FIRST STRONG ISOLATE … POP
 * DIRECTIONAL ISOLATE in Arabic, the plain-text twin of <bdi>, so its punctuation stays at its own end.
 */
export function ownDirection(text: string): string {
  return i18n.locale === 'en' ? text : `\u2068${text}\u2069`;
}

export function formatPct(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `${(value * 100).toFixed(digits)}%`;
}

export function formatLoss(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toFixed(4);
}

/** Learning rates: 0.001 → "1e-3", 0.003 → "3e-3", 0.25 → "0.25". */
export function formatLr(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value !== 0 && Math.abs(value) < 0.01) {
    const [mantissa = '', exponent = ''] = value.toExponential(2).split('e');
    const m = mantissa.replace(/\.?0+$/, '');
    return `${m}e${Number(exponent)}`;
  }
  return String(Number(value.toPrecision(3)));
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  if (seconds < 9.95) return t('common:units.seconds', { n: Math.max(0, seconds).toFixed(1) });
  const s = Math.round(seconds);
  if (s < 60) return t('common:units.seconds', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('common:units.minSec', { m, s: String(s % 60).padStart(2, '0') });
  const h = Math.floor(m / 60);
  return t('common:units.hourMin', { h, m: String(m % 60).padStart(2, '0') });
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(numberLocale(i18n.locale), { dateStyle: 'medium', timeStyle: 'short' });
}

/** Last path segment, for compact display of long folder paths. */
export function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  const parts = trimmed.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

export type Tone = 'ok' | 'danger' | 'warn' | 'info';

/** A run's or a job's state as a badge colour: done green, failed red, stopped (cancelled, cut off) amber, else blue. */
export function stateTone(state: string): Tone {
  if (state === 'completed') return 'ok';
  if (state === 'failed') return 'danger';
  if (state === 'cancelled' || state === 'interrupted') return 'warn';
  return 'info';
}
