// The wizard's language: i18next (plural rules and number formats from Intl) made reactive for Svelte 5. `t()` reads
// the current locale, a $state, so every string in a template is redrawn when the language changes while all app
// state (the run, its plots, its progress) stays as it is.
import i18next, { type TFunction } from 'i18next';
import { detectLocale, directionOf, numberLocale, type Locale } from './locales';
import { NAMESPACES, resources } from './resources';
import { isolateAuto } from './bidi';

const STORAGE_KEY = 'finetune.locale';

function savedLocale(): string | null {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null; // storage can be disabled; the OS / browser language still applies
  }
}

const initial = detectLocale(globalThis.navigator?.languages ?? [], savedLocale());

void i18next.init({
  lng: initial,
  fallbackLng: 'en',
  supportedLngs: ['en', 'ar'],
  resources,
  ns: NAMESPACES,
  defaultNS: 'common',
  initAsync: false,
  returnNull: false,
  interpolation: { escapeValue: false }, // Svelte escapes text itself
});
// `{{n, number}}` with Latin digits in Arabic too (numbers sit next to LTR plots and LRs).
i18next.services.formatter?.add(
  'number',
  (value: unknown, lng: string | undefined, options: Intl.NumberFormatOptions) =>
    new Intl.NumberFormat(numberLocale(lng === 'ar' ? 'ar' : 'en'), options).format(Number(value)),
);

class I18nState {
  locale: Locale = $state(initial);
  readonly dir = $derived(directionOf(this.locale));
}

export const i18n = new I18nState();

function applyToDocument(locale: Locale): void {
  if (typeof document === 'undefined') return;
  document.documentElement.lang = locale;
  document.documentElement.dir = directionOf(locale);
}
applyToDocument(initial);

export function setLocale(locale: Locale): void {
  void i18next.changeLanguage(locale);
  i18n.locale = locale;
  applyToDocument(locale);
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, locale);
  } catch {
    // not saved; the choice still holds for this window
  }
}

/** Every namespace: `t('dataset:key')` type-checks only when the TFunction knows them all (not just the default). */
type AllNamespaces = typeof NAMESPACES;

/** i18next's `t`, typed by the English catalogs, reactive on the locale. */
export const t: TFunction<AllNamespaces> = ((...args: Parameters<TFunction<AllNamespaces>>) => {
  void i18n.locale;
  return (i18next.t as (...a: Parameters<TFunction<AllNamespaces>>) => string)(...args);
}) as TFunction<AllNamespaces>;

/** A number in the current language's format (Latin digits in both). */
export function formatNumber(value: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(numberLocale(i18n.locale), options).format(value);
}

/** A message the backend sent as data (src-shared/messages): its code and parameters. */
export interface CodedMessage {
  code: string;
  params: Record<string, string | number>;
}

/**
 * What the backend said, in the user's language: the coded `message` from the `messages` catalogs where there is one
 * and the catalogs know its code, else the backend's English `text` (older servers, messages not coded yet).
 */
export function say(message: CodedMessage | null | undefined, text: string): string {
  void i18n.locale;
  if (!message) return text;
  const key = `messages:${message.code}`;
  if (!i18next.exists(key, message.params)) return text;
  // Each text parameter (a path, a file or class name, an LR) is a bidi isolate: "/data/cats" or "6.2e-3" keeps its
  // own order inside an Arabic sentence instead of being reordered with the words around it.
  const params = Object.fromEntries(
    Object.entries(message.params).map(([k, v]) => [k, typeof v === 'string' ? isolateAuto(v) : v]),
  );
  return t(key as never, params);
}
