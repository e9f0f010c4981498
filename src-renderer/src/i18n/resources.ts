// Every message of the wizard, by language and namespace. One namespace per area of the wizard, one JSON file per
// namespace and language, so that areas can be translated independently. English is the reference: its keys type
// `t()` (see i18next.d.ts), and test/unit/i18n-catalogs.test.ts checks that Arabic has every key with the same
// placeholders and all six Arabic plural forms.
import arCommon from './ar/common.json';
import enCommon from './en/common.json';

export const en = {
  common: enCommon,
} as const;

export const ar: Record<keyof typeof en, Record<string, unknown>> = {
  common: arCommon,
};

export const resources = { en, ar };
export const NAMESPACES = Object.keys(en) as (keyof typeof en)[];
