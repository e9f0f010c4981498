/**
 * The rendered order of mixed Arabic and Latin strings, read from Chromium's layout (a Range's client rects per
 * character): an LR on the LR plot's marker and step 8's code names stay one left-to-right run, in order, next to
 * the Arabic words. The same strings without their isolates are laid out split: the check can tell the two apart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import i18next from 'i18next';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { resources } from '../../src-renderer/src/i18n/resources';
import { isolateLtr } from '../../src-renderer/src/i18n/bidi';

interface Glyph {
  ch: string;
  x: number;
  top: number;
}

/** Each character of `text` laid out in a box of direction `dir` (in an Arabic, right-to-left page), with its x. */
async function layout(page: Page, text: string, dir: 'ltr' | 'rtl', width = 600): Promise<Glyph[]> {
  return page.evaluate(
    ({ text, dir, width }) => {
      document.body.replaceChildren();
      const box = document.createElement('div');
      box.dir = dir;
      box.style.width = `${width}px`;
      box.textContent = text;
      document.body.append(box);
      const node = box.firstChild as Text;
      const out: Array<{ ch: string; x: number; top: number }> = [];
      for (let i = 0; i < text.length; i++) {
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const rect = range.getBoundingClientRect();
        out.push({ ch: text[i]!, x: rect.left + rect.width / 2, top: Math.round(rect.top) });
      }
      return out;
    },
    { text, dir, width },
  );
}

/**
 * Whether `run` (a substring of the laid-out text) reads left to right on screen as one unbroken piece: its characters
 * at increasing x on one line, and no other visible character between them.
 */
function readsInOrder(glyphs: Glyph[], run: string): boolean {
  const text = glyphs
    .map((g) => g.ch)
    .join('')
    .replace(/\u00a0/g, ' ');
  const at = text.indexOf(run);
  assert.ok(at >= 0, `"${run}" is not in "${text}"`);
  const mine = glyphs.slice(at, at + run.length).filter((g) => !/[\u2066-\u2069]/.test(g.ch));
  const increasing = mine.every((g, i) => i === 0 || (g.x > mine[i - 1]!.x && g.top === mine[0]!.top));
  const lo = Math.min(...mine.map((g) => g.x));
  const hi = Math.max(...mine.map((g) => g.x));
  const intruders = glyphs.filter(
    (g, i) => (i < at || i >= at + run.length) && g.top === mine[0]!.top && g.x > lo && g.x < hi && g.ch.trim() !== '',
  );
  return increasing && intruders.length === 0;
}

test('LRs and code names in Arabic text keep their left-to-right order on screen', async (t) => {
  const i18n = i18next.createInstance();
  await i18n.init({
    lng: 'ar',
    resources,
    ns: ['progress', 'common'],
    interpolation: { escapeValue: false },
    showSupportNotice: false,
  });
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setContent('<!doctype html><html lang="ar" dir="rtl"><body></body></html>');

  // The picked LR's marker label, as LrFindPlot draws it on the plot (a left-to-right canvas) and as text.
  const lr = '6.22e-3';
  const picked = i18n.t('progress:lrPlot.picked', { lr: isolateLtr(lr) });
  for (const dir of ['ltr', 'rtl'] as const)
    assert.ok(readsInOrder(await layout(page, picked, dir), lr), `${dir}: "${picked}" splits ${lr}`);
  // Without the isolate, the same label is laid out split ("6.22 المختارe-3" on the plot): what the fix prevents.
  const bare = i18n.t('progress:lrPlot.picked', { lr });
  assert.equal(readsInOrder(await layout(page, bare, 'ltr'), lr), false, 'the check does not see the split');

  // Step 8's name on a page and in the sidebar, where it wraps: its code names stay one run, on one line, between
  // the brackets ("تدريب الكل (SGDR" over "cycle_mult=2)" read as a mirrored bracket before).
  const name = i18n.t('common:steps.8.name', { cycleMult: 2 });
  const code = 'SGDR cycle_mult=2';
  for (const width of [600, 130]) {
    const glyphs = await layout(page, name, 'rtl', width);
    assert.ok(readsInOrder(glyphs, code), `${width}px: "${name}" splits ${code}`);
    const latin = glyphs.filter((g) => /[A-Za-z0-9_=]/.test(g.ch));
    const open = glyphs.find((g) => g.ch === '(')!;
    const close = glyphs.find((g) => g.ch === ')')!;
    // Right to left on the run's line: "(" before the run (to its right), ")" after it (to its left).
    assert.ok(open.top === latin[0]!.top && close.top === latin[0]!.top, `${width}px: a bracket left its run`);
    assert.ok(open.x > Math.max(...latin.map((g) => g.x)) && close.x < Math.min(...latin.map((g) => g.x)), name);
  }
});
