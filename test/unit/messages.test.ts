/**
 * Messages as data (src-shared/messages): a coded error's English text for the CLI, plural forms picked by count,
 * and the scan's errors raised as codes that the renderer's Arabic catalog renders without English left in them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import i18next from 'i18next';
import {
  CodedError,
  ENGLISH_MESSAGES,
  englishText,
  interpolate,
  messageFromEnglish,
  messageOf,
  type Message,
} from '../../src-shared/messages';
import { DatasetError, scanDataset } from '../../src-main/core/data/dataset';
import { resources } from '../../src-renderer/src/i18n/resources';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('English text: placeholders filled, plural form by count, unknown placeholders left visible', () => {
  assert.equal(interpolate('a {{x}} b {{ y }} {{z}}', { x: 1, y: 'two' }), 'a 1 b two {{z}}');
  const one = {
    code: 'scan.tooFewClasses',
    params: { count: 1, path: '/p', classDir: 'c', trainClassDir: 't', validClassDir: 'v' },
  } as const;
  assert.match(englishText(one), /^Found 1 class folder with readable images in \/p;/);
  assert.match(englishText({ ...one, params: { ...one.params, count: 0 } }), /^Found 0 class folders with/);
  const err = new CodedError('scan.folderNotFound', { path: '/nowhere' });
  assert.equal(
    err.message,
    'Folder not found: /nowhere. Choose a folder that holds one sub-folder of images per class.',
  );
  assert.deepEqual(messageOf(err), { code: 'scan.folderNotFound', params: { path: '/nowhere' } });
  assert.equal(messageOf(new Error('plain')), null);
});

test('a scan error is raised as a code; in Arabic it reads without an English word outside its paths and names', async () => {
  // A digit in the path on purpose: the count (1) must not be cut out of it.
  const parent = mkdtempSync(join(tmpdir(), 'ft-msg-1-'));
  const dir = join(parent, 'cats');
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.png'), 'not really a png');
  const err = await scanDataset(dir).then(
    () => assert.fail('scan should refuse a class folder'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof DatasetError);
  assert.equal(err.code, 'scan.imagesNotInClassFolders');
  const t = i18next.createInstance();
  await t.init({
    lng: 'ar',
    resources,
    ns: ['messages'],
    defaultNS: 'messages',
    interpolation: { escapeValue: false },
    showSupportNotice: false, // its console banner would break the test runner's protocol on stdout
  });
  const arabic = String(t.t(`messages:${err.code}`, err.params));
  assert.ok(arabic.includes(dir) && arabic.includes(parent), arabic);
  // Paths and folder names are the user's, not words of ours. Longest first and strings only: a count of 1 cut
  // out first would split a temp path such as /tmp/ft-msg-tB1Y4F and leave its letters behind (a flaky CI run).
  const names = Object.values(err.params)
    .filter((v): v is string => typeof v === 'string')
    .sort((a, b) => b.length - a.length);
  const words = names.reduce<string>((text, v) => text.split(v).join(' '), arabic);
  assert.doesNotMatch(words, /[A-Za-z]{2,}/, `English left in: ${arabic}`);
});

/** Every message code the backend raises or emits: quoted `namespace.key` strings in src-main and src-shared. */
function codesUsedInSource(): Set<string> {
  const namespaces = Object.keys(ENGLISH_MESSAGES).join('|');
  // A code is `ns.camelCaseKey`; 'run.json' and the like are file names, not codes.
  const quoted = new RegExp(`['"\`]((?:${namespaces})\\.[a-z][A-Za-z0-9]*)['"\`]`, 'g');
  const fileName = /\.(json|js|ts|md|txt|png|jpg|html|csv|db|sqlite|bin|lock|tmp)$/;
  const codes = new Set<string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/\.(ts|svelte)$/.test(e.name))
        for (const m of readFileSync(path, 'utf8').matchAll(quoted)) if (!fileName.test(m[1]!)) codes.add(m[1]!);
    }
  };
  walk(join(ROOT, 'src-main'));
  walk(join(ROOT, 'src-shared'));
  return codes;
}

function leaf(catalog: unknown, key: string): string | undefined {
  const node = key.split('.').reduce<unknown>((n, k) => (n as Record<string, unknown> | undefined)?.[k], catalog);
  return typeof node === 'string' ? node : undefined;
}

/** A text's placeholders but `count` (a plural form may say the number in words). */
const placeholderNames = (text: string) =>
  new Set([...text.matchAll(/\{\{\s*(\w+)/g)].map((m) => m[1]!).filter((p) => p !== 'count'));

test('every code the backend uses has a text in English and in Arabic, with the same placeholders', () => {
  const codes = codesUsedInSource();
  // The scan's, the export's, the progress labels' and the header's codes are all found (the grep itself works).
  for (const known of ['scan.folderNotFound', 'skip.link', 'progress.lrRangeTest', 'export.exists', 'backend.cpu'])
    assert.ok(codes.has(known), `the source scan missed ${known}`);
  const problems: string[] = [];
  for (const code of codes) {
    for (const variant of [code, `${code}_cli`]) {
      const forms = (catalog: unknown, plurals: string[]) =>
        leaf(catalog, variant) !== undefined
          ? [variant]
          : plurals.map((f) => `${variant}_${f}`).filter((k) => leaf(catalog, k) !== undefined);
      const en = forms(ENGLISH_MESSAGES, ['other', 'one']);
      const ar = forms(resources.ar.messages, ['zero', 'one', 'two', 'few', 'many', 'other']);
      if (variant === code && en.length === 0) problems.push(`en.json has no text for ${code}`);
      if (en.length === 0) continue;
      if (ar.length === 0) problems.push(`messages/ar.json has no text for ${variant}`);
      const want = placeholderNames(leaf(ENGLISH_MESSAGES, en[0]!)!);
      for (const k of ar) {
        const have = placeholderNames(leaf(resources.ar.messages, k)!);
        // A plural form may leave a parameter out ("no image in {{path}}"); no text may name one English lacks.
        const plural = k !== variant;
        const same = [...have].every((p) => want.has(p)) && (plural || have.size === want.size);
        if (!same) problems.push(`ar ${k} has placeholders ${[...have]}, en ${en[0]} has ${[...want]}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('a stored English backend note reads back to its code (runs recorded before notes were codes)', () => {
  const notes: Message[] = [
    { code: 'backend.wasm', params: { count: 2 } },
    { code: 'backend.wasmSingle', params: { count: 1 } },
    { code: 'backend.tensorflow', params: {} },
    { code: 'backend.fitWasm', params: { size: 128, batch: 16, count: 4 } },
  ];
  for (const message of notes) {
    const english = englishText(message);
    const read = messageFromEnglish(english, 'backend');
    assert.ok(read, english);
    assert.equal(englishText(read), english);
    assert.equal(read.code, message.code);
  }
  assert.equal(messageFromEnglish('a note from a future version', 'backend'), null);
});
