/**
 * Every word in Arabic: on each page of the wizard in Arabic (the a11y tour, the results page), for a wrong path, a
 * one-class folder, an existing export folder, a running step's progress and a finished run's tables, no Latin-script
 * word is shown outside the islands where Latin belongs: elements laid out left to right (`dir="ltr"`, `.ltr`), code,
 * bidi isolates (U+2066–U+2069: code names, LRs, paths and names the backend's messages carry), paths, file names,
 * numbers and LRs, and the dataset's class names; tooltips (`title`) alike. What the backend says comes as codes the
 * catalogs translate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openWizard } from '../helpers/browser';
import { SHAPE_CLASSES } from '../helpers/images';

/**
 * The Latin-script words shown on the page outside the allowed islands, with where they are. Text nodes of visible
 * elements, minus those under an LTR island or code; isolated runs, paths, file names and LRs cut out of the text.
 * Runs in the page, on its own (it is also installed by source into a MutationObserver), so it closes over nothing.
 */
function latinWordsInPage(allowed: string[]): string[] {
  const ISLAND = '[dir="ltr"], .ltr, code, kbd, pre, script, style, [data-testid="language-select"]';
  // The texts to read: visible text nodes, and tooltips (the range test's rules, on the suggestion buttons). No
  // helper function in here: tsx would wrap it in a `__name` call the page does not have.
  const texts: Array<[Element, string, string]> = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || el.closest(ISLAND) || el.getClientRects().length === 0) continue;
    texts.push([el, node.textContent ?? '', '']);
  }
  for (const el of Array.from(document.querySelectorAll('[title]'))) {
    if (el.closest(ISLAND) || el.getClientRects().length === 0) continue;
    texts.push([el, el.getAttribute('title') ?? '', ' (tooltip)']);
  }
  const out: string[] = [];
  for (const [el, raw, what] of texts) {
    let text = raw
      .replace(/[\u2066-\u2068][^\u2069]*\u2069/g, ' ') // isolates: code names, LRs, parameters
      .replace(/(?:[A-Za-z]:)?[~.]?[/\\][^\s،؛:()]*/g, ' ') // paths
      .replace(/[\w.-]+\.[A-Za-z]{2,5}\b/g, ' ') // file names
      .replace(/\b\d[\d.,]*(?:e[-+]?\d+)?\b/g, ' '); // numbers, LRs
    for (const name of allowed) text = text.split(name).join(' ');
    const words = text.match(/[A-Za-z]{2,}/g);
    if (words) {
      const where = el.closest('[data-testid]')?.getAttribute('data-testid') ?? el.tagName.toLowerCase();
      out.push(`${where}${what}: ${words.join(' ')} ← "${raw.trim().slice(0, 100)}"`);
    }
  }
  return out;
}

async function latinWords(page: Page, allowed: string[]): Promise<string[]> {
  return page.evaluate(latinWordsInPage, allowed);
}

async function waitLeg(page: Page, nextStep: number, timeout: number): Promise<void> {
  await page
    .locator(`[data-testid="recipe-status"][data-next-step="${nextStep}"]:not([data-state="running"])`)
    .waitFor({ timeout });
}

/**
 * Arms a check of the page at the moment a step's progress label first shows. A MutationObserver sees it in the same
 * task the label is drawn in, so a step that ends within a few milliseconds (step 3 on precomputed features, on a fast
 * CI machine) is still caught; polling for the label missed it there. Returns a function that waits for the findings.
 */
async function atFirstProgress(page: Page, allowed: string[]): Promise<() => Promise<string[]>> {
  // A string expression: it runs through the debugger, not the page's own script, so the page's CSP does not apply.
  await page.evaluate(`(() => {
    const scan = ${latinWordsInPage.toString()};
    const w = window;
    w.__progressFindings = undefined;
    const look = () => {
      const label = document.querySelector('[data-testid="progress-label"]');
      if (!label || label.getClientRects().length === 0) return false;
      w.__progressFindings = scan(${JSON.stringify(allowed)});
      return true;
    };
    const observer = new MutationObserver(() => { if (look()) observer.disconnect(); });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  })()`);
  return async () => {
    const handle = await page.waitForFunction(
      () => (window as unknown as { __progressFindings?: string[] }).__progressFindings,
      undefined,
      { timeout: 120_000 },
    );
    return (await handle.jsonValue()) as string[];
  };
}

