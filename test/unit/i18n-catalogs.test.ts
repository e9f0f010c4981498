/**
 * The message catalogs: Arabic has every English key with the same placeholders, Arabic plurals have all six CLDR
 * forms, nothing is empty, and i18next with these catalogs picks the right plural form and number format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import i18next from 'i18next';
import { ar, en, NAMESPACES, resources } from '../../src-renderer/src/i18n/resources';
import { detectLocale, directionOf } from '../../src-renderer/src/i18n/locales';

const AR_PLURALS = ['zero', 'one', 'two', 'few', 'many', 'other'];
const EN_PLURALS = ['one', 'other'];

/** Flat `key → message` of a nested catalog. */
function flatten(obj: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(obj as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

const pluralBase = (key: string): [string, string | null] => {
  const m = /^(.*)_(zero|one|two|few|many|other)$/.exec(key);
  return m ? [m[1]!, m[2]!] : [key, null];
};

const placeholders = (message: string): string[] =>
  [...message.matchAll(/\{\{\s*([\w.]+)/g)]
    .map((m) => m[1]!)
    .filter((p) => p !== 'count')
    .sort();

for (const ns of NAMESPACES) {
  test(`catalog "${ns}": Arabic matches English (keys, placeholders, plural forms)`, () => {
    const enFlat = flatten(en[ns]);
    const arFlat = flatten(ar[ns]);
    const problems: string[] = [];
    const enBases = new Map<string, string[]>();
    for (const [key, message] of enFlat) {
      if (message.trim() === '') problems.push(`en ${key} is empty`);
      const [base, form] = pluralBase(key);
      if (form) enBases.set(base, [...(enBases.get(base) ?? []), form]);
      else if (!arFlat.has(key)) problems.push(`ar lacks ${key}`);
      else if (placeholders(arFlat.get(key)!).join() !== placeholders(message).join())
        problems.push(`ar ${key} has placeholders ${placeholders(arFlat.get(key)!)} not ${placeholders(message)}`);
    }
    for (const [base, forms] of enBases) {
      for (const form of EN_PLURALS) if (!forms.includes(form)) problems.push(`en ${base} lacks _${form}`);
      for (const form of AR_PLURALS) if (!arFlat.has(`${base}_${form}`)) problems.push(`ar ${base} lacks _${form}`);
    }
    for (const [key, message] of arFlat) {
      const [base, form] = pluralBase(key);
      if (!enFlat.has(key) && !(form && enBases.has(base))) problems.push(`ar has ${key}, which English lacks`);
      if (message.trim() === '') problems.push(`ar ${key} is empty`);
    }
    assert.deepEqual(problems, []);
  });
}

test('i18next with the catalogs: Arabic plural forms and Latin-digit numbers', async () => {
  const inst = i18next.createInstance();
  await inst.init({
    lng: 'ar',
    fallbackLng: 'en',
    resources,
    defaultNS: 'common',
    interpolation: { escapeValue: false },
  });
  inst.services.formatter?.add('number', (value: unknown, lng: string | undefined) =>
    new Intl.NumberFormat(lng === 'ar' ? 'ar-u-nu-latn' : 'en').format(Number(value)),
  );
  const t = inst.getFixedT('ar');
  assert.equal(t('imageCount', { count: 0 }), 'لا صور');
  assert.equal(t('imageCount', { count: 1 }), 'صورة واحدة');
  assert.equal(t('imageCount', { count: 2 }), 'صورتان');
  assert.equal(t('imageCount', { count: 3 }), '3 صور');
  assert.equal(t('imageCount', { count: 11 }), '11 صورة');
  assert.equal(t('imageCount', { count: 1200 }), '1,200 صورة');
  assert.equal(inst.getFixedT('en')('imageCount', { count: 1 }), '1 image');
  assert.equal(inst.getFixedT('en')('imageCount', { count: 1200 }), '1,200 images');
});

test('the language: a saved choice, else the first OS / browser language we have, else English', () => {
  assert.equal(detectLocale(['ar-EG', 'en-US'], null), 'ar');
  assert.equal(detectLocale(['fr-FR', 'ar'], null), 'ar');
  assert.equal(detectLocale(['fr-FR'], null), 'en');
  assert.equal(detectLocale(['ar'], 'en'), 'en');
  assert.equal(detectLocale(['en'], 'xx'), 'en');
  assert.equal(directionOf('ar'), 'rtl');
  assert.equal(directionOf('en'), 'ltr');
});
