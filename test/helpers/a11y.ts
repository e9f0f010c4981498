/**
 * Accessibility checks in the browser tests: axe-core injected into the real renderer, its serious and critical
 * violations in a readable form, and keyboard-only movement (Tab / Shift+Tab until an element has focus).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Puts axe into the page. Not with addScriptTag: that makes an inline <script>, which the wizard's CSP
 * (script-src 'self') rightly refuses, logging an error. The same file is evaluated through the DevTools protocol.
 */
export async function injectAxe(page: Page): Promise<void> {
  if (await page.evaluate(() => 'axe' in window)) return;
  await page.evaluate(readFileSync(AXE_PATH, 'utf8'));
  if (!(await page.evaluate(() => 'axe' in window))) throw new Error('axe-core could not be injected');
}

/** axe's violations with impact serious or critical on the whole document (WCAG 2.x A/AA and best practices). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await injectAxe(page);
  return page.evaluate(async () => {
    type Result = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<Result> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.map((n) => n.target.map(String).join(' ')),
      }));
  });
}

export function describeViolations(where: string, violations: readonly AxeViolation[]): string {
  return violations
    .map((v) => `${where}: [${v.impact}] ${v.id}: ${v.help}\n    ${v.targets.slice(0, 8).join('\n    ')}`)
    .join('\n');
}

/** The focused element's data-testid ('' when it has none, 'BODY' when nothing is focused). */
export async function focusedTestid(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el || el === document.body) return 'BODY';
    return el.dataset.testid ?? '';
  });
}

/**
 * Presses Tab (or Shift+Tab) until the element with `testid` has focus; fails after `max` presses. Only the
 * keyboard: proves the element is in the tab order and reachable.
 */
export async function tabTo(page: Page, testid: string, opts: { backwards?: boolean; max?: number } = {}) {
  const key = opts.backwards ? 'Shift+Tab' : 'Tab';
  const max = opts.max ?? 80;
  const seen: string[] = [];
  for (let i = 0; i < max; i++) {
    if ((await focusedTestid(page)) === testid) return;
    await page.keyboard.press(key);
    seen.push(await focusedTestid(page));
  }
  if ((await focusedTestid(page)) === testid) return;
  throw new Error(`${testid} not reached with ${max} × ${key}; focus went through: ${seen.join(', ')}`);
}

/** Replaces the focused field's text from the keyboard (select all, type). */
export async function typeInto(page: Page, text: string): Promise<void> {
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

/** The focused element's outline (the :focus-visible style), to check that keyboard focus can be seen. */
export async function focusOutline(page: Page): Promise<{ style: string; width: number }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const s = getComputedStyle(el);
    return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
}
