/**
 * Messages as data (src-shared/messages): a coded error's English text for the CLI, plural forms picked by count,
 * and the scan's errors raised as codes that the renderer's Arabic catalog renders without English left in them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import i18next from 'i18next';
import { CodedError, englishText, interpolate, messageOf } from '../../src-shared/messages';
import { DatasetError, scanDataset } from '../../src-main/core/data/dataset';
import { resources } from '../../src-renderer/src/i18n/resources';

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
  const parent = mkdtempSync(join(tmpdir(), 'ft-msg-'));
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
  // Paths and folder names are the user's, not words of ours.
  const words = Object.values(err.params).reduce<string>((text, v) => text.split(String(v)).join(' '), arabic);
  assert.doesNotMatch(words, /[A-Za-z]{2,}/, `English left in: ${arabic}`);
});
