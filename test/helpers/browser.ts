import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHeadless, type HeadlessServer } from '../../src-main/server/headless';
import { makeShapeDataset } from './images';
import { BACKEND_NAMES } from './backend';

/** Text without the bidi isolates (U+2066–U+2069) that wrap numbers, paths and code names. */
export const withoutIsolates = (text: string) => text.replace(/[\u2066-\u2069]/g, '');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Debian Chromium, headless, with the flags it needs as root on a machine without network. Playwright gives every
 * launch a fresh temporary profile (its own --user-data-dir).
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export interface AppSession {
  server: HeadlessServer;
  page: Page;
  /** Errors the page logged or threw; a test ends by asserting there were none. */
  pageErrors: string[];
}

/** A wizard on a fresh home: the real headless server and Debian Chromium, nothing chosen yet. */
export interface FreshWizard extends AppSession {
  work: string;
  home: string;
}

/**
 * The real headless server on `home` and Debian Chromium on its page, once the header names the backend the page's
 * own app.info got; nothing else done. Everything is closed when the test ends.
 */
export async function openApp(t: TestContext, opts: { home: string; height?: number }): Promise<AppSession> {
  const server = await startHeadless({ home: opts.home, backend: 'auto' });
  t.after(() => server.close());
  const browser = await launchChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: opts.height ?? 800 }, colorScheme: 'light' });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(server.url);
  // Asked for 'auto': the best backend that loads here. Asking the service from here as well would race the page's
  // first call while the backend is still loading.
  await page.waitForFunction((names) => {
    const shown = document.querySelector('[data-testid="header-backend"]')?.textContent ?? '';
    return names.some((n) => shown.includes(n));
  }, BACKEND_NAMES);
  return { server, page, pageErrors };
}

/** A wizard on a fresh home (a new temporary folder): the app (openApp), nothing chosen yet. */
export async function openFreshWizard(t: TestContext, opts: { height?: number } = {}): Promise<FreshWizard> {
  const work = mkdtempSync(join(tmpdir(), 'ft-e2e-'));
  const home = join(work, 'home');
  return { work, home, ...(await openApp(t, { home, height: opts.height })) };
}

export interface WizardSession extends FreshWizard {
  data: string;
}

/**
 * The common start of the wizard's browser tests: generated shape images, a fresh wizard (openFreshWizard) and step 1
 * done (the folder scanned).
 */
export async function openWizard(
  t: TestContext,
  opts: { perClass: number; seed: number; height?: number; withBadFiles?: boolean },
): Promise<WizardSession> {
  const fresh = await openFreshWizard(t, { height: opts.height });
  const data = join(fresh.work, 'shapes');
  await makeShapeDataset(data, { perClass: opts.perClass, seed: opts.seed, withBadFiles: opts.withBadFiles });
  const { page } = fresh;
  await page.getByTestId('folder-input').fill(data);
  await page.getByTestId('scan-button').click();
  await page.getByTestId('dataset-summary').waitFor();
  return { ...fresh, data };
}

/** Waits until the wizard's run status line says `text` (the run reached a pause, completed, failed …). */
export async function waitStatus(page: Page, text: RegExp, timeout = 120_000): Promise<void> {
  await page.getByTestId('recipe-status').filter({ hasText: text }).waitFor({ timeout });
}

/** The run settings a test shrinks to train quickly, by the inputs of the wizard's settings card. */
export interface QuickRunSettings {
  size: number;
  batch: number;
  lrFindIters: number;
  headEpochs?: number;
  augmentEpochs?: number;
}

const QUICK_RUN_INPUTS: Record<keyof QuickRunSettings, string> = {
  size: 'recipe-size-input',
  batch: 'recipe-batch-input',
  lrFindIters: 'recipe-lrfind-iters-input',
  headEpochs: 'recipe-head-epochs-input',
  augmentEpochs: 'recipe-augment-epochs-input',
};

/** Types each given setting into its input on the open step page. */
export async function fillRunSettings(page: Page, settings: QuickRunSettings): Promise<void> {
  for (const [key, testId] of Object.entries(QUICK_RUN_INPUTS)) {
    const value = settings[key as keyof QuickRunSettings];
    if (value !== undefined) await page.getByTestId(testId).fill(String(value));
  }
}
