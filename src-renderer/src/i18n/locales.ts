// The wizard's languages and how one is picked: a saved choice, else the first OS / browser language we have.
export const LOCALES = ['en', 'ar'] as const;
export type Locale = (typeof LOCALES)[number];

export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ar: 'العربية' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** A saved choice wins; otherwise the first preferred language whose primary subtag we have; else English. */
export function detectLocale(preferred: readonly string[], saved: string | null): Locale {
  if (isLocale(saved)) return saved;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLocale(primary)) return primary;
  }
  return 'en';
}

export function directionOf(locale: Locale): 'ltr' | 'rtl' {
  return locale === 'ar' ? 'rtl' : 'ltr';
}

/** Numbers keep Latin digits in Arabic too: they sit next to plots, LRs and file names that stay left-to-right. */
export function numberLocale(locale: Locale): string {
  return locale === 'ar' ? 'ar-u-nu-latn' : 'en';
}