test('Arabic pages show no English word outside paths, numbers, LRs, names and LTR islands', async (t) => {
  const { page, pageErrors, work, data } = await openWizard(t, { perClass: 8, seed: 31, withBadFiles: true });
  // The dataset's class and folder names are the user's words, not the app's.
  const allowed = [...SHAPE_CLASSES, 'shapes', 'one-class', 'no-such-folder', 'taken'];
  const findings: string[] = [];
  const check = async (where: string) => {
    const found = await latinWords(page, allowed);
    findings.push(...found.map((f) => `${where} · ${f}`));
  };

  /** Starts the page's step and checks the page at the moment its progress first shows. */
  const runWatched = async (where: string) => {
    const seen = await atFirstProgress(page, allowed);
    await page.getByTestId('recipe-run-step').click();
    findings.push(...(await seen()).map((f) => `${where} · ${f}`));
  };

  await page.getByTestId('language-select').selectOption('ar');
  await page.waitForFunction(() => document.documentElement.lang === 'ar');
  await check('step 1 scanned (skipped files, warnings)');

  // Step 1's errors: a wrong path, then a folder with one class.
  await page.getByTestId('folder-input').fill(join(work, 'no-such-folder'));
  await page.getByTestId('scan-button').click();
  await page.getByTestId('scan-error').waitFor();
  await check('wrong path');
  const oneClass = join(work, 'one-class');
  mkdirSync(oneClass);
  cpSync(join(data, 'circles'), join(oneClass, 'circles'), { recursive: true });
  await page.getByTestId('folder-input').fill(oneClass);
  await page.getByTestId('scan-button').click();
  await page.getByTestId('scan-error').filter({ hasText: 'one-class' }).waitFor();
  await check('one-class folder');
  await page.getByTestId('folder-input').fill(data);
  await page.getByTestId('scan-button').click();
  await page.getByTestId('dataset-summary').waitFor();

  // Steps 1–2, then 3, each checked while its progress shows.
  await page.getByTestId('step-2').click();
  await page.getByTestId('recipe-size-input').fill('32');
  await page.getByTestId('recipe-batch-input').fill('8');
  await page.getByTestId('recipe-lrfind-iters-input').fill('20');
  await runWatched('steps 1–2 running');
  await waitLeg(page, 3, 120_000);
  await page.getByTestId('step-3').click();
  await page.getByTestId('recipe-head-epochs-input').fill('1');
  await runWatched('step 3 running');
  await waitLeg(page, 4, 120_000);

  // Steps 4–8 at their smallest, from step 8's page.
  await page.getByTestId('step-4').click();
  await page.getByTestId('recipe-augment-epochs-input').fill('1');
  await page.getByTestId('step-8').click();
  await page.getByTestId('recipe-cycles-input').fill('1');
  await runWatched('steps 4–8 running');
  await waitLeg(page, 9, 400_000);

  // The tour: every page of the finished run, its tables included.
  for (const button of ['step-1', 'step-2', 'step-3', 'step-4', 'step-5', 'step-6', 'step-7', 'step-8']) {
    await page.getByTestId(button).click();
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await page.waitForTimeout(300);
    await check(button);
  }
  for (const nav of ['nav-results', 'nav-runs', 'nav-export']) {
    await page.getByTestId(nav).click();
    await page.waitForLoadState('networkidle').catch(() => undefined);
    await page.waitForTimeout(300);
    await check(nav);
    if (nav === 'nav-runs') {
      // The finished run's own tables: its steps and every epoch.
      await page.getByTestId('run-details').first().click();
      await page.getByTestId('run-detail').getByTestId('run-epoch-row').first().waitFor();
      await check('run detail');
    }
  }

  // An export into a folder that exists and is not an earlier export.
  const taken = join(work, 'taken');
  mkdirSync(taken);
  writeFileSync(join(taken, 'notes.txt'), 'mine');
  await page.getByTestId('export-outdir-input').fill(taken);
  await page.getByTestId('export-button').click();
  await page.getByTestId('export-error').waitFor({ timeout: 60_000 });
  const exportError = await page.getByTestId('export-error').innerText();
  assert.doesNotMatch(exportError, /--force|--out/, 'the app speaks of its controls, not the CLI flags');
  await check('existing export folder');

  console.log(findings.length ? `Latin words found:\n${findings.join('\n')}` : 'no Latin word outside the islands');
  assert.deepEqual(findings, []);
  assert.deepEqual(pageErrors, [], 'no errors in the page');
});
