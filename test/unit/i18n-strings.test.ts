/**
 * No user-facing English left in the wizard's Svelte templates: text, user-facing attributes (title, aria-label,
 * placeholder, alt, …), sentence-like props passed to components, and sentence-like string literals inside template
 * expressions must come from the catalogs through `t()`. Technical tokens (SGDR, px, fast.ai, …) may stay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { svelteFiles, untranslated } from '../helpers/untranslated';

const ROOT = resolve(import.meta.dirname, '../..');
const RENDERER = join(ROOT, 'src-renderer/src');

/** Files whose strings are being moved to the catalogs; this list only shrinks. */
const NOT_YET_TRANSLATED = new Set<string>([]);

test('the detector finds English text, attributes and sentence literals, and ignores t() and technical words', () => {
  const found = untranslated(
    `<script>let x = 1;</script>
<p>Hello there</p><p>{t('appName')}</p><p>SGDR, 3 px</p>
<button title="Start the run">{x > 0 ? 'Train the head' : t('appName')}</button>
<Notice message="Something went wrong" kind="warning" testid="x-y" />
{#if status === 'running'}<span class="a b">{x}</span>{/if}`,
  );
  assert.deepEqual(found, [
    'Hello there',
    'title="Start the run"',
    "'Train the head'",
    'message="Something went wrong"',
  ]);
});

test('no untranslated English in the wizard templates', () => {
  const report: string[] = [];
  for (const file of svelteFiles(RENDERER)) {
    const name = relative(RENDERER, file);
    const found = untranslated(readFileSync(file, 'utf8'));
    if (NOT_YET_TRANSLATED.has(name)) {
      if (found.length === 0) report.push(`${name}: translated now; take it off NOT_YET_TRANSLATED`);
      continue;
    }
    if (found.length > 0) report.push(`${name}:\n    ${found.slice(0, 8).join('\n    ')}`);
  }
  assert.equal(report.length, 0, `strings not in the catalogs (use t()):\n  ${report.join('\n  ')}`);
});
